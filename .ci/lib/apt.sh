# Sourced by the browser checks: installs a Debian package when it is missing, as root or with
# sudo, and stops the calling script (through its `die`) when it cannot.
apt_install() {
  local package=$1
  echo "installing Debian's $package"
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y "$package" >/dev/null || { apt-get update >/dev/null && apt-get install -y "$package" >/dev/null; } \
      || die "cannot apt-get install $package"
  else
    sudo apt-get install -y "$package" >/dev/null || die "cannot apt-get install $package"
  fi
}

# Debian's chromium at /usr/bin/chromium (what playwright-core drives; no browser download).
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing"
}
