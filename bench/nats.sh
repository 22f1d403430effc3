#!/usr/bin/env bash
# The NATS bridge side by side with NATS itself, on loopback, in one run:
#   (a) NATS client -> nats-server -> NATS client                (the baseline)
#   (b) Psycho client -> gateway -> nats-server -> NATS client (the default configuration, and
#       with the trace header a gateway that also runs an overlay adds)
#   (c) NATS client -> nats-server -> gateway -> Psycho client
# for 16 B and 1 KiB messages, and request/reply round trips (a Psycho requester through the
# gateway to a NATS responder, against both on NATS), and what one thread hand-off costs
# here (bench/thread_handoff.c, compiled with cc), and the floor nats.c sets under (c): the
# CPU it alone spends per message received (bench/natsc_receive.c, when cc and libnats'
# headers are there) beside the gateway's in (c). One load generator for every path:
# `psycho bench`, in the NATS dialect for NATS clients, with --sub-url for the bridged paths.
# Builds nothing.
#
#   bench/nats.sh [BUILD_DIR]       (default: build)
#
# Environment: BENCH_MSGS (default 1000000), BENCH_RTT (default 10000), BENCH_ROUNDS (every
# path once per round, default 3), BENCH_TIMEOUT (default 60 s per run).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
msgs=${BENCH_MSGS:-1000000}
rtt_count=${BENCH_RTT:-10000}
rounds=${BENCH_ROUNDS:-3}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_tools
command -v nats-server >/dev/null || die "nats-server is not installed"

# start_gateway NAME [YAML]: a gateway bridged to $nats_url; sets $gw_url.
start_gateway() {
  local name=$1 yaml=${2:-}
  printf 'nats:\n  servers: %s\n%s' "${nats_url/tcp:/nats:}" "$yaml" >"$workdir/$name.yaml"
  start_psycho "$name" --config "$workdir/$name.yaml" --websocket "" --admin ""
  gw_url=tcp://127.0.0.1:$(reported "$name" listen)
}

start_nats
nats_pid=${pids[-1]}
start_gateway gw
gw_default=$gw_url
gw_pid=${pids[-1]}
# The trace header as a gateway that also runs an overlay sends it (`auto` turns it on there).
start_gateway gw-traced $'  trace_headers: true\n'
gw_traced=$gw_url
gw_traced_pid=${pids[-1]}

# The nats.c floor: bench/natsc_receive.c, if it builds here.
floor=""
if command -v cc >/dev/null &&
  cc -O2 -pthread "$here/natsc_receive.c" -lnats -o "$workdir/natsc_receive" 2>/dev/null; then
  floor=$workdir/natsc_receive
fi
# receive_floor NAME MODE: nats.c alone receiving what one NATS publisher sends, 16 B;
# $workdir/NAME.json gets its line ("{}" if it failed).
receive_floor() {
  local name=$1 mode=$2 out=$workdir/$1.json pid
  echo "{}" >"$out"
  "$floor" "$nats_url" bench.floor "$msgs" "$mode" >"$out.tmp" 2>"$workdir/$name.err" &
  pid=$!
  pids+=("$pid")
  if wait_for_report "$pid" grep -q ready "$out.tmp"; then
    bench "$name-pub" --dialect nats --url "$nats_url" --subject bench.floor --size 16 \
      --msgs "$msgs"
    timeout "$run_timeout" tail --pid="$pid" -f /dev/null || true
    grep -q '^{' "$out.tmp" && grep '^{' "$out.tmp" >"$out"
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'  # reaped: its PID may belong to another process from now on
}

# Rounds: every path once per round, each bridged run next to its own baseline, so that a
# ratio compares runs made moments apart on this noisy machine; the table shows medians.
for round in $(seq 1 "$rounds"); do
  for size in 16 1024; do
    bench_cpu "a-$size-$round" "$nats_pid" --dialect nats --url "$nats_url" --size "$size" \
      --msgs "$msgs"
    bench_cpu "b-$size-$round" "$nats_pid $gw_pid" --url "$gw_default" --sub-url "$nats_url" \
      --sub-dialect nats --size "$size" --msgs "$msgs"
    bench_cpu "b-traced-$size-$round" "$nats_pid $gw_traced_pid" --url "$gw_traced" \
      --sub-url "$nats_url" --sub-dialect nats --size "$size" --msgs "$msgs"
    bench_cpu "c-$size-$round" "$gw_pid $nats_pid" --dialect nats --url "$nats_url" \
      --sub-url "$gw_default" --size "$size" --msgs "$msgs"
  done
  if [[ -n $floor ]]; then
    receive_floor "floor-async-$round" async
    receive_floor "floor-loop-$round" loop
  fi
  bench "a-rtt-$round" --rtt --dialect nats --url "$nats_url" --size 16 --msgs "$rtt_count"
  bench "b-rtt-$round" --rtt --url "$gw_default" --sub-url "$nats_url" --sub-dialect nats \
    --size 16 --msgs "$rtt_count"
