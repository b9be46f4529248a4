#!/bin/sh
# The pair test: tinc 1.0.36 (A) initiates the meta connection to fqtinc (B);
# the outer packets are IPv6 here, so the pair tests cover both families.
A_DAEMON=${A_DAEMON:-tinc} B_DAEMON=${B_DAEMON:-fq} INITIATOR=${INITIATOR:-a} OUTER=${OUTER:-6}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON INITIATOR OUTER
exec bash "$(dirname "$0")/t_interop_pair.sh"
