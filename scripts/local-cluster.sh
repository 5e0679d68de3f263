#!/usr/bin/env bash
# A cluster in a box on localhost, failing the way a real cluster fails (see docs/cluster.md):
#   - Slurm from scripts/local-slurm.sh (slurmctld, slurmd, slurmdbd + MariaDB, munge);
#   - containers: our SPANK plugin (scripts/box/box_container.c, compiled here against Debian's
#     libslurm-dev) takes pyxis's srun options and runs each task in the image's root filesystem,
#     in its own mount namespace (only the declared mounts) and network namespace (loopback only);
#   - images: `nemotron/mbridge:*` and `nemotron/nemo-rl:*` (docs/training.md's two) = one debootstrap minbase rootfs + python3 + python3-venv
#     + python3-yaml (Python and one package of its own, nothing of ours), built once and cached
#     under $NEMOTRON_BOX_CACHE, keyed by its recipe;
#   - shared storage standing for Lustre: $NEMOTRON_BOX_LUSTRE, seen in jobs only when mounted;
#   - a login node: an sshd on 127.0.0.1:$NEMOTRON_BOX_SSH_PORT for user `boxuser`, key-only,
#     chrooted in a mount namespace of its own (scripts/box/login-root.sh): the system read-only,
#     the shared folder, its own $HOME ($NEMOTRON_BOX_HOMES/boxuser) and /tmp, nothing else of
#     this machine; its host key goes to $BOX/known_hosts only (the profile's `known_hosts`).
#
#   sudo scripts/local-cluster.sh     # idempotent; offline once the image is cached
#
# $NEMOTRON_BOX/env.toml holds a `box` profile for it (login node, identity, shared root, image).
#   NEMOTRON_BOX_CACHE (default /var/cache/nemotron-box)   NEMOTRON_BOX (default /run/nemotron-box)
#   NEMOTRON_BOX_LUSTRE (default /srv/box-lustre)          NEMOTRON_BOX_SSH_PORT (default 2223)
#   NEMOTRON_BOX_HOMES (default /var/lib/nemotron-box/home: the login node's home folders)
# Exit codes: 0 ready; 2 not root; 3 package install / image build failed; 4 a service did not start.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${NEMOTRON_BOX_CACHE:-/var/cache/nemotron-box}
BOX=${NEMOTRON_BOX:-/run/nemotron-box}
LUSTRE=${NEMOTRON_BOX_LUSTRE:-/srv/box-lustre}
PORT=${NEMOTRON_BOX_SSH_PORT:-2223}
HOMES=${NEMOTRON_BOX_HOMES:-/var/lib/nemotron-box/home}
BOXUSER=boxuser
T0=$(date +%s%N); ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
log() { echo "[local-cluster +$(ms)ms] $*"; }
die() { echo "[local-cluster] $2" >&2; exit "$1"; }
. "$(dirname "${BASH_SOURCE[0]}")/apt-ensure.sh"
[ "$(id -u)" = 0 ] || die 2 "needs root (Slurm, namespaces, sshd)"

# 1. Slurm (real accounting, as the tests' slurm fixture starts it)
LOCAL_SLURM_ACCOUNTING=${LOCAL_SLURM_ACCOUNTING:-dbd} bash "$HERE/local-slurm.sh" >/dev/null \
  || die 4 "scripts/local-slurm.sh failed"
log "slurm ready"

# 2. packages: debootstrap (images), libslurm-dev + gcc (the plugin), sshd + rsync (login node)
apt_ensure debootstrap libslurm-dev gcc libc6-dev openssh-server openssh-client rsync

# 3. the image: built once per recipe (change the recipe -> a new key -> a rebuild)
SUITE=bookworm MIRROR=http://deb.debian.org/debian INCLUDE=python3,python3-venv,python3-yaml
RECIPE="v1 minbase $SUITE $MIRROR $INCLUDE python->python3 hosts"
KEY=$(printf '%s' "$RECIPE" | sha256sum | cut -c1-16)
ROOTFS=$CACHE/images/nemo-$KEY
if [ ! -x "$ROOTFS/usr/bin/python3" ]; then
  log "building image nemo-$KEY (debootstrap $SUITE minbase + $INCLUDE; once)"
  mkdir -p "$CACHE/images" "$CACHE/debs"
  rm -rf "$ROOTFS.tmp"
  debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$CACHE/debs" \
    "$SUITE" "$ROOTFS.tmp" "$MIRROR" >"$CACHE/debootstrap-$KEY.log" 2>&1 \
    || die 3 "debootstrap failed ($CACHE/debootstrap-$KEY.log)"
  ln -sf python3 "$ROOTFS.tmp/usr/bin/python"       # the NeMo container has `python`
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$ROOTFS.tmp/etc/hosts"
  rm -rf "$ROOTFS.tmp/var/cache/apt/archives/"*.deb "$ROOTFS.tmp/var/lib/apt/lists/"*
  mv "$ROOTFS.tmp" "$ROOTFS"
fi
mkdir -p /etc/nemotron-box
printf '# image-name prefix -> root filesystem (scripts/local-cluster.sh)\nnemotron/mbridge %s\nnemotron/nemo-rl %s\n' \
  "$ROOTFS" "$ROOTFS" > /etc/nemotron-box/images.new
mv /etc/nemotron-box/images.new /etc/nemotron-box/images
log "image nemo-$KEY ready"

