#!/usr/bin/env bash
# Builds one libFuzzer target with clang (the main build uses g++, so targets are not CMake
# targets) and runs it for PSYCHO_FUZZ_SECONDS (default 20) over a temporary copy of its seed
# corpus (tests/fuzz/corpus/<name>), so that nothing is written into the source tree. Exits
# non-zero on a crash; crash inputs are kept in <work dir> as <name>-crash-*.
# Usage: run_fuzz.sh <name> <source root> <work dir> <source files relative to the root>...
# Arguments starting with -l are libraries to link (-lcrypto). A dictionary
# tests/fuzz/<name>.dict is used when present.
set -euo pipefail
name=$1
src=$(cd "$2" && pwd)
work=$3
shift 3
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin="$work/${name}_fuzz"
sources=()
libraries=()
for f in "$@"; do
  if [[ $f == -l* ]]; then libraries+=("$f"); else sources+=("$src/$f"); fi
done

# Rebuild only when a source or a gateway header changed since the last build.
rebuild=0
[[ -x $bin ]] || rebuild=1
for f in "${sources[@]}" "$src"/gateway/*/*.hpp "$src"/adapters/*.hpp "$src"/adapters/*/*.hpp \
  "$src"/adapters/*/*/*.hpp; do
  [[ $f -nt $bin ]] && rebuild=1
done
if ((rebuild)); then
  echo "building $bin"
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$src/gateway" -I"$src" "${sources[@]}" "${libraries[@]}" -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi

corpus=$(mktemp -d "$work/corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$src/tests/fuzz/corpus/$name"/* "$corpus"/
dict=()
[[ -f $src/tests/fuzz/$name.dict ]] && dict=(-dict="$src/tests/fuzz/$name.dict")
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$bin" -max_total_time="${PSYCHO_FUZZ_SECONDS:-20}" -rss_limit_mb=1024 -max_len=4096 \
  "${dict[@]}" -artifact_prefix="$work/$name-" -print_final_stats=1 "$corpus"
