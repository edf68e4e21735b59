#!/usr/bin/env bash
# Measures, in one run and with the same load generator (paygate_loadgen):
#   1. nginx answering `return 200` on one worker (GET /, keep-alive, closed loop),
#   2. paygate's durable consign submit at its maximum rate (closed loop),
#   3. paygate at half that rate, open loop, for p50/p99 (latency from the scheduled send time),
#   4. paygate with group commit switched off (one commit per request), at its maximum rate;
# then the same three paygate measurements for the gateway protocol's pay-in (POST /api/Pay/Create) and payout
# (POST /api/Payouts/Create):
#   5. pay-in at its maximum rate and at half that rate (open loop), on a fresh server with group commit,
#   6. payout likewise, on a fresh server whose merchant was funded first (a payout takes its amount from the balance),
#   7. pay-in and payout with one commit per request, on one fresh (funded) server.
# Prints a markdown table and writes every result to bench/out/.
#
# Usage: bench/run.sh BUILD_DIR            (`make bench` runs it after building)
# Tunables (environment): BENCH_CONNECTIONS (64), BENCH_DURATION_S (10), BENCH_WARMUP_S (2),
#   BENCH_PERCOMMIT_DURATION_S (5), BENCH_GATEWAY_DURATION_S (= BENCH_DURATION_S),
#   BENCH_GATEWAY_WARMUP_S (= BENCH_WARMUP_S), BENCH_OUT (bench/out), BENCH_LOADGEN_CPU (the last CPU; empty: the
#   scheduler places the generator).
# Bounded: every step has a timeout and the whole run stops after BENCH_TOTAL_MAX_S (360 s).
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
save_metrics paygate_consign_max
PAYGATE_RPS=$(json_field "$OUT/paygate_consign_max.json" throughput_rps)

# 3. paygate at half its maximum rate, open loop
HALF_RATE=$("$PYTHON" -c 'import sys; print(max(1.0, round(float(sys.argv[1]) / 2, 1)))' "$PAYGATE_RPS")
check_budget "$RUN_SECONDS_NEEDED"
log "paygate (group commit): open loop at $HALF_RATE rps (half of $PAYGATE_RPS), ${DURATION_S} s"
# shellcheck disable=SC2046
loadgen $RUN_SECONDS_NEEDED $(consign_args) --connections "$CONNECTIONS" --warmup-s "$WARMUP_S" \
  --duration-s "$DURATION_S" --rate "$HALF_RATE" --label paygate_consign_half --json-out "$OUT/paygate_consign_half.json"
server_alive "$PAYGATE_PID" paygate
save_metrics paygate_consign_half
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
save_metrics paygate_consign_per_request_commit
stop_pid "$PAYGATE_PID"

# --------------------------------------------------------------------------------------------------------------
# The gateway: pay-in and payout, each at its maximum rate and at half of it on a fresh server (group commit on, as
# for consign), then both with one commit per request.
GW_RUN_SECONDS_NEEDED=$((GW_WARMUP_S + GW_DURATION_S + 40))
# A payout of 1 yuan each: this covers any run the generator can make (at most 2 000 000 pre-built requests).
GW_FUNDING=90000000.00

