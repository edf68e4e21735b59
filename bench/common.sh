# Shared by the benchmark scripts (run.sh, postgres.sh): paths, the temp dir and its cleanup, time budget,
# starting paygate on a fresh database, and the load generator. Sourced, not run.
# Expects BUILD_DIR set (the first argument of the calling script).
BUILD_DIR=${BUILD_DIR:?set BUILD_DIR before sourcing bench/common.sh}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${BENCH_OUT:-$ROOT/bench/out}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
DURATION_S=${BENCH_DURATION_S:-10}
WARMUP_S=${BENCH_WARMUP_S:-2}
PERCOMMIT_DURATION_S=${BENCH_PERCOMMIT_DURATION_S:-5}
# The gateway steps (pay-in and payout) of run.sh: as long as consign's by default; shorter ones shorten the run.
GW_DURATION_S=${BENCH_GATEWAY_DURATION_S:-$DURATION_S}
GW_WARMUP_S=${BENCH_GATEWAY_WARMUP_S:-$WARMUP_S}
TOTAL_MAX_S=${BENCH_TOTAL_MAX_S:-360}
PREBUILT_MAX=2000000  # paygate_loadgen's own limit
# The generator runs on one CPU of its own choosing, the last one by default; empty leaves it to the scheduler.
# It stands in for clients on other machines, which never preempt the server's threads: left free, the
# scheduler moved it onto the core of paygate's I/O thread, preempting that thread and leaving the other core's
# work queued, which cost paygate a fifth of its closed-loop rate and nginx nothing; pinned, its own waits for its
# core show in the open-loop tail instead (docs/performance.md, 2026-11-23 day). bench/postgres.sh leaves it
# free, as pgbench is.
LOADGEN_CPU=${BENCH_LOADGEN_CPU-$(($(nproc) - 1))}

PAYGATE=$BUILD_DIR/paygate
LOADGEN=$BUILD_DIR/bench/paygate_loadgen
[[ -x $LOADGEN ]] || LOADGEN=$BUILD_DIR/paygate_loadgen
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


stop_pid() {  # $1 pid
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}

# --------------------------------------------------------------------------------------------------------------
# paygate: fresh data dir, a merchant and a product created with the CLI, then `serve` on a free port.
export PAYGATE_MASTER_KEY
PAYGATE_MASTER_KEY=$(openssl rand -hex 32)
# The sandbox processor would otherwise start working on the submitted cards during the measurement, and the
# sandbox bank on the submitted payouts.
export PAYGATE_SANDBOX_PROCESSING_DELAY_MS=3600000
export PAYGATE_SANDBOX_PAYOUT_DELAY_MS=3600000
# Gateway callbacks go to a refused port on loopback (no DNS, no listener), which the SSRF rule refuses by default.
export PAYGATE_NOTIFY_ALLOW_PRIVATE_TARGETS=true
GW_CALLBACK_URL=http://127.0.0.1:9/cb

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

# The gateway: fresh data dir, a merchant with channel 1 at 0 % and no payout fee, created with the CLI.
setup_gateway_data() {  # $1 data dir; sets GW_MERCHANT_ID, GW_APP_KEY, GW_KEY
  local data=$1 merchant
  mkdir -p "$data"
  merchant=$(timeout 60 "$PAYGATE" merchant create --name bench-gateway --json --data "$data") ||
    die "paygate merchant create failed"
  GW_MERCHANT_ID=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$merchant")
  GW_APP_KEY=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["appKey"])' "$merchant")
  GW_KEY=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$merchant")
  timeout 60 "$PAYGATE" channel enable --merchant "$GW_MERCHANT_ID" --channel 1 --fee-rate 0 --data "$data" \
    >/dev/null || die "paygate channel enable failed"
  timeout 60 "$PAYGATE" merchant set-payout "$GW_MERCHANT_ID" --fee 0 --data "$data" >/dev/null ||
    die "paygate merchant set-payout failed"
}

# Credits the running gateway merchant's available balance: one pay-in on the 0 % channel, paid through the
# sandbox endpoint. Payouts take their amount from that balance at acceptance.
fund_gateway_merchant() {  # $1 yuan, two decimals
  timeout 60 "$PYTHON" - "$PAYGATE_PORT" "$GW_APP_KEY" "$GW_KEY" "$1" "$GW_CALLBACK_URL" <<'EOF' ||
import hashlib, json, sys, urllib.parse, urllib.request
port, app_key, key, amount, callback_url = sys.argv[1:6]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
base = "http://127.0.0.1:%s" % port
f = {"amount": amount, "appKey": app_key, "callbackUrl": callback_url, "channelId": "1", "mrn": "bench-funding",
     "returnUrl": "https://merchant.example.com/return"}
signing = "&".join("%s=%s" % (k, f[k]) for k in ("amount", "appKey", "callbackUrl", "channelId", "mrn", "returnUrl"))
f["sign"] = hashlib.md5((signing + "&key=" + key).encode()).hexdigest()
req = urllib.request.Request(base + "/api/Pay/Create", data=json.dumps(f).encode(),
                             headers={"Content-Type": "application/json"})
answer = json.load(opener.open(req, timeout=30))
if not answer.get("success"):
    sys.exit("funding pay-in refused: %s" % json.dumps(answer))
payment_id = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["payUrl"]).query)["id"][0]
req = urllib.request.Request(base + "/sandbox/payments/%s/complete" % urllib.parse.quote(payment_id, safe=""),
                             data=b"result=success", headers={"Content-Type": "application/x-www-form-urlencoded"})
answer = json.load(opener.open(req, timeout=30))
if not answer.get("ok") or answer.get("status") != 1:
    sys.exit("funding pay-in not paid: %s" % json.dumps(answer))
EOF
    die "funding the gateway merchant failed"
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
  local t=$1 status=0 pin=()
  shift
  [[ -z $LOADGEN_CPU ]] || pin=(taskset -c "$LOADGEN_CPU")
  timeout "$t" "${pin[@]}" "$LOADGEN" "$@" || status=$?
  ((status == 0)) || die "paygate_loadgen failed (exit $status: 1 nothing succeeded, 3 the server stopped answering): $*"
}

save_metrics() {  # $1 name: the running paygate's /metrics after a step, for looking into a slow or odd step
  "$PYTHON" -c 'import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
open(sys.argv[2], "wb").write(opener.open(sys.argv[1], timeout=5).read())' \
    "http://127.0.0.1:$PAYGATE_PORT/metrics" "$OUT/$1.metrics" || log "could not save /metrics after $1"
}

server_alive() {  # $1 pid, $2 name
  kill -0 "$1" 2>/dev/null || die "$2 exited during the run"
}

consign_args() {
  echo --mode consign --port "$PAYGATE_PORT" --merchant-id "$MERCHANT_ID" --key "$MERCHANT_KEY" \
    --aes-key "$MERCHANT_AES_KEY" --product BENCH100 --face-money 100
}

gateway_args() {  # $1 payin | payout
  echo --mode "$1" --port "$PAYGATE_PORT" --app-key "$GW_APP_KEY" --key "$GW_KEY" --callback-url "$GW_CALLBACK_URL"
}

prebuild_for() {  # $1 rate bound (rps), $2 seconds, $3 factor: requests to pre-build for a closed-loop run
  "$PYTHON" -c 'import sys,math; print(max(20000, min(int(sys.argv[4]), math.ceil(float(sys.argv[1]) * float(sys.argv[2]) * float(sys.argv[3])))))' \
    "$1" "$2" "$3" "$PREBUILT_MAX"
}
