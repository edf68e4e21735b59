#!/usr/bin/env bash
# Measures, in one run and with the same load generator (paygate_loadgen):
#   1. nginx answering `return 200` on one worker (GET /, keep-alive, closed loop),
#   2. paygate's durable consign submit at its maximum rate (closed loop),
#   3. paygate at half that rate, open loop, for p50/p99 (latency from the scheduled send time),
#   4. paygate with group commit switched off (one commit per request), at its maximum rate.
# Prints a markdown table and writes every result to bench/out/.
#
# Usage: bench/run.sh BUILD_DIR            (`make bench` runs it after building)
# Tunables (environment): BENCH_CONNECTIONS (64), BENCH_DURATION_S (10), BENCH_WARMUP_S (2),
#   BENCH_PERCOMMIT_DURATION_S (5), BENCH_OUT (bench/out).
# Bounded: every step has a timeout and the whole run stops after BENCH_TOTAL_MAX_S (280 s).
set -euo pipefail

BUILD_DIR=${1:?usage: bench/run.sh BUILD_DIR}
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found: scripts/install-deps.sh --bench installs nginx-light"

mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/summary.md

# --------------------------------------------------------------------------------------------------------------
# nginx: one worker, `return 200`, no access log, a generated config in the temp dir.
start_nginx() {
  local dir=$TMP/nginx port temp_paths="" flag
  mkdir -p "$dir"
  port=$(free_port)
  # Temp paths for the modules this nginx was built with, inside the temp dir (the defaults need root).
  for flag in client-body fastcgi proxy scgi uwsgi; do
    if "$NGINX" -V 2>&1 | grep -q -- "--http-$flag-temp-path"; then
      temp_paths+="  ${flag//-/_}_temp_path $dir/${flag}_temp;"$'\n'
    fi
  done
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
error_log stderr;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
$temp_paths  # The same keep-alive as paygate: connections stay open for the whole run.
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$port;
    location / { return 200; }
  }
}
EOF
  SERVER_LOG=$TMP/nginx.log
  "$NGINX" -e stderr -p "$dir" -c "$dir/nginx.conf" >"$SERVER_LOG" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  for _ in $(seq 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
      NGINX_PORT=$port
      return 0
    fi
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "nginx did not start"
}


echo "bench: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); nginx, paygate" \
  "and the load generator share them, as they would on a 2-core machine." >&2
RUN_SECONDS_NEEDED=$((WARMUP_S + DURATION_S + 40))

# 1. nginx
check_budget "$RUN_SECONDS_NEEDED"
start_nginx
log "nginx: GET / on 127.0.0.1:$NGINX_PORT, $CONNECTIONS connections, ${DURATION_S} s"
loadgen $RUN_SECONDS_NEEDED --mode get --port "$NGINX_PORT" --connections "$CONNECTIONS" \
  --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --label nginx_get --json-out "$OUT/nginx_get.json"
server_alive "$NGINX_PID" nginx
stop_pid "$NGINX_PID"
NGINX_RPS=$(json_field "$OUT/nginx_get.json" throughput_rps)

# 2. paygate, group commit (the default), maximum rate
check_budget $((2 * RUN_SECONDS_NEEDED + PERCOMMIT_DURATION_S + 40))
setup_paygate_data "$TMP/pg_group"
start_paygate "$TMP/pg_group" "$TMP/paygate_group.log"
# paygate does not outrun nginx on the same machine, so nginx's rate bounds the requests needed; 0.75 of it
# saves memory and build time. Should paygate go faster, the run ends early, and says so, with the throughput
# measured over the shorter window.
PREBUILD=$(prebuild_for "$NGINX_RPS" $((WARMUP_S + DURATION_S)) 0.75)
log "paygate (group commit): consign submit on 127.0.0.1:$PAYGATE_PORT, closed loop, $CONNECTIONS connections, ${DURATION_S} s (pre-building $PREBUILD)"
# shellcheck disable=SC2046
loadgen $RUN_SECONDS_NEEDED $(consign_args) --connections "$CONNECTIONS" --warmup-s "$WARMUP_S" \
  --duration-s "$DURATION_S" --prebuild "$PREBUILD" --label paygate_consign_max --json-out "$OUT/paygate_consign_max.json"
server_alive "$PAYGATE_PID" paygate
PAYGATE_RPS=$(json_field "$OUT/paygate_consign_max.json" throughput_rps)

# 3. paygate at half its maximum rate, open loop
HALF_RATE=$("$PYTHON" -c 'import sys; print(max(1.0, round(float(sys.argv[1]) / 2, 1)))' "$PAYGATE_RPS")
check_budget "$RUN_SECONDS_NEEDED"
log "paygate (group commit): open loop at $HALF_RATE rps (half of $PAYGATE_RPS), ${DURATION_S} s"
# shellcheck disable=SC2046
loadgen $RUN_SECONDS_NEEDED $(consign_args) --connections "$CONNECTIONS" --warmup-s "$WARMUP_S" \
  --duration-s "$DURATION_S" --rate "$HALF_RATE" --label paygate_consign_half --json-out "$OUT/paygate_consign_half.json"
