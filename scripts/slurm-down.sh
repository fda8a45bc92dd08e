#!/usr/bin/env bash
# Stop the single-node Slurm started by scripts/slurm-up.sh: slurmd, slurmctld
# and munged, by the pids in their pid files. Idempotent.
#
# Before stopping the daemons, any jobs still known to slurmctld are cancelled
# (and given a few seconds to end), because slurmstepd and the tasks under it
# would otherwise outlive slurmd. Set SLURM_DOWN_KEEP_JOBS=1 to skip that.
set -euo pipefail

RUN_DIR=/run/slurm
PIDFILES=("$RUN_DIR/slurmd.pid:slurmd" "$RUN_DIR/slurmctld.pid:slurmctld" "/run/munge/munged.pid:munged")

log() { echo "slurm-down: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "must run as root"; exit 1; }

pid_alive() {
    local file=$1 comm=$2 pid
    [[ -r $file ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$comm" ]] || return 1
    echo "$pid"
}

if [[ ${SLURM_DOWN_KEEP_JOBS:-0} != 1 ]] && pid_alive "$RUN_DIR/slurmctld.pid" slurmctld >/dev/null \
    && command -v squeue >/dev/null; then
    jobs=$(timeout 5 squeue -h -o %i 2>/dev/null || true)
    if [[ -n $jobs ]]; then
        log "cancelling jobs: $(echo $jobs)"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        for _ in $(seq 100); do   # KillWait is 3 s; allow 10 s
            [[ -z $(timeout 5 squeue -h -t running,completing,pending -o %i 2>/dev/null) ]] && break
            sleep 0.1
        done
    fi
fi

# Send SIGTERM to all three at once (each takes 1-2 s to exit), then wait.
stopped=() pids=()
for entry in "${PIDFILES[@]}"; do
    file=${entry%%:*} comm=${entry##*:}
    if pid=$(pid_alive "$file" "$comm"); then
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
        stopped+=("$comm($pid)")
    fi
done
for _ in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]})) || break
    sleep 0.1
done
for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ($(cat /proc/$pid/comm 2>/dev/null)) still alive 10 s after SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
done
for entry in "${PIDFILES[@]}"; do
    file=${entry%%:*} comm=${entry##*:}
    pid_alive "$file" "$comm" >/dev/null || rm -f "$file"
done

left=$(pgrep -x slurmstepd || true)
[[ -z $left ]] || log "note: slurmstepd processes still running: $(echo $left)"

if ((${#stopped[@]})); then
    echo "slurm-down: stopped ${stopped[*]}"
else
    echo "slurm-down: nothing running"
fi
