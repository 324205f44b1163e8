#!/bin/sh
# Store N generated rows with `signup-bridge import` into a fresh SQLite database and print
# the time it took (docs/BENCHMARKS.md, "Import"). No JSM is called: nothing is serving.
# Usage: scripts/import-bench.sh [ROWS]   (default 100000; needs a release build)
set -eu
rows="${1:-100000}"
bin="${SIGNUP_BRIDGE_BIN:-${CARGO_TARGET_DIR:-target}/release/signup-bridge}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
awk -v n="$rows" 'BEGIN { print "email,displayName";
    for (i = 1; i <= n; i++) printf "person%d@example.com,Person %d\n", i, i }' > "$dir/people.csv"
cat > "$dir/bridge.toml" <<TOML
[database]
url = "sqlite://$dir/bridge.db"

[[tenants]]
id = "bench"
base_url = "http://127.0.0.1:9"
auth = { type = "basic", email = "bench@example.com", api_token = "unused" }

[[sources]]
id = "bench"
tenant = "bench"
secret = "bench-secret-0123456789abcdef-0123456789"
TOML
"$bin" migrate --config "$dir/bridge.toml"
start=$(date +%s.%N)
"$bin" import "$dir/people.csv" --source bench --config "$dir/bridge.toml" 2>/dev/null
end=$(date +%s.%N)
echo "stored $rows rows in $(echo "$end - $start" | bc) s"