gateway_max_and_half() {  # $1 payin | payout; sets GW_MAX_RPS
  local mode=$1 prebuild half
  check_budget $((2 * GW_RUN_SECONDS_NEEDED + 20))
  setup_gateway_data "$TMP/pg_$mode"
  start_paygate "$TMP/pg_$mode" "$TMP/paygate_${mode}_group.log"
  [[ $mode == payout ]] && fund_gateway_merchant "$GW_FUNDING"
  prebuild=$(prebuild_for "$NGINX_RPS" $((GW_WARMUP_S + GW_DURATION_S)) 0.75)
  log "paygate (group commit): $mode on 127.0.0.1:$PAYGATE_PORT, closed loop, $CONNECTIONS connections, ${GW_DURATION_S} s (pre-building $prebuild)"
  # shellcheck disable=SC2046
  loadgen $GW_RUN_SECONDS_NEEDED $(gateway_args "$mode") --connections "$CONNECTIONS" --warmup-s "$GW_WARMUP_S" \
    --duration-s "$GW_DURATION_S" --prebuild "$prebuild" --label "paygate_${mode}_max" \
    --json-out "$OUT/paygate_${mode}_max.json"
  server_alive "$PAYGATE_PID" paygate
  save_metrics "paygate_${mode}_max"
  GW_MAX_RPS=$(json_field "$OUT/paygate_${mode}_max.json" throughput_rps)

  half=$("$PYTHON" -c 'import sys; print(max(1.0, round(float(sys.argv[1]) / 2, 1)))' "$GW_MAX_RPS")
  check_budget "$GW_RUN_SECONDS_NEEDED"
  log "paygate (group commit): $mode, open loop at $half rps (half of $GW_MAX_RPS), ${GW_DURATION_S} s"
  # shellcheck disable=SC2046
  loadgen $GW_RUN_SECONDS_NEEDED $(gateway_args "$mode") --connections "$CONNECTIONS" --warmup-s "$GW_WARMUP_S" \
    --duration-s "$GW_DURATION_S" --rate "$half" --label "paygate_${mode}_half" --json-out "$OUT/paygate_${mode}_half.json"
  server_alive "$PAYGATE_PID" paygate
  save_metrics "paygate_${mode}_half"
  stop_pid "$PAYGATE_PID"
}

# 5. pay-in, 6. payout
gateway_max_and_half payin
PAYIN_RPS=$GW_MAX_RPS
gateway_max_and_half payout
PAYOUT_RPS=$GW_MAX_RPS

# 7. pay-in and payout with one commit per request, on one fresh data dir (funded for the payouts)
check_budget $((2 * PERCOMMIT_NEEDED + 10))
setup_gateway_data "$TMP/pg_gw_single"
start_paygate "$TMP/pg_gw_single" "$TMP/paygate_gateway_single.log" PAYGATE_STORAGE_GROUP_COMMIT=false
fund_gateway_merchant "$GW_FUNDING"
for mode in payin payout; do
  if [[ $mode == payin ]]; then rps=$PAYIN_RPS; else rps=$PAYOUT_RPS; fi
  PREBUILD=$(prebuild_for "$rps" $((1 + PERCOMMIT_DURATION_S)) 1.1)
  check_budget "$PERCOMMIT_NEEDED"
  log "paygate (PAYGATE_STORAGE_GROUP_COMMIT=false): $mode, closed loop, $CONNECTIONS connections, ${PERCOMMIT_DURATION_S} s"
  # shellcheck disable=SC2046
  loadgen $PERCOMMIT_NEEDED $(gateway_args "$mode") --connections "$CONNECTIONS" --warmup-s 1 \
    --duration-s "$PERCOMMIT_DURATION_S" --prebuild "$PREBUILD" --label "paygate_${mode}_per_request_commit" \
    --json-out "$OUT/paygate_${mode}_per_request_commit.json"
  server_alive "$PAYGATE_PID" paygate
  save_metrics "paygate_${mode}_per_request_commit"
done
stop_pid "$PAYGATE_PID"

# --------------------------------------------------------------------------------------------------------------
# The table.
"$PYTHON" - "$OUT" "$(nproc)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$LOADGEN_CPU" <<'EOF'
import json, os, sys
out, cores, commit, loadgen_cpu = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def load(name):
    with open(os.path.join(out, name + ".json")) as f:
        return json.load(f)
def verdict(ok):
    return "met" if ok else "**not met**"
def errors(r):
    return f'{r["errors"]} / {r["requests"]}'