# 4. the SPANK plugin, rebuilt when its source changes; registered in plugstack.conf
PLUGDIR=/usr/local/lib/nemotron-box
SRC=$HERE/box/box_container.c
SUM=$(cat "$SRC" /usr/include/slurm/spank.h | sha256sum | cut -c1-16)  # contents only: any tree, same key
mkdir -p "$PLUGDIR"
if [ "$(cat "$PLUGDIR/box_container.sum" 2>/dev/null)" != "$SUM" ]; then
  log "compiling the SPANK plugin"
  gcc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$PLUGDIR/box_container.so.new" "$SRC" \
    || die 3 "the SPANK plugin does not compile"
  mv "$PLUGDIR/box_container.so.new" "$PLUGDIR/box_container.so"   # atomic for running sruns
  echo "$SUM" > "$PLUGDIR/box_container.sum"
fi
LINE="optional $PLUGDIR/box_container.so images=/etc/nemotron-box/images"
touch /etc/slurm/plugstack.conf
grep -qxF "$LINE" /etc/slurm/plugstack.conf || echo "$LINE" >> /etc/slurm/plugstack.conf
srun --help 2>&1 | grep -q -- --container-image || die 4 "srun does not list --container-image"

# 5. the shared folder (Lustre) and the login user (its home on the login node: $HOMES/boxuser)
id "$BOXUSER" >/dev/null 2>&1 || useradd -m -d "/home/$BOXUSER" -s /bin/bash "$BOXUSER"
usermod -p '*' "$BOXUSER"   # no password, not locked: sshd refuses locked accounts even with a key
mkdir -p "$LUSTRE/$BOXUSER" "$HOMES/$BOXUSER" && chmod 0755 "$LUSTRE"
chown "$BOXUSER:" "$LUSTRE/$BOXUSER" "$HOMES/$BOXUSER"

# 6. the login node's sshd (keys and config under $BOX/login, root-owned), chrooted into
#    $BOX/login-root inside its own mount namespace (scripts/box/login-root.sh)
D=$BOX/login ROOT=$BOX/login-root
mkdir -p "$D" "$ROOT" /run/sshd && chmod 0755 "$BOX" "$D"   # /run/sshd: `sshd -t` wants it
[ -s "$D/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$D/ssh_host_ed25519_key"
[ -s "$D/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C box-client -f "$D/id_ed25519"
install -m 0644 "$D/id_ed25519.pub" "$D/authorized_keys"
LOGIN_ROOT_SUM=$(sha256sum "$HERE/box/login-root.sh" | cut -c1-16)
cat > "$D/sshd_config.new" <<CONF
# the box's login node: chrooted in $ROOT (scripts/box/login-root.sh $LOGIN_ROOT_SUM)
Port $PORT
ListenAddress 127.0.0.1
HostKey $D/ssh_host_ed25519_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
AllowUsers $BOXUSER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 50:30:100
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
/usr/sbin/sshd -t -f "$D/sshd_config.new" || die 4 "sshd rejects $D/sshd_config.new"
alive() { [ -f "$D/sshd.pid" ] && kill -0 "$(cat "$D/sshd.pid")" 2>/dev/null; }
if cmp -s "$D/sshd_config.new" "$D/sshd_config"; then rm "$D/sshd_config.new"
else
  mv "$D/sshd_config.new" "$D/sshd_config"
  if alive; then kill "$(cat "$D/sshd.pid")"; sleep 0.3; fi
fi
KEYLINE=$(cut -d' ' -f1-2 "$D/ssh_host_ed25519_key.pub")
: > "$BOX/known_hosts.new"
for h in "[localhost]:$PORT" "[127.0.0.1]:$PORT"; do echo "$h $KEYLINE" >> "$BOX/known_hosts.new"; done
mv "$BOX/known_hosts.new" "$BOX/known_hosts"
alive || unshare --mount --propagation private \
  bash "$HERE/box/login-root.sh" "$ROOT" "$LUSTRE" "$HOMES/$BOXUSER" "$BOXUSER" "$D" \
  || die 4 "the login node's sshd did not start ($D/sshd.log)"
login() { ssh -q -p "$PORT" -i "$D/id_ed25519" -o BatchMode=yes -o ConnectTimeout=3 \
  -o IdentitiesOnly=yes -o UserKnownHostsFile="$BOX/known_hosts" "$BOXUSER@localhost" sinfo -h </dev/null; }
for _ in $(seq 50); do login >/dev/null 2>&1 && break; sleep 0.2; done
login >/dev/null 2>&1 || die 4 "cannot log in to the login node on port $PORT ($D/sshd.log)"

# 7. a profile for it, for users' env.toml (the tests and benchmarks/box.py start from it)
cat > "$BOX/env.toml.new" <<TOML
# The cluster in a box (scripts/local-cluster.sh): copy into a project's env.toml.
[artifacts]
root = "$LUSTRE/$BOXUSER/artifacts"

[box]
executor = "slurm"
partition = "debug"
time = "00:10:00"
tunnel = "ssh"
host = "localhost"
port = $PORT
user = "$BOXUSER"
identity = "$D/id_ed25519"
known_hosts = "$BOX/known_hosts"
remote_job_dir = "$LUSTRE/$BOXUSER/jobs"
shared_root = "$LUSTRE/$BOXUSER"
container_image = "nemotron/mbridge:0.6.2"
TOML
mv "$BOX/env.toml.new" "$BOX/env.toml"

log "ready: login $BOXUSER@localhost:$PORT (chroot $ROOT) identity=$D/id_ed25519 known_hosts=$BOX/known_hosts" \
  "shared=$LUSTRE/$BOXUSER images=nemotron/mbridge:*,nemotron/nemo-rl:* -> $ROOTFS"
