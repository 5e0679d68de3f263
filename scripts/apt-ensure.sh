# Sourced by the local-*.sh scripts: `apt_ensure PKG...` installs the Debian packages not yet
# installed (uses the caller's `log` and `die`; exit code 3 when apt-get fails).
apt_ensure() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die 3 "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die 3 "apt-get install ${missing[*]} failed"
}
