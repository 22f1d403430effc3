#!/usr/bin/env bash
# psycho.js publish throughput in headless Chromium: one publish per event-loop turn against
# many per turn (which the client sends as one WebSocket message), side by side in one run.
# Usage: bench/js_client.sh [messages] [publishes per turn]   (defaults 20000, 100)
# Needs the release build (scripts/build release) and scripts/setup's npm packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PSYCHO_GATEWAY_BIN=${PSYCHO_GATEWAY_BIN:-$root/build/gateway/psycho-gateway}
exec node "$root/clients/js/bench/page_bench.mjs" "$@"
