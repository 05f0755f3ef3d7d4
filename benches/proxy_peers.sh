#!/usr/bin/env bash
# provider-forge's API proxy against its peers, one run each, the same upstream and the same
# load generator:
#   upstream  nginx answering 200 from memory (benches/proxy/upstream.conf): the floor, called
#             directly;
#   nginx     a reverse proxy adding one static header (benches/proxy/nginx-peer.conf);
#   node      the least a Node platform does per call (benches/node/proxy-peer.mjs: check the
#             API key, find the connection in memory, decrypt its token with AES-256-GCM, set
#             the header, forward over a keep-alive agent);
#   forge     `provider-forge serve` on PostgreSQL: ANY /proxy/{provider}/{connection}/{path}.
# Each proxy is called on one hot connection (GET .../v1/records?page=1 with the API key); wrk
# reports requests/s, p50 and p99, and the proxy's memory (RSS, with nginx's workers) is
# sampled every half second during the run: first..max..last.
#
#   benches/proxy_peers.sh              # BENCHMARKS.md has the numbers
#
# Knobs (environment): SECS (15), CONNS (32 connections), THREADS (1 wrk thread),
# NGINX_WORKERS (auto: one per core, as nginx is deployed), NODE_WORKERS is not a knob: Node
# runs one process, as a Node platform's container does. PG, OUT (/tmp/pf-proxy).
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust); installs wrk, nginx and node with
# apt-get when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/pf-proxy}
SECS=${SECS:-15}
CONNS=${CONNS:-32}
# shellcheck source=benches/scale/common.sh
. "$ROOT/benches/scale/common.sh"
NGINX_WORKERS=${NGINX_WORKERS:-auto}
NGINX_PORT=18081 NODE_PORT=18082 FORGE_PORT=18083
CONNECTION=c0000005
ROUTE=/proxy/bench-api/$CONNECTION/v1/records?page=1

need wrk nginx node psql curl
build
start_upstream

echo "| peer | wrk | RSS during the run, MB (first..max..last) |"
echo "|---|---|---|"

# measure LABEL PID URL: a short warm-up, then the measured run with memory samples.
measure() {
    local label=$1 pid=$2 url=$3 status
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$url")
    [ "$status" = 200 ] || { echo "$0: $label answers $status" >&2; exit 1; }
    SECS=2 wrk_run "$url" > /dev/null
    local lines
    lines=$(sampled "$pid" wrk_run "$url")
    printf '| %s | %s | %s |\n' "$label" "$(echo "$lines" | head -1)" "$(echo "$lines" | tail -1 | sed 's/rss_mb=//')"
}

measure upstream "$UPSTREAM_PID" "http://127.0.0.1:$UPSTREAM_PORT$ROUTE"

mkdir -p "$OUT/nginx-peer-tmp"
fill "$ROOT/benches/proxy/nginx-peer.conf" "$OUT/nginx-peer.conf" "PORT=$NGINX_PORT" \
    "UPSTREAM_PORT=$UPSTREAM_PORT" "WORKERS=$NGINX_WORKERS"
nginx -c "$OUT/nginx-peer.conf" -p "$OUT" &
NGINX_PID=$!
STARTED+=("$NGINX_PID")
wait_port "$NGINX_PORT" "$NGINX_PID"
measure nginx "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT$ROUTE"
kill "$NGINX_PID"

node "$ROOT/benches/node/proxy-peer.mjs" --listen "127.0.0.1:$NODE_PORT" \
    --upstream "http://127.0.0.1:$UPSTREAM_PORT" --api-key "$PROVIDER_FORGE_SECRET_KEY" \
    --connections 1000 > "$OUT/node.out" 2>&1 &
NODE_PID=$!
STARTED+=("$NODE_PID")
wait_port "$NODE_PORT" "$NODE_PID"
measure node "$NODE_PID" "http://127.0.0.1:$NODE_PORT$ROUTE"
kill "$NODE_PID"

seed 1000 > /dev/null
start_serve "$PG/pf_scale_1000" "$FORGE_PORT"
measure forge "$SERVE_PID" "http://127.0.0.1:$FORGE_PORT$ROUTE"
