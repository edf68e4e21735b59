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
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
DURATION_S=${BENCH_DURATION_S:-10}
WARMUP_S=${BENCH_WARMUP_S:-2}
PERCOMMIT_DURATION_S=${BENCH_PERCOMMIT_DURATION_S:-5}
TOTAL_MAX_S=${BENCH_TOTAL_MAX_S:-280}
PREBUILT_MAX=2000000  # paygate_loadgen's own limit

PAYGATE=$BUILD_DIR/paygate
LOADGEN=$BUILD_DIR/bench/paygate_loadgen
[[ -x $LOADGEN ]] || LOADGEN=$BUILD_DIR/paygate_loadgen
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PYTHON=$(command -v python3)

SERVER_LOG=""  # the running server's log, shown when a step fails
die() {
  echo "bench: $*" >&2
  if [[ -n $SERVER_LOG && -s $SERVER_LOG ]]; then
    echo "bench: last lines of the server's log ($(basename "$SERVER_LOG")):" >&2
    tail -n 30 "$SERVER_LOG" >&2
  fi
  exit 1
}
log() { echo "bench: $*" >&2; }
[[ -x $PAYGATE ]] || die "$PAYGATE not found: build first (make build)"
[[ -x $LOADGEN ]] || die "paygate_loadgen not found in $BUILD_DIR/bench: build first (make build)"
[[ -x $NGINX ]] || die "nginx not found: scripts/install-deps.sh --bench installs nginx-light"
[[ -n $PYTHON ]] || die "python3 not found"

TMP=$(mktemp -d /tmp/paygate-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Give each a moment to exit cleanly, then insist.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ -d $OUT ]]; then cp "$TMP"/*.log "$OUT"/ 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

time_left() {  # seconds left in the run's budget
  echo $((TOTAL_MAX_S - SECONDS))
}
check_budget() {  # $1: seconds the next step needs
  (($(time_left) > $1)) || die "time budget of ${TOTAL_MAX_S} s would be exceeded by the next step ($1 s); stopping"
}

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

json_field() {  # $1 file, $2 key
  "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

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

stop_pid() {  # $1 pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# --------------------------------------------------------------------------------------------------------------
# paygate: fresh data dir, a merchant and a product created with the CLI, then `serve` on a free port.
export PAYGATE_MASTER_KEY
PAYGATE_MASTER_KEY=$(openssl rand -hex 32)
# The sandbox processor would otherwise start working on the submitted cards during the measurement.
export PAYGATE_SANDBOX_PROCESSING_DELAY_MS=3600000

setup_paygate_data() {  # $1 data dir; sets MERCHANT_ID, MERCHANT_KEY, MERCHANT_AES_KEY
  local data=$1 merchant
  mkdir -p "$data"
  merchant=$(timeout 60 "$PAYGATE" merchant create --name bench --json --data "$data") ||
    die "paygate merchant create failed"
  MERCHANT_ID=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$merchant")
  MERCHANT_KEY=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$merchant")
  MERCHANT_AES_KEY=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["aesKey"])' "$merchant")
  timeout 60 "$PAYGATE" product add --code BENCH100 --name Bench --face-values 100 --rate 96.5 --data "$data" \
    >/dev/null || die "paygate product add failed"
  timeout 60 "$PAYGATE" product enable --merchant "$MERCHANT_ID" --code BENCH100 --data "$data" >/dev/null ||
    die "paygate product enable failed"
}

start_paygate() {  # $1 data dir, $2 log file, then extra VAR=value environment; sets PAYGATE_PID, PAYGATE_PORT
  local data=$1 logf=$2
  shift 2
  rm -f "$data/port"
  SERVER_LOG=$logf
  env "$@" "$PAYGATE" serve --data "$data" --listen 127.0.0.1:0 --port-file "$data/port" >"$logf" 2>&1 &
  PAYGATE_PID=$!
  PIDS+=("$PAYGATE_PID")
  for _ in $(seq 300); do
    if [[ -s $data/port ]]; then
      PAYGATE_PORT=$(tr -d '[:space:]' <"$data/port")
      if [[ -n $PAYGATE_PORT ]] && (echo >"/dev/tcp/127.0.0.1/$PAYGATE_PORT") 2>/dev/null; then
        return 0
      fi
    fi
    kill -0 "$PAYGATE_PID" 2>/dev/null || break
    sleep 0.1
  done
  die "paygate serve did not start"
}

loadgen() {  # $1 timeout seconds, then paygate_loadgen arguments
  local t=$1 status=0
  shift
  timeout "$t" "$LOADGEN" "$@" || status=$?
  ((status == 0)) || die "paygate_loadgen failed (exit $status: 1 nothing succeeded, 3 the server stopped answering): $*"
}

server_alive() {  # $1 pid, $2 name
  kill -0 "$1" 2>/dev/null || die "$2 exited during the run"
}

consign_args() {
  echo --mode consign --port "$PAYGATE_PORT" --merchant-id "$MERCHANT_ID" --key "$MERCHANT_KEY" \
    --aes-key "$MERCHANT_AES_KEY" --product BENCH100 --face-money 100
}

prebuild_for() {  # $1 rate bound (rps), $2 seconds, $3 factor: requests to pre-build for a closed-loop run
  "$PYTHON" -c 'import sys,math; print(max(20000, min(int(sys.argv[4]), math.ceil(float(sys.argv[1]) * float(sys.argv[2]) * float(sys.argv[3])))))' \
    "$1" "$2" "$3" "$PREBUILT_MAX"
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
