#!/usr/bin/env bash
# A local Sluice cluster of N broker processes on 127.0.0.1.
#
#   deploy/local/cluster.sh up [-n N]    build if needed, start N brokers (default 3), wait until ready
#   deploy/local/cluster.sh down         SIGTERM every recorded broker (SIGKILL after 30 s)
#   deploy/local/cluster.sh status       PID and up/down of each broker
#   deploy/local/cluster.sh kill I       SIGKILL broker I (1-based)
#   deploy/local/cluster.sh restart I    start broker I again on its data (after kill)
#
# Broker i serves gRPC on 7069+i, Raft on 7169+i, HTTP on 7269+i. Data, PID and log files live in
# $SLUICE_DATA_DIR/broker-I (default: ./data/local under the repository root). Only PIDs recorded there are
# ever signalled. The controller voters are brokers 1..min(N,3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base="${SLUICE_DATA_DIR:-$root/data/local}"
ready_timeout="${SLUICE_READY_TIMEOUT_S:-90}"
stop_timeout="${SLUICE_STOP_TIMEOUT_S:-30}"

die() { echo "cluster.sh: $*" >&2; exit 1; }

broker_dir() { echo "$base/broker-$1"; }
pid_of() { local f; f="$(broker_dir "$1")/broker.pid"; [[ -f "$f" ]] && cat "$f" || true; }
is_running() {
  local pid="$1"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -qE 'bin/sluice-broker|io.sluice.broker.SluiceBroker'
}
count() { local f="$base/cluster.size"; [[ -f "$f" ]] && cat "$f" || echo 0; }

build_if_needed() {
  if ! compgen -G "$root/broker-node/target/sluice-broker-node-*.jar" >/dev/null || [[ ! -d "$root/broker-node/target/lib" ]]; then
    echo "building Sluice (mvn -B -q -DskipTests package)..."
    (cd "$root" && mvn -B -q -DskipTests package) || die "the build failed"
  fi
}

voters() {
  local n="$1" v="" i
  local m=$(( n < 3 ? n : 3 ))
  for ((i = 1; i <= m; i++)); do v+="${v:+,}$i@127.0.0.1:$((7169 + i))"; done
  echo "$v"
}

# A port taken by another process (another cluster with other data, say) would make a broker fail to bind, and the
# readiness probe would then ask the other process: refuse before starting anything.
check_ports_free() {
  local i="$1" port
  is_running "$(pid_of "$i")" && return 0
  for port in $((7069 + i)) $((7169 + i)) $((7269 + i)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port (broker $i) is already in use on 127.0.0.1: another Sluice cluster (other data directory) or program; stop it first"
    fi
  done
}

start_broker() {
  local i="$1" n="$2" dir
  dir="$(broker_dir "$i")"
  mkdir -p "$dir"
  local pid; pid="$(pid_of "$i")"
  if is_running "$pid"; then echo "broker $i already running (pid $pid)"; return; fi
  SLUICE_LOG_DIR="$dir" nohup "$root/bin/sluice-broker" \
    --set "broker.id=$i" --set broker.host=127.0.0.1 \
    --set "grpc.port=$((7069 + i))" --set "raft.port=$((7169 + i))" --set "http.port=$((7269 + i))" \
    --set "data.dir=$dir/data" --set "controller.voters=$(voters "$n")" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" </dev/null &
  echo $! >"$dir/broker.pid"
  echo "broker $i started (pid $!, gRPC 127.0.0.1:$((7069 + i)), data $dir)"
}

# Readiness: GET /health/ready on the broker's HTTP port (200 once registered with the controller and serving). Without
# curl, the JVM probe of the gRPC health service, which costs a JVM start per probe and, with its 2 s deadline, can miss
# a ready broker on a loaded machine.
check_ready() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$((7269 + $1))/health/ready" 2>/dev/null
  else
    "$root/bin/sluice-broker" --check-ready "127.0.0.1:$((7069 + $1))" >/dev/null 2>&1
  fi
}

