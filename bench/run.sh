#!/usr/bin/env bash
# Side by side: the same `psycho bench` load against psycho-gateway and nats-server, on
# loopback, with a ratio per row. Builds nothing.
#
#   bench/run.sh [BUILD_DIR]        (default: build)
#
# Environment: BENCH_MSGS (default 1000000) messages per throughput run, BENCH_RTT (default
# 10000) round trips, BENCH_TIMEOUT (default 60) seconds before a single run is killed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
msgs=${BENCH_MSGS:-1000000}
rtt_count=${BENCH_RTT:-10000}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_tools
command -v nats-server >/dev/null || die "nats-server is not installed"

start_gateway() {
  gateway_url=""
  if [[ ! -x $gateway ]]; then
    echo "bench: no gateway at $gateway: only nats-server is measured" >&2
    return
  fi
  start_psycho gateway --websocket "" --admin ""
  gateway_url=tcp://127.0.0.1:$(reported gateway listen)
}

# run NAME DIALECT URL ARGS...: `psycho bench` against one server ("" URL: skipped).
run() {
  local name=$1 dialect=$2 url=$3; shift 3
  echo "{}" >"$workdir/$name.json"
  [[ -n $url ]] || return 0
  bench "$name" --dialect "$dialect" --url "$url" "$@"
}

# row LABEL METRIC JQ-PATH CASE: gateway, nats-server and their ratio.
row() {
  local label=$1 metric=$2 path=$3 case=$4 gw nats r
  gw=$(value "gw-$case" "$path"); nats=$(value "nats-$case" "$path")
  r=$(ratio "$gw" "$nats")
  if [[ $(value "gw-$case" '.complete | tostring') == false ]]; then gw="$gw*"; fi
  printf "%-24s %-16s %16s %16s %8s\n" "$label" "$metric" "${gw:--}" "${nats:--}" "$r"
}

start_nats
start_gateway

for target in gw nats; do
  if [[ $target == gw ]]; then url=$gateway_url; dialect=psycho; else url=$nats_url; dialect=nats; fi
  run "$target-1x1-16" "$dialect" "$url" --pub 1 --sub 1 --size 16 --msgs "$msgs"
  run "$target-1x1-1k" "$dialect" "$url" --pub 1 --sub 1 --size 1024 --msgs "$msgs"
  run "$target-1x10-16" "$dialect" "$url" --pub 1 --sub 10 --size 16 --msgs "$msgs"
  run "$target-rtt" "$dialect" "$url" --rtt --size 16 --msgs "$rtt_count"
done

echo
printf "%-24s %-16s %16s %16s %8s\n" "scenario" "metric" "psycho-gateway" "nats-server" "gw/nats"
for case in 1x1-16 1x1-1k 1x10-16; do
  case $case in
    1x1-16) label="1 pub -> 1 sub, 16 B" ;;
    1x1-1k) label="1 pub -> 1 sub, 1 KiB" ;;
    1x10-16) label="1 pub -> 10 subs, 16 B" ;;
  esac
  row "$label" "pub msgs/s" .pub_msgs_per_sec "$case"
  row "" "sub msgs/s" .sub_msgs_per_sec "$case"
  row "" "sub MB/s" .sub_mb_per_sec "$case"
  row "" "latency p50 us" .latency_us.p50 "$case"
  row "" "latency p99 us" .latency_us.p99 "$case"
done
row "request/reply, 16 B" "rtt p50 us" .rtt_us.p50 rtt
row "" "rtt p90 us" .rtt_us.p90 rtt
row "" "rtt p99 us" .rtt_us.p99 rtt
echo
echo "(* = not every message was delivered; sub rates count deliveries to all subscribers)"
