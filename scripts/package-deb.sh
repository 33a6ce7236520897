#!/usr/bin/env bash
# Builds the Debian packages from the repository:
#   gstreamer1.0-avmonitor   the plugin, in GStreamer's plugin folder
#   avmonitor                the service: /usr/bin/avmonitor, its hardened
#                            systemd unit, /etc/avmonitor/avmonitor.toml
#                            (a conffile), the avmonitor system user
#
#   scripts/package-deb.sh [--out DIR] [--from DIR]
#   sudo apt install ./target/debian/gstreamer1.0-avmonitor_*.deb ./target/debian/avmonitor_*.deb
#
# The files are staged by scripts/install.sh (DESTDIR), so the packages hold
# what the install script installs. The shared-library dependencies come
# from dpkg-shlibdeps; the GStreamer plugins the service plugs (decoders,
# demuxers, sources) are declared beside them. --from DIR packages a build
# already made there (default: build in release mode into target/release).
# DEB_COMPRESSION (xz, gzip, zstd, none) picks dpkg-deb's compression.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[package] %s\n' "$*" >&2; }

out=target/debian
from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --from) from=${2:?--from needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) say "unknown option $1 (see --help)"; exit 2 ;;
  esac
done
bash scripts/setup.sh dpkg-dev
if [ -z "$from" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
  say "building (release)"
  cargo build --quiet --release -p gst-plugin-avmonitor
  cargo build --quiet --release -p avmonitor --bin avmonitor
  from=target/release
fi
from=$(cd "$from" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the shared libraries a binary needs, as Debian package dependencies
shlibdeps() {
  mkdir -p "$work/shlibs/debian"
  printf 'Source: avmonitor\n\nPackage: avmonitor\nArchitecture: any\n' > "$work/shlibs/debian/control"
  (cd "$work/shlibs" && dpkg-shlibdeps -O "$1" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# package NAME STAGE DEPENDS DESCRIPTION (the control file; the rest is staged)
package() {
  local name=$1 stage=$2 depends=$3 summary=$4 long=$5
  local size
  mkdir -p "$stage/DEBIAN" "$stage/usr/share/doc/$name"
  cp README.md "$stage/usr/share/doc/$name/"
  size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
  cat > "$stage/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: avmonitor developers <avmonitor@example.invalid>
Installed-Size: $size
Depends: $depends
Section: video
Priority: optional
Description: $summary
$(printf '%s\n' "$long" | fold -s -w 72 | sed 's/^/ /')
EOF
  find "$stage" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$stage" "$out/${name}_${version}_${arch}.deb" >/dev/null
  say "$out/${name}_${version}_${arch}.deb"
}

# the plugin
stage="$work/plugin"
DESTDIR="$stage" bash scripts/install.sh --from "$from" --plugin-only 2>/dev/null
plugin=$(find "$stage" -name libgstavmonitor.so)
package gstreamer1.0-avmonitor "$stage" "$(shlibdeps "$plugin")" \
  "GStreamer elements that watch audio and video for defects" \
  "Passthrough analysers for black, frozen, block-corrupted and test-pattern pictures, illegal levels, a changing active area, broken cadence, silence, clipping, phase, loudness (EBU R128) and lip-sync. Each posts bus messages and never changes a buffer; gst-inspect-1.0 avmonitor lists them."

# the service
stage="$work/service"
DESTDIR="$stage" bash scripts/install.sh --from "$from" --prefix /usr --unit-dir /lib/systemd/system 2>/dev/null
# the plugin comes in its own package (the service links its elements in)
rm -rf "$stage/usr/lib"
mkdir -p "$stage/DEBIAN"
echo /etc/avmonitor/avmonitor.toml > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd avmonitor >/dev/null; then
    adduser --system --group --no-create-home --home /nonexistent avmonitor >/dev/null
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
  fi
fi
EOF
cat > "$stage/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl stop avmonitor.service >/dev/null 2>&1 || true
fi
EOF
cat > "$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
  rm -rf /var/log/avmonitor /var/lib/avmonitor
  if getent passwd avmonitor >/dev/null; then deluser --system avmonitor >/dev/null || true; fi
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
EOF
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
package avmonitor "$stage" \
  "$(shlibdeps "$stage/usr/bin/avmonitor"), adduser, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-libav" \
  "Audio and video defect monitor for many streams in one process" \
  "Watches many streams (files, UDP, RTP, RTSP, SRT, HLS) in one process with the avmonitor GStreamer elements, and writes their defects as JSON Lines, Prometheus metrics, webhooks and alarms. Runs as a hardened systemd service (systemctl enable --now avmonitor) configured in /etc/avmonitor/avmonitor.toml."
