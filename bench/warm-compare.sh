#!/usr/bin/env bash
# P3 again and again on one cluster, Sluice and Kafka: how much of a cold run is the JVM warming up.
#
#   bench/warm-compare.sh [-r RUNS] [-o OUTDIR] [-k] [-s]        default: -r 4, both systems
#
#   -k  skip Kafka (Sluice only)      -s  skip Sluice (Kafka only)
#
# bench/kafka-compare.sh measures every workload on freshly started brokers, as the Kafka anchor does. This script
# starts one 3-broker cluster per system and runs the anchor's P3 on it RUNS times (a new 6-partition RF=3 topic each
# time, 1,000,000 records of 1024 B; Kafka acks=all with min.insync.replicas=2 and the anchor's exact
# ProducerPerformance command, Sluice acks=quorum with `sluice perf produce --batch-size 65536 --linger 5ms`). Run 1
# is the cold run of kafka-compare.sh; the later runs find the brokers' code already compiled. Per run it prints
# records/s, p99 send->ack, the brokers' CPU seconds and, of those, the seconds the brokers' JIT compiler threads
# used (utime+stime of the threads named "C1/C2 CompilerThread*", read from /proc).
#
# Same machine rules as kafka-compare.sh: brokers -Xms1g -Xmx1g, tools -Xmx512m; before each run sync and a bounded
# wait for a quiet machine (all processes <= 0.3 cores for 3 s, brokers included); every tool run bounded by timeout
# (SB_TOOL_TIMEOUT, 300 s); clusters stopped by PID on exit. Output: OUTDIR (default
# bench/results/warm-compare-<UTC time>/): results.txt (one RESULT line per run), tool logs, commands.txt.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SLUICE_SHARED_DIR:-$ROOT/../shared}
RUNS=4
OUT=""
DO_KAFKA=1
DO_SLUICE=1
NUM_RECORDS=${BENCH_NUM_RECORDS:-1000000}
export SLUICE_JVM_OPTS=${SLUICE_JVM_OPTS--Xms1g -Xmx1g}
export SLUICE_CLI_OPTS=${SLUICE_CLI_OPTS--Xmx512m}

while getopts "r:o:ksh" opt; do
  case $opt in
    r) RUNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    k) DO_KAFKA=0 ;;
    s) DO_SLUICE=0 ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "-r wants a positive number of runs" >&2; exit 2; }

