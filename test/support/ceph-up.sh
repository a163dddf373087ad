#!/usr/bin/env bash
# ceph-up.sh — bring up a throw-away single-node Ceph cluster (1 mon, 1 OSD, 1 radosgw)
# entirely under one directory, bound to 127.0.0.1, without systemd. Run as root.
# The test harness (test/support/ceph.ts) runs it with free ports and a fresh temp DIR, and
# runs ceph-down.sh at the end. Adapted from the project's shared reference bring-up.
#
# Needs Debian 12 packages:  apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common
#
# Usage:  ceph-up.sh [DIR]          (DIR default: a new mktemp dir under $TMPDIR or /tmp)
# Env knobs (all optional):
#   MON_PORT=46789        msgr2 port of the monitor (only msgr2 is bound; v1 is off)
#   RGW_PORT=47480        beast HTTP port of radosgw (S3 + admin ops API)
#   OSD_PORT_MIN=46800    OSD/RGW messenger ports are picked from [OSD_PORT_MIN, OSD_PORT_MIN+99]
#   OSD_STORE=memstore    memstore (RAM, fastest) | bluestore (sparse file $DIR/osd/ceph-0/block)
#   OSD_BYTES=1073741824  memstore device bytes / bluestore block file size
#   CEPH_AUTH=cephx       cephx | none   (daemon<->daemon auth; S3 keys work either way)
#   S3_ACCESS_KEY / S3_SECRET_KEY / S3_UID   admin S3 user created at the end
#   S3_SYSTEM=1           make that user a --system user: only a system user may read the
#                         config (versioning, policy, lock...) of buckets owned by OTHER users;
#                         admin caps alone give AccessDenied there. S3_SYSTEM=0 for a plain user.
#   UP_TIMEOUT=120        seconds to wait for each stage
#   RGW_OPS_LOG=PATH      write radosgw's ops log to this file (JSON lines)
#
# On success prints (and writes to $DIR/env) shell assignments:
#   CEPH_DIR, CEPH_CONF, S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_UID, CEPH_PIDS
# Tear down with: ceph-down.sh $DIR
set -euo pipefail

D=${1:-${CEPH_DIR:-}}
if [[ -z "$D" ]]; then D=$(mktemp -d "${TMPDIR:-/tmp}/ceph-s3.XXXXXX"); fi
mkdir -p "$D"
D=$(cd "$D" && pwd)
MON_PORT=${MON_PORT:-46789}
RGW_PORT=${RGW_PORT:-47480}
OSD_PORT_MIN=${OSD_PORT_MIN:-46800}
OSD_STORE=${OSD_STORE:-memstore}
OSD_BYTES=${OSD_BYTES:-1073741824}
CEPH_AUTH=${CEPH_AUTH:-cephx}
S3_UID=${S3_UID:-auditadmin}
S3_ACCESS_KEY=${S3_ACCESS_KEY:-AUDITADMINACCESSKEY1}
S3_SECRET_KEY=${S3_SECRET_KEY:-auditadminsecretkey0000000000000000000001}
UP_TIMEOUT=${UP_TIMEOUT:-120}
S3_SYSTEM=${S3_SYSTEM:-1}

