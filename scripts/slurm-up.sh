#!/usr/bin/env bash
# Install (if needed) and start a real single-node Slurm on this machine, for
# the integration tests of the Slurm backend.
#
#   scripts/slurm-up.sh      # idempotent; prints one summary line
#   scripts/slurm-down.sh    # stops everything this script started
#
# Runs as root, without systemd: munged, slurmctld and slurmd are started as
# plain daemons and tracked by pid files. If they are already running and the
# node is usable, the script changes nothing and says so.
#
# Layout:
#   /etc/slurm/slurm.conf, /etc/slurm/cgroup.conf   (generated here)
#   /run/slurm/slurmctld.pid, /run/slurm/slurmd.pid, /run/munge/munged.pid
#   /var/log/slurm/slurmctld.log, /var/log/slurm/slurmd.log,
#   /var/log/munge/munged.log
#   /var/spool/slurmctld (state), /var/spool/slurmd (spool)
#
# Environment:
#   SLURM_UP_TIMEOUT     seconds to wait for the node to become idle (default 30)
#   SLURM_UP_PROCTRACK   auto (default: cgroup when the cgroup v1 freezer is writable, else
#                        linuxproc), or cgroup, linuxproc, pgid: to measure what each one
#                        guarantees (docs/slurm.md). Run again without it to go back.
set -euo pipefail

T0=$(date +%s.%N)
TIMEOUT=${SLURM_UP_TIMEOUT:-30}

CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
CGROUP_CONF=$CONF_DIR/cgroup.conf
RUN_DIR=/run/slurm
CTLD_PID=$RUN_DIR/slurmctld.pid
SLURMD_PID=$RUN_DIR/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
MUNGE_KEY=/etc/munge/munge.key
LOG_DIR=/var/log/slurm
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
PARTITION=debug
PACKAGES=(slurmctld slurmd slurm-client munge)

log() { echo "slurm-up: $*" >&2; }
die() { echo "slurm-up: ERROR: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# pid_alive PIDFILE COMM -> prints the pid and succeeds if the pid file names
# a live process whose command name is COMM (guards against stale/reused pids).
pid_alive() {
    local file=$1 comm=$2 pid
    [[ -r $file ]] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$comm" ]] || return 1
    echo "$pid"
}

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- packages
INSTALLED=no
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' \
        || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # Keep the packages' maintainer scripts from trying to start services
    # (there is no systemd here); only if no policy-rc.d is in place already.
    policy_created=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_created=1
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    aptlog=$(mktemp /tmp/slurm-up-apt.XXXXXX)
    # Fresh machine without package lists: fetch them once.
    policy=$(apt-cache policy "${missing[@]}" 2>/dev/null || true)
    if [[ $policy != *"Candidate: "[0-9]* || $policy == *"Candidate: (none)"* ]]; then
        log "no package lists for ${missing[*]}; running apt-get update"
        apt-get update -q >"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "apt-get update failed"; }
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >"$aptlog" 2>&1; then
        tail -n 30 "$aptlog" >&2
        die "apt-get install failed (full log: $aptlog; run 'apt-get update' first?)"
    fi
    rm -f "$aptlog"
    if [[ -n $policy_created ]]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
    INSTALLED=yes
fi

# ------------------------------------------------------------------- munge
STARTED=()
if [[ ! -s $MUNGE_KEY ]]; then
    log "creating $MUNGE_KEY"
    install -d -o munge -g munge -m 0700 /etc/munge
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile="$MUNGE_KEY" --force
    else
        dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
    fi
    chown munge:munge "$MUNGE_KEY"
    chmod 0600 "$MUNGE_KEY"
fi
if ! pid_alive "$MUNGE_PID" munged >/dev/null; then
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock "$MUNGE_PID"
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID"
    STARTED+=(munged)
fi
for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
done
munge -n | unmunge >/dev/null || die "munge does not work; see /var/log/munge/munged.log"

# ----------------------------------------------------------------- config
HOST=$(hostname -s)

# proctrack/cgroup needs a writable cgroup v1 freezer hierarchy (Slurm 22.05's
# cgroup/v2 plugin wants systemd/dbus, which is not available here).
freezer_ok() {
    local d=/sys/fs/cgroup/freezer probe
    [[ -d $d && -w $d && -e $d/cgroup.procs ]] || return 1
    [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]] || return 1
    probe=$d/slurm-up-probe.$$
    mkdir "$probe" 2>/dev/null || return 1
    rmdir "$probe"
}
case ${SLURM_UP_PROCTRACK:-auto} in
    auto)
        if freezer_ok; then
            PROCTRACK=proctrack/cgroup
            PROCTRACK_WHY="cgroup v1 freezer at /sys/fs/cgroup/freezer is writable"
        else
            PROCTRACK=proctrack/linuxproc
            PROCTRACK_WHY="no writable cgroup v1 freezer hierarchy"
        fi
        ;;
    cgroup)
        freezer_ok || die "SLURM_UP_PROCTRACK=cgroup, but there is no writable cgroup v1 freezer"
        PROCTRACK=proctrack/cgroup
        PROCTRACK_WHY="SLURM_UP_PROCTRACK=cgroup"
        ;;
    linuxproc | pgid)
        PROCTRACK=proctrack/$SLURM_UP_PROCTRACK
        PROCTRACK_WHY="SLURM_UP_PROCTRACK=$SLURM_UP_PROCTRACK"
        ;;
    *) die "SLURM_UP_PROCTRACK must be auto, cgroup, linuxproc or pgid, not '$SLURM_UP_PROCTRACK'" ;;
