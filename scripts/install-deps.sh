#!/bin/sh
# Installs the system packages tok builds with, if any is missing (Debian/Ubuntu); with the argument `test`, also
# those the tests need (chromium renders tok eval's HTML report).
set -e
pkgs="libicu-dev libzstd-dev pkg-config zstd unicode-data"
[ "${1:-}" = test ] && pkgs="$pkgs chromium"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
