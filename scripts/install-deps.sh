#!/bin/sh
# Installs the system packages tok builds with, if any is missing (Debian/Ubuntu); with the argument `test`, also
# those the tests need (chromium renders tok eval's HTML report).
set -e
pkgs="libicu-dev libzstd-dev pkg-config zstd unicode-data"
[ "${1:-}" = test ] && pkgs="$pkgs chromium"
# shellcheck disable=SC2086
exec "$(dirname "$0")/ensure-packages.sh" $pkgs