esac

# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
NODE_HW=$(slurmd -C 2>/dev/null | sed -n 's/^NodeName=[^ ]* //p' | head -n 1)
[[ $NODE_HW == *CPUs=* && $NODE_HW == *RealMemory=* ]] \
    || die "could not parse 'slurmd -C' output: $(slurmd -C 2>&1 | head -n 3)"
CPUS=$(sed -n 's/.*\bCPUs=\([0-9]*\).*/\1/p' <<<"$NODE_HW")
MEM=$(sed -n 's/.*\bRealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_HW")

new_conf=$(cat <<EOF
# Generated by scripts/slurm-up.sh -- single-node Slurm for integration tests.
# Do not edit by hand; re-run the script instead.
# proctrack chosen: $PROCTRACK ($PROCTRACK_WHY)
ClusterName=taskgroup-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
ProctrackType=$PROCTRACK
TaskPlugin=task/none
SelectType=select/cons_tres
# Memory is not a consumable resource: steps inside an allocation do not
# all claim the job's whole memory (which would serialize them).
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
# Schedule batch jobs as soon as they are submitted (default delay is up to 3 s).
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none

SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# Short timeouts so tests are fast.
# KillWait: seconds between SIGTERM and SIGKILL when a job/step is cancelled
# or hits its time limit.
KillWait=3
# MinJobAge: seconds a finished job stays visible to squeue/scontrol (no
# accounting database here, so afterwards it is gone).
MinJobAge=5
# A job whose srun or salloc stopped answering (killed by SIGKILL, say) is ended after this
# many seconds, instead of holding the node's CPUs forever.
InactiveLimit=30
Waittime=0
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=30
UnkillableStepTimeout=60
# A node that was down because slurmd was stopped comes back by itself.
ReturnToService=2

NodeName=$HOST NodeAddr=127.0.0.1 $NODE_HW State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
)

new_cgroup_conf=$(cat <<EOF
# Generated by scripts/slurm-up.sh. Only used by $PROCTRACK (task/none is the
# task plugin, so nothing is constrained; cgroups only track processes).
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainSwapSpace=no
ConstrainDevices=no
EOF
)

CONF_CHANGED=no
install -d -m 0755 "$CONF_DIR"
if [[ ! -f $CONF ]] || [[ $(cat "$CONF") != "$new_conf" ]]; then
    printf '%s\n' "$new_conf" >"$CONF"
    CONF_CHANGED=yes
fi
if [[ $PROCTRACK == proctrack/cgroup ]]; then
    if [[ ! -f $CGROUP_CONF ]] || [[ $(cat "$CGROUP_CONF") != "$new_cgroup_conf" ]]; then
        printf '%s\n' "$new_cgroup_conf" >"$CGROUP_CONF"
        CONF_CHANGED=yes
    fi
fi

# --------------------------------------------------------------- daemons
node_state() { timeout 5 sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n 1; }
healthy_state() { [[ $1 =~ ^(idle|mixed|allocated|completing)$ ]]; }

ctld_pid=$(pid_alive "$CTLD_PID" slurmctld || true)
slurmd_pid=$(pid_alive "$SLURMD_PID" slurmd || true)

if [[ $CONF_CHANGED == yes && ( -n $ctld_pid || -n $slurmd_pid ) ]]; then
    log "configuration changed; restarting slurmctld/slurmd"
    for pid in $slurmd_pid $ctld_pid; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $slurmd_pid $ctld_pid; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && die "pid $pid did not exit after SIGTERM"
    done
    ctld_pid= slurmd_pid=
fi

if [[ -n $ctld_pid && -n $slurmd_pid && ${#STARTED[@]} -eq 0 ]]; then
    state=$(node_state)
    if healthy_state "$state"; then
        echo "slurm-up: already running and healthy, nothing to do" \
             "(slurmctld pid $ctld_pid, slurmd pid $slurmd_pid, node $HOST $state," \
             "$PROCTRACK, CPUs=$CPUS, RealMemory=${MEM}MB, checked in $(elapsed)s)"
        exit 0
    fi
fi

install -d -m 0755 "$RUN_DIR" "$LOG_DIR"
install -d -m 0700 "$STATE_DIR"
install -d -m 0755 "$SPOOL_DIR"

if [[ -z $ctld_pid ]]; then
    rm -f "$CTLD_PID"
    /usr/sbin/slurmctld -f "$CONF" || die "slurmctld failed to start; see $LOG_DIR/slurmctld.log"
    STARTED+=(slurmctld)
fi
if [[ -z $slurmd_pid ]]; then
    rm -f "$SLURMD_PID"
    /usr/sbin/slurmd -f "$CONF" || die "slurmd failed to start; see $LOG_DIR/slurmd.log"
    STARTED+=(slurmd)
fi

# Wait for the node to register and become usable.
deadline=$(( $(date +%s) + TIMEOUT ))
resumed=no
state=
while :; do
    state=$(node_state)
    healthy_state "$state" && break
    # A node left DOWN/DRAINED from an earlier run: put it back in service.
    if [[ $resumed == no && $state =~ ^(down|drained|draining)$ ]] \
        && pid_alive "$SLURMD_PID" slurmd >/dev/null; then
        scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
        resumed=yes
    fi
    if (( $(date +%s) >= deadline )); then
        {
            echo "slurm-up: ERROR: node $HOST not idle after ${TIMEOUT}s (state: '${state:-no answer}')"
            pid_alive "$CTLD_PID" slurmctld >/dev/null || echo "slurm-up: slurmctld is not running"
            pid_alive "$SLURMD_PID" slurmd >/dev/null || echo "slurm-up: slurmd is not running"
            for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
                echo "----- tail $f"
                tail -n 20 "$f" 2>/dev/null || true
            done
        } >&2
        exit 1
    fi
    sleep 0.2
done

echo "slurm-up: ready in $(elapsed)s: node $HOST $state, $PROCTRACK, CPUs=$CPUS," \
     "RealMemory=${MEM}MB, partition $PARTITION, started: ${STARTED[*]:-none}," \
     "installed packages: $INSTALLED, config changed: $CONF_CHANGED"
