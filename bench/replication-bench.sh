#!/usr/bin/env bash
# Replication figures of a 3-process Sluice cluster on this machine (docs/benchmarks.md, "Replication").
#
#   bench/replication-bench.sh [-o OUTDIR] [amp] [latency] [scale]        default: all three
#
#   amp      write amplification: a fresh 3-broker cluster, topic of 6 partitions RF=3, AMP_RECORDS (500,000) x
#            1024 B produced as fast as the producer goes (acks=quorum). WA = sum over the broker processes of the
#            /proc/<pid>/io write_bytes delta / (payload bytes x 3). Also reported: the device's sectors written
#            (/proc/diskstats; includes the ext4 journal and anything else on the disk) and the growth of the
#            brokers' data directories (what is stored, as opposed to what was written).
#   latency  commit latency at moderate, paced rates (LAT_RATES, default "1000 5000" records/s, LAT_SECONDS 30 s
#            each): `sluice perf produce --throughput R --linger 0ms --acks quorum`, latency = sendAsync -> ack,
#            i.e. the leader's append + fsync, a quorum's append + fsync, the commit and the response
#   scale    SCALE_TOPICS (4) stages, each creating one topic of SCALE_PARTITIONS (250) partitions at RF=3 (1,000
#            partitions, 3,000 replicas in all) on a fresh 3-broker cluster: per stage the time until every partition
#            has a leader and until each is led by its preferred replica (ScaleProbe); per broker before (no topics)
#            and after: threads, RSS, heap used after a full GC, CPU over IDLE_SECONDS (30) idle s from
#            /proc/<pid>/stat, CPU by thread pool; then a JFR profile of the idle brokers. Stages stop early when
#            the next one would take the machine past SCALE_MAX_SYSTEM_THREADS (70% of pid_max), and a watchdog
#            SIGKILLs our brokers if it is passed anyway: other work shares this machine
#
# Brokers run with SLUICE_JVM_OPTS (default -Xms1g -Xmx1g, as bench/kafka-compare.sh), on data in SB_DATA
# (default /tmp/sluice-cluster-bench); the CLI with SLUICE_CLI_OPTS (default -Xmx512m). Every step is bounded
# (SB_TOOL_TIMEOUT per tool run, SB_READY_TIMEOUT per cluster start, SCALE_TIMEOUT for the elections) and the
# brokers are stopped by PID on exit. Output: OUTDIR (default bench/results/replication-<UTC time>/), summary in
# OUTDIR/summary.txt as key=value lines.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=""
AMP_RECORDS=${AMP_RECORDS:-500000}
LAT_RATES=${LAT_RATES:-1000 5000}
LAT_SECONDS=${LAT_SECONDS:-30}
SCALE_TOPICS=${SCALE_TOPICS:-4}
SCALE_PARTITIONS=${SCALE_PARTITIONS:-250}
SCALE_TIMEOUT=${SCALE_TIMEOUT:-600}
IDLE_SECONDS=${IDLE_SECONDS:-30}
SETTLE_SECONDS=${SETTLE_SECONDS:-15}
SB_RECORD_SIZE=1024
export SLUICE_JVM_OPTS=${SLUICE_JVM_OPTS--Xms1g -Xmx1g}
export SLUICE_CLI_OPTS=${SLUICE_CLI_OPTS--Xmx512m}

while getopts "o:h" opt; do
  case $opt in
    o) OUT=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
WANT=" ${*:-amp latency scale} "
for w in $WANT; do [[ $w =~ ^(amp|latency|scale)$ ]] || { echo "unknown part $w" >&2; exit 2; }; done
wants() { [[ $WANT == *" $1 "* ]]; }

