#!/usr/bin/env bash
# The service at scale: the same routes against PostgreSQL holding 1,000 and 1,000,000
# connections, to show that what a call costs does not grow with the number of connections.
#
#   benches/service_scale.sh                  # from the repository root or anywhere
#
# What it does, from a fresh machine with PostgreSQL at 127.0.0.1:5432 (user postgres, trust):
#  1. installs wrk with apt-get when it is missing (and jq, curl, psql);
#  2. builds the release binary and examples/seed_connections.rs;
#  3. for each COUNT: creates database pf_scale_COUNT (kept for the next run), has the seeder
#     fill it (every row sealed for itself, written with COPY; skipped when it already holds
#     COUNT rows), warms the table into the OS cache, starts `serve` on it and measures with
#     wrk, one run each, the same concurrency for every route:
#       - page1:     GET /connections?limit=100                       (the first page)
#       - deep:      GET /connections?limit=100&cursor=C              (C: the middle of the table)
#       - status:    GET /connections?status=reauthorization_required&limit=100
#       - provider:  GET /connections?provider=zoho-books&limit=100
#       - token:     GET /connections/zoho-crm/{random connection}/token
#     printing requests/s, p50, p99, non-2xx answers, and serve's RSS after each route;
#  4. at the largest COUNT, prints PostgreSQL's plans (EXPLAIN ANALYZE) of the page queries and
#     the time to build migration 0005's index.
#
# Knobs (environment): COUNTS ("1000 1000000"), SECS (10 s a route), CONNS (16 connections),
# THREADS (1 wrk thread), PG (postgres://postgres@127.0.0.1:5432), PORT (18300),
# OUT (/tmp/pf-scale: logs), KEEP=0 drops the databases at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
COUNTS=${COUNTS:-"1000 1000000"}
SECS=${SECS:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-18300}
OUT=${OUT:-/tmp/pf-scale}
KEEP=${KEEP:-1}
mkdir -p "$OUT"

# Bench-only keys: the databases hold generated tokens, nothing real.
export PROVIDER_FORGE_SECRET_KEY=scale-bench-api-key-0123456789
export PROVIDER_FORGE_ENCRYPTION_KEY=c2NhbGUtYmVuY2gta2V5LXNjYWxlLWJlbmNoLWtleS0=
export PF_SCALE_CLIENT_SECRET=scale-bench-client-secret
AUTH="Authorization: Bearer $PROVIDER_FORGE_SECRET_KEY"

need() {
    for tool in "$@"; do
        command -v "$tool" > /dev/null && continue
        local package=$tool
        [ "$tool" = psql ] && package=postgresql-client
        if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
            apt-get install -y -qq "$package" > /dev/null
        else
            echo "service_scale: $tool is missing (apt-get install $package)" >&2
            exit 2
        fi
    done
}
need wrk jq curl psql

echo "== build (release)"
cargo build --release --bin provider-forge --example seed_connections
PF=$ROOT/target/release/provider-forge
SEED=$ROOT/target/release/examples/seed_connections

cat > "$OUT/clients.yaml" <<EOF
zoho-crm: { client_id: 1000.SCALEBENCH, client_secret_env: PF_SCALE_CLIENT_SECRET }
zoho-books: { client_id: 1000.SCALEBENCH, client_secret_env: PF_SCALE_CLIENT_SECRET }
gitlab: { client_id: scale-bench, client_secret_env: PF_SCALE_CLIENT_SECRET }
EOF

SERVE_PID=
stop_serve() {
    if [ -n "$SERVE_PID" ]; then
        kill "$SERVE_PID" 2> /dev/null || true
        wait "$SERVE_PID" 2> /dev/null || true
        SERVE_PID=
    fi
}
trap stop_serve EXIT

rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# run LABEL URL [WRK_PATHS WRK_IDS]: one wrk run, one table row.
run() {
    local label=$1 url=$2
    local result
    result=$(WRK_PATHS=${3:-} WRK_IDS=${4:-0} wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" \
        -H "$AUTH" -s "$ROOT/benches/scale/report.lua" "$url" | grep '^RESULT')
    printf '| %s | %s | %s | %s MB |\n' "$COUNT" "$label" "${result#RESULT }" "$(rss_mb "$SERVE_PID")"
}

largest=${COUNTS##* }
for COUNT in $COUNTS; do
    db=pf_scale_$COUNT
    url=$PG/$db
    if ! psql "$PG/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        psql "$PG/postgres" -qc "CREATE DATABASE $db"
    fi
    echo "== $COUNT connections in $db"
    "$SEED" "$url" "$COUNT"
    # The whole table into the OS cache, as a busy service would have it.
    psql "$url" -Atc "SELECT pg_size_pretty(pg_total_relation_size('connections')), count(*), sum(length(sealed)) FROM connections"

    started=$(date +%s.%N)
    "$PF" serve --providers providers/zoho-crm.yaml --providers providers/zoho-books.yaml \
        --providers providers/gitlab.yaml --clients "$OUT/clients.yaml" --database "$url" \
        --listen "127.0.0.1:$PORT" > "$OUT/serve-$COUNT.out" 2> "$OUT/serve-$COUNT.log" &
    SERVE_PID=$!
    until grep -q 'listening on' "$OUT/serve-$COUNT.out" 2> /dev/null; do
        kill -0 "$SERVE_PID" 2> /dev/null || { cat "$OUT/serve-$COUNT.log"; exit 1; }
        sleep 0.05
    done
    base=http://127.0.0.1:$PORT
    echo "serve started in $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $started }") s, RSS $(rss_mb "$SERVE_PID") MB"

    # A cursor from the middle of the table: walk there a thousand at a time.
    half=$((COUNT / 2)) step=$((COUNT / 2 < 1000 ? COUNT / 2 : 1000)) cursor= walked=0
    while [ "$walked" -lt "$half" ]; do
        cursor=$(curl -sf -H "$AUTH" "$base/connections?limit=$step${cursor:+&cursor=$cursor}" | jq -r .next_cursor)
        walked=$((walked + step))
    done
    echo "cursor after $walked connections"

    echo "| connections | route | result | serve RSS after |"
    echo "|---|---|---|---|"
    run page1 "$base/connections?limit=100"
    run deep "$base/connections?limit=100&cursor=$cursor"
    run status "$base/connections?status=reauthorization_required&limit=100"
    run provider "$base/connections?provider=zoho-books&limit=100"
    run token "$base/" "/connections/zoho-crm/{id}/token" "$COUNT"
    stop_serve

    if [ "$COUNT" = "$largest" ]; then
        echo "== plans at $COUNT connections (EXPLAIN ANALYZE, the queries serve sends)"
        cols="provider, connection_id, data_center, issuer, scopes, granted_scope, token_type, metadata, params, expires_at, status, key_id, sealed, generation, created_at, updated_at"
        mid=$(printf 'c%07d' "$half")
        for where in "" \
            "WHERE (provider, connection_id) > ('zoho-crm', '$mid')" \
            "WHERE status = 'reauthorization_required'" \
            "WHERE status = 'reauthorization_required' AND (provider, connection_id) > ('gitlab', '$mid')" \
            "WHERE provider = 'zoho-books'" \
            "WHERE provider = 'zoho-books' AND status = 'active' AND (provider, connection_id) > ('zoho-books', '$mid')"; do
            echo "-- $where"
            psql "$url" -Atc "EXPLAIN (ANALYZE, BUFFERS) SELECT $cols FROM connections $where ORDER BY provider, connection_id LIMIT 101" \
                | grep -E 'Scan|Index Cond|Filter|Sort|Buffers|Execution Time' | sed 's/^/   /'
        done
        echo "== migration 0005's index, built again on $COUNT connections"
        psql "$url" -qc "DROP INDEX connections_by_status"
        psql "$url" -c '\timing on' -c "CREATE INDEX connections_by_status ON connections (status, provider, connection_id)" | grep Time
    fi
done

if [ "$KEEP" = 0 ]; then
    for COUNT in $COUNTS; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS pf_scale_$COUNT WITH (FORCE)"; done
fi
