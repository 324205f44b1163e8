#!/usr/bin/env bash
# An open loop that outpaces delivery (docs/BENCHMARKS.md, "Overload: a bounded intake"):
# `serve --sandbox` with inline_wait = INLINE_WAIT (10s), then `bench load … new 0 SECS RATE`.
# Prints the load generator's RESULT line, the server's peak RSS (VmHWM), the most open file
# descriptors seen (sampled every 0.5 s), the admission metrics, and the signups stored against
# the 2xx answered (every 2xx must have its row; a 503 must have none).
# Environment: RATE (2000), SECS (20), INLINE_WAIT (10s), PORT (18180), BIN_DIR (the release
# binaries; $CARGO_TARGET_DIR/release by default, built first), SERVER_EXTRA and DELIVERY_EXTRA
# (extra TOML lines for [server] and [delivery], e.g. 'max_intake_in_flight = 512'), WORK.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RATE=${RATE:-2000}; SECS=${SECS:-20}; INLINE_WAIT=${INLINE_WAIT:-10s}; PORT=${PORT:-18180}
if [ -z "${BIN_DIR:-}" ]; then
  (cd "$ROOT" && cargo build --release --quiet --bin signup-bridge --example bench)
  BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/release
  BENCH=$BIN_DIR/examples/bench
else
  BENCH=$BIN_DIR/bench
  [ -x "$BENCH" ] || BENCH=$BIN_DIR/examples/bench
fi
BIN=$BIN_DIR/signup-bridge
WORK=${WORK:-$(mktemp -d)}; mkdir -p "$WORK"; cd "$WORK"
printf '[server]\nlisten = "127.0.0.1:%s"\n%s\n[delivery]\ninline_wait = "%s"\n%s\n' \
  "$PORT" "${SERVER_EXTRA:-}" "$INLINE_WAIT" "${DELIVERY_EXTRA:-}" >bench.toml
SIGNUP_BRIDGE_LOG=warn "$BIN" serve --sandbox --config bench.toml >serve.log 2>&1 &
PID=$!
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.05; done
TOKEN=$("$BIN" token --source sandbox --config bench.toml 2>/dev/null)
sleep 1
echo "idle VmRSS $(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status") MiB"
(while kill -0 "$PID" 2>/dev/null; do ls "/proc/$PID/fd" | wc -l; sleep 0.5; done) >fds.log 2>/dev/null &
SAMPLER=$!
RESULT=$("$BENCH" load "http://127.0.0.1:$PORT" "$TOKEN" new 0 "$SECS" "$RATE" | grep '^RESULT')
echo "$RESULT"
echo "peak VmHWM $(awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$PID/status") MiB; most open fds $(sort -n fds.log | tail -1)"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^signup_bridge_(intake_overloaded|inline_waits_skipped)' || true
cleanup; trap - EXIT
answered=$(sed -n 's/.*codes=\([^ ]*\).*/\1/p' <<<"$RESULT" | tr ',' '\n' | awk -F: '$1 ~ /^2/ {n += $2} END {print n + 0}')
stored=$("$BIN" signups stats --config bench.toml | awk '$1 == "total" {print $2}')
echo "2xx answered $answered; signups stored $stored; load average $(cut -d' ' -f1-3 /proc/loadavg)"
