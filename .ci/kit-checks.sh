#!/usr/bin/env bash
# Checks for the deployment kit (systemd unit, Prometheus rules, Grafana
# dashboard, compose file). Run from the repository root:
#
#   bash .ci/kit-checks.sh
#
# Installs what it needs with apt-get when missing (systemd for
# systemd-analyze, prometheus for promtool); skips the install when present.
# Prints each check's result and time; exits 1 if any check failed.
set -uo pipefail

cd "$(dirname "$0")/.."

MAX_EXPOSURE="${MAX_EXPOSURE:-2.0}"
UNIT=systemd/dcrvoted.service
ALERTS=deploy/prometheus/alerts.yml
ALERT_TESTS=deploy/prometheus/alerts.test.yml
PROM_CONFIG=deploy/prometheus/prometheus.yml
DASHBOARD=deploy/grafana/dcrvoted-dashboard.json
COMPOSE=deploy/docker-compose.yml
METRICS_TS=src/telemetry/metrics.ts

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

results=()
failed=0

ms() { date +%s%3N; }

# run_check NAME FUNCTION: runs it, records PASS/FAIL/SKIP (exit 2 = skip) and the time.
run_check() {
  local name="$1" fn="$2" t0 rc dt status
  echo
  echo "=== $name"
  t0=$(ms)
  "$fn"
  rc=$?
  dt=$(( $(ms) - t0 ))
  case $rc in
    0) status=PASS ;;
    2) status=SKIP ;;
    *) status=FAIL; failed=1 ;;
  esac
  echo "--- $status: $name ($(awk -v t="$dt" 'BEGIN{printf "%.2fs", t/1000}'))"
  results+=("$(printf '%-5s %8s  %s' "$status" "$(awk -v t="$dt" 'BEGIN{printf "%.2fs", t/1000}')" "$name")")
}

apt_updated=0
need() {
  # need COMMAND DEBIAN_PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$1 is missing and apt-get is not available; install package $2" >&2
    return 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if [ $apt_updated -eq 0 ]; then
    $sudo apt-get update -qq >/dev/null || return 1
    apt_updated=1
  fi
  echo "installing $2 (for $1)"
  $sudo apt-get install -y -qq --no-install-recommends "$2" >/dev/null || return 1
  command -v "$1" >/dev/null 2>&1
}

check_install() {
  local ok=0
  need systemd-analyze systemd || ok=1
  need promtool prometheus || ok=1
  need python3 python3-minimal || ok=1
  command -v systemd-analyze >/dev/null && systemd-analyze --version | head -1
  command -v promtool >/dev/null && promtool --version 2>&1 | head -1
  return $ok
}

# systemd-analyze verify wants ExecStart='s binary to exist; on a CI runner
# /usr/bin/node may not. Verify a copy whose binary is pointed at one that
# exists (node from PATH, else /bin/true); everything else is unchanged.
unit_copy() {
  mkdir -p "$TMP/unit"
  local bin
  bin="$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$UNIT" | head -1)"
  if [ -n "$bin" ] && [ ! -x "$bin" ]; then
    local repl
    repl="$(command -v node || command -v true)"
    echo "note: $bin does not exist here; verifying a copy with ExecStart=$repl ..." >&2
    sed "s#^ExecStart=$bin #ExecStart=$repl #" "$UNIT" >"$TMP/unit/dcrvoted.service"
  else
    cp "$UNIT" "$TMP/unit/dcrvoted.service"
  fi
  echo "$TMP/unit/dcrvoted.service"
}

check_unit_verify() {
  command -v systemd-analyze >/dev/null || return 1
  local copy out
  copy="$(unit_copy)"
  # verify exits 0 even for some warnings; treat any output about our unit as a failure.
  out="$(systemd-analyze verify "$copy" 2>&1)"
  local rc=$?
  [ -n "$out" ] && echo "$out"
  if [ $rc -ne 0 ] || echo "$out" | grep -q 'dcrvoted.service'; then
    return 1
  fi
  echo "systemd-analyze verify: clean"
}

check_unit_security() {
  command -v systemd-analyze >/dev/null || return 1
  local copy out score
  copy="$(unit_copy)"
  out="$(systemd-analyze security --offline=true --no-pager "$copy" 2>&1)" || true
  echo "$out" | grep -E '^✗' || true
  score="$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -1)"
  if [ -z "$score" ]; then
    echo "$out" | tail -5
    echo "could not read the exposure score (systemd >= 250 is needed for --offline)"
    return 1
  fi
  echo "exposure score: $score (must be <= $MAX_EXPOSURE)"
  awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'
}

check_unit_mdwe() {
  # V8's JIT needs W+X memory: MemoryDenyWriteExecute=yes makes node abort.
  if grep -Eq '^MemoryDenyWriteExecute=(yes|true|1|on)' "$UNIT"; then
    echo "MemoryDenyWriteExecute is enabled; node cannot run with it"
    return 1
  fi
  grep -q '^NotifyAccess=all' "$UNIT" || { echo "NotifyAccess=all is required (notifications come from a systemd-notify child)"; return 1; }
  grep -q '^Type=notify' "$UNIT" || { echo "Type=notify expected"; return 1; }
  echo "MemoryDenyWriteExecute not set, Type=notify with NotifyAccess=all"
}

