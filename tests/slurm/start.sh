#!/usr/bin/env bash
# A one-node SLURM for the cluster test (tests/test_slurm.py): Debian's slurm-wlm with slurmdbd
# and MariaDB, daemons started directly (no systemd), cgroups not needed. Installs the Debian
# packages when they are missing (needs root).
#
# Everything it writes lives in its own state directory ($SLURM_STATE, default
# /tmp/tradeoffs-slurm): SLURM's configuration (read through SLURM_CONF=$SLURM_STATE/etc/
# slurm.conf; slurmdbd.conf beside it), a private MariaDB (its own datadir, socket and port,
# no system option files), pid, spool, state and log folders, and private ports. A SLURM or
# MariaDB set up on the machine before (/etc/slurm, /var/lib/mysql, /etc/mysql) is neither read
# nor changed. Clients need `export SLURM_CONF=$SLURM_STATE/etc/slurm.conf` (.ci/run sets it).
# Pids go to $SLURM_STATE/pids; stop.sh ends them.
set -euo pipefail
STATE=${SLURM_STATE:-/tmp/tradeoffs-slurm}
NODE=tradeoffs-node
PACKAGES="slurmctld slurmd slurm-client munge slurmdbd mariadb-server"
CTLD_PORT=${SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}
DBD_PORT=${SLURM_DBD_PORT:-16819}
DB_PORT=${SLURM_DB_PORT:-16820}
export SLURM_CONF="$STATE/etc/slurm.conf"
DB="$STATE/mysql"
SQL=(mariadb --no-defaults --socket="$DB/mysqld.sock" --user=root)

if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null \
    || ! command -v mariadbd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
fi

if [ -s "$STATE/pids/slurmd.pid" ] && kill -0 "$(cat "$STATE/pids/slurmd.pid")" 2>/dev/null; then
    echo "slurm already running (pids in $STATE/pids; SLURM_CONF=$SLURM_CONF)"
    exit 0
fi

mkdir -p "$STATE"/{etc,pids,log,ctld,spool} "$DB" /run/munge
chmod 755 "$STATE" "$STATE/etc"
chown munge:munge /run/munge
chown mysql:mysql "$DB"

# The node offers the host's cores and most of its memory; DefMemPerCPU keeps jobs without a
# memory request from claiming the whole node.
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

cat >"$SLURM_CONF" <<CONF
ClusterName=tradeoffs
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmctldParameters=enable_configless
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
AccountingStoragePort=$DBD_PORT
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

# slurmdbd reads slurmdbd.conf from SLURM_CONF's folder; it must be the SlurmUser's, mode 600.
cat >"$STATE/etc/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$STATE/pids/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
CONF
chown root:root "$STATE/etc/slurmdbd.conf"
chmod 600 "$STATE/etc/slurmdbd.conf"

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

# A munged already serving the machine is used as it is; otherwise one is started (and stopped).
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$STATE/pids/munged.pid"
    wait_for 10 munge sh -c "munge -n | unmunge"
fi

# A private MariaDB: its own datadir (created on first start), socket and TCP port on loopback;
# --no-defaults keeps the system's option files (and so /var/lib/mysql) out of it.
if [ ! -d "$DB/data/mysql" ]; then
    mariadb-install-db --no-defaults --user=mysql --datadir="$DB/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1
fi
mariadbd --no-defaults --user=mysql --datadir="$DB/data" --socket="$DB/mysqld.sock" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$DB/mariadbd.pid" \
    --log-error="$DB/mariadb.log" &
echo $! >"$STATE/pids/mariadbd.pid"
wait_for 30 MariaDB "${SQL[@]}" -e "SELECT 1"
"${SQL[@]}" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

slurmdbd
wait_for 30 slurmdbd sacctmgr -n list cluster
sacctmgr -i add cluster tradeoffs >/dev/null 2>&1 || true

slurmctld -f "$SLURM_CONF"
wait_for 30 slurmctld scontrol ping
# Configless slurmd: it fetches the configuration from slurmctld and caches it where SLURM's
# clients look when SLURM_CONF is unset (/run/slurm/conf): the executor plugin's job step drops
# SLURM_* variables before its nested srun.
slurmd --conf-server "localhost:$CTLD_PORT" -N "$NODE"
wait_for 60 "node $NODE" sh -c "sinfo -h -n $NODE -o %t | grep -qx idle"
echo "slurm up: node $NODE, $CPUS CPUs, $MEM_MB MB (pids in $STATE/pids; SLURM_CONF=$SLURM_CONF)"
