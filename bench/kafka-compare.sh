#!/usr/bin/env bash
# Sluice side by side with the Apache Kafka anchor (../shared/anchors/kafka), in one sitting.
#
#   bench/kafka-compare.sh [-r RUNS] [-o OUTDIR] [-k] [-s] [-p] [WORKLOAD ...]    default: -r 1 P1 C1 P3 C3 L3
#
#   -k  skip Kafka (Sluice only)      -s  skip Sluice (Kafka only)
#   -p  afterwards, profile the Sluice workloads again with JFR (brokers and client) and summarise where the
#       time goes (bench/src/main/java/io/sluice/bench/JfrTop.java); the profiled runs are not part of the figures
#
# Workloads (as the anchor's bench.sh; record values 1024 B, no key, no compression):
#   P1  1 broker;  topic 1 partition RF=1;  1,000,000 records; Kafka acks=1,   Sluice acks=leader
#   C1  read P1's topic back from offset 0
#   P3  3 brokers; topic 6 partitions RF=3; 1,000,000 records; Kafka acks=all (min.insync.replicas=2), Sluice acks=quorum
#   C3  read P3's topic back from offset 0
#   L3  3 brokers; topic 1 partition RF=3; 10,000 records one at a time, produce -> consume end to end
# Producers batch alike: Kafka linger.ms=5 batch.size=65536; Sluice --linger 5ms --batch-size 65536 (its defaults).
#
# Kafka runs first, with the anchor harness (its defaults: acknowledged from the page cache, no fsync); then Sluice
# with its defaults (log.flush.policy=grouped: a batch is fsynced on a quorum before it is acknowledged), each run
# on a freshly started cluster, brokers with SLUICE_JVM_OPTS (default -Xms1g -Xmx1g, the anchor's broker heap) and
# the CLI with SLUICE_CLI_OPTS (default -Xmx512m, the anchor's tool heap). Every tool run is bounded by its record
# count and by `timeout` (SB_TOOL_TIMEOUT, default 300 s); a cluster start by SB_READY_TIMEOUT (240 s); the Kafka
# harness by KAFKA_TIMEOUT (default 1800 s). Before each workload: sync, then a bounded wait for a quiet machine;
# a run during which other processes used > 0.3 cores on average is marked noisy.
# Output: OUTDIR (default bench/results/kafka-compare-<UTC time>/): kafka/ (the anchor's output), sluice-results.txt,
# compare.md (the table), commands.txt, tool logs, profile/ (with -p). Brokers are stopped by PID on exit.
# BENCH_NUM_RECORDS / BENCH_LAT_RECORDS shrink the record counts for smoke tests (not for figures).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=${SLUICE_SHARED_DIR:-$ROOT/../shared}
KAFKA_BENCH=$SHARED/anchors/kafka/bench.sh
KAFKA_TIMEOUT=${KAFKA_TIMEOUT:-1800}
RUNS=1
OUT=""
DO_KAFKA=1
DO_SLUICE=1
PROFILE=0
NUM_RECORDS=${BENCH_NUM_RECORDS:-1000000}
LAT_RECORDS=${BENCH_LAT_RECORDS:-10000}
SB_RECORD_SIZE=1024
export SLUICE_JVM_OPTS=${SLUICE_JVM_OPTS--Xms1g -Xmx1g}
export SLUICE_CLI_OPTS=${SLUICE_CLI_OPTS--Xmx512m}

while getopts "r:o:ksph" opt; do
  case $opt in
    r) RUNS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    k) DO_KAFKA=0 ;;
    s) DO_SLUICE=0 ;;
    p) PROFILE=1 ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
WANT=" ${*:-P1 C1 P3 C3 L3} "
for w in $WANT; do [[ $w =~ ^(P1|C1|P3|C3|L3)$ ]] || { echo "unknown workload $w" >&2; exit 2; }; done
[[ $WANT == *" C1 "* && $WANT != *" P1 "* ]] && WANT+="P1 "   # a consumer reads what its producer wrote
[[ $WANT == *" C3 "* && $WANT != *" P3 "* ]] && WANT+="P3 "
wants() { [[ $WANT == *" $1 "* ]]; }

