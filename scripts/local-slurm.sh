#!/usr/bin/env bash
# Start a single-node Slurm (Debian's slurmctld + slurmd + munge) on localhost, for tests and demos.
#
#   sudo scripts/local-slurm.sh            # installs what is missing, starts what is not running
#
# Idempotent: healthy daemons are left alone; they are restarted only when slurm.conf changed.
# Needs root. No systemd and no cgroups (proctrack/linuxproc, task/none); munged runs as `munge`.
#   LOCAL_SLURM_ACCOUNTING=dbd (default): real accounting, MariaDB (socket only) + slurmdbd.
#                                         NeMo-Run polls job state with `sacct`, so it needs this.
#   LOCAL_SLURM_ACCOUNTING=none         : no accounting (sacct then reports nothing).
# Exit codes: 0 ready; 3 package install failed; 4 a daemon did not come up (see /var/log/slurm).
set -euo pipefail
ACCT=${LOCAL_SLURM_ACCOUNTING:-dbd}
case "$ACCT" in dbd|none) ;; *) echo "LOCAL_SLURM_ACCOUNTING must be dbd or none, not '$ACCT'" >&2; exit 2;; esac
T0=$(date +%s%N); ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
log() { echo "[local-slurm +$(ms)ms] $*"; }
die() { echo "[local-slurm] $2" >&2; exit "$1"; }
. "$(dirname "${BASH_SOURCE[0]}")/apt-ensure.sh"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() { local n=$1; shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done; return 1; }
[ "$(id -u)" = 0 ] || die 2 "needs root (starts munged, slurmctld, slurmd)"

# 1. packages (libpmix-dev + jq: NeMo-Run's Ray template runs `srun --mpi=pmix` and uses jq;
#    slurm's mpi/pmix loads libpmix.so, which only the -dev package links)
pkgs=(slurmctld slurmd slurm-client munge libpmix-dev jq)
[ "$ACCT" = dbd ] && pkgs+=(slurmdbd mariadb-server)
PMIX=/usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so; had_pmix=$([ -e $PMIX ] && echo 1 || true)
apt_ensure "${pkgs[@]}"

# 1b. NeMo-Run's Ray template reads `scontrol show job ID --json` (Slurm >= 23.02); Debian's 22.05
#     has no --json: /usr/local/bin/scontrol answers that one form, anything else is scontrol's.
cat > /usr/local/bin/scontrol.new <<'SH'
#!/bin/bash
# scripts/local-slurm.sh: `scontrol show job ID --json` for Slurm 22.05 (jobs[].job_id,
# current_working_directory, job_state, name); every other use runs /usr/bin/scontrol.
if [ "$#" = 4 ] && [ "$1" = show ] && [ "$2" = job ] && [ "$4" = --json ]; then
  line=$(/usr/bin/scontrol show job "$3" -o) || exit
  field() { printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
  exec jq -n --arg id "$3" --arg cwd "$(field WorkDir)" --arg state "$(field JobState)" \
    --arg name "$(field JobName)" \
    '{jobs: [{job_id: ($id | tonumber), current_working_directory: $cwd, job_state: [$state], name: $name}]}'
fi
exec /usr/bin/scontrol "$@"
SH
chmod 0755 /usr/local/bin/scontrol.new
mv /usr/local/bin/scontrol.new /usr/local/bin/scontrol

# 2. munge (munged refuses to run as root)
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown munge:munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0400 /etc/munge/munge.key; chmod 0755 /run/munge
if ! munge_ok; then
  log "starting munged"
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  runuser -u munge -- /usr/sbin/munged
  wait_for 50 munge_ok || die 4 "munged did not start"
fi

# 3. accounting: MariaDB on a socket + slurmdbd
mkdir -p /etc/slurm /var/log/slurm /var/spool/slurmctld /var/spool/slurmd
if [ "$ACCT" = dbd ]; then
  db_ok() { mariadb-admin ping >/dev/null 2>&1; }
  dbd_ok() { (exec 3<>/dev/tcp/127.0.0.1/6819) 2>/dev/null; }
  mkdir -p /run/mysqld && chown mysql:root /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  if ! db_ok; then
    log "starting mariadbd (socket only)"
    setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --socket=/run/mysqld/mysqld.sock \
      --skip-networking --pid-file=/run/mysqld/mysqld.pid >/var/log/slurm/mariadb.log 2>&1 &
    wait_for 150 db_ok || die 4 "mariadbd did not start (/var/log/slurm/mariadb.log)"
  fi
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  umask 077
  cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmpw
PidFile=/run/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
CONF
  umask 022
  if ! alive /run/slurmdbd.pid; then log "starting slurmdbd"; /usr/sbin/slurmdbd; fi
  wait_for 150 dbd_ok || die 4 "slurmdbd did not listen on :6819 (/var/log/slurm/slurmdbd.log)"
  ACCT_LINES="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
else
  ACCT_LINES="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi

# 4. slurm.conf (rewritten only when it changes)
MEM_MB=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf.new <<CONF
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=3600
KillWait=5
SchedulerParameters=sched_interval=1
${ACCT_LINES}
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if cmp -s /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf; then
  rm /etc/slurm/slurm.conf.new
else
  mv /etc/slurm/slurm.conf.new /etc/slurm/slurm.conf
  for p in /run/slurmd.pid /run/slurmctld.pid; do
    if alive $p; then
      pid=$(cat $p); log "slurm.conf changed: stopping pid $pid"; kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
fi

# 5. daemons (the cluster must be known to slurmdbd before slurmctld registers)
if [ "$ACCT" = dbd ]; then
  sacctmgr -i add cluster localcluster >/dev/null 2>&1 || true
fi
alive /run/slurmctld.pid || { log "starting slurmctld"; /usr/sbin/slurmctld; }
alive /run/slurmd.pid || { log "starting slurmd"; /usr/sbin/slurmd -N localhost; }
# a slurmd started before libpmix was installed cannot launch `--mpi=pmix` steps until it reloads
[ -z "$had_pmix" ] && alive /run/slurmd.pid && scontrol reconfigure >/dev/null 2>&1 || true

# 6. wait for the node to accept jobs
node_ready() {
  local st; st=$(sinfo -h -N -n localhost -o %t 2>/dev/null || true)
  case "$st" in
    idle|mix|alloc|comp) return 0;;
    down*|drain*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true;;
  esac
  return 1
}
wait_for 150 node_ready || die 4 "node localhost not idle: $(sinfo -h -N -o '%t %E' 2>&1)"
sinfo -N -o '%N %P %t %c %m'
log "ready (accounting=$ACCT)"
