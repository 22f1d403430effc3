#!/usr/bin/env bash
# The PolderCast overlay in the simulator (psycho-sim runs the gateway's own overlay code on
# an in-memory network with a virtual clock): every scenario in docs/poldercast.md ("Simulator"), PolderCast side
# by side with the ring-only, gossip-only and gossipsub-like D=6 mesh baselines on the same
# workload. Prints one summary table; the full reports (CSV and JSON, long form) stay in
# OUT_DIR. Builds nothing.
#
#   bench/poldercast.sh [BUILD_DIR] [OUT_DIR]     (defaults: build, bench-results/poldercast)
#
# Environment: SIM_QUICK=1 runs every scenario at a tenth of the nodes (for a smoke test);
# SIM_ONLY=REGEX runs only the scenarios whose names match (the summary reads every report
# in OUT_DIR, so two runs with different SIM_ONLY can share it, e.g. in parallel).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
out=${2:-$here/../bench-results/poldercast}
sim=$build/sim/psycho-sim
[[ -x $sim ]] || { echo "bench: $sim not built (scripts/build release)" >&2; exit 1; }
mkdir -p "$out"
scale=1
[[ ${SIM_QUICK:-0} == 1 ]] && scale=10

# name, then psycho-sim options (node counts are divided by $scale)
scenarios=(
  "social-1k|--nodes $((1000 / scale)) --cycles 30 --fail 0.3 --recovery-cycles 15"
  "social-10k|--nodes $((10000 / scale)) --cycles 40 --publications 300 --fail 0.3 --recovery-cycles 15"
  "fail-10pct|--nodes $((1000 / scale)) --cycles 30 --fail 0.1 --recovery-cycles 15 --no-baselines"
  "fail-50pct|--nodes $((1000 / scale)) --cycles 30 --fail 0.5 --recovery-cycles 15 --no-baselines"
  "churn-1pct|--nodes $((1000 / scale)) --cycles 30 --churn 0.01 --churn-cycles 30 --no-baselines"
  "churn-5pct|--nodes $((1000 / scale)) --cycles 30 --churn 0.05 --churn-cycles 30 --no-baselines"
  "fanout-2|--nodes $((1000 / scale)) --cycles 30 --fanout 2 --no-baselines"
  "fanout-4|--nodes $((1000 / scale)) --cycles 30 --fanout 4 --no-baselines"
  "fanout-5|--nodes $((1000 / scale)) --cycles 30 --fanout 5 --no-baselines"
  "heavy-1k|--workload heavy --nodes $((1000 / scale)) --topics 10000 --topics-per-node 1000 --cycles 40 --publications 200"
)

for entry in "${scenarios[@]}"; do
  name=${entry%%|*}
  [[ -n ${SIM_ONLY:-} && ! $name =~ ${SIM_ONLY} ]] && continue
  # shellcheck disable=SC2086
  set -- ${entry#*|}
  echo "== $name: psycho-sim --name $name $*"
  /usr/bin/time -f "   (%e s, %M KiB peak)" "$sim" --name "$name" "$@" \
    --csv "$out/$name.csv" --json "$out/$name.json"
done

echo
echo "== summary (steady: after the warm-up, no failures)"
python3 - "$out" <<'PY'
import csv, glob, os, sys
rows = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.csv"))):
    rows += list(csv.DictReader(open(path)))
def get(s, p, phase, metric):
    v = [r["value"] for r in rows if r["scenario"] == s and r["protocol"] == p
         and r["phase"] == phase and r["metric"] == metric and r["cycle"] == "-1"]
    return v[-1] if v else ""
cols = ["hit_ratio", "hops_mean", "hops_p99", "hops_max", "within_2log2n", "copies_per_delivery"]
print("| scenario | protocol | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 2) + "|")
for s in sorted({r["scenario"] for r in rows}):
    for p in sorted({r["protocol"] for r in rows if r["scenario"] == s and r["phase"] == "steady"}):
        vals = [get(s, p, "steady", c) for c in cols]
        if any(vals):
            print(f"| {s} | {p} | " + " | ".join(f"{float(v):.4g}" if v else "" for v in vals) + " |")
print()
print("| scenario | rings 99% at cycle | ring correctness | degree mean | gossip B/node/cycle | outsider hit | recovery cycles | churn hit (mean) |")
print("|---|---|---|---|---|---|---|---|")
for s in sorted({r["scenario"] for r in rows}):
    rec = [r["value"] for r in rows if r["scenario"] == s and r["metric"] == "cycles_to_full_hit_ratio"]
    vals = [get(s, "polder", "coldstart", "cycles_to_99pct_rings"), get(s, "polder", "steady", "ring_correctness"),
            get(s, "polder", "steady", "degree_mean"), get(s, "polder", "steady", "gossip_bytes_per_node_cycle"),
            get(s, "polder", "outsider_publish", "hit_ratio"), rec[-1] if rec else "",
            get(s, "polder", "churn", "hit_ratio_mean")]
    print(f"| {s} | " + " | ".join(f"{float(v):.4g}" if v else "" for v in vals) + " |")
PY
