#!/usr/bin/env bash
# PostgreSQL order-create benchmark (issue 3), in one run on one PostgreSQL server:
#   1. pgbench running a custom script with the same SQL a consign submit runs (look up the order id, count the
#      card into its batch, check the card is not live, insert the order), one transaction per order, as a
#      conventional service would;
#   2. paygate serving durable consign submits over HTTP on the same server (closed loop, same load generator as
#      bench/run.sh), batching many orders per transaction with pipelined statements.
# Prints a markdown table and writes every result to bench/out/postgres/.
#
# Usage: bench/postgres.sh BUILD_DIR        (`make bench-postgres` runs it after building)
# Tunables (environment): BENCH_CONNECTIONS (64, HTTP connections), BENCH_PGBENCH_CLIENTS (as many as BENCH_CONNECTIONS),
#   BENCH_DURATION_S (10), BENCH_WARMUP_S (2), BENCH_OUT (bench/out), BENCH_LOADGEN_CPU (empty by default here: the
#   generator goes where the scheduler puts it, as pgbench does, so that the two sides are placed alike).
# PostgreSQL runs with durable settings (fsync on, synchronous_commit on, full_page_writes on); the settings used
# are printed with the results.
set -euo pipefail

BUILD_DIR=${1:?usage: bench/postgres.sh BUILD_DIR}
: "${BENCH_LOADGEN_CPU=}"
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
OUT=$OUT/postgres
PGBENCH_CLIENTS=${BENCH_PGBENCH_CLIENTS:-$CONNECTIONS}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x $PG_BIN/initdb ]] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
PGBENCH=$PG_BIN/pgbench
[[ -x $PGBENCH ]] || PGBENCH=$(command -v pgbench) || die "pgbench not found"

mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.log "$OUT"/summary.md "$OUT"/*.txt

# The settings of this run; docs/performance.md quotes them.
PG_SETTINGS=(
  "fsync = on"
  "synchronous_commit = on"
  "full_page_writes = on"
  "wal_level = replica"
  "shared_buffers = 1GB"
  "max_wal_size = 8GB"
  "checkpoint_timeout = 15min"
  "checkpoint_completion_target = 0.9"
  "wal_compression = on"
  "wal_buffers = 64MB"
  "max_connections = 200"
  "random_page_cost = 1.1"
  "jit = off"
)

as_postgres() {  # initdb and postgres refuse to run as root
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {  # sets PG_URL, PG_PID_DIR
  local dir=$TMP/pgdata sock=$TMP/pgsock port setting
  mkdir -p "$dir" "$sock"
  if ((EUID == 0)); then chown postgres:postgres "$dir" "$sock"; fi
  as_postgres "$PG_BIN/initdb" -D "$dir" -U paygate --auth=trust -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$TMP/initdb.log")"
  port=$(free_port)
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $port"
    echo "unix_socket_directories = '$sock'"
    for setting in "${PG_SETTINGS[@]}"; do echo "$setting"; done
  } >>"$dir/postgresql.conf"
  as_postgres "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
    die "PostgreSQL did not start: $(tail -n 5 "$dir/postgres.log")"
  PG_DATA=$dir
  PG_URL="postgresql://paygate@127.0.0.1:$port/paygate"
  "$PG_BIN/psql" -X -q -d "postgresql://paygate@127.0.0.1:$port/postgres" -c "CREATE DATABASE paygate" ||
    die "CREATE DATABASE failed"
}

stop_postgres() {
  [[ -n ${PG_DATA:-} ]] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  PG_DATA=""
}
trap 'stop_postgres; cleanup' EXIT

echo "bench: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); PostgreSQL," \
  "paygate and the load generators share them." >&2
RUN_SECONDS_NEEDED=$((WARMUP_S + DURATION_S + 40))

check_budget $((2 * RUN_SECONDS_NEEDED + 60))
start_postgres
log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on $PG_URL"
export PAYGATE_STORAGE_DATABASE=$PG_URL
timeout 60 "$PAYGATE" migrate --data "$TMP/pg_paygate" >/dev/null || die "paygate migrate failed"
setup_paygate_data "$TMP/pg_paygate"

# 1. pgbench: the submit's SQL, one transaction per order. The statements are paygate's own (see
#    bench/consign_submit.pgbench); values are random, card passwords are 60-byte blobs like the sealed ones.
sed "s/:merchant_id_value/$MERCHANT_ID/" "$ROOT/bench/consign_submit.pgbench" >"$TMP/consign_submit.pgbench"
log "pgbench: consign submit SQL, $PGBENCH_CLIENTS clients, prepared statements, ${DURATION_S} s"
timeout $RUN_SECONDS_NEEDED "$PGBENCH" -n -M prepared -c "$PGBENCH_CLIENTS" -j 2 -T "$DURATION_S" \
  -f "$TMP/consign_submit.pgbench" "$PG_URL" >"$OUT/pgbench.txt" 2>"$TMP/pgbench.log" ||
  die "pgbench failed: $(tail -n 5 "$TMP/pgbench.log")"
PGBENCH_TPS=$(awk '/^tps = / {print $3; exit}' "$OUT/pgbench.txt")
[[ -n $PGBENCH_TPS ]] || die "pgbench printed no tps: $(cat "$OUT/pgbench.txt")"
PGBENCH_LAT=$(awk '/^latency average = / {print $4; exit}' "$OUT/pgbench.txt")
log "pgbench: $PGBENCH_TPS tps (latency average $PGBENCH_LAT ms)"

# 2. paygate on the same server.
start_paygate "$TMP/pg_paygate" "$TMP/paygate_postgres.log"
PREBUILD=$(prebuild_for 60000 $((WARMUP_S + DURATION_S)) 1.0)
log "paygate on PostgreSQL: consign submit, closed loop, $CONNECTIONS connections, ${DURATION_S} s (pre-building $PREBUILD)"
# shellcheck disable=SC2046
loadgen $RUN_SECONDS_NEEDED $(consign_args) --connections "$CONNECTIONS" --warmup-s "$WARMUP_S" \
  --duration-s "$DURATION_S" --prebuild "$PREBUILD" --label paygate_postgres_consign_max \
  --json-out "$OUT/paygate_postgres_consign_max.json"
server_alive "$PAYGATE_PID" paygate
stop_pid "$PAYGATE_PID"

"$PYTHON" - "$OUT" "$(nproc)" "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$PGBENCH_TPS" "$PGBENCH_LAT" "$PGBENCH_CLIENTS" "$(printf '%s; ' "${PG_SETTINGS[@]}")" <<'EOF'
import json, os, sys
out, cores, commit, pgbench_tps, pgbench_lat, clients, settings = sys.argv[1:8]
pgbench_tps = float(pgbench_tps)
with open(os.path.join(out, "paygate_postgres_consign_max.json")) as f:
    p = json.load(f)
ratio = p["throughput_rps"] / pgbench_tps if pgbench_tps else 0.0
lines = [
    f"Measured on {cores} cores; PostgreSQL, pgbench / paygate and paygate_loadgen share them; commit {commit}.",
    f"PostgreSQL settings: {settings.strip()}",
    "",
    "| run | orders/s | p50 (ms) | p99 (ms) | errors / requests |",
    "|---|---:|---:|---:|---:|",
    f"| pgbench, the submit's SQL, one transaction per order, {clients} clients | {pgbench_tps:.0f} | "
    f"{float(pgbench_lat):.3f} (mean) | | |",
    f'| paygate consign submit over HTTP, {p["connections"]} connections | {p["throughput_rps"]:.0f} | '
    f'{p["p50_ms"]:.3f} | {p["p99_ms"]:.3f} | {p["errors"]} / {p["requests"]} |',
    "",
    f"paygate / pgbench: {ratio:.2f}x (goal >= 0.6x: {'met' if ratio >= 0.6 else '**not met**'})",
]
if p["errors"]:
    lines.append(f'Warning: {p["errors"]} requests failed; a run with errors does not count.')
text = "\n".join(lines)
print(text)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(text + "\n")
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"cores": int(cores), "commit": commit, "pgbench_tps": pgbench_tps, "pgbench_clients": int(clients),
               "paygate_rps": p["throughput_rps"], "paygate_to_pgbench": round(ratio, 3),
               "postgres_settings": settings.strip()}, f, indent=2)
    f.write("\n")
EOF
log "results in $OUT (total ${SECONDS} s)"
