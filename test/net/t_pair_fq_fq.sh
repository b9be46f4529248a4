#!/bin/sh
# The pair test with fqtinc on both sides; A initiates, outer IPv4.
A_DAEMON=${A_DAEMON:-fq} B_DAEMON=${B_DAEMON:-fq} INITIATOR=${INITIATOR:-a} OUTER=${OUTER:-4}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON INITIATOR OUTER
exec bash "$(dirname "$0")/t_interop_pair.sh"
