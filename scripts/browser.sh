#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (never a browser download).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
command -v apt-get >/dev/null || exit 1
[ "$(id -u)" = 0 ] || exit 1
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
