#!/usr/bin/env bash
# One benchmark run on this machine (docs/BENCHMARKS.md): the per-commit ceiling, a bare
# actix-web handler, signup-bridge on SQLite (intake 202, end to end 201 through the embedded
# simulator, replays, open-loop latency at a fixed rate, RSS, start-to-ready), on PostgreSQL
# when a server is named (intake, end to end and replays with one instance and with two on one schema,
# both delivering to one separate simulator) and, when Node.js can start it, the
# atlassian-connect-express peer from PEER_DIR under the same load generator.
# Prints one Markdown table. Environment: DURATION (seconds per run, 10), CONNS (64),
# RATE (open-loop requests/s, 500), BENCH_POSTGRES_URL (or SIGNUP_BRIDGE_TEST_POSTGRES_URL; a
# PostgreSQL server where each run creates a schema of its own and drops it at the end; unset =
# SQLite only), PEER_DIR (where the ACE peer's sources are; unset or missing = bridge only),
# ACE_CACHE (where the peer is copied and npm ci runs, kept between runs), WORK (scratch
# directory, a fresh temporary one by default).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}; CONNS=${CONNS:-64}; RATE=${RATE:-500}
WORK=${WORK:-$(mktemp -d)}; PEER_DIR=${PEER_DIR:-}
PG_URL=${BENCH_POSTGRES_URL:-${SIGNUP_BRIDGE_TEST_POSTGRES_URL:-}}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/signup-bridge; BENCH=$TARGET/release/examples/bench
PIDS=(); SCHEMAS=(); PEAKS=()
R_INTAKE=; R_OPEN=; R_E2E=; R_PG1=; R_ACE=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for s in "${SCHEMAS[@]}"; do
    PGOPTIONS='-c client_min_messages=warning' psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS $s CASCADE" || true
  done
}
trap cleanup EXIT

(cd "$ROOT" && cargo build --release --quiet --bin signup-bridge --example bench)

now_ms() { date +%s%3N; }
rss() { awk "/^$2/ {printf \"%.1f\", \$2/1024}" "/proc/$1/status"; }   # $1 pid, $2 VmRSS|VmHWM
wait_ready() { # $1 url; prints ms waited
  local t0; t0=$(now_ms)
  for _ in $(seq 300); do curl -sf -o /dev/null "$1" && { echo $(( $(now_ms) - t0 )); return; }; sleep 0.02; done
  echo "no answer from $1" >&2; return 1
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ROWS=()
row() { # $1 what, $2 RESULT line, $3 extra note; the RESULT line is kept in LAST
  LAST=$2
  ROWS+=("| $1 | $(field rps "$2") | $(field p50_ms "$2") | $(field p99_ms "$2") | $(field non2xx "$2")+$(field errors "$2") | $(field cpu_us "$2") | $(field codes "$2") $3 |")
}
load() { "$BENCH" load "$@" | grep '^RESULT'; }
# measured PID, then load's arguments: the run's RESULT line plus the server's CPU time per
# answered request (perf stat task-clock, when perf works here).
# The PID may be a comma-separated list (several processes, their CPU time summed).
measured() {
  local pid=$1; shift
  if ! perf stat -e task-clock -- true >/dev/null 2>&1; then load "$@"; return; fi
  perf stat -x, -e task-clock -p "$pid" -o "$WORK/perf.txt" &
  local perf=$!
  local result; result=$(load "$@")
  kill -INT "$perf"; wait "$perf" 2>/dev/null || true
  local ms; ms=$(awk -F, '/task-clock/ {print $1}' "$WORK/perf.txt")
  echo "$result cpu_us=$(awk -v ms="$ms" -v n="$(field requests "$result")" 'BEGIN {printf "%.0f", n ? ms * 1000 / n : 0}')"
}

echo "# ceiling" >&2
CEIL=$("$BENCH" ceiling 5 "$WORK/ceiling.db" | grep '^RESULT')
ROWS+=("| per-commit ceiling (single-row FULL commits, one connection) | $(field rps "$CEIL") | | | | | commits/s |")

echo "# bare actix-web" >&2
"$BENCH" bare 127.0.0.1:18090 & PIDS+=($!)
sleep 0.5
row "bare actix-web handler, $CONNS connections" "$(measured "${PIDS[-1]}" http://127.0.0.1:18090 none replay "$CONNS" "$DURATION")" ""
kill "${PIDS[-1]}"

# $1 name, $2 inline_wait: start the bridge in a directory of its own; sets PID, READY_MS.
start_bridge() {
  mkdir -p "$WORK/$1"
  printf '[server]\nlisten = "127.0.0.1:18080"\n[delivery]\ninline_wait = "%s"\n' "$2" >"$WORK/$1/bench.toml"
  local t0; t0=$(now_ms)
  (cd "$WORK/$1" && SIGNUP_BRIDGE_LOG=warn exec "$BIN" serve --sandbox --config bench.toml >serve.log 2>&1) &
  PID=$!; PIDS+=($PID)
  wait_ready http://127.0.0.1:18080/readyz >/dev/null
  READY_MS=$(( $(now_ms) - t0 ))
  TOKEN=$(cd "$WORK/$1" && "$BIN" token --source sandbox --config bench.toml 2>/dev/null)
}

echo "# signup-bridge, intake" >&2
start_bridge intake 0s
sleep 2; IDLE=$(rss "$PID" VmRSS)
row "bridge: new signups at intake (202), $CONNS connections" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new "$CONNS" "$DURATION")" ""
R_INTAKE=$LAST
row "bridge: new signups at intake (202), open loop $RATE/s" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new 0 "$DURATION" "$RATE")" ""
R_OPEN=$LAST
PEAK_INTAKE=$(rss "$PID" VmHWM); kill "$PID"; wait "$PID" 2>/dev/null || true