nginx = load("nginx_get")
# name, what the rows call it, the prefix of its result files
endpoints = [
    ("consign", "paygate consign submit", "paygate_consign"),
    ("payin", "paygate gateway pay-in (`POST /api/Pay/Create`)", "paygate_payin"),
    ("payout", "paygate gateway payout (`POST /api/Payouts/Create`)", "paygate_payout"),
]
rows = [("nginx `return 200`, 1 worker (closed loop)", nginx)]
results = {}
for name, title, prefix in endpoints:
    gmax, half, single = load(prefix + "_max"), load(prefix + "_half"), load(prefix + "_per_request_commit")
    ratio = gmax["throughput_rps"] / nginx["throughput_rps"] if nginx["throughput_rps"] else 0.0
    gc_ratio = gmax["throughput_rps"] / single["throughput_rps"] if single["throughput_rps"] else float("inf")
    results[name] = dict(title=title, max=gmax, half=half, single=single, ratio=ratio, gc_ratio=gc_ratio)
    rows += [
        (f"{title}, group commit (closed loop)", gmax),
        (f'{title} at half rate, {half["rate_target_rps"]:.0f} rps (open loop)', half),
        (f"{title}, one commit per request (closed loop)", single),
    ]

lines = []
placement = (f"paygate_loadgen (1 thread) runs on CPU {loadgen_cpu}" if loadgen_cpu
             else "paygate_loadgen (1 thread) goes where the scheduler puts it")
lines.append(f"Measured on {cores} cores; nginx, paygate and the generator share them, and {placement}. "
             f"{nginx['connections']} keep-alive connections; commit {commit}.")
lines.append("")
lines.append("| run | throughput (rps) | p50 (ms) | p90 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | errors / requests |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, r in rows:
    lines.append(f'| {label} | {r["throughput_rps"]:.0f} | {r["p50_ms"]:.3f} | {r["p90_ms"]:.3f} | {r["p99_ms"]:.3f} '
                 f'| {r["p999_ms"]:.3f} | {r["max_ms"]:.3f} | {errors(r)} |')
lines.append("")
lines.append("| endpoint | target | measured | goal | |")
lines.append("|---|---|---:|---:|---|")
for name, _, _ in endpoints:
    e = results[name]
    half = e["half"]
    lines.append(f'| {name} | durable requests / nginx | {e["ratio"]:.2f}x | >= 0.30x | {verdict(e["ratio"] >= 0.30)} |')
    lines.append(f'| {name} | p99 at half of its max rate | {half["p99_ms"]:.3f} ms (p50 {half["p50_ms"]:.3f} ms) '
                 f'| <= 5 ms | {verdict(half["p99_ms"] <= 5.0)} |')
    lines.append(f'| {name} | group commit / one commit per request | {e["gc_ratio"]:.1f}x | >= 10x '
                 f'| {verdict(e["gc_ratio"] >= 10.0)} |')
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

def speedup(x):
    return round(x, 2) if x != float("inf") else None
per_endpoint = {}
for name, _, _ in endpoints:
    e = results[name]
    per_endpoint[name] = {
        "rps": e["max"]["throughput_rps"], "to_nginx": round(e["ratio"], 3),
        "half_rate_rps": e["half"]["rate_target_rps"], "half_rate_p50_ms": e["half"]["p50_ms"],
        "half_rate_p99_ms": e["half"]["p99_ms"], "per_request_commit_rps": e["single"]["throughput_rps"],
        "group_commit_speedup": speedup(e["gc_ratio"]),
        "errors": e["max"]["errors"] + e["half"]["errors"] + e["single"]["errors"],
        "targets_met": {"to_nginx": e["ratio"] >= 0.30, "half_rate_p99": e["half"]["p99_ms"] <= 5.0,
                        "group_commit": e["gc_ratio"] >= 10.0},
    }
consign = per_endpoint["consign"]
with open(os.path.join(out, "summary.json"), "w") as f:
    # The top-level paygate_* keys are the consign submit's (as before the gateway steps); "endpoints" has all three.
    json.dump({"cores": int(cores), "commit": commit, "loadgen_cpu": loadgen_cpu or None, "nginx_rps": nginx["throughput_rps"],
               "paygate_rps": consign["rps"], "paygate_to_nginx": consign["to_nginx"],
               "half_rate_rps": consign["half_rate_rps"], "half_rate_p50_ms": consign["half_rate_p50_ms"],
               "half_rate_p99_ms": consign["half_rate_p99_ms"],
               "per_request_commit_rps": consign["per_request_commit_rps"],
               "group_commit_speedup": consign["group_commit_speedup"], "endpoints": per_endpoint}, f, indent=2)
    f.write("\n")
EOF
log "results in $OUT (total ${SECONDS} s)"
