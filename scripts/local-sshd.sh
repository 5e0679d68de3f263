#!/usr/bin/env bash
# Start a private OpenSSH server on localhost, for tests of ssh tunnels (NeMo-Run's SSHTunnel).
#
#   sudo scripts/local-sshd.sh      # installs openssh-server if missing, starts sshd if not running
#
# Idempotent: a healthy sshd with the same config is left alone. Needs root. No systemd: sshd runs
# from a private config (the system's /etc/ssh/sshd_config is not used) and accepts only a
# throw-away client key, for root, on 127.0.0.1; SFTP requests are logged. Everything lives in
# $LOCAL_SSHD_DIR:
#   ssh_host_ed25519_key   the server's host key
#   id_ed25519             the client key (pass it as `identity`)
#   authorized_keys, sshd_config, sshd.pid, sshd.log
# The host key is added to /etc/ssh/ssh_known_hosts as [localhost]:PORT, so the `ssh` that
# rsync runs (NeMo-Run ships job files with rsync over ssh) trusts it without a prompt.
#   LOCAL_SSHD_PORT (default 2222)   LOCAL_SSHD_DIR (default /run/local-sshd)
# Exit codes: 0 ready; 3 package install failed; 4 sshd did not come up (see sshd.log).
set -euo pipefail
PORT=${LOCAL_SSHD_PORT:-2222}
DIR=${LOCAL_SSHD_DIR:-/run/local-sshd}
log() { echo "[local-sshd] $*"; }
die() { echo "[local-sshd] $2" >&2; exit "$1"; }
. "$(dirname "${BASH_SOURCE[0]}")/apt-ensure.sh"
[ "$(id -u)" = 0 ] || die 2 "needs root (sshd, and the key is authorized for root)"

# 1. packages (rsync: NeMo-Run copies the experiment folder with it)
apt_ensure openssh-server openssh-client rsync

# 2. keys and config (a root-owned folder: sshd's StrictModes checks the authorized_keys path)
mkdir -p "$DIR" /run/sshd && chmod 0755 "$DIR"
[ -s "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/ssh_host_ed25519_key"
[ -s "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C local-sshd-client -f "$DIR/id_ed25519"
install -m 0600 "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
cat > "$DIR/sshd_config.new" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 50:30:100
Subsystem sftp /usr/lib/openssh/sftp-server -e -l INFO 2>>$DIR/sftp.log
CONF
/usr/sbin/sshd -t -f "$DIR/sshd_config.new" || die 4 "sshd rejects $DIR/sshd_config.new"
alive() { [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null; }
if cmp -s "$DIR/sshd_config.new" "$DIR/sshd_config"; then
  rm "$DIR/sshd_config.new"
else
  mv "$DIR/sshd_config.new" "$DIR/sshd_config"
  if alive; then log "config changed: stopping sshd $(cat "$DIR/sshd.pid")"; kill "$(cat "$DIR/sshd.pid")"; sleep 0.3; fi
fi

# 3. trust the host key system-wide for [localhost]:PORT and [127.0.0.1]:PORT
KNOWN=/etc/ssh/ssh_known_hosts
touch "$KNOWN"
for h in "[localhost]:$PORT" "[127.0.0.1]:$PORT"; do
  line="$h $(cut -d' ' -f1-2 "$DIR/ssh_host_ed25519_key.pub")"
  grep -qxF "$line" "$KNOWN" || { ssh-keygen -q -R "$h" -f "$KNOWN" >/dev/null 2>&1 || true; echo "$line" >> "$KNOWN"; }
done
rm -f "$KNOWN.old"

# 4. start and check a login
if ! alive; then
  log "starting sshd on 127.0.0.1:$PORT"
  /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
fi
login() { ssh -q -p "$PORT" -i "$DIR/id_ed25519" -o BatchMode=yes -o ConnectTimeout=3 \
  -o IdentitiesOnly=yes root@localhost true </dev/null; }
for _ in $(seq 50); do login && { log "ready: root@localhost:$PORT identity=$DIR/id_ed25519"; exit 0; }; sleep 0.2; done
die 4 "cannot log in over ssh on port $PORT ($DIR/sshd.log)"
