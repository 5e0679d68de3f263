#!/usr/bin/env bash
# The box's login node: its sshd runs chrooted into a root of its own, in a private mount
# namespace (scripts/local-cluster.sh starts it under `unshare --mount --propagation private`).
# That root holds the system (/usr and /etc, read-only), the shared folder at the same path,
# the login user's own $HOME and /tmp, the munge socket (sbatch, squeue, ...) and the sshd's
# files; nothing else of this machine: no checkout, no submit-side $HOME, no submit-side /tmp.
#
#   unshare --mount --propagation private bash login-root.sh ROOT SHARED HOME_SOURCE USER SSHD_DIR
set -euo pipefail
R=$1 SHARED=$2 HOME_SOURCE=$3 LOGIN_USER=$4 D=$5

mount -t tmpfs -o mode=0755 login-root "$R"
bind() {  # bind SOURCE at the same path in the root; `ro` as $2 makes it read-only there
  mkdir -p "$R$1"
  mount --rbind "$1" "$R$1"
  if [ "${2:-}" = ro ]; then mount -o remount,bind,ro "$R$1"; fi
}
bind /usr ro
bind /etc ro
for top in bin sbin lib lib32 lib64 libx32; do  # merged /usr: links; otherwise the folders
  if [ -L "/$top" ]; then ln -s "$(readlink "/$top")" "$R/$top"
  elif [ -d "/$top" ]; then bind "/$top" ro; fi
done
bind /dev
mkdir -p "$R/proc" && mount -t proc proc "$R/proc"
for tmp in /tmp /var/tmp; do mkdir -p "$R$tmp" && mount -t tmpfs -o mode=1777 tmp "$R$tmp"; done
mkdir -p "$R/run/sshd"
bind /run/munge
bind "$D"
bind "$SHARED"
mkdir -p "$R/home/$LOGIN_USER"
mount --bind "$HOME_SOURCE" "$R/home/$LOGIN_USER"
exec chroot "$R" /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
