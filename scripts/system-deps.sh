#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if missing:
#   gfortran, g++  - the native-kernels lab (Fortran and C++ kernels called through ctypes)
#   chromium       - browser end-to-end tests of the cockpit
#   bubblewrap     - the coding agent's sandbox for generated code (bwrap)
#   espeak-ng      - synthesised German/English speech for the speech-input tests
#   postgresql     - throwaway PostgreSQL clusters for the database tests (initdb, pg_ctl)
#   nginx          - the reverse proxy of deploy/nginx in front of a test cockpit
# Runs apt-get as root (or through sudo); without either it only warns.
set -euo pipefail

need=()
command -v gfortran >/dev/null 2>&1 || need+=(gfortran)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
# Chromium needs a font to render the cockpit page text.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "warning: missing ${need[*]}; install them with apt-get (needs root)" >&2
  exit 0
fi

echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
