#!/usr/bin/env bash
# A single-node Slurm on this machine, to try the workflow's Slurm profile
# without a cluster:
#
#   sudo scripts/local-slurm.sh start    # install if missing, start, wait for an idle node
#   sudo scripts/local-slurm.sh status   # which daemons run, and sinfo
#   sudo scripts/local-slurm.sh stop     # stop the daemons this script started
#
# Debian or Ubuntu, as root, no systemd needed. `start` installs the Debian
# packages (slurm-wlm, slurmdbd, mariadb-server, munge) when a daemon is
# missing, writes a one-node /etc/slurm/slurm.conf from `slurmd -C` (the
# machine's own CPUs and memory) and starts munge, MariaDB, slurmdbd,
# slurmctld and slurmd, each writing its PID file under the state folder.
# Accounting (slurmdbd, with its MariaDB) is needed: the Snakemake Slurm
# executor follows its jobs with `sacct`. `stop` ends only the processes named
# by those PID files. Starting what runs, or stopping what does not, is a
# no-op with a message.
#
# Settings (environment): EMPATHY_SLURM_STATE (state folder, default
# /tmp/empathy-fmri-slurm: PID files, logs, spool, the MariaDB data),
# EMPATHY_SLURM_DB_PORT (MariaDB's port on 127.0.0.1, default 3307),
# EMPATHY_SLURM_MEM_PER_CPU (DefMemPerCPU in MB, default 1000).
set -euo pipefail

STATE=${EMPATHY_SLURM_STATE:-/tmp/empathy-fmri-slurm}
DB_PORT=${EMPATHY_SLURM_DB_PORT:-3307}
MEM_PER_CPU=${EMPATHY_SLURM_MEM_PER_CPU:-1000}
SLURM_ETC=/etc/slurm
CONF=$SLURM_ETC/slurm.conf
DBD_CONF=$SLURM_ETC/slurmdbd.conf
MARKER="# Written by empathy-fmri scripts/local-slurm.sh"
CLUSTER=empathy
PARTITION=local
DB_PASSWORD=empathy-fmri-local
PACKAGES=(slurm-wlm slurmdbd mariadb-server munge)
# Daemons in start order; stop goes backwards.
DAEMONS=(munged mariadbd slurmdbd slurmctld slurmd)

say() { echo "local-slurm: $*"; }
die() { echo "local-slurm: error: $*" >&2; exit 1; }

pidfile() { echo "$STATE/run/$1.pid"; }