done

# line LABEL CASE SIZE: CASE's delivered msgs/s and its ratio to (a) of the same size and
# round: medians over the rounds, the ratios' range, and how many rounds gave one (a round
# whose run failed has none).
line() {
  local label=$1 case=$2-$3 size=$3 list flag=""
  grep -qx false <<<"$(over "$case" '.complete | tostring')" && flag="*"
  list=$(ratios "$case" "a-$size" .sub_msgs_per_sec)
  printf "%-40s %6s %12s %8s %12s %7s\n" "$label" "$size" \
    "$(over "$case" .sub_msgs_per_sec | median | cut -d. -f1)$flag" "$(median <<<"$list")" \
    "$(min_max <<<"$list")" "$(grep -c . <<<"$list" || true)/$rounds"
}

echo
echo "$rounds rounds of $msgs messages; medians, and the range of the per-round ratios"
printf "%-40s %6s %12s %8s %12s %7s\n" "path" "bytes" "msgs/s" "vs (a)" "range" "rounds"
for size in 16 1024; do
  line "(a) NATS -> nats-server -> NATS" a "$size"
  line "(b) Psycho -> gateway -> NATS" b "$size"
  line "(b) same, with the trace header" b-traced "$size"
  line "(c) NATS -> gateway -> Psycho" c "$size"
done

# What a message costs in CPU on each path (bench_cpu): nats-server's, and the gateway's on
# (b) and (c), plus the clients'. `CPU ratio` is (a)'s total over the path's: the rate ratio
# when every run keeps all cores busy. The bridged paths do on the 2-core CI machine; (a)
# may not, and the rate ratios then come out above the CPU ratios.
echo
echo "CPU per message delivered, ns (medians): servers + clients; CPU ratio = (a)'s total over the path's"
printf "%-40s %6s %18s %9s\n" "path" "bytes" "servers + clients" "CPU ratio"
for size in 16 1024; do
  for case in a b b-traced c; do
    printf "%-40s %6s %18s %9s\n" "($case)" "$size" "$(cpu_cell "$case-$size")" \
      "$(cpu_ratio "a-$size" "$case-$size")"
  done
done

# rtt CASE FIELD: the median over the rounds of a round-trip percentile.
rtt() { over "$1-rtt" ".rtt_us.$2" | median; }
# hop FIELD: the median over the rounds of (b) minus (a), each round with its own (a); a
# round where either run failed is left out.
hop() {
  local round a b
  for round in $(seq 1 "$rounds"); do
    a=$(value "a-rtt-$round" ".rtt_us.$1"); b=$(value "b-rtt-$round" ".rtt_us.$1")
    if [[ -n $a && -n $b ]]; then awk "BEGIN{print $b - $a}"; fi
  done | median
}
echo
printf "%-46s %10s %10s %10s\n" "request/reply, 16 B (medians)" "p50 us" "p90 us" "p99 us"
printf "%-46s %10s %10s %10s\n" "NATS requester -> nats-server -> NATS responder" \
  "$(rtt a p50)" "$(rtt a p90)" "$(rtt a p99)"
printf "%-46s %10s %10s %10s\n" "Psycho requester -> gateway -> NATS responder" \
  "$(rtt b p50)" "$(rtt b p90)" "$(rtt b p99)"
echo "the gateway hop adds $(hop p50) us at p50 and $(hop p99) us at p99 to a round trip" \
  "(medians of the rounds' differences)"
echo "(* = not every message was delivered in some round; rates count what arrived)"

if [[ -n $floor ]]; then
  echo
  echo "CPU per 16 B message received from NATS, ns (medians; the gateway's over all of (c))"
  printf "%-66s %8s\n" "the gateway, (c) NATS -> gateway -> Psycho" \
    "$(over c-16 ".cpu_ns_per_msg.each[0]" | median)"
  printf "%-66s %8s\n" "nats.c alone, its reader and delivery threads (as in the gateway)" \
    "$(over floor-async .cpu_ns_per_msg | median)"
  printf "%-66s %8s\n" "nats.c alone, an external event loop and a synchronous subscription" \
    "$(over floor-loop .cpu_ns_per_msg | median)"
fi

# What the hop is made of: a round trip through the gateway crosses five thread hand-offs
# that a direct NATS client does not (docs/nats.md, "Performance"). One of each kind, on
# this machine, now:
if command -v cc >/dev/null; then
  cc -O2 -pthread "$here/thread_handoff.c" -o "$workdir/thread_handoff"
  echo
  echo "one thread hand-off (a sleeping thread woken):"
  "$workdir/thread_handoff" 3000
fi