check_promtool_rules() {
  command -v promtool >/dev/null || return 1
  promtool check rules "$ALERTS"
}

check_promtool_config() {
  command -v promtool >/dev/null || return 1
  promtool check config --syntax-only "$PROM_CONFIG" 2>&1 || promtool check config "$PROM_CONFIG"
}

check_promtool_tests() {
  command -v promtool >/dev/null || return 1
  (cd "$(dirname "$ALERT_TESTS")" && promtool test rules "$(basename "$ALERT_TESTS")")
}

check_dashboard_json() {
  python3 - "$DASHBOARD" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(i.get("name") == "DS_PROMETHEUS" for i in d.get("__inputs", [])), "no DS_PROMETHEUS input"
n = 0
for p in d["panels"]:
    for t in p.get("targets", []):
        assert t["datasource"]["uid"] == "${DS_PROMETHEUS}", f"panel {p['title']}: datasource is not ${{DS_PROMETHEUS}}"
        n += 1
# Panels merged from several branches must not share an id or a grid cell
# (Grafana then shows one of them, or stacks them unreadably).
ids = [p.get("id") for p in d["panels"]]
dups = sorted({i for i in ids if ids.count(i) > 1})
assert not dups, f"panel ids used twice: {dups}"
cells = {}
for p in d["panels"]:
    g = p["gridPos"]
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            other = cells.setdefault((x, y), p["title"])
            assert other == p["title"], f"panels {other!r} and {p['title']!r} overlap at x={x} y={y}"
print(f"{len(d['panels'])} panels, {n} queries, datasource input DS_PROMETHEUS, distinct ids, no overlap")
EOF
}

check_dashboard_promql() {
  # Parse every dashboard query with promtool by wrapping them as recording
  # rules (Grafana variables replaced by plausible values).
  command -v promtool >/dev/null || return 1
  python3 - "$DASHBOARD" >"$TMP/dashboard-rules.yml" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [a["expr"] for a in d.get("annotations", {}).get("list", []) if "expr" in a]
subst = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1d", "$instance": ".*", "$wallet": ".*"}
print("groups:\n  - name: dashboard\n    rules:")
for i, e in enumerate(exprs):
    for k, v in subst.items():
        e = e.replace(k, v)
    print(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(e)}")
EOF
  promtool check rules "$TMP/dashboard-rules.yml"
}

check_metric_names() {
  python3 - "$METRICS_TS" "$ALERTS" "$ALERT_TESTS" "$DASHBOARD" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
prefix = re.search(r"METRIC_PREFIX\s*=\s*'([^']+)'", src)
prefix = prefix.group(1) if prefix else "dcrvoted_"
defined = {prefix + m for m in re.findall(r"\$\{p\}([a-zA-Z0-9_:]+)", src)}
defined |= set(re.findall(r"['\"`](dcrvoted_[a-zA-Z0-9_:]+)['\"`]", src))
print(f"{len(defined)} metrics defined in {sys.argv[1]}")
bad = []
for path in sys.argv[2:]:
    used = set(re.findall(r"\bdcrvoted_[a-zA-Z0-9_:]+", open(path).read()))
    for name in sorted(used):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name in defined or base in defined:
            continue
        bad.append((path, name))
    print(f"{path}: {len(used)} dcrvoted_* names, all defined" if not any(p == path for p, _ in bad) else f"{path}: undefined names found")
for path, name in bad:
    print(f"  {path}: {name} is not defined in {sys.argv[1]}")
sys.exit(1 if bad else 0)
EOF
}

check_import_cycles() {
  npx --no-install tsx scripts/check-imports.ts
}

check_compose() {
  local cmd=()
  if docker compose version >/dev/null 2>&1; then cmd=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then cmd=(docker-compose)
  else
    echo "no docker compose / docker-compose here: skipped"
    return 2
  fi
  # config interpolates ${...}; give the required variables dummy values.
  (cd deploy && "${cmd[@]}" -f docker-compose.yml config -q) && echo "${cmd[*]} config: valid"
}

run_check "install tools (systemd-analyze, promtool)" check_install
run_check "systemd-analyze verify $UNIT" check_unit_verify
run_check "systemd-analyze security $UNIT (<= $MAX_EXPOSURE)" check_unit_security
run_check "unit sanity (no MemoryDenyWriteExecute, notify access)" check_unit_mdwe
run_check "promtool check config $PROM_CONFIG" check_promtool_config
run_check "promtool check rules $ALERTS" check_promtool_rules
run_check "promtool test rules $ALERT_TESTS" check_promtool_tests
run_check "dashboard JSON $DASHBOARD" check_dashboard_json
run_check "dashboard PromQL parses" check_dashboard_promql
run_check "dcrvoted_* names in alerts/dashboard exist in $METRICS_TS" check_metric_names
run_check "compose file $COMPOSE" check_compose
run_check "no import cycle in src/" check_import_cycles

echo
echo "=== summary"
printf '%s\n' "${results[@]}"
exit $failed