# The PID of a daemon this script started, if it still runs.
running_pid() {
    local file pid
    file=$(pidfile "$1")
    [[ -s $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    # A reused PID belongs to another program: not ours.
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1" ]] || return 1
    echo "$pid"
}

# Wait up to $2 seconds for the PID file of $1 to name a running process.
wait_started() {
    local name=$1 seconds=$2 i
    for ((i = 0; i < seconds * 5; i++)); do
        running_pid "$name" >/dev/null && return 0
        sleep 0.2
    done
    die "$name did not start within ${seconds}s; see $STATE/log/$name.log"
}

require_root() {
    [[ $(id -u) == 0 ]] || die "run as root (it installs packages and starts system daemons)"
}

install_packages() {
    local missing=()
    for cmd in munged mariadbd slurmdbd slurmctld slurmd sinfo sacct; do
        command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
    if ((${#missing[@]} == 0)); then
        return
    fi
    say "installing ${PACKAGES[*]} (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' own init scripts from starting daemons during the
    # install (the usual container policy); this script starts them itself.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
    ((added_policy)) && rm -f "$policy"
    for cmd in "${missing[@]}"; do
        command -v "$cmd" >/dev/null || die "$cmd still missing after the install"
    done
}

# Refuse to take over a Slurm this script did not start.
check_foreign() {
    local name pid
    for name in "${DAEMONS[@]}"; do
        for pid in $(pgrep -x "$name" || true); do
            if [[ $(running_pid "$name" || true) != "$pid" ]]; then
                die "$name (PID $pid) runs but was not started by this script; stop it first"
            fi
        done
    done
}

write_config() {
    mkdir -p "$SLURM_ETC"
    for file in "$CONF" "$DBD_CONF"; do
        if [[ -e $file ]] && ! grep -qxF "$MARKER" "$file"; then
            die "$file exists and was not written by this script; move it away first"
        fi
    done
    local node
    # First line of `slurmd -C`: NodeName=... CPUs=... RealMemory=...
    node=$(slurmd -C | head -n 1)
    [[ $node == NodeName=* ]] || die "unexpected output of slurmd -C: $node"
    cat >"$CONF" <<EOF
$MARKER
# A single-node cluster for trying the workflow's Slurm profile; state in $STATE.
ClusterName=$CLUSTER
SlurmctldHost=$(hostname -s)
SlurmUser=root
AuthType=auth/munge
# No systemd, no cgroups: track processes through /proc, no task plugin.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without it a job that does not give --mem reserves the whole node's memory.
DefMemPerCPU=$MEM_PER_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
# Finished jobs stay in slurmctld for 5 minutes (squeue can see them).
MinJobAge=300
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
StateSaveLocation=$STATE/spool/slurmctld
SlurmdSpoolDir=$STATE/spool/slurmd
SlurmctldPidFile=$(pidfile slurmctld)
SlurmdPidFile=$(pidfile slurmd)
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
$node
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$DBD_CONF" <<EOF
$MARKER
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$(pidfile slurmdbd)
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$DBD_CONF"
}

start_munge() {
    if running_pid munged >/dev/null; then say "munged already running"; return; fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating /etc/munge/munge.key"
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    # Slurm talks to munged on its default socket.
    mkdir -p /run/munge "$STATE/munge"
    touch "$STATE/log/munged.log"
    chown munge:munge /run/munge "$STATE/munge" "$STATE/log/munged.log"
    rm -f "$(pidfile munged)"
    runuser -u munge -- munged --pid-file="$STATE/munge/munged.pid" \
        --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munged.seed"
    # munged writes its PID file as the munge user, in a folder it owns.
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s $STATE/munge/munged.pid ]] && break
        sleep 0.2
    done
    cp "$STATE/munge/munged.pid" "$(pidfile munged)" 2>/dev/null || true
    wait_started munged 10
    munge -n | unmunge >/dev/null || die "munge does not work; see $STATE/log/munged.log"
    say "munged started (PID $(running_pid munged))"
}

start_mariadb() {
    if running_pid mariadbd >/dev/null; then say "mariadbd already running"; return; fi
    local data=$STATE/mysql socket=$STATE/run/mysqld.sock
    if [[ ! -d $data/mysql ]]; then
        say "creating the accounting database in $data"
        mkdir -p "$data" && chown mysql:mysql "$data"
        mariadb-install-db --no-defaults --user=mysql --datadir="$data" \
            --auth-root-authentication-method=socket >"$STATE/log/mariadb-install.log" 2>&1 \
            || die "mariadb-install-db failed; see $STATE/log/mariadb-install.log"
    fi
    chown mysql:mysql "$STATE/run"
    # The data folder is private to this Slurm: its own port, socket and PID file.
    setsid mariadbd --no-defaults --user=mysql --datadir="$data" --socket="$socket" \
        --bind-address=127.0.0.1 --port="$DB_PORT" --pid-file="$(pidfile mariadbd)" \
        --log-error="$STATE/log/mariadbd.log" </dev/null >>"$STATE/log/mariadbd.log" 2>&1 &
    local i
    for ((i = 0; i < 150; i++)); do
        mariadb-admin --no-defaults --socket="$socket" ping >/dev/null 2>&1 && break
        sleep 0.2
    done
    wait_started mariadbd 5
    mariadb --no-defaults --socket="$socket" -e "
        CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" \
        || die "could not create the slurm database user; see $STATE/log/mariadbd.log"
    say "mariadbd started on 127.0.0.1:$DB_PORT (PID $(running_pid mariadbd))"
}

start_slurm_daemon() {
    local name=$1
    if running_pid "$name" >/dev/null; then say "$name already running"; return; fi
    rm -f "$(pidfile "$name")"
    "$name" || die "$name failed to start; see $STATE/log/$name.log"
    wait_started "$name" 30
    say "$name started (PID $(running_pid "$name"))"
}

wait_for_accounting() {
    local i
    for ((i = 0; i < 150; i++)); do
        sacctmgr -n list cluster format=cluster 2>/dev/null | grep -qw "$CLUSTER" && return 0
        sleep 0.2
    done
    # slurmctld registers its cluster by itself; if it has not, add it.
    sacctmgr -i add cluster "$CLUSTER" >/dev/null || die "slurmdbd does not answer; see $STATE/log/slurmdbd.log"
}

wait_for_idle_node() {
    local i state
    for ((i = 0; i < 120; i++)); do
        state=$(sinfo -h -N -o %t 2>/dev/null | head -n 1 || true)
        if [[ $state == idle* || $state == mix* || $state == alloc* ]]; then
            say "node $(sinfo -h -N -o %N | head -n 1) is $state in partition $PARTITION"
            return 0
        fi
        sleep 0.5
    done
    sinfo -N -l >&2 || true
    die "the node is not idle after 60 s (state: ${state:-none}); see $STATE/log/slurmd.log"
}

cmd_start() {
    require_root
    local all_running=1 name
    for name in "${DAEMONS[@]}"; do
        running_pid "$name" >/dev/null || all_running=0
    done
    if ((all_running)); then
        say "already running (state in $STATE)"
        sinfo
        return
    fi
    install_packages
    check_foreign
    mkdir -p "$STATE"/{run,log,spool/slurmctld,spool/slurmd}
    write_config
    start_munge
    start_mariadb
    start_slurm_daemon slurmdbd
    start_slurm_daemon slurmctld
    wait_for_accounting
    start_slurm_daemon slurmd
    wait_for_idle_node
    say "started: submit with sbatch, or run the workflow with --workflow-profile workflow/profiles/slurm"
}

cmd_stop() {
    require_root
    local stopped=0 index name pid i
    for ((index = ${#DAEMONS[@]} - 1; index >= 0; index--)); do
        name=${DAEMONS[index]}
        pid=$(running_pid "$name") || continue
        kill -TERM "$pid"
        for ((i = 0; i < 150; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (PID $pid) still runs 30 s after SIGTERM; left alone" >&2
            continue
        fi
        rm -f "$(pidfile "$name")"
        say "stopped $name (PID $pid)"
        stopped=1
    done
    ((stopped)) || say "nothing to stop (no daemon of $STATE runs)"
}

cmd_status() {
    local name pid up=0
    for name in "${DAEMONS[@]}"; do
        if pid=$(running_pid "$name"); then
            say "$name running (PID $pid)"
            up=$((up + 1))
        else
            say "$name not running"
        fi
    done
    if ((up == ${#DAEMONS[@]})); then
        sinfo
    fi
    # Exit 0 only when the whole local Slurm runs.
    ((up == ${#DAEMONS[@]}))
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
