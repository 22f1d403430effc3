#!/usr/bin/env bash
# The PolderCast link handshake's and sealed frames' fuzzer (see run_fuzz.sh).
# Usage: run_poldercast_link_fuzz.sh <source root> <work dir>
p=adapters/poldercast
exec bash "$(dirname "$0")/run_fuzz.sh" poldercast_link "$1" "$2" \
  tests/fuzz/poldercast_link_fuzz.cpp $p/link_security.cpp $p/noise.cpp $p/node_key.cpp -lcrypto
