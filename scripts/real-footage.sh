#!/usr/bin/env bash
# blockdetect on clean real footage: false corruption starts per hour.
#
# A first measure for issue 15, not its corpus yet: clean footage only (no
# damage, so no recall), two clips. The footage is OpenCV's sample media as
# Debian ships it in the opencv-doc package (Apache-2.0 AND BSD-3-Clause,
# per its copyright file): vtest.avi (768x576, 10 fps, 79.5 s, a real
# camera scene, MPEG-4 DivX) and Megamind.avi (720x528, 23.976 fps, 11.3 s,
# a film trailer, Xvid). Each is decoded, encoded with x264 (preset medium:
# B-frames, scene cuts and adaptive quantisation as the encoder does them)
# at each of BPPS bits per pixel, decoded again and run through blockdetect
# from the pixels alone, and with slicecheck before the decoder (quantiser
# masking). Every corruption start on it is a false alarm; so is any black
# or freeze start (the clips have neither), counted in the pixels row.
#
# x264 with threads does not make the same stream twice, so counts vary by
# a few from run to run; both analyses of a row see the same encode.
#
#   scripts/real-footage.sh                 # BPPS="0.03 0.05 0.1 0.2"
#   BPPS=0.065 scripts/real-footage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p gst-plugin-avmonitor --lib
export GST_PLUGIN_PATH=$PWD/target/release
DIR=${DIR:-/tmp/avmonitor-footage}
BPPS=${BPPS:-"0.03 0.05 0.1 0.2"}
DATA=usr/share/doc/opencv-doc/examples/data
mkdir -p "$DIR"
if [ ! -f "$DIR/$DATA/vtest.avi" ] || [ ! -f "$DIR/$DATA/Megamind.avi" ]; then
  echo "[footage] fetching opencv-doc (about 95 MB) for its sample clips" >&2
  ( cd "$DIR"
    apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq && apt-get download opencv-doc >/dev/null; }
    dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -x "./$DATA/vtest.avi" "./$DATA/Megamind.avi"
    rm -f opencv-doc_*.deb )
fi
printf '%-9s %-10s %6s %8s %-10s %7s %9s %6s %6s\n' clip size bpp kb/s analysis starts per-hour black freeze
# clip, width, height, frames per second, seconds
for clip in "vtest 768 576 10 79.5" "Megamind 720 528 23.976 11.26"; do
  set -- $clip
  name=$1 w=$2 h=$3 fps=$4 secs=$5
  for bpp in $BPPS; do
    kbps=$(awk -v b="$bpp" -v w="$w" -v h="$h" -v f="$fps" 'BEGIN { printf "%d", b * w * h * f / 1000 + 0.5 }')
    # encoded once, so both analyses see the same stream
    coded="$DIR/$name-$bpp.mkv"
    gst-launch-1.0 -q filesrc location="$DIR/$DATA/$name.avi" ! decodebin ! videoconvert \
      ! x264enc bitrate="$kbps" speed-preset=medium ! h264parse ! matroskamux ! filesink location="$coded"
    for analysis in pixels slicecheck; do
      check=""
      [ "$analysis" = slicecheck ] && check="slicecheck !"
      out=$(gst-launch-1.0 -m filesrc location="$coded" ! matroskademux ! h264parse ! $check avdec_h264 \
        ! blackdetect ! freezedetect ! blockdetect post-messages=false ! fakesink 2>&1)
      count() { printf '%s\n' "$out" | grep -c "$1, event=(string)start" || true; }
      starts=$(count blockdetect)
      per_hour=$(awk -v n="$starts" -v s="$secs" 'BEGIN { printf "%d", n * 3600 / s }')
      printf '%-9s %-10s %6s %8s %-10s %7s %9s %6s %6s\n' "$name" "${w}x${h}" "$bpp" "$kbps" "$analysis" \
        "$starts" "$per_hour" "$(count blackdetect)" "$(count freezedetect)"
    done
  done
done
