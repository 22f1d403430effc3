#!/usr/bin/env bash
# The multicast datagram codec's fuzzer (see run_fuzz.sh). Usage: run_multicast_fuzz.sh <source root> <work dir>
exec bash "$(dirname "$0")/run_fuzz.sh" multicast "$1" "$2" \
  tests/fuzz/multicast_fuzz.cpp adapters/multicast/codec.cpp adapters/multicast/reassembly.cpp \
  adapters/multicast/repair.cpp adapters/multicast/group_interest.cpp adapters/pattern_set.cpp \
  adapters/multicast/datagram_auth.cpp adapters/multicast/group_keys.cpp \
  gateway/core/subject.cpp -lcrypto
