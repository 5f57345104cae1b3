#!/usr/bin/env bash
# Installs the local toolchain, only what is missing:
#   .venv/       moto server, cargo-lambda, cfn-lint, aws-sam-cli (pinned, PyPI)
#   .tools/npm/  aws-ses-v2-local, playwright-core (pinned, npm)
#   with `browser`: Debian's chromium (apt), for the demo report's check
# A stamp file next to each install records the pins it was made with, so a
# re-run with everything in place costs a few file reads. Quiet unless a step
# fails; then it prints that step's output and exits non-zero.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
NPM_DIR="$ROOT/.tools/npm"

PY_PINS=(
  "moto[server]==5.2.5"
  "cargo-lambda==1.9.2"
  "cfn-lint==1.58.0"
  "aws-sam-cli==1.170.0"
)
NPM_PINS=(
  "aws-ses-v2-local@2.10.2"
  "playwright-core@1.64.1"
)

die() { echo "tools.sh: $*" >&2; exit 1; }

# Runs "$@" with its output captured; shows it only when the command fails.
run_quiet() {
  local what="$1"; shift
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    echo "tools.sh: $what failed:" >&2
    tail -n 40 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

ensure_python_tools() {
  local stamp="$VENV/.relance-pins" want
  want="$(printf '%s\n' "${PY_PINS[@]}")"
  if [[ -f "$stamp" && "$(<"$stamp")" == "$want" \
        && -x "$VENV/bin/moto_server" && -x "$VENV/bin/cargo-lambda" \
        && -x "$VENV/bin/cfn-lint" && -x "$VENV/bin/sam" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is required (3.11 or newer)"
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "tools.sh: creating $VENV" >&2
    run_quiet "python3 -m venv" python3 -m venv "$VENV"
  fi
  echo "tools.sh: installing ${PY_PINS[*]} into .venv (about a minute on a fresh machine)" >&2
  run_quiet "pip install" "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    --no-input "${PY_PINS[@]}"
  printf '%s\n' "$want" >"$stamp"
}

ensure_npm_tools() {
  local stamp="$NPM_DIR/.relance-pins" want
  want="$(printf '%s\n' "${NPM_PINS[@]}")"
  if [[ -f "$stamp" && "$(<"$stamp")" == "$want" \
        && -x "$NPM_DIR/node_modules/.bin/aws-ses-v2-local" \
        && -d "$NPM_DIR/node_modules/playwright-core" ]]; then
    return 0
  fi
  command -v node >/dev/null || die "node is required (20 or newer)"
  command -v npm >/dev/null || die "npm is required"
  mkdir -p "$NPM_DIR"
  echo "tools.sh: installing ${NPM_PINS[*]} into .tools/npm" >&2
  run_quiet "npm install" npm install --prefix "$NPM_DIR" --save-exact --no-audit --no-fund \
    --loglevel=error "${NPM_PINS[@]}"
  printf '%s\n' "$want" >"$stamp"
}

# Headless Chromium for the demo report's check: Debian's package (Playwright's own browser
# download needs internet beyond the registries).
ensure_browser() {
  if command -v chromium >/dev/null; then
    return 0
  fi
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "chromium is missing; install Debian's chromium package (needs root)"
    sudo="sudo"
  fi
  echo "tools.sh: installing Debian's chromium (about a minute)" >&2
  run_quiet "apt-get update" $sudo apt-get update -qq
  run_quiet "apt-get install chromium" env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium
}

ensure_python_tools
ensure_npm_tools
if [[ "${1:-}" == "browser" ]]; then
  ensure_browser
fi