OUT=${OUT:-$ROOT/bench/results/kafka-compare-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=bench/cluster-lib.sh
source "$HERE/cluster-lib.sh"
trap 'sb_finish; rm -rf "$OUT/sluice-build"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

T0=$SECONDS
((DO_SLUICE)) && sb_snapshot   # the jars are fixed before anything runs: a rebuild meanwhile changes nothing
{ sb_machine; echo "workloads:$WANT runs=$RUNS records=$NUM_RECORDS latency_records=$LAT_RECORDS"; } | tee "$OUT/env.txt" >&2

# ---- Kafka --------------------------------------------------------------------------------------------------------
if ((DO_KAFKA)); then
  sb_kafka_anchor "$(dirname "$KAFKA_BENCH")"
  KAFKA_BENCH=$SB_ANCHOR/bench.sh
  sb_log "== Kafka: $KAFKA_BENCH -r $RUNS$WANT"
  # shellcheck disable=SC2086 # WANT is a list of workloads
  BENCH_NUM_RECORDS=$NUM_RECORDS BENCH_LAT_RECORDS=$LAT_RECORDS timeout -k 30 "$KAFKA_TIMEOUT" \
    "$KAFKA_BENCH" -r "$RUNS" -o "$OUT/kafka" $WANT 2>&1 | tee "$OUT/kafka.log" | grep -E "^(RESULT|MEDIAN|==)" >&2 \
    || sb_log "the Kafka harness failed or timed out (see $OUT/kafka.log)"
fi

# ---- Sluice -------------------------------------------------------------------------------------------------------
RESULTS=$OUT/sluice-results.txt
: > "$RESULTS"
KEYS=(records extra_records rec_per_s mb_per_s avg_ms p50_ms p95_ms p99_ms p999_ms max_ms wall_s broker_cpu_s broker_cores
      client_cpu_s other_cpu_s iowait_s disk_write_mb broker_write_mb)
emit() {  # workload run status
  local line="RESULT workload=$1 run=$2 status=$3" k
  for k in "${KEYS[@]}"; do line+=" $k=${M[$k]:--}"; done
  echo "$line" | tee -a "$RESULTS" >&2
}
status_of() {  # expected_records
  if [ "${M[rc]}" = 124 ] || [ "${M[rc]}" = 137 ]; then echo timeout
  elif [ "${M[rc]}" != 0 ]; then echo "fail(rc=${M[rc]})"
  elif [ "${M[records]:--}" != "$1" ]; then echo "fail(records=${M[records]:--})"
  elif awk -v o="${M[other_cpu_s]}" -v w="${M[wall_s]}" -v m="$SB_QUIET_MAX" 'BEGIN { exit !(o / w > m) }'; then
    echo noisy
  else echo ok; fi
}

s_produce() {  # workload run topic acks
  sb_run "sluice-$1-r$2" perf produce --topic "$3" --records "$NUM_RECORDS" --record-size $SB_RECORD_SIZE \
    --acks "$4" --batch-size 65536 --linger 5ms
  sb_parse_perf "$OUT/sluice-$1-r$2.log"
  emit "$1" "$2" "$(status_of "$NUM_RECORDS")"
}
s_consume() {  # workload run topic
  sb_run "sluice-$1-r$2" perf consume --topic "$3" --records "$NUM_RECORDS" --record-size $SB_RECORD_SIZE --timeout 30s
  sb_parse_perf "$OUT/sluice-$1-r$2.log"
  # perf consume stops at >= N records; more than N means the topic holds more than the producer's N
  # acknowledged records (duplicates written by producer retries): the rate is still a read rate, flagged
  if [ "${M[records]:-0}" -gt "$NUM_RECORDS" ] 2> /dev/null; then
    M[extra_records]=$((M[records] - NUM_RECORDS)); M[records]=$NUM_RECORDS
  fi
  emit "$1" "$2" "$(status_of "$NUM_RECORDS")"
}
s_latency() {  # workload run topic
  sb_run "sluice-$1-r$2" perf latency --topic "$3" --records "$LAT_RECORDS" --record-size $SB_RECORD_SIZE --acks quorum
  sb_parse_perf "$OUT/sluice-$1-r$2.log"
  emit "$1" "$2" "$(status_of "$LAT_RECORDS")"
}

sluice_workloads() {  # run
  local r=$1
  if wants P1; then
    sb_log "== Sluice run $r: 1 broker"
    sb_up 1
    if sb_create_topic "p1-r$r" 1 1 && sb_wait_topic "p1-r$r" 1 1 60; then
      s_produce P1 "$r" "p1-r$r" leader
      wants C1 && s_consume C1 "$r" "p1-r$r"
    else M=(); emit P1 "$r" "fail(topic)"; fi
    sb_keep_logs "sluice-r$r-1broker"
    sb_down
  fi
  if wants P3 || wants L3; then
    sb_log "== Sluice run $r: 3 brokers"
    sb_up 3
    if wants P3; then
      if sb_create_topic "p3-r$r" 6 3 && sb_wait_topic "p3-r$r" 6 3 90; then
        s_produce P3 "$r" "p3-r$r" quorum
        wants C3 && s_consume C3 "$r" "p3-r$r"
      else M=(); emit P3 "$r" "fail(topic)"; fi
    fi
    if wants L3; then
      if sb_create_topic "l3-r$r" 1 3 && sb_wait_topic "l3-r$r" 1 3 60; then
        s_latency L3 "$r" "l3-r$r"
      else M=(); emit L3 "$r" "fail(topic)"; fi
    fi
    sb_keep_logs "sluice-r$r-3broker"
    sb_down
  fi
}

if ((DO_SLUICE)); then
  for ((r = 1; r <= RUNS; r++)); do sluice_workloads "$r"; done
fi

# ---- medians and the comparison table ---------------------------------------------------------------------------
median_lines() {  # results file -> one "MEDIAN workload=W runs=N [noisy=1] key=value..." line per workload
  # Medians over the status=ok runs; a workload without any falls back to its noisy runs and says so (noisy=1).
  awk -v keys="${KEYS[*]} fetch_rec_per_s fetch_mb_per_s rebalance_ms" '
    $1 == "RESULT" {
      delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      if (f["status"] != "ok" && f["status"] != "noisy") next
      g = f["workload"] SUBSEP f["status"]; n[g]++; seen[f["workload"]] = 1
      for (k in f) if (f[k] != "-") vals[g, k, n[g]] = f[k]
    }
    function median(g, k,   a, m, i, j, t) {
      m = 0; for (i = 1; i <= n[g]; i++) if ((g, k, i) in vals) a[++m] = vals[g, k, i] + 0
      if (m == 0) return "-"
      for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    END {
      nk = split(keys, K, " ")
      for (w in seen) {
        g = w SUBSEP "ok"; noisy = ""
        if (!(g in n)) { g = w SUBSEP "noisy"; noisy = " noisy=1" }
        line = "MEDIAN workload=" w " runs=" n[g] noisy
        for (i = 1; i <= nk; i++) line = line " " K[i] "=" median(g, K[i]); print line
      }
    }' "$1"
}
[ -s "$RESULTS" ] && median_lines "$RESULTS" > "$OUT/sluice-medians.txt" || : > "$OUT/sluice-medians.txt"
KRES=$OUT/kafka/results.txt
[ -s "$KRES" ] && median_lines "$KRES" > "$OUT/kafka-medians.txt" || : > "$OUT/kafka-medians.txt"

get() {  # file workload key
  awk -v w="$2" -v k="$3" '$1 == "MEDIAN" { delete f; for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    if (f["workload"] == w && (k in f)) { print f[k]; exit } }' "$1"
}
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "" || v == "-") print "-"; else printf "%\047.*f", d, v }'; }
ratio() {  # a b -> a/b
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
verdict() {  # ratio op goal
  awk -v r="$1" -v op="$2" -v g="$3" 'BEGIN { if (r == "-") { print "n/a"; exit }
    ok = (op == ">=") ? (r + 0 >= g) : (r + 0 <= g); print ok ? "met" : "**missed**" }'
}

