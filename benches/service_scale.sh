#!/usr/bin/env bash
# The service at scale: the same routes against PostgreSQL holding 1,000 and 1,000,000
# connections, to show that what a call costs does not grow with the number of connections.
#
#   benches/service_scale.sh            # from anywhere; BENCHMARKS.md has the numbers
#
# From a fresh machine with PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and Rust:
#  1. installs wrk, nginx, jq, curl and psql with apt-get when missing;
#  2. builds the release binary and examples/seed_connections.rs;
#  3. starts the upstream (nginx answering 200 on 127.0.0.1:18080, benches/proxy/upstream.conf);
#  4. for each COUNT: has the seeder fill database pf_scale_COUNT (kept for the next run; every
#     row sealed for itself, written with COPY), reads the table once into the OS cache, starts
#     `serve` on it and measures with wrk, one run of SECS each, the same concurrency for all:
#       page1     GET /connections?limit=100                    the first page
#       deep      GET /connections?limit=100&cursor=C           C: the middle of the table
#       status    GET /connections?status=reauthorization_required&limit=10   (a full page
#                 at 1,000 too: one in a hundred needs reauthorization)
#       provider  GET /connections?provider=zoho-books&limit=100
#       token     GET /connections/zoho-crm/{random}/token      a random one of COUNT/2 rows
#       proxy     GET /proxy/bench-api/{random}/v1/records      a random one of COUNT/10 rows
#                 (when the build has the proxy)
#     with serve's start time and memory (RSS) before, and after each route;
#  5. at the largest COUNT, PostgreSQL's plans (EXPLAIN ANALYZE) of the page queries and the
#     time migration 0005's index takes to build.
#
# Knobs (environment): COUNTS ("1000 1000000"), SECS (10), CONNS (16 connections), THREADS
# (1 wrk thread), PG (postgres://postgres@127.0.0.1:5432), PORT (18300), OUT (/tmp/pf-scale),
# KEEP=0 drops the databases at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/pf-scale}
# shellcheck source=benches/scale/common.sh
. "$ROOT/benches/scale/common.sh"
COUNTS=${COUNTS:-"1000 1000000"}
PORT=${PORT:-18300}
KEEP=${KEEP:-1}

need wrk nginx jq curl psql
build
start_upstream

row() { printf '| %s | %s | %s | %s |\n' "$COUNT" "$1" "$2" "$(rss_mb "$SERVE_PID")"; }

largest=${COUNTS##* }
for COUNT in $COUNTS; do
    echo "== $COUNT connections"
    seed "$COUNT"
    url=$PG/pf_scale_$COUNT
    started=$(date +%s.%N)
    start_serve "$url" "$PORT"
    base=http://127.0.0.1:$PORT
    echo "serve started in $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $started }") s, RSS $(rss_mb "$SERVE_PID") MB"

    # A cursor from the middle of the table: walk there a thousand at a time.
    half=$((COUNT / 2))
    step=$((half < 1000 ? half : 1000))
    cursor='' walked=0
    while [ "$walked" -lt "$half" ]; do
        cursor=$(curl -sf -H "$AUTH" "$base/connections?limit=$step${cursor:+&cursor=$cursor}" | jq -r .next_cursor)
        walked=$((walked + step))
    done
    echo "(the deep page starts after $walked connections)"

    echo "| connections | route | wrk | serve RSS after (MB) |"
    echo "|---|---|---|---|"
    row page1 "$(wrk_run "$base/connections?limit=100")"
    row deep "$(wrk_run "$base/connections?limit=100&cursor=$cursor")"
    row status "$(wrk_run "$base/connections?status=reauthorization_required&limit=10")"
    row provider "$(wrk_run "$base/connections?provider=zoho-books&limit=100")"
    row token "$(wrk_run "$base/" "/connections/zoho-crm/{id}/token" "$COUNT" 0-4)"
    if [ "$(curl -s -H "$AUTH" "$base/proxy/bench-api/c0000005/v1/records" | jq -r '.error // "ok"')" != not_found ]; then
        row proxy "$(wrk_run "$base/" "/proxy/bench-api/{id}/v1/records" "$COUNT" 5-5)"
    else
        echo "(this build has no /proxy route: proxied calls not measured)"
    fi
    kill "$SERVE_PID"
    wait "$SERVE_PID" || true

    if [ "$COUNT" = "$largest" ]; then
        echo "== plans at $COUNT connections (EXPLAIN ANALYZE of the queries serve sends)"
        cols="provider, connection_id, data_center, issuer, scopes, granted_scope, token_type, metadata, params, expires_at, status, key_id, sealed, generation, created_at, updated_at"
        mid=$(printf 'c%07d' "$half")
        for where in "" \
            "WHERE (provider, connection_id) > ('zoho-crm', '$mid')" \
            "WHERE status = 'reauthorization_required'" \
            "WHERE status = 'reauthorization_required' AND (provider, connection_id) > ('gitlab', '$mid')" \
            "WHERE provider = 'zoho-books'" \
            "WHERE provider = 'zoho-books' AND connection_id > '$mid'" \
            "WHERE provider = 'zoho-books' AND status = 'active' AND connection_id > '$mid'"; do
            echo "-- ${where:-(no filter)}"
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
