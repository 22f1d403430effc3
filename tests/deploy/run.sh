#!/usr/bin/env bash
# The deployment checks, offline, without a cluster (docs/deployment.md):
#   run.sh kustomize   deploy/k8s renders with kubectl kustomize, passes yamllint and the
#                      Kubernetes schemas; the image's and the ConfigMap's gateway
#                      configurations pass --check-config
#   run.sh helm        the chart renders (Go text/template + sprig, tests/deploy/helmrender)
#                      for several values files and as an application's sidecar; manifests
#                      pass the schemas, values pass values.schema.json, every rendered
#                      gateway configuration passes psycho-gateway --check-config; real
#                      `helm lint`/`helm template` too when helm is installed
#   run.sh monitoring  promtool check/test rules, the chart's copy of the rules, the Grafana
#                      dashboard's metric names against a live /metrics (promtool check metrics)
# Usage: run.sh CHECK SOURCE_ROOT WORK_DIR GATEWAY_BINARY
set -euo pipefail
check=$1
src=$(cd "$2" && pwd)
work=$3
gateway=$4
mkdir -p "$work"
here=$src/tests/deploy
chart=$src/helm/psycho-gateway
cd "$here"

fail() { echo "deploy: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is not installed (scripts/setup installs it)"; }

node_modules() {
  need node
  [[ -d $here/node_modules/kubernetes-models ]] ||
    fail "tests/deploy/node_modules is missing (scripts/setup runs npm ci there)"
}

kustomize_check() {
  need kubectl
  need yamllint
  node_modules
  for overlay in base plain-container; do
    kubectl kustomize "$src/deploy/k8s/$overlay" >"$work/k8s-$overlay.yaml" 2>"$work/k8s-$overlay.err" ||
      fail "kubectl kustomize deploy/k8s/$overlay: $(cat "$work/k8s-$overlay.err")"
  done
  yamllint -s -c yamllint.yaml "$src/deploy/k8s" "$work"/k8s-*.yaml
  node validate.mjs manifests "$work"/k8s-*.yaml
  grep -q "restartPolicy: Always" "$work/k8s-base.yaml" || fail "base: the sidecar is not native"
  # The configurations shipped in the image and the ConfigMap are ones the gateway accepts,
  # and the image is built with the steps CI runs.
  for cfg in "$src/deploy/container.yaml" "$src/deploy/k8s/base/gateway.yaml"; do
    "$gateway" --check-config "$cfg" >/dev/null || fail "$cfg: rejected by --check-config"
  done
  grep -q "scripts/setup && scripts/build release" "$src/deploy/Dockerfile" ||
    fail "deploy/Dockerfile does not build with scripts/setup and scripts/build release"
  ! grep -q "initContainers" "$work/k8s-plain-container.yaml" || fail "plain-container kept initContainers"
}

