#!/usr/bin/env bash
# Builds the parser fuzzer with clang's libFuzzer (the main build uses g++, so this is not a
# CMake target) and runs it for PSYCHO_FUZZ_SECONDS (default 20) over a temporary copy of the
# seed corpus, so that nothing is written into the source tree. Exits non-zero on a crash;
# crash inputs are kept in <work dir> as crash-*.
# Usage: run_parser_fuzz.sh <source root> <work dir>
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin="$work/parser_fuzz"
sources=("$src/tests/fuzz/parser_fuzz.cpp" "$src/gateway/protocol/parser.cpp"
  "$src/gateway/protocol/errors.cpp" "$src/gateway/protocol/encoder.cpp")

# Rebuild only when a source or header changed since the last build.
rebuild=0
[[ -x $bin ]] || rebuild=1
for f in "${sources[@]}" "$src"/gateway/protocol/*.hpp; do
  [[ $f -nt $bin ]] && rebuild=1
done
if ((rebuild)); then
  echo "building $bin"
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$src/gateway" "${sources[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

corpus=$(mktemp -d "$work/corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$src"/tests/fuzz/corpus/parser/* "$corpus"/
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$bin" -max_total_time="${PSYCHO_FUZZ_SECONDS:-20}" -rss_limit_mb=1024 -max_len=4096 \
  -dict="$src/tests/fuzz/parser.dict" -artifact_prefix="$work/" -print_final_stats=1 \
  "$corpus"
