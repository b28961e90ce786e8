#!/usr/bin/env bash
# A one-node SLURM for the cluster test (tests/test_slurm.py): Debian's slurm-wlm with slurmdbd
# and MariaDB, daemons started directly (no systemd), cgroups not needed. Installs the Debian
# packages when they are missing (needs root). Pids go to $SLURM_STATE/pids; stop.sh ends them.
set -euo pipefail
STATE=${SLURM_STATE:-/tmp/tradeoffs-slurm}
NODE=tradeoffs-node
PACKAGES="slurmctld slurmd slurm-client munge slurmdbd mariadb-server"

if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null \
    || ! command -v mariadbd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
fi

if [ -s "$STATE/pids/slurmd.pid" ] && kill -0 "$(cat "$STATE/pids/slurmd.pid")" 2>/dev/null; then
    echo "slurm already running (pids in $STATE/pids)"
    exit 0
fi

mkdir -p "$STATE"/{pids,log,ctld,spool,mysql} /run/munge /run/mysqld /etc/slurm
chown munge:munge /run/munge
chown mysql:mysql /run/mysqld "$STATE/mysql"

# The node offers the host's cores and most of its memory; DefMemPerCPU keeps jobs without a
# memory request from claiming the whole node.
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

cat >/etc/slurm/slurm.conf <<CONF
ClusterName=tradeoffs
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
ReturnToService=2
MinJobAge=300
DefMemPerCPU=1000
KillWait=5
OverTimeLimit=0
InactiveLimit=0
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/pids/slurmctld.pid
SlurmdPidFile=$STATE/pids/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF

cat >/etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$STATE/pids/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
CONF
chmod 600 /etc/slurm/slurmdbd.conf

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "slurm start: $what did not come up in ${seconds}s (logs in $STATE/log)" >&2
    exit 1
}

runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
cp /run/munge/munged.pid "$STATE/pids/munged.pid"
wait_for 10 munge munge -n

mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
    --pid-file="$STATE/mysql/mariadbd.pid" --log-error="$STATE/mysql/mariadb.log" &
echo $! >"$STATE/pids/mariadbd.pid"
wait_for 30 MariaDB mariadb -e "SELECT 1"
mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

slurmdbd
wait_for 30 slurmdbd sacctmgr -n list cluster
sacctmgr -i add cluster tradeoffs >/dev/null 2>&1 || true

slurmctld
wait_for 30 slurmctld scontrol ping
slurmd -N "$NODE"
wait_for 60 "node $NODE" sh -c "sinfo -h -n $NODE -o %t | grep -qx idle"
echo "slurm up: node $NODE, $CPUS CPUs, $MEM_MB MB (pids in $STATE/pids)"
