#!/usr/bin/env bash
# Run every fuzz target (or those named) for a bounded time each, two at a time at most, at
# low priority. Usage: scripts/fuzz.sh SECONDS [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain RUSTC_BOOTSTRAP=1 lets
# it use the sanitizer flags. Corpora stay in fuzz/corpus/ (not committed); a crash leaves its
# input in fuzz/artifacts/TARGET/ and becomes a unit test. A summary line per target goes to
# fuzz/summary.txt: target, seconds it ran, corpus files, executions, result.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# Bodies are capped by `server.max_body_bytes` (64 KiB by default): no input needs more, and
# a target that wants more memory than a few hundred MiB for one has a bug.
max_len=65536
rss_limit_mb=512

seed() {
  local dir="corpus/$1"
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir")" ] && return 0
  case "$1" in
    signup_body)
      printf '\000{"email":"fred@example.com","displayName":"Fred F. User"}' >"$dir/json"
      printf '\001email=fred%%40example.com&firstName=Fred&lastName=User' >"$dir/form" ;;
    idempotency_key)
      printf 'order-123' >"$dir/bare"
      printf '"a\\"quoted\\\\key"' >"$dir/quoted" ;;
    jwt)
      printf '\001{"alg":"HS256","typ":"JWT"}\000{"iss":"fuzz","iat":1700000000,"exp":4102444800,"jti":"j","qsh":"abc"}' >"$dir/claims"
      printf '\000eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJmdXp6In0.sig' >"$dir/raw" ;;
    qsh)
      printf 'POST\n/webhooks/signup\nb=2&a=1&a=%%20x' >"$dir/request" ;;
    signature)
      printf '\001webhook-id: msg_1\nwebhook-timestamp: 1700000000\nwebhook-signature: v1,AAAA v1,BBBB\n\n{"a":1}' >"$dir/standard"
      printf '\002stripe-signature: t=1700000000,v1=00ff,v0=ab\n\n{}' >"$dir/stripe"
      printf '\006x-hubspot-signature-v3: AAAA\nx-hubspot-request-timestamp: 1700000000000\n\n[]' >"$dir/hubspot"
      printf '\010?: key=abc&key=def\n\n' >"$dir/query" ;;
    field_mapping)
      printf '\000$.data[?@.type==\x27email\x27].value\000{"data":[{"type":"email","value":"a@b.co"}]}' >"$dir/filter"
      printf '\030$[\x27data[email]\x27]\000data%%5Bemail%%5D=a%%40b.co' >"$dir/form" ;;
    config)
      printf '[server]\nlisten = "127.0.0.1:0"\n[[tenants]]\nid = "t"\nbase_url = "https://t.atlassian.net"\nauth = { type = "basic", email = "a@b.co", api_token = "${TOKEN}" }\n[[sources]]\nid = "s"\ntenant = "t"\nsecret = "${SECRET}"\n' >"$dir/minimal" ;;
  esac
}

run_one() {
  local target=$1 log="logs/$1.log" result=ok started=$SECONDS
  seed "$target"
  mkdir -p logs "artifacts/$target"
  if ! nice -n 19 cargo fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb="$rss_limit_mb" \
    -timeout=10 -print_final_stats=1 -artifact_prefix="artifacts/$target/" >"$log" 2>&1; then
    result="FAILED (see fuzz/$log and fuzz/artifacts/$target/)"
  fi
  local files execs
  files=$(find "corpus/$target" -type f | wc -l)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "$target $((SECONDS - started))s corpus=$files execs=$execs $result" | tee -a summary.txt
}

cargo fuzz build -O >/dev/null
running=0
for target in "${targets[@]}"; do
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
