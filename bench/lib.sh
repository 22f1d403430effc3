# Shared by the bench/ scripts: process bookkeeping, ports and the JSON-producing runner.
# The caller sets $build (the build directory) before sourcing this file.

psycho=$build/clients/psycho
gateway=$build/gateway/psycho-gateway
run_timeout=${BENCH_TIMEOUT:-60}

die() { echo "bench: $*" >&2; exit 1; }

workdir=$(mktemp -d)
pids=()
# Only the processes the script started are stopped, by PID.
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

# Stops unless the psycho CLI, the gateway and jq are there.
need_tools() {
  [[ -x $psycho && -x $gateway ]] || die "build psycho and psycho-gateway first (ninja -C $build)"
  command -v jq >/dev/null || die "jq is needed to read the JSON results"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Polls until the port accepts connections (or the process died, or 10 s passed).
wait_listening() {
  local port=$1 pid=$2 deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# Starts nats-server on a free loopback port; sets $nats_url.
start_nats() {
  local port; port=$(free_port)
  nats-server -a 127.0.0.1 -p "$port" >"$workdir/nats.log" 2>&1 &
  pids+=($!)
  wait_listening "$port" $! || die "nats-server did not start (see $workdir/nats.log)"
  nats_url=tcp://127.0.0.1:$port
}

# bench NAME ARGS...: runs `psycho bench --json ARGS`; one JSON line into $workdir/NAME.json
# ("{}" if it failed).
bench() {
  local name=$1; shift
  local out=$workdir/$name.json
  echo "{}" >"$out"
  echo "bench: $name ..." >&2
  if ! timeout "$run_timeout" "$psycho" bench --json "$@" >"$out.tmp" 2>"$workdir/$name.err"; then
    echo "bench: $name did not complete: $(tail -1 "$workdir/$name.err")" >&2
  fi
  [[ -s $out.tmp ]] && mv "$out.tmp" "$out"
  return 0
}

value() { jq -r "$2 // empty" "$workdir/$1.json"; }

# ratio A B: A/B with two decimals, or "-".
ratio() {
  if [[ -n $1 && -n $2 ]] && awk "BEGIN{exit !($2 > 0)}"; then
    awk "BEGIN{printf \"%.2f\", $1 / $2}"
  else
    echo "-"
  fi
}
