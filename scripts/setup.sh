#!/usr/bin/env bash
# Installs what avmonitor needs on Debian/Ubuntu, only what is missing:
# GStreamer development packages and plugins (apt), and checks for Rust.
# Safe to run again. Sourced or run by demo.sh and test.sh.
set -euo pipefail

say() { printf '[setup] %s\n' "$*" >&2; }

PACKAGES=(
  pkg-config gcc libc6-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  gstreamer1.0-x fonts-dejavu-core
)
# extra packages a caller asks for (e.g. ffmpeg for the comparison benchmark)
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages: ${missing[*]}; this script installs them with apt-get (Debian/Ubuntu)."
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      say "need root (or sudo) to install: ${missing[*]}"; exit 1
    fi
  fi
  say "installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  say "system packages installed"
else
  say "system packages already installed"
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  say "Rust is not installed: install it with rustup (https://rustup.rs), Rust 1.92 or newer, then run this again."
  exit 1
fi
say "using $(cargo --version), GStreamer $(pkg-config --modversion gstreamer-1.0)"
