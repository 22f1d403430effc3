#!/usr/bin/env bash
# Builds the parser fuzzer with clang's libFuzzer (the main build uses g++) and runs it for
# PSYCHO_FUZZ_SECONDS (default 20) over a copy of the seed corpus. Exits non-zero on a crash.
# Usage: run_parser_fuzz.sh <source root> <work dir>
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
bin="$work/parser_fuzz"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src/gateway" \
  "$src/tests/fuzz/parser_fuzz.cpp" \
  "$src/gateway/protocol/parser.cpp" "$src/gateway/protocol/errors.cpp" \
  "$src/gateway/protocol/encoder.cpp" "$src/gateway/protocol/connect_options.cpp" \
  -o "$bin"
corpus=$(mktemp -d "$work/corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$src"/tests/fuzz/corpus/parser/* "$corpus"/
cd "$work"
"$bin" -max_total_time="${PSYCHO_FUZZ_SECONDS:-20}" -rss_limit_mb=1024 -max_len=4096 \
  -print_final_stats=1 "$corpus"
