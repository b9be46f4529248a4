#!/bin/sh
# Harness self-test: the pair test with tinc 1.0.36 on both sides.  It proves
# the test itself, not our daemon, so `make check` skips it unless
# HARNESS_SELFTEST=1.
if [ "${HARNESS_SELFTEST:-}" != 1 ]; then
	echo "SKIP: harness self-test; set HARNESS_SELFTEST=1 to run it"
	exit 77
fi
A_DAEMON=${A_DAEMON:-tinc} B_DAEMON=${B_DAEMON:-tinc} INITIATOR=${INITIATOR:-a} OUTER=${OUTER:-4}
FQT_TEST_NAME=$(basename "$0" .sh)
export FQT_TEST_NAME A_DAEMON B_DAEMON INITIATOR OUTER
exec bash "$(dirname "$0")/t_interop_pair.sh"
