#!/usr/bin/env bash
# The multicast adapter across three gateways, in a network namespace of its own (lo up, a
# multicast route on it: no datagram leaves the machine). A `psycho bench` publisher on
# gateway 0 and its subscriber on gateway 1; gateway 2 is on the group too and receives
# everything (a third member costs the sender nothing, the receivers their share of the
# CPU). For 16 B, 1 KiB and 64 KiB messages, without loss and with 1% of the received data
# datagrams dropped on every gateway (the adapter's test-only `test_drop_rate`: netem is not
# available here), and without loss on a keyed group (every datagram authenticated with
# HMAC-SHA256, then encrypted with AES-256-GCM: docs/multicast.md#keys), it prints delivered
# msgs/s, the share of messages delivered, and what the subscriber's gateway repaired and
# lost (datagrams); keyed rows also give their rate over the unkeyed one's.
#
# The anchor, in the same run and namespace: bench/multicast_raw.c (compiled here with cc)
# sends datagrams of the same size to the group with sendmmsg and three sockets bound to it
# (as many as gateways) take them with recvmmsg; its first receiver's rate is the kernel's
# raw datagram rate. For 64 KiB messages it sends 65,507-byte datagrams (the largest UDP
# payload) and the comparison is in bytes per second. The ratio columns are the adapter's
# delivered rate over the raw one. A second anchor, `local`: the same clients through one
# gateway alone, no multicast (what the clients and one gateway can do on this machine at
# all), and `/local`, a row's rate over it. Builds nothing of the gateway; needs root (unshare).
#
#   bench/multicast.sh [BUILD_DIR]       (default: build)
#
# Environment: BENCH_MSGS (messages at 16 B and 1 KiB, default 200000; a fiftieth of it at
# 64 KiB), BENCH_TIMEOUT (default 60 s per run), BENCH_RUNS (the groups, default
# "0:none 0.01:none 0:hmac 0:aes": injected loss and keys) and BENCH_SIZES (default
# "16 1024 65536"), e.g. BENCH_RUNS="0:none 0:hmac 0:aes" BENCH_SIZES=65536 for the keyed
# flood alone. A keyed group's /unkeyed column needs the unkeyed group in the same run.
# BENCH_ORDERED=1 sets repair.ordered on every gateway (in-order delivery around repairs).
# BENCH_MAX_DATAGRAM=N sets max_datagram (default 1472, a 1500-byte MTU; lo's allows 65507).
# BENCH_KEEP=DIR copies each case's logs and results there, with the publisher's and the
# subscriber's gateways' /metrics, the subscriber's /varz and /proc/net/udp (drops per socket).
# BENCH_BASELINE=BUILD_DIR runs every case with that build's gateway too, just before this
# one's, each group on gateways of its own: rows "base" and "new", and `/base`, a new row's
# msgs/s over its base row's (before/after, side by side, in one run).
#
# Besides the subscriber gateway's repairs and losses, each row shows why datagrams went
# missing and what the sender did about it: `rcvbuf`, the datagrams the kernel dropped for
# full socket buffers in the namespace (UDP RcvbufErrors of /proc/net/snmp, all three
# gateways); `nacked`, the sequences NACKed to the publisher's gateway; `budget`, the
# retransmissions its repair budgets refused; `pace`, the lowest pace it set (MB/s, "-":
# never paced); `cpu ms`, the CPU time each gateway used over the run: the publisher's, the
# subscriber's, and the third one's (which wants none of it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [[ -z ${PSYCHO_BENCH_NETNS:-} ]]; then
  exec unshare --net env PSYCHO_BENCH_NETNS=1 bash -c \
    'ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec bash "$0" "$@"' "$0" "$@"
fi

build=${1:-$here/../build}
msgs=${BENCH_MSGS:-200000}

# shellcheck source=bench/lib.sh
source "$here/lib.sh"
need_tools
command -v cc >/dev/null || die "cc is needed to build bench/multicast_raw.c"
cc -O2 -pthread "$here/multicast_raw.c" -o "$workdir/multicast_raw"