wait_ready() {
  local ids=("$@") deadline=$(( SECONDS + ready_timeout )) i k pending probes
  while :; do
    pending=() probes=()
    for i in "${ids[@]}"; do
      is_running "$(pid_of "$i")" || { echo "broker $i exited; last log lines:" >&2; tail -n 20 "$(broker_dir "$i")/stderr.log" >&2; die "broker $i failed to start"; }
    done
    # Each probe is a JVM: run them side by side, and only for brokers not yet ready.
    for i in "${ids[@]}"; do check_ready "$i" & probes+=($!); done
    k=0
    for i in "${ids[@]}"; do wait "${probes[k]}" || pending+=("$i"); k=$((k + 1)); done
    [[ ${#pending[@]} -eq 0 ]] && return 0
    ids=("${pending[@]}")
    if (( SECONDS >= deadline )); then
      for i in "${pending[@]}"; do
        echo "broker $i is not ready after ${ready_timeout}s; last log lines:" >&2
        tail -n 20 "$(broker_dir "$i")/stderr.log" >&2 || true
      done
      die "the cluster did not become ready"
    fi
    sleep 1
  done
}

cmd_up() {
  local n=3
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -n) [[ $# -ge 2 ]] || die "-n needs a number"; n="$2"; shift 2 ;;
      *) die "unknown argument to up: $1" ;;
    esac
  done
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "-n must be a positive number"
  build_if_needed
  mkdir -p "$base"
  local old; old="$(count)"
  (( old > n )) && n="$old"
  echo "$n" >"$base/cluster.size"
  local ids=() i
  for ((i = 1; i <= n; i++)); do check_ports_free "$i"; done
  for ((i = 1; i <= n; i++)); do start_broker "$i" "$n"; ids+=("$i"); done
  wait_ready "${ids[@]}"
  local bootstrap=""
  for ((i = 1; i <= n; i++)); do bootstrap+="${bootstrap:+,}127.0.0.1:$((7069 + i))"; done
  echo "cluster of $n brokers is ready; bootstrap address: $bootstrap"
  # The CLI defaults to 127.0.0.1:7070; listing every broker lets it reach the cluster while broker 1 is down.
  echo "export SLUICE_BOOTSTRAP=$bootstrap"
}

stop_pid() {
  local i="$1" pid; pid="$(pid_of "$i")"
  if ! is_running "$pid"; then rm -f "$(broker_dir "$i")/broker.pid"; return; fi
  kill -TERM "$pid" 2>/dev/null || true
}

cmd_down() {
  local n; n="$(count)"; local i
  for ((i = 1; i <= n; i++)); do stop_pid "$i"; done
  local deadline=$(( SECONDS + stop_timeout ))
  for ((i = 1; i <= n; i++)); do
    local pid; pid="$(pid_of "$i")"
    while is_running "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
    if is_running "$pid"; then echo "broker $i did not stop in ${stop_timeout}s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$(broker_dir "$i")/broker.pid"
  done
  echo "cluster stopped (data kept in $base)"
}

cmd_status() {
  local n; n="$(count)"; local i
  (( n > 0 )) || { echo "no cluster recorded in $base"; return; }
  for ((i = 1; i <= n; i++)); do
    local pid; pid="$(pid_of "$i")"
    local state=down
    if is_running "$pid"; then state=up; check_ready "$i" && state="up (ready)"; fi
    printf 'broker %d  pid %-8s %-11s gRPC 127.0.0.1:%d\n' "$i" "${pid:--}" "$state" "$((7069 + i))"
  done
}

broker_arg() {
  [[ $# -ge 1 && "$1" =~ ^[1-9][0-9]*$ ]] || die "expected a broker number (1-based)"
  (( $1 <= $(count) )) || die "broker $1 is not part of the recorded cluster (size $(count))"
}

cmd_kill() {
  broker_arg "$@"
  local pid; pid="$(pid_of "$1")"
  is_running "$pid" || die "broker $1 is not running"
  kill -KILL "$pid"
  echo "broker $1 (pid $pid) killed with SIGKILL"
}

cmd_restart() {
  broker_arg "$@"
  local pid; pid="$(pid_of "$1")"
  is_running "$pid" && die "broker $1 is running (pid $pid); kill it first"
  build_if_needed
  check_ports_free "$1"
  start_broker "$1" "$(count)"
  wait_ready "$1"
  echo "broker $1 is ready again"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill) shift; cmd_kill "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  *) echo "usage: $0 up [-n N] | down | status | kill I | restart I" >&2; exit 1 ;;
esac
