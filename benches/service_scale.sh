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
#     row sealed for itself, written with COPY), reads the table once into the OS cache, and
#     starts one `serve` on it (PORT, PORT+1, ...), with its start time and memory (RSS);
#  5. measures with wrk, one run of SECS each, the same concurrency for all, in ROUNDS rounds:
#     each round runs every route against every COUNT's serve in turn (so that the sizes see
#     the same machine, which other work shares), and the summary is the median per route and
#     size, with the load average at each run:
#       page1     GET /connections?limit=100                    the first page
#       deep      GET /connections?limit=100&cursor=C           C: the middle of the table
#       status    GET /connections?status=reauthorization_required&limit=5   (a page with a
#                 next cursor at both sizes: at 1,000 only ten connections need
#                 reauthorization, and a last page, which seals no cursor, is cheaper)
#       provider  GET /connections?provider=zoho-books&limit=100
#       token     GET /connections/zoho-crm/{random}/token      a random one of COUNT/2 rows
#       proxy     GET /proxy/bench-api/{random}/v1/records      a random one of COUNT/10 rows
#                 (past the hot-connection cache's 50,000 at a million: mostly misses, each a
#                 row read and a decryption, as the token route)
#       proxyhot  the same, a random one of the first 100 bench-api rows (a platform's busy
#                 connections: served from the cache at either size)
#     and serve's RSS after each run; PostgreSQL's block reads (from outside its buffer
#     cache) and hits during each run are counted from pg_stat_database;
#  6. at the largest COUNT, PostgreSQL's plans (EXPLAIN ANALYZE) of the page queries and of
#     the token route's row read, and the time migration 0005's index takes to build.
#
# Knobs (environment): COUNTS ("1000 1000000"), ROUTES ("page1 deep status provider token
# proxy proxyhot"), ROUNDS (1), SECS (10), CONNS (16 connections), THREADS (1 wrk thread), PG
# (postgres://postgres@127.0.0.1:5432), PORT (18300), OUT (/tmp/pf-scale; every run's line
# is kept in OUT/runs.txt), PLANS=0 skips step 6, KEEP=0 drops the databases at the end,
# BUILD=0 skips the build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/pf-scale}
# shellcheck source=benches/scale/common.sh
. "$ROOT/benches/scale/common.sh"
COUNTS=${COUNTS:-"1000 1000000"}
ROUTES=${ROUTES:-"page1 deep status provider token proxy proxyhot"}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-18300}
PLANS=${PLANS:-1}
KEEP=${KEEP:-1}

need wrk nginx jq curl psql
build
start_upstream

declare -A BASE SERVE CURSOR
port=$PORT
for COUNT in $COUNTS; do
    echo "== $COUNT connections"
    seed "$COUNT"
    started=$(date +%s.%N)
    start_serve "$PG/pf_scale_$COUNT" "$port"
    BASE[$COUNT]=http://127.0.0.1:$port SERVE[$COUNT]=$SERVE_PID
    echo "serve started in $(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $started }") s, RSS $(rss_mb "$SERVE_PID") MB"
    port=$((port + 1))
    if [[ " $ROUTES " == *" deep "* ]]; then
        # A cursor from the middle of the table: walk there a thousand at a time.
        half=$((COUNT / 2))
        step=$((half < 1000 ? half : 1000))
        cursor='' walked=0
        while [ "$walked" -lt "$half" ]; do
            cursor=$(curl -sf -H "$AUTH" "${BASE[$COUNT]}/connections?limit=$step${cursor:+&cursor=$cursor}" | jq -r .next_cursor)
            walked=$((walked + step))
        done
        CURSOR[$COUNT]=$cursor
        echo "(the deep page starts after $walked connections)"
    fi
done

# pg_blocks COUNT: "read hit" blocks of the database so far.
pg_blocks() {
    psql "$PG/postgres" -Atc "SELECT blks_read || ' ' || blks_hit FROM pg_stat_database WHERE datname = 'pf_scale_$1'"
}