helm_check() {
  need go
  need yamllint
  node_modules
  (cd helmrender && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$work/gocache" \
    go build -o "$work/helmrender" .)
  local render=("$work/helmrender" -chart "$chart" -name psycho -namespace edge)
  "${render[@]}" >"$work/helm-defaults.yaml"
  for values in values/*.yaml; do
    "${render[@]}" -f "$values" >"$work/helm-$(basename "$values")"
  done
  "$work/helmrender" -chart example-app-chart -dep "$chart" -name shop >"$work/helm-sidecar.yaml"
  "${render[@]}" -notes >"$work/notes.txt"
  grep -q "psycho-gateway" "$work/notes.txt" || fail "NOTES.txt did not render"
  yamllint -s -c yamllint.yaml "$chart/values.yaml" "$chart/Chart.yaml" values "$work"/helm-*.yaml
  node validate.mjs manifests "$work"/helm-*.yaml
  node validate.mjs values "$chart/values.schema.json" "$chart/values.yaml" values/*.yaml
  grep -q "restartPolicy: Always" "$work/helm-sidecar.yaml" || fail "the sidecar template is not native"
  # Every gateway configuration the chart renders must be one the gateway accepts. Files the
  # pod mounts under /etc/psycho are stood in for by empty files in the work directory, and
  # the Secrets' and the pod's environment variables by dummies.
  rm -rf "$work"/rendered-config-*.yaml "$work/etc-psycho"
  node validate.mjs configs "$work" "$work"/helm-*.yaml
  for cfg in "$work"/rendered-config-*.yaml; do
    NATS_USER=u NATS_PASSWORD=p NATS_TOKEN=t POD_IP=10.0.0.7 "$gateway" --check-config "$cfg" >/dev/null ||
      fail "$cfg: rejected by psycho-gateway --check-config"
  done
  if command -v helm >/dev/null; then
    helm lint "$chart"
    helm template psycho "$chart" >/dev/null
  else
    echo "deploy: no helm binary; the Go renderer stood in for helm template"
  fi
}

monitoring_check() {
  need promtool
  need python3
  (cd "$src/deploy/prometheus" && promtool check rules psycho-gateway.rules.yaml &&
    promtool test rules psycho-gateway.rules.test.yaml)
  cmp "$src/deploy/prometheus/psycho-gateway.rules.yaml" "$chart/files/psycho-gateway.rules.yaml" ||
    fail "helm/psycho-gateway/files/psycho-gateway.rules.yaml differs from deploy/prometheus's"
  # A live /metrics with the NATS adapter (and JetStream) and the PolderCast overlay
  # configured: its families are what the dashboard and the rules may use, plus the
  # multicast peer gauge (multicast needs a network namespace of its own).
  local port admin tries=0
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  admin=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'nats:\n  servers: nats://127.0.0.1:1\n  jetstream: {export: [audit.>]}\npoldercast:\n  listen: 127.0.0.1:0\n  state_dir: %s\n  admission: {open: true}\n' \
    "$work/poldercast-state" >"$work/live.yaml"
  "$gateway" --config "$work/live.yaml" --listen "127.0.0.1:$port" --websocket "" \
    --admin "127.0.0.1:$admin" 2>"$work/live.log" &
  live_pid=$!  # global: the EXIT trap runs outside this function
  trap 'kill "$live_pid" 2>/dev/null || true; wait "$live_pid" 2>/dev/null || true' EXIT
  until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$admin/metrics')" 2>/dev/null; do
    ((++tries < 100)) || fail "the gateway did not serve /metrics: $(cat "$work/live.log")"
    sleep 0.1
  done
  python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$admin/metrics').read().decode(), end='')" \
    >"$work/live-metrics.txt"
  promtool check metrics <"$work/live-metrics.txt"
  python3 - "$work/live-metrics.txt" "$src/deploy/grafana/psycho-gateway.json" \
    "$src/deploy/prometheus/psycho-gateway.rules.yaml" <<'PY'
import json, re, sys
live = set(re.findall(r"^# TYPE (\S+) ", open(sys.argv[1]).read(), re.M))
overlays = {"psycho_multicast_peers"}
dash = json.load(open(sys.argv[2]))
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
exprs += re.findall(r"expr: (.*)", open(sys.argv[3]).read())
used = set()
for e in exprs:
    for name in re.findall(r"\bpsycho_[a-z_]+", e):
        used.add(re.sub(r"_(bucket|sum|count)$", "", name))
unknown = sorted(n for n in used if n not in live and n not in overlays)
if unknown:
    sys.exit("deploy: the dashboard or rules use metrics the gateway does not export: " + ", ".join(unknown))
print(f"deploy: {len(used)} metric names in the dashboard and rules, all exported")
PY
}

case $check in
  kustomize) kustomize_check ;;
  helm) helm_check ;;
  monitoring) monitoring_check ;;
  *) fail "unknown check $check" ;;
esac
echo "deploy: $check ok"
