#!/bin/sh
# tinc 1.1pre18 (A) initiates the meta connection to fqtinc (B), outer IPv6.
A_DAEMON=${A_DAEMON:-tinc11} B_DAEMON=${B_DAEMON:-fq} INITIATOR=${INITIATOR:-a} OUTER=${OUTER:-6}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON INITIATOR OUTER
exec bash "$(dirname "$0")/t_pair_tinc11.sh"
