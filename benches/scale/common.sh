# Shared by benches/service_scale.sh and benches/proxy_peers.sh (sourced, not run): tools,
# the release build, the upstream, wrk runs and memory samples. Expects ROOT and OUT set.

# Bench-only keys: the bench databases hold generated tokens, nothing real.
export PROVIDER_FORGE_SECRET_KEY=scale-bench-api-key-0123456789
export PROVIDER_FORGE_ENCRYPTION_KEY=c2NhbGUtYmVuY2gta2V5LXNjYWxlLWJlbmNoLWtleS0=
export PF_SCALE_CLIENT_SECRET=scale-bench-client-secret
AUTH="Authorization: Bearer $PROVIDER_FORGE_SECRET_KEY"
PG=${PG:-postgres://postgres@127.0.0.1:5432}
# benches/proxy/bench-api.yaml names this port as its API.
UPSTREAM_PORT=18080
SECS=${SECS:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
PF=$ROOT/target/release/provider-forge
SEED=$ROOT/target/release/examples/seed_connections
mkdir -p "$OUT"

# need TOOL...: installs what is missing with apt-get (as root), or says what to install.
need() {
    local tool package
    for tool in "$@"; do
        command -v "$tool" > /dev/null && continue
        case $tool in psql) package=postgresql-client ;; node) package=nodejs ;; *) package=$tool ;; esac
        if command -v apt-get > /dev/null && [ "$(id -u)" = 0 ]; then
            apt-get install -y -qq "$package" > /dev/null
        else
            echo "$0: $tool is missing (apt-get install $package)" >&2
            exit 2
        fi
    done
}

# BUILD=0 measures the binaries as they are (say, while the tree is being edited).
build() {
    [ "${BUILD:-1}" = 0 ] && return
    echo "== build (release; fat LTO, the first build takes minutes)"
    (cd "$ROOT" && cargo build --release --bin provider-forge --example seed_connections)
}

# The clients file for the seeded providers (their OAuth endpoints are never called).
write_clients() {
    cat > "$OUT/clients.yaml" <<CLIENTS
zoho-crm: { client_id: 1000.SCALEBENCH, client_secret_env: PF_SCALE_CLIENT_SECRET }
zoho-books: { client_id: 1000.SCALEBENCH, client_secret_env: PF_SCALE_CLIENT_SECRET }
gitlab: { client_id: scale-bench, client_secret_env: PF_SCALE_CLIENT_SECRET }
bench-api: { client_id: scale-bench, client_secret_env: PF_SCALE_CLIENT_SECRET }
CLIENTS
}
SEEDED_PROVIDERS=(--providers "$ROOT/providers/zoho-crm.yaml" --providers "$ROOT/providers/zoho-books.yaml"
    --providers "$ROOT/providers/gitlab.yaml" --providers "$ROOT/benches/proxy/bench-api.yaml")

# seed COUNT: database pf_scale_COUNT holding COUNT seeded connections (kept between runs).
seed() {
    local count=$1 db=pf_scale_$1
    if ! psql "$PG/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        psql "$PG/postgres" -qc "CREATE DATABASE $db"
    fi
    "$SEED" "$PG/$db" "$count"
    # The whole table into the OS cache, as a busy service would have it.
    psql "$PG/$db" -Atc "SELECT 'table and indexes: ' || pg_size_pretty(pg_total_relation_size('connections')), count(*), sum(length(sealed)) FROM connections" | head -1
}

# Background processes started here, stopped at exit.
STARTED=()
stop_all() {
    local pid
    for pid in "${STARTED[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${STARTED[@]}"; do wait "$pid" 2> /dev/null || true; done
    STARTED=()
}
trap stop_all EXIT

# fill TEMPLATE OUTPUT NAME=VALUE...: a config with @NAME@ replaced.
fill() {
    local template=$1 output=$2 pair
    shift 2
    cp "$template" "$output"
    for pair in "OUT=$OUT" "$@"; do
        sed -i "s#@${pair%%=*}@#${pair#*=}#g" "$output"
    done
}