# raw SIZE COUNT: the kernel's rate for datagrams of SIZE bytes into $workdir/raw-SIZE.json.
raw() {
  echo "bench: raw-$1 ..." >&2
  timeout "$run_timeout" "$workdir/multicast_raw" 239.255.42.42 24299 "$1" "$2" 3 \
    >"$workdir/raw-$1.json" || echo "{}" >"$workdir/raw-$1.json"
}

# local SIZE COUNT: the same clients through one gateway alone, no multicast, into
# $workdir/local-SIZE.json: the ceiling that the clients and one gateway set on this machine,
# which no group of three can pass. Its gateway stops before the group's run.
local_anchor() {
  echo "bench: local-$1 ..." >&2
  printf 'gateway:\n  max_pending: 256MiB\n' >"$workdir/local.yaml"
  start_psycho "local-$1" --config "$workdir/local.yaml" --websocket "" --admin 127.0.0.1:0
  bench "local-$1" --url "tcp://127.0.0.1:$(reported "local-$1" listen)" --size "$1" --msgs "$2"
  kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
}

# The group key of the keyed runs (a fixed one: this is a benchmark), readable by us only.
printf '1 %s\n' "$(printf '6b%.0s' {1..32})" >"$workdir/multicast.keys"
chmod 600 "$workdir/multicast.keys"

# start_gateway NAME GROUP_PORT DROP_RATE KEYS: sets $gw_url and $gw_admin. KEYS: none, hmac
# or aes.
start_gateway() {
  local name=$1 group_port=$2 drop=$3 keys=$4
  # max_pending: psycho bench's subscriber reads more slowly than a gateway writes 64 KiB
  # messages; cut off as a Slow Consumer, it would measure itself, not the group.
  printf 'gateway:\n  max_pending: 256MiB\nmulticast:\n  group: 239.255.42.42:%s\n  interface: 127.0.0.1\n  test_drop_rate: %s\n' \
    "$group_port" "$drop" >"$workdir/$name.yaml"
  [[ -n ${BENCH_ORDERED:-} ]] && printf '  repair: {ordered: true}\n' >>"$workdir/$name.yaml"
  [[ -n ${BENCH_MAX_DATAGRAM:-} ]] && printf '  max_datagram: %s\n' "$BENCH_MAX_DATAGRAM" >>"$workdir/$name.yaml"
  if [[ $keys != none ]]; then
    printf '  keys: %s\n  encrypt: %s\n' "$workdir/multicast.keys" \
      "$([[ $keys == aes ]] && echo true || echo false)" >>"$workdir/$name.yaml"
  fi
  start_psycho "$name" --config "$workdir/$name.yaml" --websocket "" --admin 127.0.0.1:0
  gw_url=tcp://127.0.0.1:$(reported "$name" listen)
  gw_admin=$(reported "$name" admin)
}

# metric ADMIN_PORT PREFIX: the first sample of that gateway's /metrics that starts with
# PREFIX (a name, or a name with the start of its labels), as an integer.
metric() {
  python3 -c 'import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
for line in text.splitlines():
    if line.startswith(sys.argv[2]):
        print(int(float(line.split()[-1]))); break
else:
    print(0)' "$1" "$2"
}

# The figures read around each run: the subscriber's gateway's repairs and losses, the
# publisher's gateway's sending queue overflows, the subscriber gateway's router backlog and
# slow consumers, and the datagrams it refused as unauthenticated, replayed or of an unknown
# key (always 0 between gateways that share a key).
figures() {
  echo "$(metric "$sub_admin" psycho_multicast_repaired_total)" \
    "$(metric "$sub_admin" psycho_multicast_lost_total)" \
    "$(metric "$pub_admin" 'psycho_adapter_dropped_total{adapter="multicast",reason="queue_full"}')" \
    "$(metric "$sub_admin" 'psycho_router_dropped_total{reason="backlog_full"}')" \
    "$(metric "$sub_admin" psycho_slow_consumers_total)" \
    "$(($(metric "$sub_admin" 'psycho_adapter_dropped_total{adapter="multicast",reason="unauthenticated"}') + \
      $(metric "$sub_admin" 'psycho_adapter_dropped_total{adapter="multicast",reason="replayed"}') + \
      $(metric "$sub_admin" 'psycho_adapter_dropped_total{adapter="multicast",reason="unknown_key"}')))" \
    "$(rcvbuf_errors)" \
    "$(metric "$pub_admin" psycho_multicast_nacked_total)" \
    "$(($(metric "$pub_admin" 'psycho_multicast_repair_refused_total{adapter="multicast",reason="requester_rate"}') + \
      $(metric "$pub_admin" 'psycho_multicast_repair_refused_total{adapter="multicast",reason="total_rate"}')))" \
    "$(cpu_ms "${pids[-3]}")" "$(cpu_ms "${pids[-2]}")" "$(cpu_ms "${pids[-1]}")"
}

