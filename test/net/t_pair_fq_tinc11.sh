#!/bin/sh
# fqtinc (A) initiates the meta connection to tinc 1.1pre18 (B), outer IPv4.
A_DAEMON=${A_DAEMON:-fq} B_DAEMON=${B_DAEMON:-tinc11} INITIATOR=${INITIATOR:-a} OUTER=${OUTER:-4}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON INITIATOR OUTER
exec bash "$(dirname "$0")/t_pair_tinc11.sh"
