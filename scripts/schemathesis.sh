#!/usr/bin/env bash
# Run schemathesis (every check) against a sandbox bridge built from this tree.
# Usage: scripts/schemathesis.sh [extra schemathesis run options]
# Needs Python 3 with pip; installs schemathesis into a virtualenv under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
cargo build --quiet
venv="$target/schemathesis-venv"
[ -x "$venv/bin/schemathesis" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet schemathesis; }

work=$(mktemp -d)
port=18089
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
bin="$target/debug/signup-bridge"
# `exec`, so that $pid is the bridge itself and the trap stops it.
(cd "$work" && SIGNUP_BRIDGE_LISTEN="127.0.0.1:$port" exec "$bin" serve --sandbox >serve.log 2>serve.err) &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null || { echo "the bridge did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }
token=$(cd "$work" && "$bin" token --source sandbox --ttl 1h)
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run \
    "http://127.0.0.1:$port/openapi.json" --checks all \
    -H "Authorization: Bearer $token" "$@"
