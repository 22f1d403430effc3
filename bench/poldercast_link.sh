#!/usr/bin/env bash
# The PolderCast adapter between real gateways on loopback, against the direct path in the
# same run: `psycho bench` with publisher and subscriber on one gateway (direct), then with
# the subscriber on a second gateway joined to the first through the overlay, over plaintext
# links (plain) and over secure ones (secure: Noise, AES-256-GCM, signed publications), for
# 16 B, 1 KiB and 64 KiB messages, plus request/reply round trips each way, in rounds.
# Prints the medians of msgs/s and of the ratios to direct (with their ranges), and the
# share the secure pair delivered in its worst round. Builds nothing.
#
#   bench/poldercast_link.sh [BUILD_DIR]       (default: build)
#
# Environment: BENCH_MSGS (messages at 16 B and 1 KiB, default 200000; a fiftieth of it at
# 64 KiB), BENCH_ROUNDS (every case once per round, default 3), BENCH_TIMEOUT (default 60 s
# per run).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
msgs=${BENCH_MSGS:-200000}
rounds=${BENCH_ROUNDS:-3}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_tools

# The overlay's shared secret for the secure pair, made for this run.
printf '1 %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$workdir/overlay.secret"
chmod 600 "$workdir/overlay.secret"

# start_gateway NAME ADMISSION [SEED_PORT]: overlay on port 0 (it advertises the port it
# got), joined through the seed when one is given; ADMISSION is the admission section's body
# on one line. Sets $gw_url, $gw_overlay and $gw_pid.
start_gateway() {
  local name=$1 admission=$2 seeds=""
  [[ -n ${3:-} ]] && seeds="127.0.0.1:$3"
  printf 'poldercast:\n  listen: 127.0.0.1:0\n  seeds: [%s]\n  state_dir: %s\n  cycle: 100ms\n  admission: {%s}\n' \
    "$seeds" "$workdir/$name-state" "$admission" >"$workdir/$name.yaml"
  start_psycho "$name" --config "$workdir/$name.yaml" --websocket "" --admin 127.0.0.1:0
  gw_url=tcp://127.0.0.1:$(reported "$name" listen)
  gw_overlay=$(reported "$name" poldercast)
  gw_pid=${pids[-1]}
}

# Two pairs in one run: plaintext links (no handshake, no encryption, no signatures), and the
# default, secure links (Noise handshake, AES-256-GCM, signed publications).
start_gateway plain0 "plaintext: true"
a=$gw_url a_pid=$gw_pid
start_gateway plain1 "plaintext: true" "$gw_overlay"
b=$gw_url b_pid=$gw_pid
start_gateway secure0 "secret_file: $workdir/overlay.secret"
sa=$gw_url sa_pid=$gw_pid
start_gateway secure1 "secret_file: $workdir/overlay.secret" "$gw_overlay"
sb=$gw_url sb_pid=$gw_pid
sleep 1 # a few cycles: the gateways of each pair know each other

# Rounds: every case once per round, each bridged run divided by the direct run of its own
# round (made moments before it on this noisy machine); the table shows medians and ranges.
for round in $(seq 1 "$rounds"); do
  for size in 16 1024 65536; do
    n=$msgs
    ((size == 65536)) && n=$((msgs / 50))
    bench_cpu "direct-$size-$round" "$a_pid" --url "$a" --size "$size" --msgs "$n"
    bench_cpu "plain-$size-$round" "$a_pid $b_pid" --url "$a" --sub-url "$b" --size "$size" \
      --msgs "$n"
    bench_cpu "secure-$size-$round" "$sa_pid $sb_pid" --url "$sa" --sub-url "$sb" \
      --size "$size" --msgs "$n"
  done
  bench "direct-rtt-$round" --url "$a" --rtt
  bench "plain-rtt-$round" --url "$a" --sub-url "$b" --rtt
  bench "secure-rtt-$round" --url "$sa" --sub-url "$sb" --rtt
done


echo
echo "$rounds rounds; medians, and the range of the per-round ratios to direct"
printf "%6s %11s %11s %11s %6s %11s %6s %11s %9s\n" "bytes" "direct/s" "plain/s" "secure/s" \
  "plain" "range" "secure" "range" "delivered"
for size in 16 1024 65536; do
  # The secure pair's share delivered: the worst round's.
  share=$(for round in $(seq 1 "$rounds"); do
    echo "$(ratio "$(value "secure-$size-$round" .received)" "$(value "secure-$size-$round" .expected)")"
  done | grep -v '^-$' | sort -g | head -1 || true)
  printf "%6s %11s %11s %11s %6s %11s %6s %11s %9s\n" "$size" \
    "$(over "direct-$size" .sub_msgs_per_sec | median | cut -d. -f1)" \
    "$(over "plain-$size" .sub_msgs_per_sec | median | cut -d. -f1)" \
    "$(over "secure-$size" .sub_msgs_per_sec | median | cut -d. -f1)" \
    "$(ratios "plain-$size" "direct-$size" .sub_msgs_per_sec | median)" \
    "$(ratios "plain-$size" "direct-$size" .sub_msgs_per_sec | min_max)" \
    "$(ratios "secure-$size" "direct-$size" .sub_msgs_per_sec | median)" \
    "$(ratios "secure-$size" "direct-$size" .sub_msgs_per_sec | min_max)" "${share:--}"
done
printf "%6s %10sus %10sus %10sus %6s %11s %6s %11s\n" "rtt" \
  "$(over direct-rtt .rtt_us.p50 | median)" "$(over plain-rtt .rtt_us.p50 | median)" \
  "$(over secure-rtt .rtt_us.p50 | median)" \
  "$(ratios plain-rtt direct-rtt .rtt_us.p50 | median)" \
  "$(ratios plain-rtt direct-rtt .rtt_us.p50 | min_max)" \
  "$(ratios secure-rtt direct-rtt .rtt_us.p50 | median)" \
  "$(ratios secure-rtt direct-rtt .rtt_us.p50 | min_max)"

# What a message costs in CPU on each path (bench_cpu). Every core is busy in every run here
# (clients and gateways share them), so a bridged path's rate ratio follows its CPU ratio,
# the direct path's total CPU per message over its own.
echo
echo "CPU per message delivered, ns (medians): gateways + clients; CPU ratio = direct's total over the path's"
printf "%6s %14s %14s %14s %6s %6s\n" "bytes" "direct" "plain" "secure" "plain" "secure"
for size in 16 1024 65536; do
  printf "%6s %14s %14s %14s %6s %6s\n" "$size" "$(cpu_cell "direct-$size")" \
    "$(cpu_cell "plain-$size")" "$(cpu_cell "secure-$size")" \
    "$(cpu_ratio "direct-$size" "plain-$size")" "$(cpu_ratio "direct-$size" "secure-$size")"
done
