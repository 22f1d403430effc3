# Shared by the bench/ scripts: process bookkeeping, starting servers and reading the ports
# they bound, and the JSON-producing runner.
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

# Every server binds port 0 and reports what it bound; nothing here picks a "free" port and
# hands it on (another process may take it first, as an ephemeral port among others).

# wait_for_report PID CHECK...: polls (10 s at most) until the command CHECK succeeds; fails
# when the process PID dies first.
wait_for_report() {
  local pid=$1 deadline=$((SECONDS + 10)); shift
  while ((SECONDS < deadline)); do
    if "$@" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# start_psycho NAME FLAGS...: starts psycho-gateway with its client listener on port 0 and
# --ports-file $workdir/NAME.ports, log in $workdir/NAME.log; returns once the file is there
# (it is renamed into place whole). Read ports with `reported NAME KEY`.
start_psycho() {
  local name=$1; shift
  "$gateway" --listen 127.0.0.1:0 --ports-file "$workdir/$name.ports" "$@" \
    >"$workdir/$name.log" 2>&1 &
  pids+=($!)
  wait_for_report $! test -s "$workdir/$name.ports" ||
    die "psycho-gateway $name did not start: $(tail -5 "$workdir/$name.log")"
}

# reported NAME KEY: the port gateway NAME reported for KEY (listen, admin, poldercast...).
reported() { jq -er ".$2" "$workdir/$1.ports"; }

# Starts nats-server on port -1 (any free one); it writes nats-server_<pid>.ports into
# $workdir once listening, not atomically, so it is read until it parses. Sets $nats_url.
start_nats() {
  nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$workdir" >"$workdir/nats.log" 2>&1 &
  pids+=($!)
  local file=$workdir/nats-server_$!.ports
  wait_for_report $! jq -e '.nats[0]' "$file" >/dev/null ||
    die "nats-server did not start (see $workdir/nats.log)"
  nats_url=$(jq -r '.nats[0]' "$file")
  nats_url=${nats_url/nats:/tcp:}
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

clock_ticks=$(getconf CLK_TCK)
# cpu_ticks PID: the user and system CPU time PID has used, in clock ticks. 0 once PID is
# gone, so that a server that died fails its runs, not the script.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# note_children_cpu: sets $children_ms to the CPU time (user and system) of every child this
# shell has reaped so far, in milliseconds. Call it as a command: `times` in a command
# substitution would run in a forked subshell, which starts again from zero.
note_children_cpu() {
  times >"$workdir/times"
  children_ms=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); ms += t[1] * 60000 + t[2] * 1000 } }
       END { printf "%d", ms }' "$workdir/times")
}

# bench_cpu NAME "PID..." ARGS...: `bench NAME ARGS...`, adding to NAME's JSON what each
# message delivered cost in CPU, in ns (`.cpu_ns_per_msg`): `.servers` for the processes
# PID... together (the servers on the path), `.each` for each of them in that order, and
# `.clients` for the benchmark's publisher and subscriber. On a machine whose cores are all
# busy, a path's rate follows the sum of servers and clients.
bench_cpu() {
  local name=$1 pid i before=() each=() clients_ms delivered
  local -a servers
  read -ra servers <<<"$2"
  shift 2
  for pid in "${servers[@]}"; do before+=("$(cpu_ticks "$pid")"); done
  note_children_cpu
  clients_ms=$children_ms
  bench "$name" "$@"
  note_children_cpu
  clients_ms=$((children_ms - clients_ms))
  delivered=$(value "$name" .received)
  [[ -n $delivered && $delivered -gt 0 ]] || return 0
  for i in "${!servers[@]}"; do
    each+=($((($(cpu_ticks "${servers[i]}") - before[i]) * 1000000000 / clock_ticks / delivered)))
  done
  jq -c --argjson each "[$(IFS=,; echo "${each[*]}")]" \
    --argjson c "$((clients_ms * 1000000 / delivered))" \
    '.cpu_ns_per_msg = {servers: ($each | add), each: $each, clients: $c}' \
    "$workdir/$name.json" >"$workdir/$name.cpu"
  mv "$workdir/$name.cpu" "$workdir/$name.json"
}

# For scripts that run bench_cpu cases in rounds (see `over` below):
# cpu_cell CASE: "servers + clients", CASE's median CPU ns per message;
# cpu_ratio BASE CASE: the median over the rounds of BASE's total CPU per message over CASE's
# (the rate ratio CASE can reach when every run keeps all cores busy).
cpu_cell() {
  echo "$(over "$1" .cpu_ns_per_msg.servers | median | cut -d. -f1) +" \
    "$(over "$1" .cpu_ns_per_msg.clients | median | cut -d. -f1)"
}
cpu_ratio() {
  ratios "$1" "$2" '(.cpu_ns_per_msg.servers + .cpu_ns_per_msg.clients)' | median
}

# value NAME FILTER: FILTER of NAME's JSON, or nothing. jq's `//` takes false for missing too:
# ask for a flag as `.flag | tostring`.
value() { jq -r "$2 // empty" "$workdir/$1.json"; }

# For scripts that run each case in $rounds rounds, as CASE-1 .. CASE-$rounds:
# over CASE FIELD: CASE's FIELD in each round, one per line (failed runs give none).
over() { for round in $(seq 1 "$rounds"); do value "$1-$round" "$2"; done | grep . || true; }
# ratios CASE BASE FIELD: CASE's FIELD over BASE's, round by round (failed runs give none).
ratios() {
  for round in $(seq 1 "$rounds"); do
    echo "$(ratio "$(value "$1-$round" "$3")" "$(value "$2-$round" "$3")")"
  done | grep -v '^-$' || true
}

# median: the middle of the numbers on stdin (the mean of the two middle ones for an even
# count), nothing for none; min_max: "min-max".
median() { sort -g | awk '{v[NR]=$1} END{if (NR) printf "%.2f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
min_max() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END{if (NR) printf "%s-%s", lo, hi}'; }

# ratio A B: A/B with two decimals, or "-".
ratio() {
  if [[ -n $1 && -n $2 ]] && awk "BEGIN{exit !($2 > 0)}"; then
    awk "BEGIN{printf \"%.2f\", $1 / $2}"
  else
    echo "-"
  fi
}
