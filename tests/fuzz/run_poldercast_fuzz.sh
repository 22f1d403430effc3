#!/usr/bin/env bash
# The PolderCast wire decoder's and node's fuzzer (see run_fuzz.sh).
# Usage: run_poldercast_fuzz.sh <source root> <work dir>
exec bash "$(dirname "$0")/run_fuzz.sh" poldercast "$1" "$2" \
  tests/fuzz/poldercast_fuzz.cpp adapters/poldercast/wire.cpp adapters/poldercast/node.cpp \
  adapters/poldercast/dissemination.cpp adapters/poldercast/views.cpp adapters/poldercast/rings.cpp