OUT=${OUT:-$ROOT/bench/results/replication-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=bench/cluster-lib.sh
source "$HERE/cluster-lib.sh"
trap 'sb_finish; rm -rf "$OUT/sluice-build"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
put() { echo "$1=$2" | tee -a "$SUMMARY" >&2; }
T0=$SECONDS
{ sb_machine; echo "parts:$WANT"; } | tee "$OUT/env.txt" >&2
sb_snapshot

io_field() {  # pid field -> value from /proc/pid/io
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0
}
data_bytes() { du -sb "$SB_DATA" 2>/dev/null | awk '{ print $1 }'; }

# Waits until the brokers' write_bytes stop growing (followers finish, grouped fsyncs drain). Bounded: 30 s.
wait_writes_settled() {
  local a b i
  a=$(sb_write_bytes)
  for ((i = 0; i < 30; i++)); do
    sleep 1
    b=$(sb_write_bytes)
    [ "$a" = "$b" ] && return 0
    a=$b
  done
  sb_log "writes did not settle within 30 s"
}

# ---- write amplification ------------------------------------------------------------------------------------------
if wants amp; then
  sb_log "== write amplification: $AMP_RECORDS x $SB_RECORD_SIZE B, 6 partitions RF=3, acks=quorum"
  sb_up 3
  sb_create_topic amp 6 3 && sb_wait_topic amp 6 3 90 || sb_die "topic amp not ready"
  wait_writes_settled
  declare -A W0 C0
  for p in $(sb_pids); do W0[$p]=$(io_field "$p" write_bytes); C0[$p]=$(io_field "$p" cancelled_write_bytes); done
  s0=$(sb_disk_sectors); du0=$(data_bytes)
  sb_run amp-produce perf produce --topic amp --records "$AMP_RECORDS" --record-size $SB_RECORD_SIZE --acks quorum
  sb_parse_perf "$OUT/amp-produce.log"
  [ "${M[records]:-0}" = "$AMP_RECORDS" ] || sb_log "WARNING: amp produced ${M[records]:-0} of $AMP_RECORDS records"
  wait_writes_settled
  payload=$((${M[records]:-0} * SB_RECORD_SIZE))
  total=0 cancelled=0 per=""
  i=0
  for p in $(sb_pids); do
    i=$((i + 1))
    d=$(($(io_field "$p" write_bytes) - W0[$p])); c=$(($(io_field "$p" cancelled_write_bytes) - C0[$p]))
    total=$((total + d)); cancelled=$((cancelled + c))
    per+="broker$i:$(awk -v d=$d 'BEGIN { printf "%.1f", d / 1048576 }')MiB "
  done
  s1=$(sb_disk_sectors); du1=$(data_bytes)
  put amp_records "${M[records]:-0}"
  put amp_rec_per_s "${M[rec_per_s]:--}"
  put amp_wall_s "${M[wall_s]}"
  put amp_broker_cpu_s "${M[broker_cpu_s]}"
  put amp_payload_mib "$(awk -v b=$payload 'BEGIN { printf "%.1f", b / 1048576 }')"
  put amp_write_bytes_mib "$(awk -v b=$total 'BEGIN { printf "%.1f", b / 1048576 }')"
  put amp_write_bytes_per_broker "$per"
  put amp_cancelled_write_bytes_mib "$(awk -v b=$cancelled 'BEGIN { printf "%.1f", b / 1048576 }')"
  put amp_write_amplification "$(awk -v w=$total -v p=$payload 'BEGIN { printf "%.3f", p ? w / (3 * p) : 0 }')"
  put amp_device_write_mib "$(awk -v s=$((s1 - s0)) 'BEGIN { printf "%.1f", s * 512 / 1048576 }')"
  put amp_device_amplification "$(awk -v s=$((s1 - s0)) -v p=$payload 'BEGIN { printf "%.3f", p ? s * 512 / (3 * p) : 0 }')"
  put amp_stored_growth_mib "$(awk -v b=$((du1 - du0)) 'BEGIN { printf "%.1f", b / 1048576 }')"
  put amp_stored_amplification "$(awk -v b=$((du1 - du0)) -v p=$payload 'BEGIN { printf "%.3f", p ? b / (3 * p) : 0 }')"
  find "$SB_DATA" -type f -size +1k -printf '%s %P\n' | sort -k2 > "$OUT/amp-files.txt"
  sb_keep_logs amp
  if ! wants latency; then sb_down; fi
fi

# ---- commit latency at moderate rates -----------------------------------------------------------------------------
if wants latency; then
  sb_log "== commit latency at paced rates: $LAT_RATES records/s, ${LAT_SECONDS}s each, 6 partitions RF=3, acks=quorum"
  [ -f "$SB_DATA/cluster.size" ] && [ -n "$(sb_pids)" ] || sb_up 3
  sb_create_topic lat 6 3 && sb_wait_topic lat 6 3 90 || sb_die "topic lat not ready"
  for rate in $LAT_RATES; do
    n=$((rate * LAT_SECONDS))
    sb_run "lat-$rate" perf produce --topic lat --records "$n" --record-size $SB_RECORD_SIZE --acks quorum \
      --linger 0ms --throughput "$rate"
    sb_parse_perf "$OUT/lat-$rate.log"
    put "lat_${rate}_achieved_rec_per_s" "${M[rec_per_s]:--}"
    put "lat_${rate}_ms_avg_p50_p95_p99_p999_max" "${M[avg_ms]:--} ${M[p50_ms]:--} ${M[p95_ms]:--} ${M[p99_ms]:--} ${M[p999_ms]:--} ${M[max_ms]:--}"
    put "lat_${rate}_broker_cores" "${M[broker_cores]}"
    put "lat_${rate}_other_cpu_s" "${M[other_cpu_s]}"
  done
  sb_keep_logs latency
  sb_down
fi

# ---- scale: 1,000 partitions at RF=3 ------------------------------------------------------------------------------
# CPU ticks of every thread of a process: "tid ticks name" lines (one awk for all threads: quick, so the
# snapshot is nearly instantaneous; a thread that ends meanwhile is skipped)
thread_ticks() {  # pid
  awk '{ tid = FILENAME; sub(/\/stat$/, "", tid); sub(/^.*\//, "", tid)
         n = $0; sub(/^[^(]*\(/, "", n); sub(/\) .*$/, "", n); r = $0; sub(/^.*\) /, "", r); split(r, f, " ")
         print tid, f[12] + f[13], n }' /proc/"$1"/task/*/stat 2> /dev/null || true
}

