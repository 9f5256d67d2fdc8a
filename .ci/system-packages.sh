#!/usr/bin/env bash
# Debian packages the portal needs at run time (WeasyPrint: pango, harfbuzz-subset, CJK fonts;
# CairoSVG for the charts in Word reports: cairo).
# With --test-tools, also what the tests need (pdffonts/pdftotext, Chromium for browser tests,
# slapd and ldap-utils for the LDAP log-in tests: tests/test_ldap.py starts its own slapd).
# npm for axe-core: the accessibility test's checker, installed into the git-ignored var/axe and
# never served to users; tests/browser/test_accessibility.py installs it too if it is missing).
# Installs them when run as root; otherwise says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1  # the same pin as tests/browser/test_accessibility.py
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk libcairo2)  # libcairo2: CairoSVG, the Word reports' charts
if [[ "${1:-}" == "--test-tools" ]]; then
  packages+=(poppler-utils chromium slapd ldap-utils nodejs)
fi

install_axe() {
  [[ "${1:-}" == "--test-tools" ]] || return 0
  if ! grep -qs "\"version\": \"${AXE_VERSION}\"" var/axe/node_modules/axe-core/package.json; then
    echo "安装 axe-core ${AXE_VERSION} 到 var/axe (installing the accessibility checker for tests)"
    npm install --prefix var/axe "axe-core@${AXE_VERSION}" --no-audit --no-fund --silent
  fi
}
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "非 Debian/Ubuntu 系统：请自行安装 pango、harfbuzz-subset 和 Noto CJK 字体。 (Not Debian: install pango, harfbuzz-subset and Noto CJK fonts yourself.)"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm (its npm package); a nodejs from elsewhere may bring its own.
if [[ "${1:-}" == "--test-tools" ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  install_axe "${1:-}"
  exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
  echo "安装系统软件包 (installing): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  install_axe "${1:-}"
else
  echo "缺少系统软件包，请运行 (missing system packages, please run):"
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}"
  exit 1
fi
