#!/usr/bin/env bash
# Builds the JMH jar and runs the log-store benchmarks, then measures dd's fsync bandwidth on the same disk,
# so both figures come from one sitting. Usage: bench/run-jmh.sh [JMH args...]   (default: all Log* benchmarks)
# Data goes to $SLUICE_BENCH_DIR (default /tmp/sluice-bench); output to bench/results/<timestamp>/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${SLUICE_BENCH_DIR:-/tmp/sluice-bench}
OUT=$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$DIR" "$OUT"
(cd "$ROOT" && mvn -B -q -DskipTests -pl bench -am package)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "disk: $(findmnt -no SOURCE,FSTYPE --target "$DIR")"
} | tee "$OUT/machine.txt"
java -jar "$ROOT/bench/target/sluice-benchmarks.jar" -jvmArgsAppend "-Dsluice.bench.dir=$DIR" -rf json -rff "$OUT/jmh.json" \
  "${@:-Log}" | tee "$OUT/jmh.txt"
echo "dd if=/dev/zero of=$DIR/dd.bin bs=1M count=1024 conv=fsync" | tee "$OUT/dd.txt"
dd if=/dev/zero of="$DIR/dd.bin" bs=1M count=1024 conv=fsync 2>&1 | tee -a "$OUT/dd.txt"
rm -f "$DIR/dd.bin"
echo "results in $OUT"
