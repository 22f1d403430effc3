#!/usr/bin/env bash
# The PolderCast adapter between real gateways on loopback, against the direct path in the
# same run: `psycho bench` with publisher and subscriber on one gateway (direct), then with
# the subscriber on a second gateway joined to the first through the overlay, over plaintext
# links (plain) and over secure ones (secure: Noise, AES-256-GCM, signed publications), for
# 16 B, 1 KiB and 64 KiB messages, plus request/reply round trips each way. Prints msgs/s,
# the share the secure pair delivered, and the ratios to direct. Builds nothing.
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

# The overlay's shared secret for the secure pair, made for this run.
printf '1 %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$workdir/overlay.secret"
chmod 600 "$workdir/overlay.secret"

# start_gateway NAME ADMISSION [SEED_PORT]: overlay on port 0 (it advertises the port it
# got), joined through the seed when one is given; ADMISSION is the admission section's body
# on one line. Sets $gw_url and $gw_overlay.
start_gateway() {
  local name=$1 admission=$2 seeds=""
  [[ -n ${3:-} ]] && seeds="127.0.0.1:$3"
  printf 'poldercast:\n  listen: 127.0.0.1:0\n  seeds: [%s]\n  state_dir: %s\n  cycle: 100ms\n  admission: {%s}\n' \
    "$seeds" "$workdir/$name-state" "$admission" >"$workdir/$name.yaml"
  start_psycho "$name" --config "$workdir/$name.yaml" --websocket "" --admin 127.0.0.1:0
  gw_url=tcp://127.0.0.1:$(reported "$name" listen)
  gw_overlay=$(reported "$name" poldercast)
}

# Two pairs in one run: plaintext links (no handshake, no encryption, no signatures), and the
# default, secure links (Noise handshake, AES-256-GCM, signed publications).
start_gateway plain0 "plaintext: true"
a=$gw_url
start_gateway plain1 "plaintext: true" "$gw_overlay"
b=$gw_url
start_gateway secure0 "secret_file: $workdir/overlay.secret"
sa=$gw_url
start_gateway secure1 "secret_file: $workdir/overlay.secret" "$gw_overlay"
sb=$gw_url
sleep 1 # a few cycles: the gateways of each pair know each other

for size in 16 1024 65536; do
  n=$msgs
  ((size == 65536)) && n=$((msgs / 50))
  bench "direct-$size" --url "$a" --size "$size" --msgs "$n"
  bench "plain-$size" --url "$a" --sub-url "$b" --size "$size" --msgs "$n"
  bench "secure-$size" --url "$sa" --sub-url "$sb" --size "$size" --msgs "$n"
done
bench direct-rtt --url "$a" --rtt
bench plain-rtt --url "$a" --sub-url "$b" --rtt
bench secure-rtt --url "$sa" --sub-url "$sb" --rtt

echo
printf "%6s %12s %12s %12s %7s %7s %10s\n" "bytes" "direct/s" "plain/s" "secure/s" \
  "plain" "secure" "delivered"
for size in 16 1024 65536; do
  d=$(value "direct-$size" .sub_msgs_per_sec)
  p=$(value "plain-$size" .sub_msgs_per_sec)
  s=$(value "secure-$size" .sub_msgs_per_sec)
  share=$(ratio "$(value "secure-$size" .received)" "$(value "secure-$size" .expected)")
  printf "%6s %12s %12s %12s %7s %7s %10s\n" "$size" "${d:--}" "${p:--}" "${s:--}" \
    "$(ratio "$p" "$d")" "$(ratio "$s" "$d")" "$share"
done
printf "%6s %12s %12s %12s %7s %7s\n" "rtt" "$(value direct-rtt .rtt_us.p50)us" \
  "$(value plain-rtt .rtt_us.p50)us" "$(value secure-rtt .rtt_us.p50)us" \
  "$(ratio "$(value plain-rtt .rtt_us.p50)" "$(value direct-rtt .rtt_us.p50)")" \
  "$(ratio "$(value secure-rtt .rtt_us.p50)" "$(value direct-rtt .rtt_us.p50)")"
