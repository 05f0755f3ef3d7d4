#!/usr/bin/env bash
# An A/B of two `provider-forge` binaries on the proxy's hot path: what a change to the proxy
# is worth, measured on a machine that other work shares.
#
#   benches/proxy_ab.sh BEFORE AFTER [ROUNDS]      # two release binaries; ROUNDS (6)
#
# Both binaries serve at once, on the same seeded PostgreSQL database (pf_scale_1000, seeded
# as benches/service_scale.sh does) and the same upstream (nginx answering 200 from memory),
# so the machine's other work falls on both alike. wrk alternates between them, the order
# flipping every round (A B, B A, ...): each run is a 1 s warm-up, then SECS (6) of wrk, 1
# thread, CONNS (32) connections, on `GET /proxy/bench-api/c0000005/v1/records?page=1`. Each
# run's line goes to OUT/ab.txt (OUT=/tmp/pf-ab) with the serve's CPU time (user + system) per
# call, the steadier measure; the summary is the median per side of requests/s, CPU µs per
# call and p99.
#
# To get the two binaries: build the release binary before the change and copy it aside
# (cp target/release/provider-forge /tmp/before), then after. The seeder
# (target/release/examples/seed_connections) must exist: `cargo build --release --example
# seed_connections`. Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust); installs wrk,
# nginx and psql with apt-get when missing.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 BEFORE AFTER [ROUNDS]" >&2
    exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/pf-ab}
RUN_SECS=${SECS:-6}
CONNS=${CONNS:-32}
declare -A BIN=([a]=$1 [b]=$2) PORT=([a]=18091 [b]=18092) SERVE
ROUNDS=${3:-6}
# shellcheck source=benches/scale/common.sh
. "$ROOT/benches/scale/common.sh"
ROUTE=/proxy/bench-api/c0000005/v1/records?page=1

need wrk nginx psql curl
start_upstream
seed 1000 > /dev/null
for side in a b; do
    PF=${BIN[$side]} start_serve "$PG/pf_scale_1000" "${PORT[$side]}"
    SERVE[$side]=$SERVE_PID
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "http://127.0.0.1:${PORT[$side]}$ROUTE")
    [ "$status" = 200 ] || { echo "$0: ${BIN[$side]} answers $status" >&2; exit 1; }
done

: > "$OUT/ab.txt"
echo "== $ROUNDS rounds: a=${BIN[a]} b=${BIN[b]} (wrk -t$THREADS -c$CONNS -d${RUN_SECS}s; $(nproc) cores)"
for round in $(seq "$ROUNDS"); do
    order="a b"
    [ $((round % 2)) = 0 ] && order="b a"
    for side in $order; do
        url="http://127.0.0.1:${PORT[$side]}$ROUTE"
        SECS=1 wrk_run "$url" > /dev/null
        before=$(cpu_ticks "${SERVE[$side]}")
        result=$(SECS=$RUN_SECS wrk_run "$url")
        ticks=$(($(cpu_ticks "${SERVE[$side]}") - before))
        requests=${result#*requests=} requests=${requests%% *}
        echo "round=$round side=$side $result cpu_us=$(awk "BEGIN { printf \"%.1f\", $ticks * 1e6 / $(getconf CLK_TCK) / $requests }") load=$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/ab.txt"
        tail -1 "$OUT/ab.txt"
    done
done

echo
for side in a b; do
    awk -v side="$side" -v bin="${BIN[$side]}" "$AWK_RUNS"'
        field("side") == side { n++; rps[n] = field("rps"); cpu[n] = field("cpu_us"); p99[n] = field("p99_ms") }
        END { printf "%s (%s): %d requests/s, %.1f µs CPU per call, p99 %.2f ms (medians of %d)\n",
              side, bin, median(rps, n), median(cpu, n), median(p99, n), n }' "$OUT/ab.txt"
done