# run ROUTE COUNT: one wrk run of the route against that size's serve.
run() {
    local route=$1 count=$2 base=${BASE[$2]}
    case $route in
        page1) wrk_run "$base/connections?limit=100" ;;
        deep) wrk_run "$base/connections?limit=100&cursor=${CURSOR[$count]}" ;;
        status) wrk_run "$base/connections?status=reauthorization_required&limit=5" ;;
        provider) wrk_run "$base/connections?provider=zoho-books&limit=100" ;;
        token) wrk_run "$base/" "/connections/zoho-crm/{id}/token" "$count" 0-4 ;;
        proxy) wrk_run "$base/" "/proxy/bench-api/{id}/v1/records" "$count" 5-5 ;;
        proxyhot) wrk_run "$base/" "/proxy/bench-api/{id}/v1/records" 1000 5-5 ;;
        *) echo "$0: unknown route $route" >&2; exit 2 ;;
    esac
}

: > "$OUT/runs.txt"
echo "== $ROUNDS round(s) of: $ROUTES at $COUNTS connections (wrk -t$THREADS -c$CONNS -d${SECS}s; $(nproc) cores)"
for round in $(seq "$ROUNDS"); do
    for route in $ROUTES; do
        for COUNT in $COUNTS; do
            read -r read0 hit0 < <(pg_blocks "$COUNT")
            result=$(run "$route" "$COUNT")
            read -r read1 hit1 < <(pg_blocks "$COUNT")
            load=$(cut -d' ' -f1-3 /proc/loadavg)
            echo "round=$round route=$route connections=$COUNT $result pg_read=$((read1 - read0)) pg_hit=$((hit1 - hit0)) rss_mb=$(rss_mb "${SERVE[$COUNT]}") load=${load// /,}" |
                tee -a "$OUT/runs.txt"
        done
    done
done

echo
echo "| route | connections | requests/s | p50 ms | p99 ms | PostgreSQL blocks read / hit per request | serve RSS MB (last) | load average at each run |"
echo "|---|---:|---:|---:|---:|---|---:|---|"
for route in $ROUTES; do
    for COUNT in $COUNTS; do
        awk -v route="$route" -v count="$COUNT" "$AWK_RUNS"'
            field("route") == route && field("connections") == count {
                n++; rps[n] = field("rps"); p50[n] = field("p50_ms"); p99[n] = field("p99_ms")
                requests += field("requests"); reads += field("pg_read"); hits += field("pg_hit")
                rss = field("rss_mb"); bad += field("non2xx") + field("socket_errors")
                loads = loads (n > 1 ? "; " : "") field("load")
            }
            END {
                printf "| %s | %s | %d | %.2f | %.2f | %.2f / %.2f | %s | %s%s |\n", route, count,
                    median(rps, n), median(p50, n), median(p99, n), reads / requests,
                    hits / requests, rss, loads, bad ? " (" bad " errors or non-2xx)" : ""
            }' "$OUT/runs.txt"
    done
done

largest=${COUNTS##* }
if [ "$PLANS" = 1 ]; then
    url=$PG/pf_scale_$largest
    half=$((largest / 2))
    echo "== plans at $largest connections (EXPLAIN ANALYZE of the queries serve sends)"
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
    echo "-- the token route's row (one connection of the middle, by its key)"
    psql "$url" -Atc "EXPLAIN (ANALYZE, BUFFERS) SELECT $cols FROM connections WHERE provider = 'zoho-crm' AND connection_id = '$(printf 'c%07d' $((half / 10 * 10 + 3)))'" \
        | grep -E 'Scan|Index Cond|Buffers|Execution Time' | sed 's/^/   /'
    echo "== migration 0005's index, built again on $largest connections"
    psql "$url" -qc "DROP INDEX connections_by_status"
    psql "$url" -c '\timing on' -c "CREATE INDEX connections_by_status ON connections (status, provider, connection_id)" | grep Time
fi

stop_all
if [ "$KEEP" = 0 ]; then
    for COUNT in $COUNTS; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS pf_scale_$COUNT WITH (FORCE)"; done
fi
