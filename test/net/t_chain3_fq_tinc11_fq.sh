#!/bin/sh
# Chain of three: fqtinc A and C, tinc 1.1pre18 in the middle (B) relays.
A_DAEMON=${A_DAEMON:-fq} B_DAEMON=${B_DAEMON:-tinc11} C_DAEMON=${C_DAEMON:-fq}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON C_DAEMON
exec bash "$(dirname "$0")/t_chain3.sh"
