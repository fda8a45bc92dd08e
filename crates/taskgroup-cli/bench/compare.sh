#!/usr/bin/env bash
# The job runner beside `xargs -P 8` and GNU parallel, in one run (issue 16, docs/PERFORMANCE.md
# "Job runner"). Installs GNU parallel with apt-get if it is missing.
#
#   crates/taskgroup-cli/bench/compare.sh [ROUNDS]     (default 7 rounds)
#
# 1. Per-job overhead: 1,000 `true` jobs at 8 at once. Every tool runs each line through
#    `sh -c`, as `exec` does, so the shells cost the same everywhere:
#      xargs -P 8 -I{} sh -c {}      taskgroup exec -j 8 --quiet      parallel -j 8
# 2. Fail-fast: 50 siblings sleeping, then one job that fails once all 50 have started; the
#    time from the failure (the failing job's own timestamp) to the runner's exit:
#      taskgroup exec -j 51 --quiet      parallel -j 51 --halt now,fail=1
#
# Contenders alternate round by round, so that drifts in the machine's speed hit them alike;
# the medians are printed, with the ratios the issue sets targets for.
set -euo pipefail

rounds=${1:-7}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
taskgroup=$target/release/taskgroup

if ! command -v parallel >/dev/null; then
    echo "installing GNU parallel" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq parallel >/dev/null
fi
(cd "$root" && cargo build --release -q -p taskgroup-cli)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq 1000); do echo true; done > "$work/true-1000"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else print (v[m] + v[m + 1]) / 2 }'; }

batch() {
    local start end
    start=$(now)
    case $1 in
        xargs) xargs -P 8 -I{} sh -c {} < "$work/true-1000" ;;
        taskgroup) "$taskgroup" exec -j 8 --quiet < "$work/true-1000" > /dev/null ;;
        parallel) parallel -j 8 < "$work/true-1000" ;;
    esac
    end=$(now)
    elapsed "$start" "$end"
}

fail_fast() {
    local started=$work/started failed=$work/failed-at end
    rm -f "$started" "$failed"
    {
        for _ in $(seq 50); do echo "echo x >> $started; exec sleep 30"; done
        echo "while [ \"\$(wc -l < $started 2>/dev/null || echo 0)\" -lt 50 ]; do sleep 0.01; done; date +%s.%N > $failed; exit 1"
    } > "$work/fail-fast"
    case $1 in
        taskgroup) "$taskgroup" exec -j 51 --quiet < "$work/fail-fast" > /dev/null || true ;;
        parallel) parallel -j 51 --halt now,fail=1 < "$work/fail-fast" > /dev/null 2>&1 || true ;;
    esac
    end=$(now)
    elapsed "$(cat "$failed")" "$end"
}

for round in $(seq "$rounds"); do
    for tool in xargs taskgroup parallel; do
        batch "$tool" >> "$work/batch-$tool"
    done
    for tool in taskgroup parallel; do
        fail_fast "$tool" >> "$work/fail-$tool"
    done
    echo "round $round of $rounds done" >&2
done

echo "1,000 true jobs at -j 8 (median of $rounds rounds; per job = wall time / 1,000)"
for tool in xargs taskgroup parallel; do
    m=$(median < "$work/batch-$tool")
    # wall seconds / 1,000 jobs, in milliseconds: the same number.
    printf '  %-10s %7.3f s  = %6.3f ms per job\n' "$tool" "$m" "$m"
    eval "batch_$tool=$m"
done
echo "  taskgroup / xargs    = $(ratio "$batch_taskgroup" "$batch_xargs") (target <= 1.2)"
echo "  taskgroup / parallel = $(ratio "$batch_taskgroup" "$batch_parallel") (target < 1)"
echo "fail-fast, 50 sleeping siblings: from the failure to the runner's exit (median)"
for tool in taskgroup parallel; do
    m=$(median < "$work/fail-$tool")
    printf '  %-10s %7.3f s\n' "$tool" "$m"
    eval "fail_$tool=$m"
done
echo "  taskgroup / parallel = $(ratio "$fail_taskgroup" "$fail_parallel") (target <= 1)"
