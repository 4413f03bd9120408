#!/usr/bin/env bash
# Installs what the tests and the example specs need, skipping whatever is already there:
# Debian packages (a local TigerVNC desktop and the X tools the tests check effects with),
# npm packages from the lock file, and the compiled library in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

# command → Debian package that provides it
declare -A PACKAGES=(
  [Xvnc]=tigervnc-standalone-server
  [vncpasswd]=tigervnc-tools
  [xterm]=xterm
  [xdotool]=xdotool
  [xclip]=xclip
  [xeyes]=x11-apps
  [xwd]=x11-apps
  [xwininfo]=x11-utils
  [xev]=x11-utils
  [xsetroot]=x11-xserver-utils
  [xrandr]=x11-xserver-utils
  [websockify]=websockify
  [x11vnc]=x11vnc
  [Xvfb]=xvfb
  [qemu-system-x86_64]=qemu-system-x86
  [openssl]=openssl
  [vncsnapshot]=vncsnapshot
  [strace]=strace
  [zenity]=zenity
  [xmessage]=x11-utils
  [fc-list]=fontconfig
  [display]=imagemagick
  [chromium]=chromium
)
missing=()
for command in "${!PACKAGES[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGES[$command]}")
done
# ImageMagick: /usr/local/bin may hold a stand-in `convert`, so look for the Debian one.
[ -x /usr/bin/convert ] || missing+=(imagemagick)

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "setup: need root (or sudo) to run: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run --silent build
