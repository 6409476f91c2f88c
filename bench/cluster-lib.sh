# Shared functions of bench/kafka-compare.sh and bench/replication-bench.sh (source it; not a command).
#
# A benchmark runs Sluice from a snapshot of the built jars (sb_snapshot), so a rebuild of the working tree during a
# run cannot swap classes under a running broker. Clusters are started with the snapshot's deploy/local/cluster.sh
# on a fresh data directory and are stopped by the PIDs that cluster.sh recorded; nothing else is ever signalled.
#
# Inputs (environment): SB_DATA (cluster data, default /tmp/sluice-cluster-bench), SLUICE_JVM_OPTS (broker JVM),
# SLUICE_CLI_OPTS (CLI JVM), SB_READY_TIMEOUT (s, default 240), SB_TOOL_TIMEOUT (s per tool run, default 300).
# Callers set OUT (output directory) before sourcing.

SB_ROOT=${SB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SB_DATA=${SB_DATA:-/tmp/sluice-cluster-bench}
SB_READY_TIMEOUT=${SB_READY_TIMEOUT:-240}
SB_TOOL_TIMEOUT=${SB_TOOL_TIMEOUT:-300}
SB_CLK=$(getconf CLK_TCK)
SB_DEV=$(basename "$(findmnt -no SOURCE --target "$(dirname "$SB_DATA")")")
SB_SNAP=""

sb_log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
sb_die() { sb_log "ERROR: $*"; exit 1; }

# Copies the launch scripts and built jars of broker-node and consumer-client to $OUT/sluice-build.
sb_snapshot() {
  local r=$SB_ROOT s=$OUT/sluice-build m
  for m in broker-node consumer-client; do
    compgen -G "$r/$m/target/sluice-$m-*.jar" > /dev/null && [ -d "$r/$m/target/lib" ] \
      || sb_die "$m is not built; run: (cd $r && mvn -B -q -DskipTests install)"
  done
  rm -rf "$s"
  mkdir -p "$s/bin" "$s/deploy/local" "$s/broker-node/target" "$s/consumer-client/target"
  cp "$r/bin/sluice" "$r/bin/sluice-broker" "$s/bin/"
  cp "$r/deploy/local/cluster.sh" "$s/deploy/local/"
  for m in broker-node consumer-client; do
    cp -r "$r/$m/target/lib" "$s/$m/target/"
    find "$r/$m/target" -maxdepth 1 -name "sluice-$m-*.jar" ! -name '*-tests.jar' ! -name '*-sources.jar' \
      ! -name '*-javadoc.jar' -exec cp {} "$s/$m/target/" \;
  done
  SB_SNAP=$s
  { echo "snapshot of $(cd "$r" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$r" && git diff --quiet HEAD -- broker-node consumer-client replication log-store proto 2>/dev/null || echo ' (+ uncommitted changes)')"
    ls -l --time-style=+%Y-%m-%dT%H:%M "$s"/*/target/*.jar; } > "$OUT/sluice-build.txt"
}

sb_cluster() { SLUICE_DATA_DIR=$SB_DATA SLUICE_READY_TIMEOUT_S=$SB_READY_TIMEOUT "$SB_SNAP/deploy/local/cluster.sh" "$@"; }

# The CLI from the snapshot: sb_cli ARGS...
sb_cli() { SLUICE_BOOTSTRAP=${SB_BOOT:-127.0.0.1:7070} "$SB_SNAP/bin/sluice" "$@"; }

sb_pids() {
  local f
  for f in "$SB_DATA"/broker-*/broker.pid; do [ -f "$f" ] && cat "$f"; done
  return 0
}

# Stops the brokers this run started (cluster.sh down signals only the PIDs it recorded).
sb_down() {
  [ -n "$SB_SNAP" ] && [ -f "$SB_DATA/cluster.size" ] && sb_cluster down > /dev/null 2>&1 || true
}

# On exit: stop ours and drop the partition data (gigabytes after a P3), keeping each broker's logs in $SB_DATA.
sb_finish() {
  sb_down
  rm -rf "$SB_DATA"/broker-*/data
}

sb_ports_free() {  # n
  local i busy=""
  for ((i = 1; i <= $1; i++)); do
    for p in $((7069 + i)) $((7169 + i)); do
      ss -ltnH "sport = :$p" 2>/dev/null | grep -q . && busy+=" $p"
    done
  done
  [ -z "$busy" ] || sb_die "ports in use:$busy (another Sluice cluster is running; stop it first)"
}

# A fresh cluster of N brokers: stop ours, wipe the data, sync, start, wait until ready.
sb_up() {  # n
  sb_down
  rm -rf "$SB_DATA"
  sync
  sb_ports_free "$1"
  mkdir -p "$SB_DATA"
  local t0=$SECONDS
  # cwd = the data directory: JRaft writes node_describe.log.* files into the cwd when it receives SIGUSR2.
  # _JAVA_SR_SIGNUM: HotSpot suspends threads for JFR's execution sampler with SIGUSR2, which JRaft's USR2 handler
  # (NodeImpl registers it unconditionally) intercepts: no CPU samples, and a describe dump per sample. Moving the
  # VM's suspend signal elsewhere changes nothing else.
  timeout -k 5 $((SB_READY_TIMEOUT + 30)) bash -c 'cd "$1" && _JAVA_SR_SIGNUM=39 SLUICE_DATA_DIR=$1 SLUICE_READY_TIMEOUT_S=$2 "$3" up -n "$4"' _ \
    "$SB_DATA" "$SB_READY_TIMEOUT" "$SB_SNAP/deploy/local/cluster.sh" "$1" > "$OUT/cluster-up.log" 2>&1 \
    || { tail -n 30 "$OUT/cluster-up.log" >&2; sb_down; sb_die "the $1-broker cluster did not start"; }
  sb_log "cluster of $1 broker(s) ready after $((SECONDS - t0)) s (pids $(sb_pids | tr '\n' ' '))"
}

# Keeps the brokers' logs of the cluster that is about to stop: sb_keep_logs TAG
sb_keep_logs() {
  local d
  for d in "$SB_DATA"/broker-*; do
    [ -d "$d" ] || continue
    grep -E " (WARN|ERROR) " "$d/stderr.log" 2>/dev/null | tail -n 2000 > "$OUT/$1-$(basename "$d")-warn.log" || true
  done
}

# Leader of each partition of a topic, one per line ("-" if none), from `sluice topic describe`.
sb_leaders() {  # topic
  sb_cli topic describe "$1" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && NF >= 3 { print ($2 ~ /^[0-9]+$/) ? $2 : "-" }'
}

# Waits until every partition of TOPIC has a leader and, with BALANCE=1, the leaders are spread evenly over the
# brokers (the preferred-leader rebalance runs every leader.rebalance.interval.ms, 10 s by default). Bounded.
sb_wait_topic() {  # topic partitions brokers timeout_s
  local t=$1 parts=$2 n=$3 deadline=$((SECONDS + $4)) l
  while :; do
    l=$(sb_leaders "$t" || true)
    if [ "$(grep -c '^[0-9]' <<< "$l")" = "$parts" ]; then
      # balanced: no broker leads more than ceil(parts / n)
      if awk -v max=$(((parts + n - 1) / n)) '{ c[$1]++ } END { for (b in c) if (c[b] > max) exit 1 }' <<< "$l"; then
        sb_log "topic $t: $parts partitions led by brokers $(sort <<< "$l" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')"
        return 0
      fi
    fi
    ((SECONDS < deadline)) || { sb_log "topic $t not ready/balanced: leaders $(tr '\n' ' ' <<< "$l")"; return 1; }
    sleep 1
  done
}

sb_create_topic() {  # name partitions rf
  sb_cli topic create "$1" --partitions "$2" --replication-factor "$3" >> "$OUT/topics.log" 2>&1 \
    || { tail -n 5 "$OUT/topics.log" >&2; return 1; }
}

# The Kafka anchor, ready to run: sets SB_ANCHOR to a folder holding it with its jars. The anchor runs from jars fetched
# into its folder (git-ignored). A read-only anchor (a shared checkout) is copied to bench/target/kafka-anchor first,
# and the jars are fetched there (Maven Central, or ~/.m2 when already there).
sb_kafka_anchor() {  # anchor_dir
  SB_ANCHOR=$1
  [ -x "$SB_ANCHOR/bench.sh" ] || sb_die "no Kafka anchor at $SB_ANCHOR (set SLUICE_SHARED_DIR)"
  compgen -G "$SB_ANCHOR/lib/tools/kafka-tools-*.jar" > /dev/null && return 0
  if [ ! -w "$SB_ANCHOR" ]; then
    local copy=$SB_ROOT/bench/target/kafka-anchor
    rm -rf "$copy"
    mkdir -p "$(dirname "$copy")"
    cp -r "$SB_ANCHOR" "$copy"
    chmod -R u+w "$copy"
    SB_ANCHOR=$copy
  fi
  sb_log "fetching the Kafka anchor's jars into $SB_ANCHOR/lib"
  mvn -B -q -f "$SB_ANCHOR/pom.xml" dependency:copy-dependencies > "$OUT/kafka-jars.log" 2>&1 \
    || sb_die "could not fetch the Kafka anchor's jars (see $OUT/kafka-jars.log)"
}

# ---- machine counters -------------------------------------------------------------------------------------------
sb_broker_ticks() {
  local t=0 p
  for p in $(sb_pids); do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ sub(/^.*\) /, ""); printf "%.0f\n", $12 + $13 }' "/proc/$p/stat")))
  done
  echo "$t"
}
# Sums print with %.0f: mawk prints integers above 2^31 as 2.15053e+09, which bash arithmetic rejects.
sb_sys_ticks() { awk '/^cpu /{ printf "%.0f %.0f\n", $2 + $3 + $4 + $7 + $8 + $9, $6 }' /proc/stat; }   # busy iowait
sb_disk_sectors() { awk -v d="$SB_DEV" '$3 == d { s = $10 } END { printf "%.0f\n", s + 0 }' /proc/diskstats; }
sb_now() { date +%s.%N; }
sb_write_bytes() {  # sum of write_bytes of the broker processes
  local t=0 p v
  for p in $(sb_pids); do
    v=$(awk '/^write_bytes:/ { print $2 }' "/proc/$p/io" 2>/dev/null || echo 0)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

SB_QUIET_MAX=${BENCH_QUIET_MAX:-0.3}
SB_QUIET_SECS=${BENCH_QUIET_SECS:-3}
SB_QUIET_WAIT=${BENCH_QUIET_WAIT:-120}
# Waits (bounded) until processes other than our brokers used <= SB_QUIET_MAX cores for SB_QUIET_SECS seconds.
sb_wait_quiet() {
  local waited=0 quiet=0 b0 b1 k0 k1 t0 t1 other=0
  while :; do
    read -r b0 _ < <(sb_sys_ticks); k0=$(sb_broker_ticks); t0=$(sb_now); sleep 1
    read -r b1 _ < <(sb_sys_ticks); k1=$(sb_broker_ticks); t1=$(sb_now)
    other=$(awk -v b=$((b1 - b0)) -v k=$((k1 - k0)) -v hz="$SB_CLK" -v t="$t0" -v u="$t1" \
      'BEGIN { o = (b - k) / hz / (u - t); printf "%.2f", o < 0 ? 0 : o }')
    if awk -v o="$other" -v m="$SB_QUIET_MAX" 'BEGIN { exit !(o <= m) }'; then quiet=$((quiet + 1)); else quiet=0; fi
    ((quiet >= SB_QUIET_SECS || waited >= SB_QUIET_WAIT)) && break
    ((waited == 0 && quiet == 0)) && sb_log "  waiting for a quiet machine (other processes use $other cores)..."
    waited=$((waited + 1))
  done
  ((waited < SB_QUIET_WAIT)) || sb_log "  gave up waiting after ${waited}s; other processes at $other cores"
}

# Runs one CLI tool measured like the Kafka anchor's run_tool: sb_run NAME ARGS...  (output in $OUT/NAME.log)
# Sets M[rc wall_s broker_cpu_s broker_cores client_cpu_s other_cpu_s iowait_s disk_write_mb broker_write_mb].
declare -A M
sb_run() {
  local name=$1; shift
  local log=$OUT/$name.log tf=$OUT/$name.time rc=0 t0 t1 k0 k1 b0 b1 w0 w1 d0 d1 x0 x1
  sync
  sb_wait_quiet
  read -r b0 w0 < <(sb_sys_ticks); k0=$(sb_broker_ticks); d0=$(sb_disk_sectors); x0=$(sb_write_bytes); t0=$(sb_now)
  rm -f "$tf"
  { printf '# %s\n' "$name"; printf 'SLUICE_CLI_OPTS=%q SLUICE_BOOTSTRAP=%q ' "${SLUICE_CLI_OPTS:-}" "${SB_BOOT:-127.0.0.1:7070}"
    printf '%q ' "$SB_SNAP/bin/sluice" "$@"; echo; } >> "$OUT/commands.txt"
  SLUICE_BOOTSTRAP=${SB_BOOT:-127.0.0.1:7070} /usr/bin/time -f "%U %S" -o "$tf" timeout -k 5 "$SB_TOOL_TIMEOUT" \
    "$SB_SNAP/bin/sluice" "$@" > "$log" 2>&1 || rc=$?
  t1=$(sb_now); read -r b1 w1 < <(sb_sys_ticks); k1=$(sb_broker_ticks); d1=$(sb_disk_sectors); x1=$(sb_write_bytes)
  local client=-
  [ -s "$tf" ] && client=$(awk 'END { printf "%.2f", $1 + $2 }' "$tf")
  M=()
  M[rc]=$rc
  M[wall_s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  M[broker_cpu_s]=$(awk -v k=$((k1 - k0)) -v hz="$SB_CLK" 'BEGIN { printf "%.2f", k / hz }')
  M[broker_cores]=$(awk -v c="${M[broker_cpu_s]}" -v w="${M[wall_s]}" 'BEGIN { printf "%.2f", c / w }')
  M[client_cpu_s]=$client
  M[other_cpu_s]=$(awk -v b=$((b1 - b0)) -v hz="$SB_CLK" -v k="${M[broker_cpu_s]}" -v c="$client" \
    'BEGIN { o = b / hz - k - (c == "-" ? 0 : c); printf "%.2f", o < 0 ? 0 : o }')
  M[iowait_s]=$(awk -v w=$((w1 - w0)) -v hz="$SB_CLK" 'BEGIN { printf "%.2f", w / hz }')
  M[disk_write_mb]=$(awk -v s=$((d1 - d0)) 'BEGIN { printf "%.1f", s * 512 / 1048576 }')
  M[broker_write_mb]=$(awk -v s=$((x1 - x0)) 'BEGIN { printf "%.1f", s / 1048576 }')
}

# Parses a `sluice perf produce|latency` summary line into M:
# "N records, R records/sec (X MB/sec), A ms avg latency, X ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th"
sb_parse_perf() {  # log
  local s; s=$(grep -E "^[0-9]+ records, " "$1" | tail -n 1 | tr -d '(),' || true)
  [ -n "$s" ] || return 0
  local a=($s)
  M[records]=${a[0]}
  M[rec_per_s]=${a[2]}
  M[mb_per_s]=$(awk -v r="${a[2]}" -v s="${SB_RECORD_SIZE:-1024}" 'BEGIN { printf "%.2f", r * s / 1048576 }')   # MiB/s like Kafka's tools
  if [ "${#a[@]}" -ge 22 ]; then
    M[avg_ms]=${a[6]}; M[max_ms]=${a[10]}; M[p50_ms]=${a[14]}; M[p95_ms]=${a[17]}; M[p99_ms]=${a[20]}; M[p999_ms]=${a[23]:-}
  fi
}

sb_machine() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host: $(uname -srm); nproc=$(nproc); $(awk '/MemTotal/ { printf "mem=%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "java: $(java -version 2>&1 | head -n 2 | tr '\n' ' ')"
  echo "disk: $SB_DEV (rotational=$(cat "/sys/block/$SB_DEV/queue/rotational" 2>/dev/null || echo ?)) fs=$(findmnt -no FSTYPE --target "$(dirname "$SB_DATA")")"
  echo "load before: $(cat /proc/loadavg)"
  echo "sluice broker JVM: ${SLUICE_JVM_OPTS:-(defaults)}; CLI JVM: ${SLUICE_CLI_OPTS:-(defaults)}"
}
