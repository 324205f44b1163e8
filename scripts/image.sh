#!/usr/bin/env bash
# Builds the signup-bridge OCI image on this machine without pulling anything: a static
# binary from cargo, then a `scratch` image assembled with buildah — the same layout as the
# Containerfile's runtime stage (user 65532, /data, the CA bundle, HEALTHCHECK, OCI labels).
#
#   scripts/image.sh                       # tags localhost/signup-bridge:latest
#   IMAGE=localhost/signup-bridge:dev scripts/image.sh
#
# Needs Debian's podman, buildah and runc (`apt-get install podman buildah runc`) and the CA
# bundle (`ca-certificates`). Where podman cannot start containers with its defaults (seen on
# some CI machines), /etc/containers/containers.conf needs
#   [containers] default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
#   [engine] runtime = "runc"
# `scripts/image.sh --configure-podman` writes exactly that when the file does not exist.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--configure-podman" ]; then
  conf=/etc/containers/containers.conf
  if [ ! -e "$conf" ]; then
    mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n' >"$conf"
    echo "image.sh: wrote $conf" >&2
  fi
  exit 0
fi

for tool in buildah cargo; do
  command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing (apt-get install podman buildah runc)" >&2; exit 1; }
done
ca=/etc/ssl/certs/ca-certificates.crt
[ -r "$ca" ] || { echo "image.sh: $ca is missing (apt-get install ca-certificates)" >&2; exit 1; }

image=${IMAGE:-localhost/signup-bridge:latest}
target=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-target}
# glibc linked statically: the binary needs nothing from the image but the CA bundle.
RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --locked --target "$target" >&2
bin="$target_dir/$target/release/signup-bridge"
if ! ldd "$bin" 2>&1 | grep -qE 'statically linked|not a dynamic executable'; then
  echo "image.sh: $bin is dynamically linked; the scratch image needs a static binary" >&2
  exit 1
fi
version=$("$bin" --version | awk '{print $2}')
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -s -m 0755 "$bin" "$root/usr/local/bin/signup-bridge"
install -D -m 0644 "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
install -d -m 0700 "$root/data"
install -d -m 1777 "$root/tmp"

# Docker's image format: the OCI format has no HEALTHCHECK.
export BUILDAH_FORMAT=docker
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$root"' EXIT
buildah copy --quiet "$ctr" "$root/usr" /usr >/dev/null
buildah copy --quiet "$ctr" "$root/etc" /etc >/dev/null
buildah copy --quiet "$ctr" "$root/tmp" /tmp >/dev/null
buildah copy --quiet --chown 65532:65532 "$ctr" "$root/data" /data >/dev/null
buildah config \
  --user 65532:65532 \
  --workingdir /data \
  --volume /data \
  --port 8080 \
  --env SIGNUP_BRIDGE_LISTEN=0.0.0.0:8080 \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --healthcheck 'CMD ["/usr/local/bin/signup-bridge", "healthcheck"]' \
  --healthcheck-interval 10s --healthcheck-timeout 3s \
  --healthcheck-start-period 30s --healthcheck-retries 3 \
  --label org.opencontainers.image.title=signup-bridge \
  --label "org.opencontainers.image.description=Signed signup webhooks become Jira Service Management customers, exactly once." \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label org.opencontainers.image.source=signup-bridge \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --entrypoint '["/usr/local/bin/signup-bridge"]' \
  --cmd serve \
  "$ctr"
buildah commit --quiet --format docker "$ctr" "$image" >/dev/null
echo "$image"
