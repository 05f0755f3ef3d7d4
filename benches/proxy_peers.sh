#!/usr/bin/env bash
# provider-forge's API proxy against its peers, the same upstream and the same load generator:
#   upstream  nginx answering 200 from memory (benches/proxy/upstream.conf): the floor, called
#             directly;
#   nginx     a reverse proxy adding one static header (benches/proxy/nginx-peer.conf);
#   node      the least a Node platform does per call (benches/node/proxy-peer.mjs: check the
#             API key, find the connection in memory, decrypt its token with AES-256-GCM, set
#             the header, forward over a keep-alive agent);
#   forge     `provider-forge serve` on PostgreSQL: ANY /proxy/{provider}/{connection}/{path}.
# Each proxy is called on one hot connection (GET .../v1/records?page=1 with the API key).
#
# The machine is small and shared, so the peers are measured in ROUNDS rounds, each round
# every peer in turn (all of them started once, before the first round, and idle while another
# is measured); the summary is the median of the rounds per peer, with the load average seen
# at each run. A run is a 2 s warm-up, then SECS of wrk: requests/s, p50 and p99, and the
# proxy's CPU time (user + system, with nginx's workers) per call, which the machine's other
# work disturbs less than requests/s; the proxy's memory (RSS, with nginx's workers) is sampled every half second during the run
# (first..max..last), and the summary's RSS spans every round (the first sample of the first
# run, the largest of all, the last sample of the last run).
#
#   benches/proxy_peers.sh              # BENCHMARKS.md has the numbers
#
# Knobs (environment): ROUNDS (3), PEERS ("upstream node nginx forge", the order within a
# round), SECS (15), CONNS (32 connections), THREADS (1 wrk thread), NGINX_WORKERS (auto: one
# per core, as nginx is deployed); Node runs one process, as a Node platform's container does.
# PG, OUT (/tmp/pf-proxy): every run's line is kept in OUT/runs.txt. BUILD=0 skips the build.
# Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust); installs wrk, nginx and node with
# apt-get when missing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/pf-proxy}
SECS=${SECS:-15}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
PEERS=${PEERS:-"upstream node nginx forge"}
# shellcheck source=benches/scale/common.sh
. "$ROOT/benches/scale/common.sh"
NGINX_WORKERS=${NGINX_WORKERS:-auto}
NGINX_PORT=18081 NODE_PORT=18082 FORGE_PORT=18083
CONNECTION=c0000005
ROUTE=/proxy/bench-api/$CONNECTION/v1/records?page=1

need wrk nginx node psql curl
build
start_upstream

mkdir -p "$OUT/nginx-peer-tmp"
fill "$ROOT/benches/proxy/nginx-peer.conf" "$OUT/nginx-peer.conf" "PORT=$NGINX_PORT" \
    "UPSTREAM_PORT=$UPSTREAM_PORT" "WORKERS=$NGINX_WORKERS"
nginx -c "$OUT/nginx-peer.conf" -p "$OUT" &
NGINX_PID=$!
STARTED+=("$NGINX_PID")
wait_port "$NGINX_PORT" "$NGINX_PID"

node "$ROOT/benches/node/proxy-peer.mjs" --listen "127.0.0.1:$NODE_PORT" \
    --upstream "http://127.0.0.1:$UPSTREAM_PORT" --api-key "$PROVIDER_FORGE_SECRET_KEY" \
    --connections 1000 > "$OUT/node.out" 2>&1 &
NODE_PID=$!
STARTED+=("$NODE_PID")
wait_port "$NODE_PORT" "$NODE_PID"

seed 1000 > /dev/null
start_serve "$PG/pf_scale_1000" "$FORGE_PORT"

declare -A PID URL
PID[upstream]=$UPSTREAM_PID URL[upstream]=http://127.0.0.1:$UPSTREAM_PORT$ROUTE
PID[nginx]=$NGINX_PID URL[nginx]=http://127.0.0.1:$NGINX_PORT$ROUTE
PID[node]=$NODE_PID URL[node]=http://127.0.0.1:$NODE_PORT$ROUTE
PID[forge]=$SERVE_PID URL[forge]=http://127.0.0.1:$FORGE_PORT$ROUTE

for peer in $PEERS; do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "${URL[$peer]}")
    [ "$status" = 200 ] || { echo "$0: $peer answers $status" >&2; exit 1; }
done

# measure ROUND PEER: a warm-up, then the measured run with memory samples; one line to runs.txt.
measure() {
    local round=$1 peer=$2 lines result load ticks requests
    SECS=2 wrk_run "${URL[$peer]}" > /dev/null
    ticks=$(cpu_ticks "${PID[$peer]}")
    lines=$(sampled "${PID[$peer]}" wrk_run "${URL[$peer]}")
    ticks=$(($(cpu_ticks "${PID[$peer]}") - ticks))
    # The first line is wrk's result, the last the memory samples (no pipes: pipefail).
    result=${lines%%$'\n'*}
    requests=${result#*requests=} requests=${requests%% *}
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "round=$round peer=$peer $result cpu_us=$(awk "BEGIN { printf \"%.1f\", $ticks * 1e6 / $(getconf CLK_TCK) / $requests }") ${lines##*$'\n'} load=${load// /,}" >> "$OUT/runs.txt"
    tail -1 "$OUT/runs.txt"
}

: > "$OUT/runs.txt"
echo "== $ROUNDS rounds of: $PEERS (wrk -t$THREADS -c$CONNS -d${SECS}s; $(nproc) cores)"
for round in $(seq "$ROUNDS"); do
    for peer in $PEERS; do measure "$round" "$peer"; done
done

echo
echo "| peer | requests/s | p50 ms | p99 ms | CPU µs per call | RSS MB (first..max..last, all rounds) | load average at each run |"
echo "|---|---:|---:|---:|---:|---|---|"
for peer in $PEERS; do
    awk -v peer="$peer" "$AWK_RUNS"'
        field("peer") == peer {
            n++; rps[n] = field("rps"); p50[n] = field("p50_ms"); p99[n] = field("p99_ms")
            cpu[n] = field("cpu_us")
            split(field("rss_mb"), rss, /\.\./)
            if (n == 1) first = rss[1]; if (rss[2] + 0 > max + 0) max = rss[2]; last = rss[3]
            bad += field("non2xx") + field("socket_errors")
            loads = loads (n > 1 ? "; " : "") field("load")
        }
        END {
            printf "| %s | %d | %.2f | %.2f | %.1f | %s..%s..%s | %s%s |\n", peer, median(rps, n),
                median(p50, n), median(p99, n), median(cpu, n), first, max, last, loads,
                bad ? " (" bad " errors or non-2xx)" : ""
        }' "$OUT/runs.txt"
done
