#!/usr/bin/env bash
# `make demo`: the local CRM end to end. Starts the local stack and `cargo lambda watch`,
# runs relance-demo (a simulated shop) against them, checks the report it wrote in headless
# Chromium, then stops everything it started (also on failure).
# RELANCE_DEMO_SEED picks another shop; RELANCE_DEMO_KEEP=1 keeps the stack up (the SES
# emulator's viewer shows the mails) until Enter is pressed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LOGS="$ROOT/.local/logs"
export PATH="$ROOT/.venv/bin:$PATH"

watch_pid=""
cleanup() {
  if [[ -n "$watch_pid" ]] && kill -0 "$watch_pid" 2>/dev/null; then
    # cargo lambda watch runs each function as a child: stop the whole group.
    kill -- "-$watch_pid" 2>/dev/null || kill "$watch_pid" 2>/dev/null || true
    wait "$watch_pid" 2>/dev/null || true
  fi
  infra/local/stack.sh down >/dev/null || true
}
trap cleanup EXIT INT TERM

# A fresh stack, so the summary counts this run only.
infra/local/stack.sh down >/dev/null
infra/local/stack.sh up
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

echo "==> building the functions and the demo driver"
cargo build --quiet --workspace --bins

mkdir -p "$LOGS"
echo "==> cargo lambda watch on 127.0.0.1:$port (log: .local/logs/watch.log)"
set -m
cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$port" \
  --env-file .local/stack.env >"$LOGS/watch.log" 2>&1 &
watch_pid=$!
set +m

cargo run --quiet -p relance-tests --bin relance-demo -- "http://127.0.0.1:$port"

echo "==> opening target/demo/report.html in headless Chromium"
infra/local/tools.sh browser
node infra/local/report-check.mjs target/demo/report.html target/demo/report.png

echo "==> one customer as the operator looks them up: relance --local profile <the customer with most orders>"
target/debug/relance --local profile "$(cat target/demo/customer.txt)"

if [[ "${RELANCE_DEMO_KEEP:-}" == 1 ]]; then
  grep -E '^RELANCE_SES_EMULATOR_URL=' .local/stack.env | sed 's/^RELANCE_SES_EMULATOR_URL=/==> the SES emulator viewer: /'
  read -r -p "==> press Enter to stop the stack " _
fi
