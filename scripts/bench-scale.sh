#!/usr/bin/env bash
# How many streams one avmonitor process watches on one core.
#
# For each N (default 1 10 20 40), starts the service pinned to one core
# (taskset -c 0) with N live 1080p25 streams with 48 kHz stereo audio, made
# once and pushed again in real time (bench:raw), watched by blackdetect,
# freezedetect and silencedetect; after a warm-up, measures over a window the
# CPU time of the process (share of the core, and per stream), its resident
# memory (per stream, over the one-stream run), and from /metrics each
# stream's frame rate and processing lag: a stream below 24.5 fps or more than
# 0.5 s behind has fallen behind real time.
#
# Then the same with H.264 decoding (bench:h264: 1080p25 decoded by avdec_h264
# in every stream), with and without the detectors, to show what share of
# the CPU the detectors take next to decoding.
#
#   scripts/bench-scale.sh [N...]        e.g. scripts/bench-scale.sh 1 10 40 60
#   WINDOW=10 WARMUP=4 H264_N="1 2" scripts/bench-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
for tool in curl taskset; do
  command -v "$tool" > /dev/null || { echo "bench-scale: needs $tool (apt-get install curl util-linux)" >&2; exit 1; }
done
NS=${*:-1 10 20 40}
H264_N=${H264_N:-1 2}
WINDOW=${WINDOW:-10}
WARMUP=${WARMUP:-4}
PORT=${PORT:-9871}
DETS='["blackdetect", "freezedetect", "silencedetect"]'
cargo build --release --quiet -p avmonitor --bin avmonitor
BIN=./target/release/avmonitor
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TICK=$(getconf CLK_TCK)

config() { # kind n detectors
  {
    printf '[http]\nlisten = "127.0.0.1:%s"\n' "$PORT"
    for i in $(seq 1 "$2"); do
      printf '[[stream]]\nid = "s%s"\nuri = "bench:%s"\ndetectors = %s\n' "$i" "$1" "$3"
    done
  } > "$TMP/c.toml"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
metrics() { curl -s "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; }
frames() { printf '%s\n' "$1" | awk -F'[ }]' '/^avmonitor_frames_total/ {print $0}' | sed 's/.*stream="\([^"]*\)"} /\1 /'; }

# run kind n detectors -> prints "cpu_share rss_kb min_fps max_lag"
run() {
  config "$1" "$2" "$3"
  taskset -c 0 "$BIN" --config "$TMP/c.toml" > "$TMP/out" 2> "$TMP/err" &
  local pid=$!
  sleep "$WARMUP"
  local m0 c0 m1 c1
  m0=$(metrics); c0=$(cpu_ticks "$pid")
  sleep "$WINDOW"
  m1=$(metrics); c1=$(cpu_ticks "$pid")
  local rss; rss=$(rss_kb "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  local minfps
  minfps=$(join <(frames "$m0" | sort) <(frames "$m1" | sort) \
    | awk -v w="$WINDOW" 'BEGIN {m = 1e9} {f = ($3 - $2) / w; if (f < m) m = f} END {print m}')
  local lag
  lag=$(printf '%s\n' "$m1" | awk '/^avmonitor_processing_lag_seconds/ {v = $NF; if (v > m) m = v} END {print m + 0}')
  local downs; downs=$(grep -c stream-down "$TMP/out" || true)
  awk -v c="$((c1 - c0))" -v t="$TICK" -v w="$WINDOW" -v r="$rss" -v f="$minfps" -v l="$lag" -v d="$downs" \
    'BEGIN {printf "%.4f %d %.2f %.3f %d\n", c / t / w, r, f, l, d}'
}

echo "one core (taskset -c 0), window ${WINDOW} s after ${WARMUP} s"
echo
echo "raw 1080p25 + 48 kHz stereo, blackdetect + freezedetect + silencedetect"
printf '%6s %10s %12s %10s %12s %10s %8s %s\n' N "CPU %" "CPU/stream" "RSS MB" "MB/stream+" "min fps" "lag s" "behind"
base_rss=""
for n in $NS; do
  read -r cpu rss fps lag downs < <(run raw "$n" "$DETS")
  [ -z "$base_rss" ] && base_rss=$rss && base_n=$n
  per_mem=$(awk -v r="$rss" -v b="$base_rss" -v n="$n" -v bn="$base_n" 'BEGIN {if (n > bn) printf "%.2f", (r - b) / 1024 / (n - bn); else printf "-"}')
  behind=$(awk -v f="$fps" -v l="$lag" -v d="$downs" 'BEGIN {print (f < 24.5 || l > 0.5 || d > 0) ? "YES" : "no"}')
  awk -v n="$n" -v c="$cpu" -v r="$rss" -v pm="$per_mem" -v f="$fps" -v l="$lag" -v b="$behind" \
    'BEGIN {printf "%6d %9.1f%% %11.2f%% %10.1f %12s %10.2f %8.3f %s\n", n, c * 100, c * 100 / n, r / 1024, pm, f, l, b}'
done
echo
echo "H.264 1080p25 decoded in every stream (avdec_h264), with and without the detectors"
printf '%6s %14s %16s %18s %8s\n' N "decode CPU %" "+detectors CPU %" "detectors/decode" "behind"
for n in $H264_N; do
  read -r c0 _ f0 l0 d0 < <(run h264 "$n" "[]")
  read -r c1 _ f1 l1 d1 < <(run h264 "$n" "$DETS")
  awk -v n="$n" -v a="$c0" -v b="$c1" -v f="$f1" -v l="$l1" -v d="$d1" \
    'BEGIN {printf "%6d %13.1f%% %15.1f%% %17.1f%% %8s\n", n, a * 100, b * 100, (b - a) / a * 100, (f < 24.5 || l > 0.5 || d > 0) ? "YES" : "no"}'
done
