#!/bin/sh
# Chain of three: tinc 1.1pre18 A and C, fqtinc in the middle (B) relays.
A_DAEMON=${A_DAEMON:-tinc11} B_DAEMON=${B_DAEMON:-fq} C_DAEMON=${C_DAEMON:-tinc11}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON C_DAEMON
exec bash "$(dirname "$0")/t_chain3.sh"
