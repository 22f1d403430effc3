#!/usr/bin/env bash
# The protocol parser's fuzzer (see run_fuzz.sh). Usage: run_parser_fuzz.sh <source root> <work dir>
exec bash "$(dirname "$0")/run_fuzz.sh" parser "$1" "$2" \
  tests/fuzz/parser_fuzz.cpp gateway/protocol/parser.cpp gateway/protocol/errors.cpp \
  gateway/protocol/encoder.cpp