echo "# signup-bridge, end to end" >&2
start_bridge e2e 10s
row "bridge: new signups end to end (201), $CONNS connections" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new "$CONNS" "$DURATION")" ""
R_E2E=$LAST
row "bridge: new signups end to end (201), open loop $RATE/s" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new 0 "$DURATION" "$RATE")" ""
row "bridge: replays of one finished signup, $CONNS connections" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" replay "$CONNS" "$DURATION")" ""
PEAK_E2E=$(rss "$PID" VmHWM); kill "$PID"; wait "$PID" 2>/dev/null || true
BRIDGE_MEM="bridge: idle RSS $IDLE MiB, peak $PEAK_INTAKE MiB (intake runs) / $PEAK_E2E MiB (end-to-end runs), start to ready ${READY_MS} ms"

PG_NOTES=("bridge on PostgreSQL: not run (BENCH_POSTGRES_URL and SIGNUP_BRIDGE_TEST_POSTGRES_URL unset)")
if [ -n "$PG_URL" ]; then
  PG_NOTES=()
  APP=signup-bridge-bench-$$   # application_name of the bridges' connections, to find their backends
  # A tenant id of this run's own: claims lock the tenant by name across the whole database, so
  # another bridge in another schema with the same tenant id would share the lock.
  TENANT=bench-$$
  SIM_URL=http://127.0.0.1:18083
  sql() { PGOPTIONS='-c client_min_messages=warning' psql "$PG_URL" -qAtc "$1"; }
  sql "SELECT 1" >/dev/null
  # pid:CPU ticks of every PostgreSQL backend serving the bridges (when the server runs here).
  pg_ticks() {
    for p in $(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '$APP'"); do
      [ -r "/proc/$p/stat" ] && awk -v p="$p" '{print p ":" $14 + $15}' "/proc/$p/stat"
    done
    return 0
  }
  # measured, plus the CPU time of those backends per answered request (pg_us=).
  pg_measured() {
    local before after result
    before=$(pg_ticks); result=$(measured "$@"); after=$(pg_ticks)
    echo "$result pg_us=$({ sed 's/^/b:/' <<<"$before"; sed 's/^/a:/' <<<"$after"; } |
      awk -F: -v hz="$(getconf CLK_TCK)" -v n="$(field requests "$result")" \
        '$1 == "b" { b[$2] = $3 } $1 == "a" && $3 != "" { t += $3 - b[$2] }
         END { printf "%.0f", n ? t * 1e6 / hz / n : 0 }')"
  }
  # $1 name, $2 inline_wait, $3 instances: a fresh schema, one simulator and N instances of the
  # same config on ports 18084…, started together; sets PID (comma-separated), URLS, TOKEN,
  # SCHEMA, READY_MS (spawn to every instance ready).
  start_pg() {
    local dir=$WORK/$1 secret i t0 urls=() pids=()
    mkdir -p "$dir"
    SCHEMA=bench_$$_$1; sql "CREATE SCHEMA $SCHEMA"; SCHEMAS+=("$SCHEMA")
    "$BIN" jsm-sim --listen 127.0.0.1:18083 --basic bench@example.com:bench-api-token >"$dir/sim.log" 2>&1 &
    SIM=$!; PIDS+=($SIM)
    wait_ready "$SIM_URL/_sim/health" >/dev/null
    secret=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
    local sep='?'; [[ $PG_URL == *\?* ]] && sep='&'
    cat >"$dir/bench.toml" <<TOML
[database]
url = "$PG_URL${sep}options[search_path]=$SCHEMA&application_name=$APP"
[delivery]
inline_wait = "$2"
[[tenants]]
id = "$TENANT"
base_url = "$SIM_URL"
auth = { type = "basic", email = "bench@example.com", api_token = "bench-api-token" }
[[sources]]
id = "bench"
tenant = "$TENANT"
secret = "$secret"
TOML
    t0=$(now_ms)
    for i in $(seq "$3"); do
      (cd "$dir" && SIGNUP_BRIDGE_LOG=warn exec "$BIN" serve --config bench.toml --listen "127.0.0.1:$((18083 + i))" >"serve$i.log" 2>&1) &
      pids+=($!); PIDS+=($!); urls+=("http://127.0.0.1:$((18083 + i))")
    done
    for url in "${urls[@]}"; do wait_ready "$url/readyz" >/dev/null; done
    READY_MS=$(( $(now_ms) - t0 ))
    PID=$(IFS=,; echo "${pids[*]}"); URLS=$(IFS=,; echo "${urls[*]}")
    TOKEN=$(cd "$dir" && "$BIN" token --source bench --config bench.toml 2>/dev/null)
  }
  # $1 name, $2 intake|e2e: the bridges' peak RSS; after an end-to-end run, wait (up to 30 s)
  # until nothing is pending. Then stop the bridges (SIGTERM: in-flight calls finish) and check
  # the stored signups against the simulator's customers and create calls.
  stop_pg() {
    local peaks=() p pending waited=0
    for p in ${PID//,/ }; do peaks+=("$(rss "$p" VmHWM)"); PEAKS+=("$(rss "$p" VmHWM)"); done
    if [ "$2" = e2e ]; then
      while [ "$waited" -lt 30 ] && pending=$(sql "SELECT count(*) FROM $SCHEMA.signups WHERE status = 'pending'") && [ "$pending" != 0 ]; do
        sleep 1; waited=$((waited + 1))
      done
    fi
    for p in ${PID//,/ }; do kill "$p"; wait "$p" 2>/dev/null || true; done
    local stored customers creates warns
    stored=$(sql "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status) FROM (SELECT status, count(*) n FROM $SCHEMA.signups GROUP BY status) s")
    customers=$(curl -sf "$SIM_URL/_sim/customers" | jq length)
    creates=$(curl -sf "$SIM_URL/_sim/requests" | jq '[.[] | select(.method == "POST" and (.path | endswith("/servicedeskapi/customer")))] | length')
    warns=$(cat "$WORK/$1"/serve*.log | grep -c . || true)
    PG_NOTES+=("$1: signups stored: $stored; simulator: $customers customers from $creates create calls; peak RSS per instance ${peaks[*]} MiB; start to ready ${READY_MS} ms; $warns log lines at warn or above (in $WORK/$1)")
    kill "$SIM"; wait "$SIM" 2>/dev/null || true
    sql "DROP SCHEMA $SCHEMA CASCADE"
  }
  pg_row() { # $1 what, $2 RESULT line
    row "$1" "$2" "(PostgreSQL backends: $(field pg_us "$2") µs/request)"
  }
  for n in 1 2; do
    what="bridge on PostgreSQL, $n instance$([ "$n" = 1 ] || echo s)"
    echo "# signup-bridge on PostgreSQL, $n instance(s), intake" >&2
    start_pg "pg${n}_intake" 0s "$n"
    pg_row "$what: intake (202), $CONNS connections" "$(pg_measured "$PID,$SIM" "$URLS" "$TOKEN" new "$CONNS" "$DURATION")"
    [ "$n" = 1 ] && R_PG1=$LAST
    stop_pg "pg${n}_intake" intake
    echo "# signup-bridge on PostgreSQL, $n instance(s), end to end" >&2
    start_pg "pg${n}_e2e" 10s "$n"
    pg_row "$what: end to end (201), $CONNS connections" "$(pg_measured "$PID,$SIM" "$URLS" "$TOKEN" new "$CONNS" "$DURATION")"
    pg_row "$what: replays of one finished signup, $CONNS connections" "$(pg_measured "$PID,$SIM" "$URLS" "$TOKEN" replay "$CONNS" "$DURATION")"
    stop_pg "pg${n}_e2e" e2e
  done
fi

PEER_MEM="ACE peer: not run (PEER_DIR unset or Node.js missing)"
if [ -n "$PEER_DIR" ] && [ -d "$PEER_DIR" ] && command -v node >/dev/null; then
  echo "# atlassian-connect-express peer" >&2
  # A copy of its own, so npm ci and the SQLite file stay out of the peer's directory.
  CACHE=${ACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/signup-bridge-ace-peer}; mkdir -p "$CACHE"
  rsync -a --exclude node_modules --exclude bench-results "$PEER_DIR/" "$CACHE/"
  (cd "$CACHE" && { [ -e node_modules/sqlite3/build/Release/node_sqlite3.node ] || npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1; })
  FAKE_JSM_PORT=18081 FAKE_JSM_EMAIL=bench@example.com FAKE_JSM_API_TOKEN=bench-api-token \
    FAKE_JSM_CONNECT_SECRET=bench-connect-shared-secret node "$CACHE/fake-jsm.js" >"$WORK/fake.log" 2>&1 &
  PIDS+=($!)
  wait_ready http://127.0.0.1:18081/_fake/stats >/dev/null
  t0=$(now_ms)
  SQLITE_WAL=1 PORT=18082 FAKE_JSM_PORT=18081 SQLITE_PATH="$WORK/ace.sqlite" "$CACHE/start.sh" >"$WORK/ace.log" 2>&1 &
  APID=$!; PIDS+=($APID)
  wait_ready http://127.0.0.1:18082/healthz >/dev/null
  AREADY=$(( $(now_ms) - t0 ))
  sleep 2; AIDLE=$(rss "$APID" VmRSS)
  ATOKEN=$(cd "$CACHE" && node mint.js bench bench-secret 2h)
  row "ACE peer (SQLite WAL): new signups end to end (201), $CONNS connections" "$(measured "$APID" http://127.0.0.1:18082 "$ATOKEN" new "$CONNS" "$DURATION")" ""
  R_ACE=$LAST
  row "ACE peer (SQLite WAL): new signups end to end (201), open loop $RATE/s" "$(measured "$APID" http://127.0.0.1:18082 "$ATOKEN" new 0 "$DURATION" "$RATE")" ""
  row "ACE peer (SQLite WAL): replays of one finished signup, $CONNS connections" "$(measured "$APID" http://127.0.0.1:18082 "$ATOKEN" replay "$CONNS" "$DURATION")" ""
  PEER_MEM="ACE peer: idle RSS $AIDLE MiB, peak $(rss "$APID" VmHWM) MiB, start to ready ${AREADY} ms (npm ci not counted)"
fi

echo
echo "Run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(uname -m)), ${DURATION} s per row, load generator on the same cores."
echo
echo "| what | req/s | p50 ms | p99 ms | non-2xx + errors | server CPU µs/request | answers |"
echo "|---|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "- $BRIDGE_MEM"
printf -- '- %s\n' "${PG_NOTES[@]}"
echo "- $PEER_MEM"

# SPEC §21's targets, from this run's rows (n/a when a row was not run).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
PEAK_MAX=$(printf '%s\n' "$PEAK_INTAKE" "$PEAK_E2E" "${PEAKS[@]}" | sort -n | tail -1)
echo
echo "SPEC §21 targets, this run:"
echo "- intake server CPU per signup (SQLite, $CONNS connections): $(field cpu_us "$R_INTAKE") µs (target ≤ 150)"
echo "- intake / per-commit ceiling: $(ratio "$(field rps "$R_INTAKE")" "$(field rps "$CEIL")")× (target ≥ 4)"
echo "- end to end / ACE peer: $(ratio "$(field rps "$R_E2E")" "$(field rps "$R_ACE")")× (target ≥ 5)"
echo "- PostgreSQL one instance / SQLite, intake: $(ratio "$(field rps "$R_PG1")" "$(field rps "$R_INTAKE")")× (target ≥ 0.7)"
echo "- intake p99 at $RATE/s offered: $(field p99_ms "$R_OPEN") ms (target ≤ 20)"
echo "- peak RSS, largest of any bridge process: $PEAK_MAX MiB (target ≤ 64)"
