#!/bin/bash
# make check: a short run of every fuzzing harness (FUZZ_SECONDS, default 15).
export FUZZ_SECONDS=${FUZZ_SECONDS:-15}
exec bash "$(dirname "$0")/run.sh"
