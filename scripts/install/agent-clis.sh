#!/usr/bin/env bash
# Installs the pinned coding-agent CLIs that the real-CLI tests in tests/agents/ drive offline, into
# ./.tools (npm prefix .tools/npm, launchers symlinked into .tools/bin). Idempotent and quiet: a CLI
# already at its pinned version is not touched. Pins match docs/agents.md and ghw/agents/*.py
# install hints; claude-code 2.1.197 is the newest release whose engines allow Node 20.
# Set GHW_SKIP_AGENT_CLIS=1 to skip (then the real-CLI tests skip, or fail under
# GHW_REQUIRE_AGENT_CLIS=1).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${GHW_SKIP_AGENT_CLIS:-0}" = 1 ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "agent-clis: npm not found; real-CLI agent tests will skip (or fail in CI)" >&2
  exit 0
fi
PREFIX=.tools/npm
BIN=.tools/bin
mkdir -p "$PREFIX" "$BIN"

# package@version  binary-name
PINS=(
  "@anthropic-ai/claude-code@2.1.197 claude"
  "@openai/codex@0.169.0 codex"
)

installed_version() {  # prints the installed version of package $1, or nothing
  local pj="$PREFIX/node_modules/$1/package.json"
  [ -f "$pj" ] && node -e 'console.log(require(process.argv[1]).version)' "$PWD/$pj" 2>/dev/null || true
}

want=()
for pin in "${PINS[@]}"; do
  spec=${pin% *}
  pkg=${spec%@*}
  ver=${spec##*@}
  if [ "$(installed_version "$pkg")" != "$ver" ]; then
    want+=("$spec")
  fi
done

if [ ${#want[@]} -gt 0 ]; then
  # All pins in one install: npm prunes packages that a later install does not name, so installing
  # only the missing one could remove the others.
  specs=()
  for pin in "${PINS[@]}"; do specs+=("${pin% *}"); done
  npm install --prefix "$PREFIX" --no-save --no-fund --no-audit --loglevel=error "${specs[@]}" >/dev/null
fi

for pin in "${PINS[@]}"; do
  name=${pin#* }
  target="$PWD/$PREFIX/node_modules/.bin/$name"
  if [ -e "$target" ]; then
    ln -sfn "$target" "$BIN/$name"
  else
    echo "agent-clis: $name did not install" >&2
  fi
done
