#!/usr/bin/env bash
# Installs the plugin where the system's GStreamer finds it, and the service
# with a hardened systemd unit and an example configuration; or removes them.
#
#   scripts/install.sh                      # build (release) and install
#   scripts/install.sh --uninstall          # remove what it installed (keeps /etc/avmonitor)
#   scripts/install.sh --uninstall --purge  # and the configuration, logs, state, user
#
# Run as yourself: it builds with your Rust toolchain, then installs
# through sudo (or run it as root).
#
# Options: --prefix DIR (the service binary goes to DIR/bin; default
# /usr/local), --unit-dir DIR (default /etc/systemd/system; packages use
# /lib/systemd/system), --plugin-only (no service), --from DIR (install the
# libgstavmonitor.so and avmonitor already built in DIR instead of
# building). DESTDIR stages everything under a folder (for packages and
# tests): then no user is made and systemd is not told.
#
# The plugin folder is the one GStreamer's pkg-config file names
# (`pkg-config --variable=pluginsdir gstreamer-1.0`), so after installing
# `gst-inspect-1.0 avmonitor` works in a new shell with nothing set.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[install] %s\n' "$*" >&2; }

args=("$@")
prefix=/usr/local
unit_dir_opt=/etc/systemd/system
from=""
uninstall=false
purge=false
service=true
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a folder}; shift 2 ;;
    --from) from=${2:?--from needs a folder}; shift 2 ;;
    --uninstall) uninstall=true; shift ;;
    --purge) purge=true; shift ;;
    --plugin-only) service=false; shift ;;
    --unit-dir) unit_dir_opt=${2:?--unit-dir needs a folder}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) say "unknown option $1 (see --help)"; exit 2 ;;
  esac
done
DESTDIR=${DESTDIR:-}
system=false
if [ -z "$DESTDIR" ]; then
  system=true
fi

if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists gstreamer-1.0; then
  bash scripts/setup.sh
fi
pluginsdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
plugin="$DESTDIR$pluginsdir/libgstavmonitor.so"
bin="$DESTDIR$prefix/bin/avmonitor"
unit_dir="$DESTDIR$unit_dir_opt"
unit="$unit_dir/avmonitor.service"
conf_dir="$DESTDIR/etc/avmonitor"

if $uninstall; then
  if $system && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "removing from the system needs root"; exit 1; }
    exec sudo bash "$0" "${args[@]}"
  fi
  rm -f "$plugin"
  say "removed $plugin"
  if $service; then
    if $system && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now avmonitor.service 2>/dev/null || true
    fi
    rm -f "$bin" "$unit"
    say "removed $bin and $unit"
    if $system && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl daemon-reload
    fi
    if $purge; then
      rm -rf "$conf_dir" "$DESTDIR/var/log/avmonitor" "$DESTDIR/var/lib/avmonitor"
      if $system && id avmonitor >/dev/null 2>&1; then userdel avmonitor; fi
      say "removed the configuration, logs, state and the avmonitor user"
    else
      say "kept $conf_dir (--purge removes it)"
    fi
  fi
  exit 0
fi

if [ -z "$from" ]; then
  bash scripts/setup.sh
  export PATH="$HOME/.cargo/bin:$PATH"
  say "building (release)"
  cargo build --quiet --release -p gst-plugin-avmonitor
  $service && cargo build --quiet --release -p avmonitor --bin avmonitor
  from=target/release
fi
if $system && [ "$(id -u)" -ne 0 ]; then
  # built as the user; installed as root
  command -v sudo >/dev/null 2>&1 || { say "installing into the system needs root (or DESTDIR to stage)"; exit 1; }
  say "installing with sudo"
  exec sudo bash "$0" "${args[@]}" --from "$(cd "$from" && pwd)"
fi
[ -f "$from/libgstavmonitor.so" ] || { say "no $from/libgstavmonitor.so"; exit 1; }

install -D -m 0644 "$from/libgstavmonitor.so" "$plugin"
say "plugin: $plugin"
if $service; then
  [ -f "$from/avmonitor" ] || { say "no $from/avmonitor"; exit 1; }
  install -D -m 0755 "$from/avmonitor" "$bin"
  mkdir -p "$unit_dir"
  sed "s|@BINDIR@|$prefix/bin|g" deploy/systemd/avmonitor.service > "$unit"
  chmod 0644 "$unit"
  # the configuration is the user's once there: never overwritten
  if [ -e "$conf_dir/avmonitor.toml" ]; then
    say "kept the configuration already in $conf_dir"
  else
    install -D -m 0644 deploy/systemd/avmonitor.toml "$conf_dir/avmonitor.toml"
  fi
  say "service: $bin, $unit, $conf_dir/avmonitor.toml"
  if $system; then
    if ! id avmonitor >/dev/null 2>&1; then
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin avmonitor
      say "made the system user avmonitor"
    fi
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl daemon-reload
      say "start it with: systemctl enable --now avmonitor"
    else
      say "systemd is not running here: the unit is in place for when it is"
    fi
  fi
fi
if $system; then
  # a new shell finds it with nothing set; show it now
  env -u GST_PLUGIN_PATH gst-inspect-1.0 avmonitor | sed -n '1,12p' >&2
fi