OUT=${OUT:-$ROOT/bench/results/warm-compare-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=bench/cluster-lib.sh
source "$HERE/cluster-lib.sh"
KAFKA_PIDS=""
KA=""
KAFKA_STARTED=0
kafka_down() {  # cluster.sh stop signals only the PIDs it recorded
  ((KAFKA_STARTED)) && KAFKA_ANCHOR_ROOT=$KROOT "$KA/cluster.sh" stop > /dev/null 2>&1 || true
  KAFKA_STARTED=0
}
trap 'sb_finish; kafka_down; rm -rf "$OUT/sluice-build"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
RESULTS=$OUT/results.txt
: > "$RESULTS"

# CPU ticks of the JIT compiler threads of some processes.
jit_ticks() {  # pid...
  local t=0 p f
  for p in "$@"; do
    for f in /proc/"$p"/task/*; do
      [ -r "$f/comm" ] || continue
      case $(cat "$f/comm" 2> /dev/null) in
        C1\ CompilerThre* | C2\ CompilerThre*)
          t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$f/stat" 2> /dev/null || echo 0))) ;;
      esac
    done
  done
  echo "$t"
}
proc_ticks() {  # pid...
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
  done
  echo "$t"
}
# Bounded wait until the whole machine (brokers included) is below SB_QUIET_MAX cores for SB_QUIET_SECS seconds.
wait_machine_quiet() {
  local waited=0 quiet=0 b0 b1 busy
  while ((quiet < SB_QUIET_SECS && waited < SB_QUIET_WAIT)); do
    read -r b0 _ < <(sb_sys_ticks); sleep 1; read -r b1 _ < <(sb_sys_ticks)
    busy=$(awk -v b=$((b1 - b0)) -v hz="$SB_CLK" 'BEGIN { printf "%.2f", b / hz }')
    if awk -v o="$busy" -v m="$SB_QUIET_MAX" 'BEGIN { exit !(o <= m) }'; then quiet=$((quiet + 1)); else quiet=0; fi
    waited=$((waited + 1))
  done
  ((waited < SB_QUIET_WAIT)) || sb_log "  gave up waiting for a quiet machine (${busy} cores busy)"
}
# Runs a producer command, measured: measure SYSTEM RUN LOG PIDS -- COMMAND...   (prints and records a RESULT line)
measure() {
  local sys=$1 run=$2 log=$3 pids=$4 rc=0 t0 t1 k0 k1 j0 j1 tf=$3.time
  shift 5
  sync
  wait_machine_quiet
  # shellcheck disable=SC2086 # pids is a list
  { k0=$(proc_ticks $pids); j0=$(jit_ticks $pids); }
  t0=$(sb_now)
  printf '%q ' "$@" >> "$OUT/commands.txt"; echo >> "$OUT/commands.txt"
  /usr/bin/time -f "%U %S" -o "$tf" timeout -k 5 "$SB_TOOL_TIMEOUT" "$@" > "$log" 2>&1 || rc=$?
  t1=$(sb_now)
  # shellcheck disable=SC2086
  { k1=$(proc_ticks $pids); j1=$(jit_ticks $pids); }
  local s rate p99 client
  s=$(grep -E "^[0-9]+ records( sent)?, " "$log" | tail -n 1 | tr -d '(),' || true)
  rate=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "records/sec") { printf "%.0f", $i; exit } }' <<< "$s")
  p99=$(awk '{ for (i = 2; i <= NF; i++) if ($i == "99th") { print $(i - 2); exit } }' <<< "$s")
  client=$(awk 'END { printf "%.1f", $1 + $2 }' "$tf" 2> /dev/null || echo -)
  local line
  line=$(printf 'RESULT system=%s run=%s rc=%s rec_per_s=%s p99_ms=%s wall_s=%.1f broker_cpu_s=%.1f broker_jit_cpu_s=%.1f client_cpu_s=%s' \
    "$sys" "$run" "$rc" "${rate:--}" "${p99:--}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$(awk -v k=$((k1 - k0)) -v hz="$SB_CLK" 'BEGIN { print k / hz }')" \
    "$(awk -v k=$((j1 - j0)) -v hz="$SB_CLK" 'BEGIN { print k / hz }')" "$client")
  echo "$line" | tee -a "$RESULTS" >&2
}

{ sb_machine; echo "warm P3: runs=$RUNS records=$NUM_RECORDS"; } | tee "$OUT/env.txt" >&2

# ---- Sluice -------------------------------------------------------------------------------------------------------
if ((DO_SLUICE)); then
  sb_snapshot
  sb_log "== Sluice: one 3-broker cluster, P3 x $RUNS"
  sb_up 3
  pids=$(sb_pids | tr '\n' ' ')
  for ((r = 1; r <= RUNS; r++)); do
    t=p3-warm-$r
    sb_create_topic "$t" 6 3 || sb_die "could not create $t"
    sb_wait_topic "$t" 6 3 60 || true
    measure sluice "$r" "$OUT/sluice-P3-$r.log" "$pids" -- \
      env SLUICE_BOOTSTRAP=127.0.0.1:7070 "$SB_SNAP/bin/sluice" perf produce --topic "$t" --records "$NUM_RECORDS" \
      --record-size 1024 --acks quorum --batch-size 65536 --linger 5ms
  done
  sb_down
fi

# ---- Kafka --------------------------------------------------------------------------------------------------------
if ((DO_KAFKA)); then
  sb_kafka_anchor "$SHARED/anchors/kafka"
  KA=$SB_ANCHOR
  KROOT=${KAFKA_ANCHOR_ROOT:-/tmp/kafka-anchor}
  # The anchor's tool JVM (its bench.sh), and its bootstrap list.
  TOOL=(java -Xmx512m -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
        -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$KA/log4j2-tools.properties" -cp "$KA/lib/tools/*")
  B3=127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094
  sb_log "== Kafka: one 3-broker cluster, P3 x $RUNS"
  KAFKA_ANCHOR_ROOT=$KROOT "$KA/cluster.sh" stop > /dev/null 2>&1 || true
  KAFKA_ANCHOR_ROOT=$KROOT "$KA/cluster.sh" clean > /dev/null 2>&1 || true
  sync
  KAFKA_STARTED=1
  KAFKA_ANCHOR_ROOT=$KROOT timeout -k 5 180 "$KA/cluster.sh" start 3 > "$OUT/kafka-start.log" 2>&1 \
    || sb_die "the Kafka cluster did not start (see $OUT/kafka-start.log)"
  KAFKA_PIDS=$(KAFKA_ANCHOR_ROOT=$KROOT "$KA/cluster.sh" status | sed -n 's/.* pid=\([0-9]*\) .*/\1/p' | tr '\n' ' ')
  sb_log "Kafka brokers: $KAFKA_PIDS"
  for ((r = 1; r <= RUNS; r++)); do
    t=p3-warm-$r
    timeout -k 5 110 "${TOOL[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$B3" --create --topic "$t" \
      --partitions 6 --replication-factor 3 --config min.insync.replicas=2 >> "$OUT/topics.log" 2>&1 \
      || sb_die "could not create $t (see $OUT/topics.log)"
    measure kafka "$r" "$OUT/kafka-P3-$r.log" "$KAFKA_PIDS" -- \
      "${TOOL[@]}" org.apache.kafka.tools.ProducerPerformance --bootstrap-server "$B3" --topic "$t" \
      --num-records "$NUM_RECORDS" --record-size 1024 --throughput -1 \
      --command-property acks=all linger.ms=5 batch.size=65536
  done
  kafka_down
  KAFKA_ANCHOR_ROOT=$KROOT "$KA/cluster.sh" clean > /dev/null 2>&1 || true
fi
sb_log "results: $RESULTS"
