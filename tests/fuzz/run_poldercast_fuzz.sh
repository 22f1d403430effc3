#!/usr/bin/env bash
# The PolderCast wire decoder's and node's fuzzer (see run_fuzz.sh).
# Usage: run_poldercast_fuzz.sh <source root> <work dir>
p=adapters/poldercast/protocol
exec bash "$(dirname "$0")/run_fuzz.sh" poldercast "$1" "$2" \
  tests/fuzz/poldercast_fuzz.cpp $p/wire.cpp $p/node.cpp $p/dissemination.cpp $p/views.cpp \
  $p/rings.cpp $p/relay.cpp
