#!/usr/bin/env bash
# Installs the external tools of the GitHub client's tests into ./.tools (idempotent, pinned):
#   .tools/fixtures-server/   @octokit/fixtures-server 8.1.7 (recorded api.github.com traffic),
#                             installed with `npm ci` from the lock file committed beside the
#                             loopback wrapper in tests/github/fixtures_server/
#   .tools/openapi/api.github.com.json
#                             GitHub's OpenAPI description from @octokit/openapi 23.0.2; only this
#                             one file (13 MB) is kept, the 385 MB package is never installed
# Run from anywhere: bash scripts/install/github-tools.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

TOOLS="$PWD/.tools"
FIXTURES_SERVER_VERSION=8.1.7
OPENAPI_VERSION=23.0.2
# sha256 of generated/api.github.com.json inside @octokit/openapi@23.0.2 (npm also checks the
# tarball's integrity against the registry; this pins the one file we extract).
OPENAPI_SHA256=829b4bebb19a53133289f7b0bc819f4f1118115821db2ca9f25e9ee995a7da2a

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "github-tools.sh: '$1' is required (Node.js 20+ with npm)" >&2
    exit 1
  }
}

install_fixtures_server() {
  local prefix="$TOOLS/fixtures-server"
  local installed="$prefix/node_modules/@octokit/fixtures-server/package.json"
  if [ -f "$installed" ] && grep -q "\"version\": \"$FIXTURES_SERVER_VERSION\"" "$installed" &&
    cmp -s tests/github/fixtures_server/package-lock.json "$prefix/package-lock.json"; then
    return 0
  fi
  need node
  need npm
  mkdir -p "$prefix"
  # Its own prefix (not .tools/ itself) so that another install script's `npm install` there can
  # never prune it.
  cp tests/github/fixtures_server/package.json tests/github/fixtures_server/package-lock.json "$prefix/"
  npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
  echo "github-tools.sh: installed @octokit/fixtures-server@$FIXTURES_SERVER_VERSION"
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

install_openapi() {
  local dest="$TOOLS/openapi/api.github.com.json"
  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$OPENAPI_SHA256" ]; then
    return 0
  fi
  need npm
  mkdir -p "$TOOLS/openapi"
  tmp=$(mktemp -d)
  # The 28 MB tarball never outlives this script, even when it fails half-way.
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "@octokit/openapi@$OPENAPI_VERSION" --silent >/dev/null)
  tar -xzf "$tmp/octokit-openapi-$OPENAPI_VERSION.tgz" -C "$tmp" \
    package/generated/api.github.com.json package/LICENSE
  local got
  got=$(sha256_of "$tmp/package/generated/api.github.com.json")
  if [ "$got" != "$OPENAPI_SHA256" ]; then
    echo "github-tools.sh: api.github.com.json sha256 $got != expected $OPENAPI_SHA256" >&2
    exit 1
  fi
  mv "$tmp/package/generated/api.github.com.json" "$dest"
  mv "$tmp/package/LICENSE" "$TOOLS/openapi/LICENSE"
  echo "github-tools.sh: extracted api.github.com.json from @octokit/openapi@$OPENAPI_VERSION"
}

install_fixtures_server
install_openapi
