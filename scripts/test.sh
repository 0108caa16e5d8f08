#!/usr/bin/env bash
# Installs everything the test suite needs (pinned) into ./.venv and ./.tools, then runs it.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# Each file in scripts/install/ installs one family of external tools (npm CLIs, spec files) into
# ./.tools; they are idempotent and pinned.
for step in scripts/install/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
export PATH="$PWD/.tools/bin:$PATH"
.venv/bin/ruff check ghw tests scripts
.venv/bin/ruff format --check ghw tests scripts
set +e
# two workers (the machine's two cores): the suite is mostly real processes and servers waiting
# on each other; GHW_TEST_WORKERS=0 runs it in one process
.venv/bin/python -m pytest -n "${GHW_TEST_WORKERS:-2}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "no tests ran" >&2
  exit 1
fi
exit "$rc"
