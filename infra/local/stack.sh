#!/usr/bin/env bash
# Local stack: moto server (DynamoDB, EventBridge, SQS, Scheduler, SESv2 identities,
# Secrets Manager) and aws-ses-v2-local (sent-mail store and viewer), both on
# 127.0.0.1 ports picked by the OS, then provision.py mirrors infra/template.yaml.
#
#   infra/local/stack.sh up       start (or reuse) and provision; idempotent
#   infra/local/stack.sh down     stop what `up` started; safe when nothing runs
#   infra/local/stack.sh status   what runs, and where
#
# State lives in .local/: pids/<svc>.pid, pids/<svc>.port, logs/<svc>.log,
# stack.env and targets.json (written by provision.py).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
PIDS="$LOCAL/pids"
LOGS="$LOCAL/logs"
PY="$ROOT/.venv/bin/python"
SERVICES=(moto ses)
START_TIMEOUT=${RELANCE_LOCAL_START_TIMEOUT:-30}

die() { echo "stack.sh: $*" >&2; exit 1; }

# Word that must appear in the command line of a process we started.
marker() {
  case "$1" in
    moto) echo "$ROOT/infra/local/moto_serial.py" ;;
    ses) echo "$ROOT/.tools/npm/node_modules/.bin/aws-ses-v2-local" ;;
  esac
}

health_path() {
  case "$1" in
    moto) echo "/moto-api/" ;;
    ses) echo "/health-check" ;;
  esac
}

recorded_pid() { cat "$PIDS/$1.pid" 2>/dev/null || true; }
recorded_port() { cat "$PIDS/$1.port" 2>/dev/null || true; }

# True when PID is alive and is the process we started for service $1.
is_ours() {
  local svc="$1" pid="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker "$svc")"
}

answers() {
  local svc="$1" port="$2"
  [[ "$port" =~ ^[0-9]+$ ]] || return 1
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port$(health_path "$svc")" 2>/dev/null
}

is_running() {
  local svc="$1"
  is_ours "$svc" "$(recorded_pid "$svc")" && answers "$svc" "$(recorded_port "$svc")"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

stop_service() {
  local svc="$1" pid
  pid="$(recorded_pid "$svc")"
  if is_ours "$svc" "$pid"; then
    # Started with setsid: the process leads its own group; signal the group so
    # any child goes too, but only if the group really is this process's.
    local pgid
    pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
    if [[ "$pgid" == "$pid" ]]; then kill -TERM -- "-$pid" 2>/dev/null || true
    else kill -TERM "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do
      is_ours "$svc" "$pid" || break
      sleep 0.1
    done
    if is_ours "$svc" "$pid"; then
      if [[ "$pgid" == "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true
      else kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    echo "stack.sh: stopped $svc (pid $pid)"
  elif [[ -n "$pid" ]]; then
    echo "stack.sh: $svc (pid $pid) was not running; cleaning up"
  fi
  rm -f "$PIDS/$svc.pid" "$PIDS/$svc.port"
}

start_service() {
  local svc="$1" port log pid
  port="$(free_port)"
  log="$LOGS/$svc.log"
  : >"$log"
  case "$svc" in
    moto)
      # moto_serial.py: moto_server with requests serialised (see the file for why).
      setsid "$PY" "$ROOT/infra/local/moto_serial.py" -H 127.0.0.1 -p "$port" >>"$log" 2>&1 </dev/null &
      ;;
    ses)
      setsid "$ROOT/.tools/npm/node_modules/.bin/aws-ses-v2-local" --host 127.0.0.1 --port "$port" \
        >>"$log" 2>&1 </dev/null &
      ;;
  esac
  pid=$!
  echo "$pid" >"$PIDS/$svc.pid"
  echo "$port" >"$PIDS/$svc.port"
}

wait_ready() {
  local svc="$1" pid port deadline
  pid="$(recorded_pid "$svc")"
  port="$(recorded_port "$svc")"
  deadline=$((SECONDS + START_TIMEOUT))
  until answers "$svc" "$port"; do
    if ! is_ours "$svc" "$pid"; then
      echo "stack.sh: $svc exited before answering on 127.0.0.1:$port; last log lines:" >&2
      tail -n 30 "$LOGS/$svc.log" >&2
      rm -f "$PIDS/$svc.pid" "$PIDS/$svc.port"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "stack.sh: $svc did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s; last log lines:" >&2
      tail -n 30 "$LOGS/$svc.log" >&2
      stop_service "$svc" >/dev/null
      exit 1
    fi
    sleep 0.2
  done
}

cmd_up() {
  "$ROOT/infra/local/tools.sh"
  mkdir -p "$PIDS" "$LOGS"
  local svc
  for svc in "${SERVICES[@]}"; do
    if is_running "$svc"; then
      echo "stack.sh: reusing $svc (pid $(recorded_pid "$svc"), http://127.0.0.1:$(recorded_port "$svc"))"
    else
      stop_service "$svc" >/dev/null
      start_service "$svc"
    fi
  done
  for svc in "${SERVICES[@]}"; do
    wait_ready "$svc"
  done
  "$PY" "$ROOT/infra/local/provision.py" \
    --moto-url "http://127.0.0.1:$(recorded_port moto)" \
    --ses-url "http://127.0.0.1:$(recorded_port ses)" \
    --out "$LOCAL"
  cmd_status
}

cmd_down() {
  local svc
  for svc in "${SERVICES[@]}"; do
    stop_service "$svc"
  done
}

cmd_status() {
  local svc pid port state
  for svc in "${SERVICES[@]}"; do
    pid="$(recorded_pid "$svc")"
    port="$(recorded_port "$svc")"
    if [[ -z "$pid" ]]; then state="stopped"
    elif ! is_ours "$svc" "$pid"; then state="stale pid file (pid $pid not ours or gone)"
    elif answers "$svc" "$port"; then state="running, pid $pid"
    else state="running but not answering, pid $pid"; fi
    case "$svc" in
      moto) printf '%-5s %-28s %s\n' "$svc" "${port:+http://127.0.0.1:$port}" "$state" ;;
      ses) printf '%-5s %-28s %s%s\n' "$svc" "${port:+http://127.0.0.1:$port}" "$state" \
             "${port:+ (mail viewer: http://127.0.0.1:$port/)}" ;;
    esac
  done
  if [[ -f "$LOCAL/stack.env" ]]; then
    echo "env:     $LOCAL/stack.env   (set -a; . .local/stack.env; set +a)"
    echo "targets: $LOCAL/targets.json"
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) die "usage: $0 up|down|status" ;;
esac