server_alive "$PAYGATE_PID" paygate
stop_pid "$PAYGATE_PID"

# 4. paygate with one commit per request, on a fresh data dir
PERCOMMIT_NEEDED=$((1 + PERCOMMIT_DURATION_S + 40))
check_budget "$PERCOMMIT_NEEDED"
setup_paygate_data "$TMP/pg_single"
start_paygate "$TMP/pg_single" "$TMP/paygate_single.log" PAYGATE_STORAGE_GROUP_COMMIT=false
PREBUILD=$(prebuild_for "$PAYGATE_RPS" $((1 + PERCOMMIT_DURATION_S)) 1.1)
log "paygate (PAYGATE_STORAGE_GROUP_COMMIT=false): closed loop, $CONNECTIONS connections, ${PERCOMMIT_DURATION_S} s"
# shellcheck disable=SC2046
loadgen $PERCOMMIT_NEEDED $(consign_args) --connections "$CONNECTIONS" --warmup-s 1 \
  --duration-s "$PERCOMMIT_DURATION_S" --prebuild "$PREBUILD" --label paygate_consign_per_request_commit \
  --json-out "$OUT/paygate_consign_per_request_commit.json"
server_alive "$PAYGATE_PID" paygate
stop_pid "$PAYGATE_PID"

# --------------------------------------------------------------------------------------------------------------
# The table.
"$PYTHON" - "$OUT" "$(nproc)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import json, os, sys
out, cores, commit = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
nginx = load("nginx_get")
gmax = load("paygate_consign_max")
half = load("paygate_consign_half")
single = load("paygate_consign_per_request_commit")

ratio = gmax["throughput_rps"] / nginx["throughput_rps"] if nginx["throughput_rps"] else 0.0
gc_ratio = gmax["throughput_rps"] / single["throughput_rps"] if single["throughput_rps"] else float("inf")
def verdict(ok):
    return "met" if ok else "**not met**"
def errors(r):
    return f'{r["errors"]} / {r["requests"]}'

rows = [
    ("nginx `return 200`, 1 worker (closed loop)", nginx),
    ("paygate consign submit, group commit (closed loop)", gmax),
    (f'paygate consign submit at half rate, {half["rate_target_rps"]:.0f} rps (open loop)', half),
    ("paygate consign submit, one commit per request (closed loop)", single),
]
lines = []
lines.append(f"Measured on {cores} cores; nginx, paygate and paygate_loadgen (1 thread) share them. "
             f"{nginx['connections']} keep-alive connections; commit {commit}.")
lines.append("")
lines.append("| run | throughput (rps) | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | errors / requests |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows:
    lines.append(f'| {name} | {r["throughput_rps"]:.0f} | {r["p50_ms"]:.3f} | {r["p90_ms"]:.3f} | {r["p99_ms"]:.3f} '
                 f'| {r["p999_ms"]:.3f} | {r["max_ms"]:.3f} | {errors(r)} |')
lines.append("")
lines.append("| target | measured | goal | |")
lines.append("|---|---:|---:|---|")
lines.append(f'| paygate durable submits / nginx | {ratio:.2f}x | >= 0.30x | {verdict(ratio >= 0.30)} |')
lines.append(f'| p99 at half of paygate\'s max rate | {half["p99_ms"]:.3f} ms (p50 {half["p50_ms"]:.3f} ms) | <= 5 ms '
             f'| {verdict(half["p99_ms"] <= 5.0)} |')
lines.append(f'| group commit / one commit per request | {gc_ratio:.1f}x | >= 10x | {verdict(gc_ratio >= 10.0)} |')
all_errors = sum(r["errors"] for _, r in rows)
if all_errors:
    lines.append("")
    lines.append(f"Warning: {all_errors} requests failed; see error_samples in the JSON files. A run with errors "
                 "does not count.")
for _, r in rows:
    if r.get("exhausted"):
        lines.append("")
        lines.append(f'Note: {r["label"]} ran out of pre-built requests; its throughput is over the shorter window '
                     f'({r["duration_s"]} s).')
text = "\n".join(lines)
print(text)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(text + "\n")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"cores": int(cores), "commit": commit, "nginx_rps": nginx["throughput_rps"],
               "paygate_rps": gmax["throughput_rps"], "paygate_to_nginx": round(ratio, 3),
               "half_rate_rps": half["rate_target_rps"], "half_rate_p50_ms": half["p50_ms"],
               "half_rate_p99_ms": half["p99_ms"], "per_request_commit_rps": single["throughput_rps"],
               "group_commit_speedup": round(gc_ratio, 2) if gc_ratio != float("inf") else None}, f, indent=2)
    f.write("\n")
EOF
log "results in $OUT (total ${SECONDS} s)"
