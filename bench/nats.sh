#!/usr/bin/env bash
# The NATS bridge side by side with NATS itself, on loopback, in one run:
#   (a) NATS client -> nats-server -> NATS client                (the baseline)
#   (b) Psycho client -> gateway -> nats-server -> NATS client (the default configuration, and
#       with the trace header a gateway that also runs an overlay adds)
#   (c) NATS client -> nats-server -> gateway -> Psycho client
# for 16 B and 1 KiB messages, and request/reply round trips (a Psycho requester through the
# gateway to a NATS responder, against both on NATS), and what one thread hand-off costs
# here (bench/thread_handoff.c, compiled with cc). One load generator for every path:
# `psycho bench`, in the NATS dialect for NATS clients, with --sub-url for the bridged paths.
# Builds nothing.
#
#   bench/nats.sh [BUILD_DIR]       (default: build)
#
# Environment: BENCH_MSGS (default 1000000), BENCH_RTT (default 10000), BENCH_TIMEOUT
# (default 60 s per run).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
msgs=${BENCH_MSGS:-1000000}
rtt_count=${BENCH_RTT:-10000}

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
start_gateway gw
gw_default=$gw_url
# The trace header as a gateway that also runs an overlay sends it (`auto` turns it on there).
start_gateway gw-traced $'  trace_headers: true\n'
gw_traced=$gw_url

for size in 16 1024; do
  bench "a-$size" --dialect nats --url "$nats_url" --size "$size" --msgs "$msgs"
  bench "b-$size" --url "$gw_default" --sub-url "$nats_url" --sub-dialect nats \
    --size "$size" --msgs "$msgs"
  bench "b-traced-$size" --url "$gw_traced" --sub-url "$nats_url" --sub-dialect nats \
    --size "$size" --msgs "$msgs"
  bench "c-$size" --dialect nats --url "$nats_url" --sub-url "$gw_default" \
    --size "$size" --msgs "$msgs"
done
bench a-rtt --rtt --dialect nats --url "$nats_url" --size 16 --msgs "$rtt_count"
bench b-rtt --rtt --url "$gw_default" --sub-url "$nats_url" --sub-dialect nats --size 16 \
  --msgs "$rtt_count"

# line LABEL CASE: delivered msgs/s of CASE and its ratio to (a) of the same size.
line() {
  local label=$1 case=$2 size=${2##*-} rate base flag=""
  rate=$(value "$case" .sub_msgs_per_sec); base=$(value "a-$size" .sub_msgs_per_sec)
  [[ $(value "$case" .complete) == false ]] && flag="*"
  printf "%-46s %6s %14s %10s\n" "$label" "$size" "${rate:--}$flag" "$(ratio "$rate" "$base")"
}

echo
printf "%-46s %6s %14s %10s\n" "path" "bytes" "msgs/s" "vs (a)"
for size in 16 1024; do
  line "(a) NATS -> nats-server -> NATS" "a-$size"
  line "(b) Psycho -> gateway -> NATS" "b-$size"
  line "(b) same, with the trace header" "b-traced-$size"
  line "(c) NATS -> gateway -> Psycho" "c-$size"
done
echo
printf "%-46s %10s %10s %10s\n" "request/reply, 16 B" "p50 us" "p90 us" "p99 us"
for case in a-rtt b-rtt; do
  label="NATS requester -> nats-server -> NATS responder"
  [[ $case == b-rtt ]] && label="Psycho requester -> gateway -> NATS responder"
  printf "%-46s %10s %10s %10s\n" "$label" "$(value $case .rtt_us.p50)" \
    "$(value $case .rtt_us.p90)" "$(value $case .rtt_us.p99)"
done
p50=$(awk "BEGIN{printf \"%.1f\", $(value b-rtt .rtt_us.p50) - $(value a-rtt .rtt_us.p50)}")
p99=$(awk "BEGIN{printf \"%.1f\", $(value b-rtt .rtt_us.p99) - $(value a-rtt .rtt_us.p99)}")
echo "the gateway hop adds ${p50} us at p50 and ${p99} us at p99 to a round trip"
echo "(* = not every message was delivered; rates count what arrived)"

# What the hop is made of: a round trip through the gateway crosses five thread hand-offs
# that a direct NATS client does not (docs/nats.md, "Performance"). One of each kind, on
# this machine, now:
if command -v cc >/dev/null; then
  cc -O2 -pthread "$here/thread_handoff.c" -o "$workdir/thread_handoff"
  echo
  echo "one thread hand-off (a sleeping thread woken):"
  "$workdir/thread_handoff" 3000
fi
