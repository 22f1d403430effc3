#!/usr/bin/env bash
# The PolderCast wire decoder's and node's fuzzer (see run_fuzz.sh).
# Usage: run_poldercast_fuzz.sh <source root> <work dir>
# Every source of the protocol library: it is all I/O-free, and the fuzzer drives the node.
sources=$(cd "$1" && echo poldercast/*.cpp)
# shellcheck disable=SC2086  # one word per source file
exec bash "$(dirname "$0")/run_fuzz.sh" poldercast "$1" "$2" tests/fuzz/poldercast_fuzz.cpp $sources