{
  echo "| workload | measure | Kafka | Sluice | Sluice / Kafka | goal |"
  echo "|---|---|---|---|---|---|"
  row() {  # workload measure key decimals goal-op goal
    local k s r g="-"
    k=$(get "$OUT/kafka-medians.txt" "$1" "$3"); s=$(get "$OUT/sluice-medians.txt" "$1" "$3"); r=$(ratio "$s" "$k")
    [ -n "$5" ] && g="$5 $6 ($(verdict "$r" "$5" "$6"))"
    local kn sn
    kn=$(get "$OUT/kafka-medians.txt" "$1" noisy); sn=$(get "$OUT/sluice-medians.txt" "$1" noisy)
    echo "| $1 | $2 | $(fmt "$k" "$4")${kn:+ (noisy)} | $(fmt "$s" "$4")${sn:+ (noisy)} | $r | $g |"
  }
  wants P1 && row P1 "records/s" rec_per_s 0 "" ""
  wants P1 && row P1 "p99 send->ack ms" p99_ms 1 "" ""
  wants C1 && row C1 "records/s (whole run)" rec_per_s 0 "" ""
  wants P3 && row P3 "records/s" rec_per_s 0 ">=" 1.5
  wants P3 && row P3 "p99 send->ack ms" p99_ms 1 "" ""
  wants P3 && row P3 "broker CPU s" broker_cpu_s 1 "" ""
  wants C3 && row C3 "records/s (whole run)" rec_per_s 0 ">=" 1.0
  wants L3 && row L3 "p50 ms" p50_ms 2 "" ""
  wants L3 && row L3 "p99 ms" p99_ms 2 "<=" 0.5
  wants L3 && row L3 "p99.9 ms" p999_ms 2 "" ""
  wants L3 && row L3 "avg ms" avg_ms 2 "" ""
} > "$OUT/compare.md"