# wait_port PORT PID: until something accepts on the port (or the process died).
wait_port() {
    until (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; do
        kill -0 "$2" 2> /dev/null || { echo "$0: the process on port $1 died" >&2; exit 1; }
        sleep 0.05
    done
}

# The upstream: nginx answering 200 from memory on UPSTREAM_PORT.
start_upstream() {
    mkdir -p "$OUT/upstream-tmp"
    fill "$ROOT/benches/proxy/upstream.conf" "$OUT/upstream.conf" "PORT=$UPSTREAM_PORT"
    nginx -c "$OUT/upstream.conf" -p "$OUT" &
    UPSTREAM_PID=$!
    STARTED+=("$UPSTREAM_PID")
    wait_port "$UPSTREAM_PORT" "$UPSTREAM_PID"
}

# start_serve DATABASE PORT [ARGS...]: `serve` on the seeded providers; sets SERVE_PID.
start_serve() {
    local database=$1 port=$2
    shift 2
    write_clients
    rm -f "$OUT/serve-$port.out"
    "$PF" serve "${SEEDED_PROVIDERS[@]}" --clients "$OUT/clients.yaml" --database "$database" \
        --listen "127.0.0.1:$port" "$@" > "$OUT/serve-$port.out" 2> "$OUT/serve-$port.log" &
    SERVE_PID=$!
    STARTED+=("$SERVE_PID")
    until grep -q 'listening on' "$OUT/serve-$port.out" 2> /dev/null; do
        kill -0 "$SERVE_PID" 2> /dev/null || { cat "$OUT/serve-$port.log" >&2; exit 1; }
        sleep 0.05
    done
}

# rss_mb PID: resident memory of the process and its children (nginx's workers), MB.
rss_mb() {
    ps -o rss= --pid "$1" --ppid "$1" | awk '{ kb += $1 } END { printf "%.1f", kb / 1024 }'
}

# cpu_ticks PID: user + system CPU of the process and its children (nginx's workers) so far,
# in clock ticks.
cpu_ticks() {
    local pid ticks=0
    for pid in "$1" $(ps -o pid= --ppid "$1"); do
        [ -r "/proc/$pid/stat" ] || continue
        ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    echo "$ticks"
}

# wrk_run URL [WRK_PATHS WRK_IDS WRK_DIGITS]: one wrk run; prints its RESULT fields.
wrk_run() {
    local result
    result=$(WRK_PATHS=${2:-} WRK_IDS=${3:-0} WRK_DIGITS=${4:-0-4} wrk -t"$THREADS" \
        -c"$CONNS" -d"${SECS}s" -H "$AUTH" -s "$ROOT/benches/scale/report.lua" "$1" | grep '^RESULT')
    echo "${result#RESULT }"
}

# sampled PID COMMAND...: runs the command while sampling PID's RSS every half second; prints
# the command's output, then "rss_mb=FIRST..MAX..LAST".
sampled() {
    local pid=$1 samples=$OUT/rss-samples sampler
    shift
    : > "$samples"
    (while kill -0 "$pid" 2> /dev/null; do rss_mb "$pid" >> "$samples"; echo >> "$samples"; sleep 0.5; done) &
    sampler=$!
    "$@"
    kill "$sampler" 2> /dev/null || true
    wait "$sampler" 2> /dev/null || true
    awk 'NF { if (!n++) first = $1; if ($1 > max) max = $1; last = $1 }
         END { printf "rss_mb=%s..%s..%s\n", first, max, last }' "$samples"
}

# awk functions for reading OUT/runs.txt lines (NAME=VALUE fields): field(NAME) and
# median(LIST, N); put "$AWK_RUNS" before the program.
AWK_RUNS='
function field(name,   i, kv) {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
}
function median(list, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (list[j] + 0 < list[i] + 0) { t = list[i]; list[i] = list[j]; list[j] = t }
    return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
}
'
