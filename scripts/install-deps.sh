#!/usr/bin/env bash
# Install, from Debian's packages, whatever the build and the tests need and
# the machine lacks.  Does nothing (and needs no network) when all is there.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what `make test` needs
set -euo pipefail

pkgs=(
  build-essential meson ninja-build pkg-config python3
  libpq-dev libsqlite3-dev libevent-dev libjansson-dev zlib1g-dev libdeflate-dev
  libssl-dev libcrypt-dev libical-dev libcurl4-openssl-dev libqrencode-dev
  postgresql-client sqlite3 tzdata ca-certificates age
)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(libcmocka-dev postgresql python3-pytest python3-pytest-xdist python3-yaml curl wrk nodejs
        chromium chromium-driver python3-selenium
        # the notification tests' SMTP server (issue 17)
        python3-aiosmtpd
        # make test-image (buildah, podman) and make test-pg17 (mmdebstrap):
        # Debian trees and images made from the archive, no Docker engine
        buildah podman runc uidmap debootstrap mmdebstrap)
  # npm comes with some nodejs builds (NodeSource's): Debian's package only where it lacks.
  command -v npm >/dev/null || pkgs+=(npm)
fi

# The S3-compatible test server (test/package.json, s3rver): once, from the lock file.
npm_ci() {
  if [ "${1:-}" = "--test" ] && { [ ! -d "$(dirname "$0")/../test/node_modules" ] || [ ! -d "$(dirname "$0")/../test/node_modules/axe-core" ]; }; then
    (cd "$(dirname "$0")/../test" && npm ci --no-audit --no-fund)
  fi
}

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { npm_ci "$@"; exit 0; }

echo "installing missing packages: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: not root and no sudo: install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_ci "$@"
