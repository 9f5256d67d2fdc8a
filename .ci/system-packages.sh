#!/usr/bin/env bash
# Debian packages the portal needs at run time (WeasyPrint: pango, harfbuzz-subset, CJK fonts).
# With --test-tools, also what the tests need (pdffonts/pdftotext, Chromium for browser tests,
# slapd and ldap-utils for the LDAP log-in tests: tests/test_ldap.py starts its own slapd).
# Installs them when run as root; otherwise says exactly what to install.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
if [[ "${1:-}" == "--test-tools" ]]; then
  packages+=(poppler-utils chromium slapd ldap-utils)
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "非 Debian/Ubuntu 系统：请自行安装 pango、harfbuzz-subset 和 Noto CJK 字体。 (Not Debian: install pango, harfbuzz-subset and Noto CJK fonts yourself.)"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  echo "安装系统软件包 (installing): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "缺少系统软件包，请运行 (missing system packages, please run):"
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 1
fi
