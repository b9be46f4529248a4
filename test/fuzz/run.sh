#!/bin/bash
# Build the libFuzzer harnesses with clang (ASan + UBSan) and run each one
# for FUZZ_SECONDS (default 20). Used by `make fuzz` and, with a short time,
# by `make check`. Prints "N passed, N failed" (one result per harness).
#
#   FUZZ_SECONDS=3600 test/fuzz/run.sh            # long runs, one after another
#   FUZZ_TARGETS="fuzz_subnet" test/fuzz/run.sh   # just one
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
seconds=${FUZZ_SECONDS:-20}
out=${FUZZ_OUT:-$top_builddir/test/fuzz/out}
CLANG=${CLANG:-clang}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "clang not found: skipping fuzzing"
	exit 77
fi
if [ ! -f "$top_builddir/config.h" ]; then
	echo "config.h not found in $top_builddir: run configure first"
	exit 99
fi

mkdir -p "$out/obj"
flags="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -I$top_builddir -I$top_srcdir/src"
targets=${FUZZ_TARGETS:-$(cd "$top_srcdir/test/fuzz" && ls fuzz_*.c | sed 's/\.c$//')}

# The library, instrumented for coverage, built once. An object is stale if
# its source or any header is newer (a changed struct must not leave objects
# with the old layout behind: that shows up as bogus crashes).
newest_header=$(ls -t "$top_srcdir"/src/*/*.h "$top_builddir/config.h" | head -n 1)
objs=()
for src in "$top_srcdir"/src/*/*.c; do
	base=$(basename "$src" .c)
	[ "$base" = tincd ] && continue
	obj="$out/obj/$base.o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
		$CLANG $flags -fsanitize=fuzzer-no-link -c "$src" -o "$obj" || exit 99
	fi
	objs+=("$obj")
done

# An archive, so each harness links only the objects it needs.
rm -f "$out/libfuzz.a"
ar rcs "$out/libfuzz.a" "${objs[@]}" || exit 99

passed=0
failed=0
for t in $targets; do
	bin="$out/$t"
	if ! $CLANG $flags -fsanitize=fuzzer "$top_srcdir/test/fuzz/$t.c" "$out/libfuzz.a" -lcrypto -lz -llzo2 -lm -o "$bin"; then
		echo "FAIL $t: does not build"
		failed=$((failed + 1))
		continue
	fi
	corpus="$out/corpus-$t"
	mkdir -p "$corpus"
	seeds=()
	[ -d "$top_srcdir/test/fuzz/seeds/$t" ] && seeds=("$top_srcdir/test/fuzz/seeds/$t")
	log="$out/$t.log"
	if (cd "$out" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/$t-" "$corpus" "${seeds[@]}" >"$log" 2>&1); then
		stats=$(grep -E '^(#[0-9]+\s+DONE|Done)' "$log" | tail -1)
		echo "ok $t ($seconds s): $stats"
		passed=$((passed + 1))
	else
		echo "FAIL $t: see $log"
		tail -30 "$log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
