#!/usr/bin/env bash
# A single-node Slurm cluster on this machine for the workflow's Slurm test: munged, slurmctld
# and slurmd as plain background daemons (no systemd). Needs root and Debian's apt. Refuses to
# touch a Slurm configuration it did not write. Idempotent: with a usable node up, it only checks.
set -euo pipefail

state=${HPO_CORE_SLURM_STATE:-/var/spool/hpo-core-slurm}
conf=/etc/slurm/slurm.conf
marker="# hpo_core test cluster"

usable() { sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }
usable && exit 0

[ "$(id -u)" = 0 ] || { echo "start_slurm: needs root" >&2; exit 3; }
command -v apt-get >/dev/null || { echo "start_slurm: needs apt-get" >&2; exit 3; }
if [ -e "$conf" ] && ! head -1 "$conf" | grep -qF "$marker"; then
  echo "start_slurm: $conf exists and is not ours; not touching it" >&2; exit 3
fi

packages=""
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || packages+=" $p"
done
if [ -n "$packages" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $packages >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null; }
fi

mkdir -p "$state"/ctld "$state"/spool "$state"/log /run/munge /etc/slurm /etc/munge
chown slurm:slurm "$state"/ctld "$state"/log
chown munge:munge /run/munge /etc/munge
chmod 755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  head -c 1024 /dev/urandom > /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  su -s /bin/sh munge -c /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

host=$(hostname -s)
hardware=$(slurmd -C | head -1)  # NodeName=<host> CPUs=.. ... RealMemory=..
field() { tr ' ' '\n' <<<"$hardware" | sed -n "s/^$1=//p"; }
address=$(getent hosts "$host" | awk '{print $1; exit}')
cat > "$conf" <<EOF
$marker (tests/servers/start_slurm.sh)
ClusterName=hpo-core-test
SlurmctldHost=$host(${address:-127.0.0.1})
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/ctld/slurmctld.pid
SlurmdPidFile=$state/spool/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=${address:-127.0.0.1} CPUs=$(field CPUs) Sockets=$(field SocketsPerBoard) CoresPerSocket=$(field CoresPerSocket) ThreadsPerCore=$(field ThreadsPerCore) RealMemory=$(( $(field RealMemory) * 9 / 10 )) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
for _ in $(seq 120); do
  usable && exit 0
  scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
  sleep 0.5
done
echo "start_slurm: no usable node after 60 s; logs in $state/log" >&2
exit 1
