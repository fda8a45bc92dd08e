#!/usr/bin/env bash
# The Slurm backend's overhead (issue 21, docs/PERFORMANCE.md "Slurm backend"): 200 `true`
# jobs as steps of one allocation, through the runner and through plain srun in a shell loop,
# side by side in one allocation.
#
#   crates/taskgroup-cli/bench/slurm.sh [ROUNDS] [CPUS]    (default 5 rounds, 2 CPUs)
#
# Needs a working Slurm (scripts/slurm-up.sh starts a single-node one). One `salloc` of CPUS
# tasks holds both contenders, which run CPUS steps at once with the same srun options:
#
#   xargs -P CPUS -I{} srun --ntasks=1 --nodes=1 --exact sh -c {}
#   taskgroup exec -j CPUS --backend slurm --quiet      (srun … taskgroup slurm-step … sh -c)
#
# Contenders alternate round by round, so that drifts in the machine's speed hit them alike;
# the medians are printed, with the ratio the issue sets a target for (<= 1.2).
set -euo pipefail

rounds=${1:-5}
cpus=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
taskgroup=$target/release/taskgroup

if [[ ${SLURM_BENCH_INSIDE:-} != 1 ]]; then
    command -v salloc >/dev/null || { echo "no Slurm here: run scripts/slurm-up.sh" >&2; exit 1; }
    (cd "$root" && cargo build --release -q -p taskgroup-cli)
    echo "$(sinfo --version), $(scontrol show config | sed -n 's/^ProctrackType *= *//p'), $(nproc) CPUs here" >&2
    # The same allocation for both: steps inside it are what is measured, not scheduling.
    SLURM_BENCH_INSIDE=1 exec salloc --quiet --ntasks="$cpus" --job-name=taskgroup-bench \
        "$0" "$rounds" "$cpus"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq 200); do echo true; done > "$work/true-200"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else print (v[m] + v[m + 1]) / 2 }'; }

batch() {
    local start end
    start=$(now)
    case $1 in
        # srun's "step creation temporarily disabled, retrying" lines go to the log, for both.
        srun) xargs -P "$cpus" -I{} srun --ntasks=1 --nodes=1 --exact sh -c {} \
                  < "$work/true-200" 2>> "$work/stderr" ;;
        taskgroup) "$taskgroup" exec -j "$cpus" --backend slurm --quiet \
                       < "$work/true-200" > /dev/null 2>> "$work/stderr" ;;
    esac
    end=$(now)
    elapsed "$start" "$end"
}

for round in $(seq "$rounds"); do
    # Who goes first alternates too.
    if (( round % 2 )); then order="srun taskgroup"; else order="taskgroup srun"; fi
    for tool in $order; do
        batch "$tool" >> "$work/batch-$tool"
    done
    echo "round $round of $rounds done: srun $(tail -n 1 "$work/batch-srun") s, taskgroup $(tail -n 1 "$work/batch-taskgroup") s" >&2
done

echo "200 true jobs as steps of one allocation ($cpus CPUs, $cpus steps at once; median of $rounds rounds)"
for tool in srun taskgroup; do
    m=$(median < "$work/batch-$tool")
    printf '  %-10s %7.3f s  = %6.1f ms per job\n' "$tool" "$m" "$(awk -v m="$m" 'BEGIN { print m * 1000 / 200 }')"
    eval "batch_$tool=$m"
done
echo "  taskgroup / srun loop = $(ratio "$batch_taskgroup" "$batch_srun") (target <= 1.2)"
echo "  srun retried step creation $(grep -c 'step creation temporarily disabled' "$work/stderr" || true) times in all (both contenders)"