# CPU time (user and system) process PID has used, in milliseconds.
cpu_ms() { echo $(($(cpu_ticks "$1") * 1000 / clock_ticks)); }

# UDP datagrams the kernel dropped for a full socket buffer, in this namespace.
rcvbuf_errors() {
  awk '$1 == "Udp:" { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
                      else print $c }' /proc/net/snmp
}

# pace_watch ADMIN_PORT FILE: until killed, writes the lowest non-zero pace the gateway set
# (bytes/s) into FILE, looking every 50 ms.
pace_watch() {
  exec python3 -c 'import sys, time, urllib.request
low = 0
while True:
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
    for line in text.splitlines():
        if line.startswith("psycho_multicast_pace_bytes_per_second"):
            v = float(line.split()[-1])
            if v > 0 and (low == 0 or v < low):
                low = v
                open(sys.argv[2], "w").write("%d\n" % low)
    time.sleep(0.05)' "$1" "$2"
}

# The runs: injected loss and keys. One group port per run (its three gateways keep
# running). Every member binds it, so it cannot be port 0; in this namespace of the script's
# own, below the ephemeral range, no other socket has it.
read -r -a runs <<<"${BENCH_RUNS:-0:none 0.01:none 0:hmac 0:aes}"
read -r -a sizes <<<"${BENCH_SIZES:-16 1024 65536}"
group_port=24200
variants=("")
[[ -n ${BENCH_BASELINE:-} ]] && variants=("base-" "new-")
new_gateway=$gateway
for run in "${runs[@]}" ; do
  IFS=: read -r drop keys <<<"$run"
  for v in "${variants[@]}"; do
  gateway=$new_gateway
  [[ $v == base- ]] && gateway=$BENCH_BASELINE/gateway/psycho-gateway
  group_port=$((group_port + 1))
  start_gateway "${v}gw0-$drop-$keys" "$group_port" "$drop" "$keys"
  pub_url=$gw_url
  pub_admin=$gw_admin
  start_gateway "${v}gw1-$drop-$keys" "$group_port" "$drop" "$keys"
  sub_url=$gw_url
  sub_admin=$gw_admin
  start_gateway "${v}gw2-$drop-$keys" "$group_port" "$drop" "$keys"
  sleep 1.5 # presence announcements: every gateway hears the other two
  for size in "${sizes[@]}"; do
    n=$msgs
    ((size == 65536)) && n=$((msgs / 50))
    raw_size=$((size == 65536 ? 65507 : size))
    [[ -s $workdir/raw-$raw_size.json ]] || raw "$raw_size" "$n"
    [[ -s $workdir/local-$size.json ]] || local_anchor "$size" "$n"
    read -r -a before <<<"$(figures)"
    pace_watch "$pub_admin" "$workdir/$v$drop-$keys-$size.pace" &
    watcher=$!
    bench "$v$drop-$keys-$size" --url "$pub_url" --sub-url "$sub_url" --size "$size" --msgs "$n"
    sleep 1 # let late repairs and give-ups settle before reading the counters
    kill "$watcher"
    wait "$watcher" 2>/dev/null || true
    read -r -a after <<<"$(figures)"
    if [[ -n ${BENCH_KEEP:-} ]]; then
      curl -s "http://127.0.0.1:$sub_admin/varz" >"$BENCH_KEEP/$v$drop-$keys-$size.varz"
      for a in "$pub_admin" "$sub_admin"; do
        curl -s "http://127.0.0.1:$a/metrics" >"$BENCH_KEEP/$v$drop-$keys-$size-$a.metrics"
      done
      cp "$workdir"/*.log "$workdir/$v$drop-$keys-$size".* "$BENCH_KEEP/" 2>/dev/null || true
      # Per socket drops (the last column), and which gateway holds which socket.
      { cat /proc/net/udp; for pid in "${pids[@]: -3}"; do
        echo "pid $pid: $(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l ' 2>/dev/null)"
      done; } >"$BENCH_KEEP/$v$drop-$keys-$size.udp"
    fi
    for i in 0 1 2 3 4 5 6 7 8 9 10 11; do echo $((after[i] - before[i])); done | paste -sd' ' \
      >"$workdir/$v$drop-$keys-$size.fig"
  done
  # This group's gateways are done: stopped, so that they take no CPU from the next.
  for pid in "${pids[@]: -3}"; do kill "$pid" && wait "$pid" 2>/dev/null || true; done
  done
done

echo
fmt="%-6s %-5s %6s %9s %10s %10s %10s %6s %9s %6s %8s %9s %8s %7s %10s %7s %7s %7s %8s %7s %6s %5s %16s\n"
# shellcheck disable=SC2059
printf "%-5s $fmt" "build" "drop" "keys" "bytes" "messages" "msgs/s" "MB/s" "raw" "ratio" "local" \
  "/local" "/unkeyed" \
  "delivered" "repaired" "lost" "queue_full" "backlog" "refused" "rcvbuf" "nacked" "budget" "pace" \
  "/base" "cpu ms"
for run in "${runs[@]}"; do
  IFS=: read -r drop keys <<<"$run"
  for size in "${sizes[@]}"; do
  for v in "${variants[@]}"; do
    case=$v$drop-$keys-$size
    raw_size=$((size == 65536 ? 65507 : size))
    expected=$(value "$case" .expected)
    received=$(value "$case" .received)
    rate=$(value "$case" .sub_msgs_per_sec)
    share="-"
    [[ -n $expected && -n $received ]] && share=$(awk "BEGIN{printf \"%.4f\", $received / $expected}")
    mbps=$(ratio "${rate:-0}" "$((1000000 / size))")
    if ((size == 65536)); then # bytes per second against the kernel's
      raw_rate=$(value "raw-$raw_size" .bytes_per_sec)
      raw_text="$(ratio "${raw_rate:-0}" 1000000)MB/s"
      r=$(ratio "$(awk "BEGIN{print ${rate:-0} * $size}")" "$raw_rate")
    else
      raw_rate=$(value "raw-$raw_size" .datagrams_per_sec)
      raw_text=$raw_rate
      r=$(ratio "$rate" "$raw_rate")
    fi
    local_rate=$(value "local-$size" .sub_msgs_per_sec)
    vs_local=$(ratio "${rate:-0}" "${local_rate:-0}")
    vs="-" # keyed: the rate over the unkeyed one of the same size and loss
    [[ $keys != none && -s $workdir/$v$drop-none-$size.json ]] &&
      vs=$(ratio "${rate:-0}" "$(value "$v$drop-none-$size" .sub_msgs_per_sec)")
    base="-" # with a baseline: the new build's rate over the base build's
    [[ $v == new- ]] && base=$(ratio "${rate:-0}" "$(value "base-$drop-$keys-$size" .sub_msgs_per_sec)")
    read -r -a fig <"$workdir/$case.fig"
    pace="-"
    [[ -s $workdir/$case.pace ]] && pace=$(ratio "$(cat "$workdir/$case.pace")" 1000000)
    # shellcheck disable=SC2059
    printf "%-5s $fmt" "${v%-}" "$drop" "$keys" "$size" "${expected:--}" "${rate:--}" "$mbps" \
      "$raw_text" "$r" "${local_rate:--}" "$vs_local" "$vs" "$share" "${fig[0]}" "${fig[1]}" "${fig[2]}" "${fig[3]}" "${fig[5]}" \
      "${fig[6]}" "${fig[7]}" "${fig[8]}" "$pace" "$base" "${fig[9]}/${fig[10]}/${fig[11]}"
  done
  done
done
