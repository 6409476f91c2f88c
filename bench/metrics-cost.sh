#!/usr/bin/env bash
# The cost of broker metrics on the produce path (issue 6, docs/benchmarks.md "Metrics cost"): produce throughput with
# the Micrometer registry enabled and disabled (metrics.enabled=true|false), alternating in one sitting so that both
# see the same machine.
#
#   bench/metrics-cost.sh [-o OUTDIR]
#
# ROUNDS (3) rounds of: fresh 1-broker cluster with metrics on, `sluice perf produce` of RECORDS (300,000) x 1024 B
# to a 3-partition RF=1 topic (acks=quorum, i.e. fsynced by the one replica), then the same with metrics off
# (SLUICE_METRICS_ENABLED=false). One broker keeps Raft replication out of the comparison: what differs is only the
# recording on the produce and log paths. Output: OUTDIR (default bench/results/metrics-cost-<UTC time>/), summary.txt.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=""
ROUNDS=${ROUNDS:-3}
RECORDS=${RECORDS:-300000}
SB_RECORD_SIZE=1024
export SLUICE_JVM_OPTS=${SLUICE_JVM_OPTS--Xms1g -Xmx1g}
export SLUICE_CLI_OPTS=${SLUICE_CLI_OPTS--Xmx512m}
while getopts "o:h" opt; do
  case $opt in
    o) OUT=$OPTARG ;;
    *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
  esac
done
OUT=${OUT:-$ROOT/bench/results/metrics-cost-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=bench/cluster-lib.sh
source "$HERE/cluster-lib.sh"
trap 'sb_finish; rm -rf "$OUT/sluice-build"' EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
sb_machine | tee "$OUT/env.txt" >&2
sb_snapshot
declare -A M
declare -A RATES=([on]="" [off]="")

for ((r = 1; r <= ROUNDS; r++)); do
  for mode in on off; do
    sb_down
    rm -rf "$SB_DATA"
    sb_ports_free 1
    enabled=true; [ "$mode" = off ] && enabled=false
    SLUICE_METRICS_ENABLED=$enabled sb_cluster up -n 1 > "$OUT/up-$mode-$r.log" 2>&1 || sb_die "cluster did not start (see $OUT/up-$mode-$r.log)"
    sb_cli topic create mc --partitions 3 --replication-factor 1 > /dev/null
    SLUICE_BOOTSTRAP=127.0.0.1:7070 timeout "$SB_TOOL_TIMEOUT" "$SB_SNAP/bin/sluice" perf produce --topic mc \
      --records "$RECORDS" --record-size $SB_RECORD_SIZE --acks quorum > "$OUT/produce-$mode-$r.log" 2>&1 \
      || sb_die "perf produce failed (see $OUT/produce-$mode-$r.log)"
    M=()
    sb_parse_perf "$OUT/produce-$mode-$r.log"
    [ -n "${M[rec_per_s]:-}" ] || sb_die "no result line in $OUT/produce-$mode-$r.log"
    if [ "$mode" = on ]; then   # the registry was really there
      curl -fsS -m 10 http://127.0.0.1:7270/metrics | grep -q '^sluice_produce_records_total' || sb_die "metrics on, but /metrics has no produce counter"
    else
      ! curl -fsS -m 10 http://127.0.0.1:7270/metrics > /dev/null 2>&1 || sb_die "metrics off, but /metrics answered"
    fi
    echo "round=$r metrics=$mode rec_per_s=${M[rec_per_s]} p99_ms=${M[p99_ms]:-}" | tee -a "$SUMMARY" >&2
    RATES[$mode]+="${M[rec_per_s]} "
  done
done
sb_down
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
on=$(echo "${RATES[on]}" | median); off=$(echo "${RATES[off]}" | median)
echo "median_on=$on median_off=$off cost_pct=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", (b - a) / b * 100 }')" | tee -a "$SUMMARY"