# Per broker: threads, RSS MiB, heap MiB used after a full GC, CPU % of one core over IDLE_SECONDS; the CPU of
# the threads by name (digits folded, so a pool is one line) goes to OUT/TAG-brokerI-cpu-by-thread.txt.
broker_stats() {  # tag
  local tag=$1 p i=0 t t0 t1 c1 pids
  pids=$(sb_pids)
  declare -A T0C
  for p in $pids; do
    T0C[$p]=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")
    thread_ticks "$p" > "$OUT/.ticks0-$p"
  done
  t0=$(sb_now)
  sleep "$IDLE_SECONDS"
  t1=$(sb_now)
  declare -A T1C
  for p in $pids; do
    T1C[$p]=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")
    thread_ticks "$p" > "$OUT/.ticks1-$p"
  done
  for p in $pids; do
    i=$((i + 1))
    c1=${T1C[$p]}
    local cpu threads rss heap
    cpu=$(awk -v d=$((c1 - T0C[$p])) -v hz="$SB_CLK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", 100 * d / hz / (b - a) }')
    threads=$(awk '/^Threads:/ { print $2 }' "/proc/$p/status")
    rss=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$p/status")
    # after the CPU window: a full GC would otherwise count as idle CPU
    jcmd "$p" GC.run > /dev/null 2>&1 || true
    heap=$(jcmd "$p" GC.heap_info 2>/dev/null | awk '/garbage-first heap/ { for (j = 1; j <= NF; j++) if ($j == "used") { v = $(j + 1); sub(/K,?/, "", v); printf "%.0f", v / 1024 } }' || true)
    put "${tag}_broker${i}" "cpu_pct_of_core=$cpu threads=$threads rss_mib=$rss heap_used_after_gc_mib=${heap:--}"
    # threads come and go while this reads them: a vanished one is skipped, not an error
    { awk '{ print }' /proc/"$p"/task/*/comm 2> /dev/null || true; } \
      | sed -E 's/[-_#]?[0-9]+/-N/g' | sort | uniq -c | sort -rn > "$OUT/${tag}-broker${i}-threads.txt"
    # "% of one core  threads  name" per thread pool over the window (threads that lived through it)
    awk -v hz="$SB_CLK" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '
      NR == FNR { t0[$1] = $2; next }
      ($1 in t0) { n = $0; sub(/^[^ ]+ [^ ]+ /, "", n); gsub(/[-_#]?[0-9]+/, "-N", n); d[n] += $2 - t0[$1]; c[n]++ }
      END { for (n in d) printf "%6.1f%% %5d  %s\n", 100 * d[n] / hz / secs, c[n], n }' \
      "$OUT/.ticks0-$p" "$OUT/.ticks1-$p" | sort -rn > "$OUT/${tag}-broker${i}-cpu-by-thread.txt"
    rm -f "$OUT/.ticks0-$p" "$OUT/.ticks1-$p"
  done
}

system_threads() { awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg; }
broker_threads() { local p t=0; for p in $(sb_pids); do t=$((t + $(awk '/^Threads:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo "$t"; }

# Backstop for the machine (other work shares it): if the machine's thread count passes SCALE_MAX_SYSTEM_THREADS,
# SIGKILL our brokers (by PID) before pid_max is exhausted and nobody can fork.
watchdog() {  # pids...
  while sleep 0.5; do
    if (($(system_threads) > SCALE_MAX_SYSTEM_THREADS)); then
      echo "$(date -u +%H:%M:%S) machine threads $(system_threads) > $SCALE_MAX_SYSTEM_THREADS: brokers killed" > "$OUT/scale-watchdog.txt"
      kill -KILL "$@" 2> /dev/null
      return
    fi
  done
}

if wants scale; then
  total_parts=$((SCALE_TOPICS * SCALE_PARTITIONS))
  pid_max=$(cat /proc/sys/kernel/pid_max)
  SCALE_MAX_SYSTEM_THREADS=${SCALE_MAX_SYSTEM_THREADS:-$((pid_max * 7 / 10))}
  sb_log "== scale: $SCALE_TOPICS stages of 1 topic x $SCALE_PARTITIONS partitions = $total_parts partitions, RF=3" \
    "(machine thread limit for this test: $SCALE_MAX_SYSTEM_THREADS; pid_max $pid_max)"
  put scale_pid_max "$pid_max"
  sb_up 3
  sleep "$SETTLE_SECONDS"   # let start-up work (JIT, registration) finish before the idle window
  sb_log "idle cluster without topics: measuring ${IDLE_SECONDS}s"
  broker_stats scale_baseline
  # shellcheck disable=SC2046 # the PIDs are numbers
  watchdog $(sb_pids) &
  WATCHDOG=$!
  cp_=("$SB_SNAP/consumer-client/target/"sluice-consumer-client-*.jar)
  parts=0 per_part=0 elect_total=0
  for ((k = 0; k < SCALE_TOPICS; k++)); do
    bt=$(broker_threads)
    predicted=$(($(system_threads) + per_part * SCALE_PARTITIONS))
    if ((per_part > 0 && predicted > SCALE_MAX_SYSTEM_THREADS)); then
      put scale_stopped_before "$((parts + SCALE_PARTITIONS)) partitions: would need ~$((per_part * SCALE_PARTITIONS)) more threads ($predicted on the machine > $SCALE_MAX_SYSTEM_THREADS)"
      break
    fi
    sb_log "stage $((k + 1)): creating $SCALE_PARTITIONS more partitions (now $parts; broker threads $bt, machine $(system_threads))"
    set +e
    timeout -k 5 $((SCALE_TIMEOUT + 60)) java ${SLUICE_CLI_OPTS:-} -Dcom.google.protobuf.use_unsafe_pre22_gencode=true \
      -cp "${cp_[0]}:$SB_SNAP/consumer-client/target/lib/*" "$HERE/src/main/java/io/sluice/bench/ScaleProbe.java" \
      --bootstrap 127.0.0.1:7070 --topics 1 --partitions "$SCALE_PARTITIONS" --rf 3 --prefix "scale$k" \
      --timeout-s "$SCALE_TIMEOUT" > "$OUT/scale-probe-$k.txt" 2> "$OUT/scale-probe-$k.log"
    rc=$?
    set -e
    v() { sed -n "s/^$1=//p" "$OUT/scale-probe-$k.txt"; }
    put "scale_stage$((k + 1))" "rc=$rc created_s=$(v created_s) all_leaders_s=$(v all_leaders_s) balanced_s=$(v balanced_s) preferred_s=$(v preferred_s) leaders_per_broker=$(v leaders_per_broker)"
    [ -s "$OUT/scale-watchdog.txt" ] && { put scale_aborted "$(cat "$OUT/scale-watchdog.txt")"; break; }
    ((rc == 0)) || { put scale_failed_at "stage $((k + 1)) (rc=$rc; see scale-probe-$k.log)"; break; }
    parts=$((parts + SCALE_PARTITIONS))
    elect_total=$(awk -v a="$elect_total" -v b="$(v all_leaders_s)" 'BEGIN { print a + b }')
    per_part=$(( ($(broker_threads) - bt + SCALE_PARTITIONS - 1) / SCALE_PARTITIONS ))
    put "scale_stage$((k + 1))_threads_per_partition_all_brokers" "$per_part"
    if ((k + 1 < SCALE_TOPICS)); then   # the last stage is measured below, with a profile
      sleep "$SETTLE_SECONDS"
      sb_log "idle cluster with $parts partitions: measuring ${IDLE_SECONDS}s"
      broker_stats "scale_${parts}p"
    fi
  done
  kill "$WATCHDOG" 2> /dev/null || true
  wait "$WATCHDOG" 2> /dev/null || true
  put scale_partitions_reached "$parts"
  put scale_all_leaders_s_sum_of_stages "$elect_total"
  if ((parts > 0)) && [ ! -s "$OUT/scale-watchdog.txt" ]; then
    sleep "$SETTLE_SECONDS"
    stepdowns() { grep -c 'steps down when alive nodes' "$SB_DATA/broker-$1/broker.log" 2> /dev/null || true; }
    for ((i = 1; i <= 3; i++)); do put "scale_broker${i}_quorum_stepdowns_before_idle_window" "$(stepdowns "$i")"; done
    sb_log "idle cluster with $parts partitions: measuring ${IDLE_SECONDS}s"
    broker_stats "scale_${parts}p"
    # (stepdowns in the idle window: the GCs at its end may add a few)
    for ((i = 1; i <= 3; i++)); do put "scale_broker${i}_quorum_stepdowns_after_idle_window" "$(stepdowns "$i")"; done
    # what idle brokers do: a JFR profile of IDLE_SECONDS (not part of the CPU figures above). Taken last: the full GC
    # that broker_stats forces for its heap figure, and JFR's own load, each stall a broker for about a second, and
    # at 1,000 partitions with the default election timeout that starts elections (docs/benchmarks.md), so this
    # profile may show an election burst rather than an idle broker: see the step-down counts below
    sb_log "idle cluster with $parts partitions: JFR profile for ${IDLE_SECONDS}s"
    for p in $(sb_pids); do
      jcmd "$p" JFR.start name=idle settings=profile duration="${IDLE_SECONDS}s" filename="$OUT/scale-idle-$p.jfr" > /dev/null 2>&1 || true
    done
    sleep $((IDLE_SECONDS + 5))
    java "$HERE/src/main/java/io/sluice/bench/JfrTop.java" "$OUT"/scale-idle-*.jfr > "$OUT/scale-idle-profile.txt" 2>&1 || true
    # leaders that stepped down for want of a quorum over the whole run (creation, idle, and the forced full GCs)
    sleep "$SETTLE_SECONDS"
    for ((i = 1; i <= 3; i++)); do put "scale_broker${i}_quorum_stepdowns_whole_run" "$(stepdowns "$i")"; done
  fi
  sb_keep_logs scale
  sb_down
fi

put total_wall_s $((SECONDS - T0))
sb_log "summary: $SUMMARY"
