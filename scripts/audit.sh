#!/usr/bin/env bash
# Check Cargo.lock against the RustSec advisory database. Usage: scripts/audit.sh
#
# Installs cargo-audit when missing (`cargo install --locked cargo-audit`). cargo-audit fetches
# the advisory database from GitHub, so this needs access to it; CI does not run it (no time, and
# no network there). Ignored, with the reason in docs/DECISIONS.md ("RUSTSEC-2023-0071"):
#   RUSTSEC-2023-0071  rsa: Marvin timing attack on decryption; the bridge only verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo audit --version >/dev/null 2>&1; then
  cargo install --locked cargo-audit
fi
exec cargo audit --ignore RUSTSEC-2023-0071 "$@"
