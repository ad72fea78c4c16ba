#!/usr/bin/env bash
# Make a fresh machine ready: a virtualenv with zhibu and its dev tools, plus what the browser
# tests and the charts need from Debian (Chromium, a CJK font). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'

need_apt=""
command -v chromium >/dev/null 2>&1 || need_apt="$need_apt chromium"
fc-list 2>/dev/null | grep -qi 'wqy\|noto sans cjk' || need_apt="$need_apt fonts-wqy-zenhei"
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing from Debian:$need_apt"
    # Another apt-get (an unattended upgrade, a second setup) may hold the dpkg lock: wait for it.
    if fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; then
      echo "waiting for another apt-get to finish (up to 10 minutes)..."
    fi
    apt_wait=(-o DPkg::Lock::Timeout=600)
    apt-get "${apt_wait[@]}" update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_wait[@]}" install -y -qq $need_apt >/dev/null
  else
    echo "note: could not install$need_apt (needs root and apt-get); browser tests will be skipped" >&2
  fi
fi
