#!/usr/bin/env bash
# Smoke test of the OCI image: builds it (scripts/image.sh), then
#   1. runs `serve --sandbox` inside it on a free loopback port (SQLite in /data): a customer
#      is created (201), the same request replayed (200/201 with Idempotent-Replayed: true),
#      and `signup-bridge healthcheck` answers 0 inside the container;
#   2. runs the image against the local PostgreSQL (a schema of its own, dropped after) with
#      the same checks.
# Containers use --network=host: the test talks to 127.0.0.1 only.
#
#   scripts/image-smoke.sh            # needs podman, buildah, runc, curl, psql
#   SKIP_BUILD=1 scripts/image-smoke.sh   # reuse localhost/signup-bridge:latest
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-localhost/signup-bridge:latest}
pg_url=${SIGNUP_BRIDGE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
say() { echo "image-smoke: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

scripts/image.sh --configure-podman
[ "${SKIP_BUILD:-}" = 1 ] || IMAGE="$image" scripts/image.sh >/dev/null
size=$(podman image inspect "$image" --format '{{.Size}}')
say "image $image: $((size / 1024 / 1024)) MiB"
podman image inspect "$image" --format '{{.Config.User}} {{.Config.WorkingDir}} {{json .Config.Healthcheck}}' |
  grep -q '^65532:65532 /data .*signup-bridge.*healthcheck' || fail "image user, working directory or HEALTHCHECK"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

containers=()
schema=""
cleanup() {
  for c in "${containers[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  if [ -n "$schema" ]; then psql -q -d "$pg_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# Runs the sandbox in a container; prints the container name once the curl line is out.
start_sandbox() {
  local name=$1 port=$2; shift 2
  # The HEALTHCHECK is exercised with `podman exec` below: podman's own timer needs systemd.
  podman run -d --name "$name" --network=host --no-healthcheck \
    -e SIGNUP_BRIDGE_LISTEN="127.0.0.1:$port" "$@" "$image" serve --sandbox >/dev/null
  containers+=("$name")
  local started=$(date +%s%N)
  for _ in $(seq 1 600); do
    if podman logs "$name" 2>&1 | grep -q '^curl '; then
      say "$name ready in $(( ($(date +%s%N) - started) / 1000000 )) ms (from podman run)"
      return 0
    fi
    if [ "$(podman inspect -f '{{.State.Running}}' "$name")" != true ]; then
      podman logs "$name" >&2 || true
      fail "$name exited before it was ready"
    fi
    sleep 0.1
  done
  podman logs "$name" >&2 || true
  fail "$name not ready after 60 s"
}

# A customer, a replay and the healthcheck against a running sandbox container.
check_flow() {
  local name=$1 email=$2
  local line
  line=$(podman logs "$name" 2>&1 | grep '^curl ' | tail -n 1)
  line=${line//fred@example.com/$email}
  local first second
  first=$(eval "$line" -s -o /dev/null -D - | tr -d '\r')
  echo "$first" | head -n 1 | grep -q ' 201' || { echo "$first" >&2; fail "$name: first signup not 201"; }
  second=$(eval "$line" -s -o /dev/null -D - | tr -d '\r')
  echo "$second" | grep -qi '^idempotent-replayed: true' || { echo "$second" >&2; fail "$name: replay not marked"; }
  podman exec "$name" /usr/local/bin/signup-bridge healthcheck || fail "$name: healthcheck inside the container"
  # A host name, not an address: the static binary resolves names without glibc's NSS modules.
  podman exec "$name" /usr/local/bin/signup-bridge healthcheck --url "http://localhost:$3/readyz" ||
    fail "$name: the static binary cannot resolve localhost"
  say "$name: customer created, replay answered, healthcheck 0"
}

port=$(free_port)
start_sandbox smoke-sqlite "$port"
check_flow smoke-sqlite "smoke-sqlite@example.com" "$port"
# The database lives in /data, owned by the image's user.
podman exec smoke-sqlite /usr/local/bin/signup-bridge signups list >/dev/null || fail "signups list in /data"
podman rm -f smoke-sqlite >/dev/null
# healthcheck exits 1 when nothing answers (its "no answer" message below is expected).
say "healthcheck with nothing listening (expect exit 1):"
if podman run --rm --network=host --no-healthcheck "$image" healthcheck --url "http://127.0.0.1:$port/readyz"; then
  fail "healthcheck answered 0 with nothing listening"
fi

schema="smoke_$(date +%s)_$$"
psql -q -d "$pg_url" -c "CREATE SCHEMA $schema" || fail "cannot create schema $schema at $pg_url"
sep='?'; case "$pg_url" in *\?*) sep='&';; esac
port=$(free_port)
start_sandbox smoke-postgres "$port" -e SIGNUP_BRIDGE_DATABASE_URL="${pg_url}${sep}options[search_path]=$schema"
check_flow smoke-postgres "smoke-postgres@example.com" "$port"
rows=$(psql -qAt -d "$pg_url" -c "SELECT count(*) FROM $schema.signups")
[ "$rows" = 1 ] || fail "expected 1 signup in $schema.signups, found $rows"
say "passed"
