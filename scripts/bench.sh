#!/usr/bin/env bash
# One benchmark run on this machine (docs/BENCHMARKS.md): the per-commit ceiling, a bare
# actix-web handler, signup-bridge (intake 202, end to end 201 through the embedded simulator,
# replays, open-loop latency at a fixed rate, RSS, start-to-ready) and, when Node.js can start
# it, the atlassian-connect-express peer from PEER_DIR under the same load generator.
# Prints one Markdown table. Environment: DURATION (seconds per run, 10), CONNS (64),
# RATE (open-loop requests/s, 500), PEER_DIR (where the ACE peer's sources are; unset or
# missing = bridge only), ACE_CACHE (where the peer is copied and npm ci runs, kept between
# runs), WORK (scratch directory, a fresh temporary one by default).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}; CONNS=${CONNS:-64}; RATE=${RATE:-500}
WORK=${WORK:-$(mktemp -d)}; PEER_DIR=${PEER_DIR:-}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/signup-bridge; BENCH=$TARGET/release/examples/bench
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
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
row() { # $1 what, $2 RESULT line, $3 extra note
  ROWS+=("| $1 | $(field rps "$2") | $(field p50_ms "$2") | $(field p99_ms "$2") | $(field non2xx "$2")+$(field errors "$2") | $(field cpu_us "$2") | $(field codes "$2") $3 |")
}
load() { "$BENCH" load "$@" | grep '^RESULT'; }
# measured PID, then load's arguments: the run's RESULT line plus the server's CPU time per
# answered request (perf stat task-clock, when perf works here).
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
row "bridge: new signups at intake (202), open loop $RATE/s" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new 0 "$DURATION" "$RATE")" ""
PEAK_INTAKE=$(rss "$PID" VmHWM); kill "$PID"; wait "$PID" 2>/dev/null || true

echo "# signup-bridge, end to end" >&2
start_bridge e2e 10s
row "bridge: new signups end to end (201), $CONNS connections" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new "$CONNS" "$DURATION")" ""
row "bridge: new signups end to end (201), open loop $RATE/s" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" new 0 "$DURATION" "$RATE")" ""
row "bridge: replays of one finished signup, $CONNS connections" "$(measured "$PID" http://127.0.0.1:18080 "$TOKEN" replay "$CONNS" "$DURATION")" ""
PEAK_E2E=$(rss "$PID" VmHWM); kill "$PID"; wait "$PID" 2>/dev/null || true
BRIDGE_MEM="bridge: idle RSS $IDLE MiB, peak $PEAK_INTAKE MiB (intake runs) / $PEAK_E2E MiB (end-to-end runs), start to ready ${READY_MS} ms"

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
echo "- $PEER_MEM"
