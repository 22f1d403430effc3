#!/usr/bin/env bash
# Page to page in headless Chromium: over a WebRTC data channel between two PolderCast
# browser nodes, and through a gateway with psycho.js, side by side in one run (throughput
# and one-way latency). Usage: bench/browser_overlay.sh [messages] [timed messages]
# (defaults 20000, 2000). Needs the release build (scripts/build release, which also builds
# the wasm node) and scripts/setup's npm packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PSYCHO_GATEWAY_BIN=${PSYCHO_GATEWAY_BIN:-$root/build/gateway/psycho-gateway}
export PSYCHO_WASM=${PSYCHO_WASM:-$root/build/wasm/poldercast.mjs}
exec node "$root/clients/js/bench/overlay_bench.mjs" "$@"