echo >&2
cat "$OUT/compare.md"
{
  echo
  echo "Kafka: anchor harness defaults (acks from the page cache, no fsync; acks=all, min.insync.replicas=2)."
  echo "Sluice: defaults (log.flush.policy=grouped: fsync on a quorum before the ack; acks=quorum)."
  echo "Medians over status=ok runs (noisy ones only where a workload has no ok run):" \
       "Kafka $(grep -c '^RESULT .*status=ok' "$KRES" 2>/dev/null || true) ok of $(grep -c '^RESULT' "$KRES" 2>/dev/null || true) attempts," \
       "Sluice $(grep -c 'status=ok' "$RESULTS" || true) ok of $(grep -c '^RESULT' "$RESULTS" || true) runs."
  echo "C1/C3 records/s include the consumer's start (Kafka: group join; Sluice: metadata + stream open)."
  grep -q "extra_records=[0-9]" "$RESULTS" && echo "Some Sluice consumer runs read more records than were produced (extra_records in" \
    "sluice-results.txt): duplicates written by producer retries after leader changes."
  echo "Kafka's EndToEndLatency truncates to whole ms; Sluice's perf latency reports fractional ms."
} | tee -a "$OUT/compare.md"

# ---- profile (optional) -------------------------------------------------------------------------------------------
jfr_brokers() {  # start TAG | stop : a JFR recording in every broker, around one workload
  local p
  for p in $(sb_pids); do
    if [ "$1" = start ]; then
      jcmd "$p" JFR.start name=bench settings=profile filename="$PDIR/$2-broker-$p.jfr" > /dev/null 2>&1 || true
    else
      jcmd "$p" JFR.stop name=bench > /dev/null 2>&1 || true
    fi
  done
}
profiled() {  # TAG command... : the command with JFR in the brokers and in the CLI
  local tag=$1; shift
  jfr_brokers start "$tag"
  SLUICE_CLI_OPTS="$SLUICE_CLI_OPTS -XX:StartFlightRecording=settings=profile,dumponexit=true,filename=$PDIR/$tag-client.jfr" "$@"
  jfr_brokers stop
  java "$HERE/src/main/java/io/sluice/bench/JfrTop.java" "$PDIR/$tag"-broker-*.jfr > "$PDIR/$tag-brokers.txt" 2>&1 || true
  java "$HERE/src/main/java/io/sluice/bench/JfrTop.java" "$PDIR/$tag-client.jfr" > "$PDIR/$tag-client.txt" 2>&1 || true
}
if ((PROFILE && DO_SLUICE)); then
  PDIR=$OUT/profile
  mkdir -p "$PDIR"
  sb_log "== profiling Sluice with JFR (the figures of these runs are not used)"
  SAVED_OUT=$OUT
  OUT=$PDIR
  RESULTS=$PDIR/results.txt
  if wants P1; then
    sb_up 1
    if sb_create_topic prof-p1 1 1 && sb_wait_topic prof-p1 1 1 60; then
      profiled p1 s_produce P1 0 prof-p1 leader
      wants C1 && profiled c1 s_consume C1 0 prof-p1
    fi
    sb_down
  fi
  if wants P3 || wants L3; then
    sb_up 3
    if wants P3 && sb_create_topic prof-p3 6 3 && sb_wait_topic prof-p3 6 3 90; then
      profiled p3 s_produce P3 0 prof-p3 quorum
      wants C3 && profiled c3 s_consume C3 0 prof-p3
    fi
    if wants L3 && sb_create_topic prof-l3 1 3 && sb_wait_topic prof-l3 1 3 60; then
      profiled l3 s_latency L3 0 prof-l3
    fi
    sb_down
  fi
  OUT=$SAVED_OUT
  sb_log "profiles: $PDIR/*.txt (JFR files beside them)"
fi

echo "total wall time: $((SECONDS - T0)) s; output in $OUT" >&2
