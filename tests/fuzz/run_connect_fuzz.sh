#!/usr/bin/env bash
# The CONNECT JSON reader's fuzzer (see run_fuzz.sh). Usage: run_connect_fuzz.sh <source root> <work dir>
exec bash "$(dirname "$0")/run_fuzz.sh" connect "$1" "$2" \
  tests/fuzz/connect_fuzz.cpp gateway/protocol/connect_options.cpp gateway/protocol/errors.cpp
