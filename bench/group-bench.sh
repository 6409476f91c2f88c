#!/usr/bin/env bash
# Consumer-group figures of a 3-process Sluice cluster (docs/benchmarks.md, "Consumer groups"; issue 5 item 6):
# commit latency p50/p99 of commitSync, time for a 3-member group to settle after a member joins (and the longest
# pause of the partitions that did not move), and time until a SIGKILLed member's partitions are consumed again.
#
#   bench/group-bench.sh [-o OUTDIR]
#
# A fresh 3-broker cluster (deploy/local/cluster.sh, broker defaults: group.session.timeout.ms=10000,
# group.heartbeat.interval.ms=1000), a 6-partition RF=3 topic, then GroupProbe (bench/src/.../GroupProbe.java) run
# as a single-file program with the SDK on its classpath; the killed member is a `bin/sluice consume --group` process.
# COMMITS (500) commits. Output: OUTDIR (default bench/results/groups-<UTC time>/), summary.txt with key=value lines.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=""
COMMITS=${COMMITS:-500}
export SLUICE_JVM_OPTS=${SLUICE_JVM_OPTS--Xms1g -Xmx1g}
export SLUICE_CLI_OPTS=${SLUICE_CLI_OPTS--Xmx512m}
while getopts "o:h" opt; do
  case $opt in
    o) OUT=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
OUT=${OUT:-$ROOT/bench/results/groups-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=bench/cluster-lib.sh
source "$HERE/cluster-lib.sh"
trap 'sb_finish; rm -rf "$OUT/sluice-build"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
sb_machine | tee "$OUT/env.txt" >&2
sb_snapshot
rm -rf "$SB_DATA"
sb_ports_free 3
sb_cluster up -n 3 > "$OUT/cluster-up.log" 2>&1 || sb_die "the 3-broker cluster did not start (see $OUT/cluster-up.log)"
cp_=("$SB_SNAP/consumer-client/target/"sluice-consumer-client-*.jar)
# shellcheck disable=SC2086 # SLUICE_CLI_OPTS is a list of options
timeout -k 5 600 java ${SLUICE_CLI_OPTS:-} -Dcom.google.protobuf.use_unsafe_pre22_gencode=true -Dcommits="$COMMITS" \
  -cp "${cp_[0]}:$SB_SNAP/consumer-client/target/lib/*" "$HERE/src/main/java/io/sluice/bench/GroupProbe.java" \
  127.0.0.1:7070 "$SB_SNAP/bin/sluice" > "$OUT/summary.txt" 2> "$OUT/probe.log" || { tail -n 20 "$OUT/probe.log" >&2; sb_die "GroupProbe failed"; }
cat "$OUT/summary.txt"