T0=$(date +%s%N)
log() { local ms=$((($(date +%s%N) - T0) / 1000000)); printf '[ceph-up %4d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*" >&2; }
CLEANUP=0
die() {
  log "FAILED: $*"
  for f in "$D"/log/*.log; do [[ -f $f ]] && { echo "---- tail $f" >&2; tail -n 25 "$f" >&2; }; done
  # stop whatever this run started (keeps $D for the logs)
  if ((CLEANUP)) && [[ -x "$(dirname "$0")/ceph-down.sh" ]]; then KEEP=1 "$(dirname "$0")/ceph-down.sh" "$D" >&2 || true; fi
  exit 1
}
http_ok() { # GET / on the RGW port answers 200? (bash /dev/tcp: no curl needed)
  local line
  { exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -t 5 line <&3 || line=
  exec 3<&- 3>&-
  [[ $line == *" 200 "* ]]
}
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
  command -v "$b" >/dev/null || die "missing $b (apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)"
done
if [[ -e "$D/ceph.conf" ]]; then die "$D already holds a cluster (ceph-down.sh $D first)"; fi

CLEANUP=1
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$D"/{run,log,crash,mon/ceph-a,osd/ceph-0,rgw/ceph-gw}
CONF="$D/ceph.conf"

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr1 = false
ms bind msgr2 = true
ms bind port min = $OSD_PORT_MIN
ms bind port max = $((OSD_PORT_MIN + 99))
auth cluster required = $CEPH_AUTH
auth service required = $CEPH_AUTH
auth client required = $CEPH_AUTH
auth allow insecure global id reclaim = false
# fail fast instead of the 300 s default when a daemon/CLI cannot reach the mon
client mount timeout = 30
rados mon op timeout = 60
keyring = $D/keyring
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
crash dir = $D/crash
log to stderr = false
err to stderr = false
mon cluster log file = $D/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
# no ceph-mgr in this setup: do not complain / wait for it
mon warn on osd down out interval zero = false
[mon]
mon data = $D/mon/ceph-\$id
# commit map changes fast: with the default 1 s every pool that radosgw creates costs ~2 s
paxos propose interval = 0.01
paxos min wait = 0.001
[osd]
osd data = $D/osd/ceph-\$id
osd objectstore = $OSD_STORE
memstore device bytes = $OSD_BYTES
bluestore block create = true
bluestore block size = $OSD_BYTES
bluestore fsck on mkfs = false
bluestore cache autotune = false
bluestore cache size = 67108864
osd memory target = 939524096
osd crush update on start = true
osd crush initial weight = 1
osd op num shards = 1
osd op num threads per shard = 2
osd class load list = *
osd class default list = *
[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT${RGW_TCP_NODELAY:+ tcp_nodelay=1}
rgw data = $D/rgw/ceph-gw
rgw thread pool size = 64
rgw enable usage log = true
rgw dns name = 127.0.0.1
EOF
# The ops log as a file (one JSON object per line), for the watcher's RGW source.
if [[ -n ${RGW_OPS_LOG:-} ]]; then
  printf 'rgw enable ops log = true\nrgw ops log rados = false\nrgw ops log file path = %s\n' "$RGW_OPS_LOG" >>"$CONF"
fi
# radosgw's built-in defaults force ms_mon_client_mode=secure, impossible without cephx
if [[ $CEPH_AUTH == none ]]; then echo "ms mon client mode = crc" >>"$CONF"; fi

# ---- keys ---------------------------------------------------------------
if [[ $CEPH_AUTH == cephx ]]; then
  ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
  ceph-authtool "$D/keyring" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null
else
  : >"$D/keyring"
fi

C=(-c "$CONF")
# ---- monitor ------------------------------------------------------------
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" || die "ceph-mon --mkfs"
ceph-mon "${C[@]}" -i a || die "ceph-mon start"
log "mon started"
ok=0
for _ in $(seq 1 $((UP_TIMEOUT * 2))); do
  if timeout 10 ceph "${C[@]}" --connect-timeout 5 mon stat >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.5
done
((ok)) || die "monitor did not answer"
log "mon answers"

# ---- OSD ----------------------------------------------------------------
OSD_ID=$(ceph "${C[@]}" osd new "$OSD_UUID")
[[ $OSD_ID == 0 ]] || die "unexpected osd id $OSD_ID"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$D/log/osd-mkfs.out" 2>&1 || die "ceph-osd --mkfs ($(tail -3 "$D/log/osd-mkfs.out"))"
ceph-osd "${C[@]}" -i 0 || die "ceph-osd start"
log "osd started ($OSD_STORE)"
ok=0
for _ in $(seq 1 $((UP_TIMEOUT * 2))); do
  if ceph "${C[@]}" osd dump 2>/dev/null | grep -q '^osd\.0 up'; then ok=1; break; fi
  sleep 0.5
done
((ok)) || die "osd.0 not up"
log "osd.0 up"

# ---- radosgw ------------------------------------------------------------
radosgw "${C[@]}" -n client.rgw.gw || die "radosgw start"
log "radosgw started"
ok=0
for _ in $(seq 1 $((UP_TIMEOUT * 4))); do
  if http_ok; then ok=1; break; fi
  sleep 0.25
done
((ok)) || die "radosgw not answering on 127.0.0.1:$RGW_PORT"
log "radosgw answers HTTP"

SYS=(); [[ $S3_SYSTEM == 1 ]] && SYS=(--system)
radosgw-admin "${C[@]}" user create --uid="$S3_UID" --display-name="Audit admin" "${SYS[@]}" \
  --access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" \
  --caps="users=*;buckets=*;metadata=*;usage=*;zone=*" >"$D/admin-user.json" 2>"$D/log/radosgw-admin.err" \
  || die "radosgw-admin user create ($(tail -3 "$D/log/radosgw-admin.err"))"
log "S3 user $S3_UID created"

PIDS=$(cat "$D"/run/*.pid | tr '\n' ' ')
cat >"$D/env" <<EOF
CEPH_DIR=$D
CEPH_CONF=$CONF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
S3_UID=$S3_UID
CEPH_PIDS="${PIDS% }"
EOF
cat "$D/env"
log "ready"
