#!/usr/bin/env bash
# The PolderCast adapter between real gateways on loopback, against the direct path in the
# same run: `psycho bench` with publisher and subscriber on one gateway (direct), then with
# the subscriber on a second gateway joined to the first through the overlay (bridged), for
# 16 B, 1 KiB and 64 KiB messages, plus request/reply round trips both ways. Prints msgs/s,
# the share delivered, and bridged/direct ratios. Builds nothing.
#
#   bench/poldercast_link.sh [BUILD_DIR]       (default: build)
#
# Environment: BENCH_MSGS (messages at 16 B and 1 KiB, default 200000; a fiftieth of it at
# 64 KiB), BENCH_TIMEOUT (default 60 s per run).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
msgs=${BENCH_MSGS:-200000}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_tools

# start_gateway NAME [SEED_PORT]: overlay on port 0 (it advertises the port it got), joined
# through the seed when one is given; sets $gw_url and $gw_overlay.
start_gateway() {
  local name=$1 seeds=""
  [[ -n ${2:-} ]] && seeds="127.0.0.1:$2"
  printf 'poldercast:\n  listen: 127.0.0.1:0\n  seeds: [%s]\n  state_dir: %s\n  cycle: 100ms\n' \
    "$seeds" "$workdir/$name-state" >"$workdir/$name.yaml"
  start_psycho "$name" --config "$workdir/$name.yaml" --websocket "" --admin 127.0.0.1:0
  gw_url=tcp://127.0.0.1:$(reported "$name" listen)
  gw_overlay=$(reported "$name" poldercast)
}

start_gateway gw0
a=$gw_url
start_gateway gw1 "$gw_overlay"
b=$gw_url
sleep 1 # a few cycles: the two gateways know each other

for size in 16 1024 65536; do
  n=$msgs
  ((size == 65536)) && n=$((msgs / 50))
  bench "direct-$size" --url "$a" --size "$size" --msgs "$n"
  bench "bridged-$size" --url "$a" --sub-url "$b" --size "$size" --msgs "$n"
done
bench direct-rtt --url "$a" --rtt
bench bridged-rtt --url "$a" --sub-url "$b" --rtt

echo
printf "%6s %12s %12s %7s %10s\n" "bytes" "direct/s" "bridged/s" "ratio" "delivered"
for size in 16 1024 65536; do
  d=$(value "direct-$size" .sub_msgs_per_sec)
  o=$(value "bridged-$size" .sub_msgs_per_sec)
  share=$(ratio "$(value "bridged-$size" .received)" "$(value "bridged-$size" .expected)")
  printf "%6s %12s %12s %7s %10s\n" "$size" "${d:--}" "${o:--}" "$(ratio "$o" "$d")" "$share"
done
printf "%6s %12s %12s %7s\n" "rtt" "$(value direct-rtt .rtt_us.p50)us" \
  "$(value bridged-rtt .rtt_us.p50)us" \
  "$(ratio "$(value bridged-rtt .rtt_us.p50)" "$(value direct-rtt .rtt_us.p50)")"
