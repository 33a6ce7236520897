#!/usr/bin/env bash
# How many streams one avmonitor process watches on one core.
#
# For each N (default 1 10 20 40), starts the service pinned to one core
# (taskset -c 0) with N live 1080p25 streams with 48 kHz stereo audio, made
# once and pushed again in real time (bench:raw), watched by blackdetect,
# freezedetect and silencedetect; after a warm-up, measures over a window the
# CPU time of the process (share of the core, and per stream), its resident
# memory (per stream, over the one-stream run), and from /metrics each
# stream's frame rate and processing lag at the end of the window: a stream
# below 24.5 fps or more than 0.5 s behind has fallen behind real time (the
# lag's peak within the window, read each second, is printed beside it).
#
# Then the same with H.264 decoding (bench:h264: 1080p25 decoded by avdec_h264
# in every stream), with and without the detectors, to show what share of
# the CPU the detectors take next to decoding.
#
#   scripts/bench-scale.sh [N...]        e.g. scripts/bench-scale.sh 1 10 40 60
#   WINDOW=10 WARMUP=4 H264_N="1 2" scripts/bench-scale.sh
#
# `scripts/bench-scale.sh cost` prints instead the cost table a deployment
# is planned from (docs/cost.md): for H.264 and HEVC at 1080p25 and 720p50
# (8/6 Mb/s and 4/3 Mb/s, 3 B-frames, 2 s GOP, made once from the real
# footage of scripts/footage.sh, with AAC stereo at 128 kb/s) played in
# real time from files, one core (taskset -c 0): per detector set and
# decoding option, the CPU and memory per stream, and the number of
# streams one core holds before any falls behind (found by running that
# many and one more; the count found must hold a second time, CONFIRM=0
# skips that). Beside them, in the same run, FFmpeg's decoding alone of the
# frames the default set decodes (`ffmpeg -threads 1 -skip_frame ...`, the
# picture and the sound, no analysis): the floor no monitor built on
# libavcodec goes under, the most streams a core could hold at all, and the
# service's default over it (the ratio, printed after the table); and as
# many FFmpeg processes at once as the default set held, live-paced (-re)
# on the one core, measured over the same window: the service's CPU for
# that many streams over theirs.
# COST_MEDIA and COST_SETS pick rows, e.g.
#   COST_MEDIA="h264-1080p25" COST_SETS="default full" scripts/bench-scale.sh cost
# Every stream plays the same file in step unless STAGGER=1, which spreads
# them over copies begun at other keyframes (see `staggered`), FFmpeg's
# processes at once too.
set -euo pipefail
cd "$(dirname "$0")/.."
# (ffmpeg: the decoding floor of the cost table)
bash scripts/setup.sh ffmpeg
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

config() { # kind-or-file n detectors [stream lines] [global lines]
  local uri="bench:$1" uris=()
  [ -f "$1" ] && uri="$1"
  if [ -f "$1" ] && [ "${STAGGER:-0}" = 1 ]; then
    mapfile -t uris < <(staggered "$1")
  fi
  {
    printf '[http]\nlisten = "127.0.0.1:%s"\n%b' "$PORT" "${5:-}"
    for i in $(seq 1 "$2"); do
      [ "${#uris[@]}" -gt 0 ] && uri=${uris[$(((i - 1) % ${#uris[@]}))]}
      printf '[[stream]]\nid = "s%s"\nuri = "%s"\ndetectors = %s\n%b' "$i" "$uri" "$3" "${4:-}"
    done
  } > "$TMP/c.toml"
}

# staggered FILE -> FILE and copies of it that begin at other keyframes
# (the part before put after: the same pictures and sound, in another
# order), made once, for STAGGER=1: the streams of a run then do not meet
# the file's hard scenes and its keyframes at the same moments, as
# independent channels do not. Without it every stream plays the file in
# step, the worst case: each scene cut and keyframe decoded by all at once
staggered() {
  local file=$1 k=${STAGGER_COPIES:-8} secs keys i
  secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
  # the keyframes' times, from the packets' flags (nothing decoded)
  keys=$(ffprobe -v error -select_streams v -show_entries packet=pts_time,flags -of csv=p=0 "$file" \
    | awk -F, '$2 ~ /K/ {print $1}')
  echo "$file"
  for i in $(seq 1 $((k - 1))); do
    local at out
    # the first keyframe at or after i/k of the way in
    at=$(awk -v t="$(awk -v s="$secs" -v i="$i" -v k="$k" 'BEGIN {print s * i / k}')" \
      '$1 >= t {print $1; exit}' <<< "$keys")
    out="${file%.mp4}.from-$at.mp4"
    if [ ! -s "$out" ]; then
      printf "file '%s'\ninpoint %s\nfile '%s'\noutpoint %s\n" "$file" "$at" "$file" "$at" > "$TMP/list"
      ffmpeg -v error -nostdin -y -f concat -safe 0 -i "$TMP/list" -c copy "$out.part.mp4" >&2
      mv "$out.part.mp4" "$out"
    fi
    echo "$out"
  done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
metrics() { curl -s "http://127.0.0.1:$PORT/metrics" 2>/dev/null || true; }
# frames METRICS -> "stream count" per stream: video frames analysed, or
# (RATE_OF=samples) audio samples
frames() { printf '%s\n' "$1" | awk -F'[ }]' -v m="^avmonitor_${RATE_OF:-frames}_total" '$0 ~ m {print $0}' | sed 's/.*stream="\([^"]*\)"} /\1 /'; }

# run kind n detectors [stream lines] [global lines] -> prints "cpu_share
# rss_kb min_fps lag downs peak_lag": lag, the largest of the streams' at
# the end of the window; peak_lag, the largest read in it
run() {
  config "$@"
  taskset -c 0 "$BIN" --config "$TMP/c.toml" > "$TMP/out" 2> "$TMP/err" &
  local pid=$!
  sleep "$WARMUP"
  local m0 c0 m1 c1
  m0=$(metrics); c0=$(cpu_ticks "$pid")
  local t0; t0=$(date +%s%N)
  # the lag read each second of the window too, the largest kept (the
  # peak, printed): streams started together on one file decode their
  # keyframes at the same moments, and the lag peaks there for a moment
  local peak=0 s mid
  for s in $(seq 2 "$WINDOW"); do
    sleep 1
    mid=$(metrics)
    peak=$(printf '%s\n' "$mid" | awk -v m="$peak" '/^avmonitor_processing_lag_seconds/ {v = $NF; if (v > m) m = v} END {print m + 0}')
  done
  sleep 1
  m1=$(metrics); c1=$(cpu_ticks "$pid")
  # the window as it ran: the lag readings lengthen it a little
  local t1; t1=$(date +%s%N)
  local rss; rss=$(rss_kb "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  local minfps
  minfps=$(join <(frames "$m0" | sort) <(frames "$m1" | sort) \
    | awk -v w="$(((t1 - t0) / 1000000))" 'BEGIN {m = 1e9} {f = ($3 - $2) / (w / 1000); if (f < m) m = f} END {print m}')
  local lag
  lag=$(printf '%s\n' "$m1" | awk '/^avmonitor_processing_lag_seconds/ {v = $NF; if (v > m) m = v} END {print m + 0}')
  peak=$(awk -v a="$peak" -v b="$lag" 'BEGIN {print (b > a) ? b : a}')
  local downs; downs=$(grep -c stream-down "$TMP/out" || true)
  awk -v c="$((c1 - c0))" -v t="$TICK" -v w="$(((t1 - t0) / 1000000))" -v r="$rss" -v f="$minfps" -v l="$lag" -v d="$downs" -v p="$peak" \
    'BEGIN {printf "%.4f %d %.2f %.3f %d %.3f\n", c / t / (w / 1000), r, f, l, d, p}'
}


MEDIA_DIR=${AVMONITOR_BENCH_MEDIA:-$HOME/.cache/avmonitor/bench}

# media NAME CODEC WIDTH HEIGHT FPS KBPS -> prints the file, made once: the
# three real clips of scripts/footage.sh one after the other (26.5 s),
# scaled and brought to the frame rate, 3 B-frames, a 2 s GOP; AAC stereo.
# One segment throughout (identity single-segment): with the clips' own
# segments the timestamps went back at each join, mp4mux refused those
# samples, and the file held damaged pictures (blockdetect found them)
media() {
  local out="$MEDIA_DIR/$1.mp4"
  if [ ! -s "$out" ]; then
    mkdir -p "$MEDIA_DIR"
    local f enc parse scale
    f=$(bash scripts/footage.sh)
    case $2 in
      h264) enc="x264enc bitrate=$6 bframes=3 key-int-max=$(($5 * 2)) speed-preset=veryfast"; parse=h264parse ;;
      hevc) enc="x265enc bitrate=$6 key-int-max=$(($5 * 2)) speed-preset=veryfast option-string=bframes=3"; parse=h265parse ;;
    esac
    scale="videoconvert ! videoscale ! video/x-raw,width=$3,height=$4,pixel-aspect-ratio=1/1"
    echo "bench-scale: making $out (once)" >&2
    # shellcheck disable=SC2086
    gst-launch-1.0 -q -e concat name=c ! identity single-segment=true ! videoconvert ! videorate \
      ! "video/x-raw,format=I420,width=$3,height=$4,framerate=$5/1,pixel-aspect-ratio=1/1,colorimetry=bt709,chroma-site=mpeg2" \
      ! $enc ! $parse ! queue ! mux. \
      audiotestsrc wave=pink-noise volume=0.1 num-buffers=1240 samplesperbuffer=1024 \
      ! audio/x-raw,rate=48000,channels=2 ! voaacenc bitrate=128000 ! aacparse ! queue ! mux. \
      mp4mux name=mux ! filesink location="$out.part" \
      filesrc location="$f/bikes.mp4" ! decodebin ! $scale ! c. \
      filesrc location="$f/Megamind.avi" ! decodebin ! $scale ! c. \
      filesrc location="$f/bigbuckbunny.mp4" ! decodebin ! $scale ! c. >&2
    mv "$out.part" "$out"
  fi
  echo "$out"
}

# behind BASE_FPS min_fps lag downs -> "YES" or "no": a stream lags more
# than 0.5 s (the worse of its picture and its sound), or went down, or
# analysed fewer frames a second than each of two streams did. That last
# test is left out (BASE_FPS 0) where the decoder skips frames: how many
# it decodes a second then depends on the scene the window falls on,
# which moves with the start-up time of many streams (a 10-stream run
# read 8.38 frames a second, lag 0, against 8.62 for two)
behind() {
  awk -v n="$1" -v f="$2" -v l="$3" -v d="$4" \
    'BEGIN {print (f < 0.97 * n || l > 0.5 || d > 0) ? "YES" : "no"}'
}

# ffmpeg_skip CODEC -> FFmpeg's -skip_frame for the frames the service's
# default skips (H.264: every B-frame, `bidir`; HEVC: those nothing refers
# to, `noref`)
ffmpeg_skip() {
  if [ "$1" = hevc ]; then echo noref; else echo bidir; fi
}

# ffmpeg_floor FILE CODEC -> "cpu_share": one stream's picture and sound
# decoded by FFmpeg on one thread, with the frames skipped that the
# service's default skips (ffmpeg_skip), per second of media; the better
# of two runs
ffmpeg_floor() {
  local skip secs best=""
  skip=$(ffmpeg_skip "$2")
  secs=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1")
  for _ in 1 2; do
    local t
    if ! /usr/bin/time -o "$TMP/time" -f '%U %S' taskset -c 0 ffmpeg -v error -nostdin -threads 1 \
      -skip_frame "$skip" -i "$1" -f null - > /dev/null 2> "$TMP/ffmpeg"; then
      echo "bench-scale: ffmpeg failed on $1:" >&2
      cat "$TMP/ffmpeg" >&2
      exit 1
    fi
    t=$(awk 'END {print $1 + $2}' "$TMP/time")
    best=$(awk -v a="$t" -v b="$best" 'BEGIN {print (b == "" || a < b) ? a : b}')
  done
  awk -v t="$best" -v s="$secs" 'BEGIN {printf "%.4f\n", t / s}'
}

# ffmpeg_window FILE CODEC N -> "cpu_share": N FFmpeg processes at once on
# one core, each decoding as ffmpeg_floor does but reading its file at the
# media's pace (-re); their CPU share over the window after the warm-up, as
# `run` measures the service's (the same many-streams-a-core conditions:
# every decoder's working set passing through the one core's caches)
ffmpeg_window() {
  local skip i pids=() files=("$1")
  skip=$(ffmpeg_skip "$2")
  [ "${STAGGER:-0}" = 1 ] && mapfile -t files < <(staggered "$1")
  for i in $(seq 1 "$3"); do
    taskset -c 0 ffmpeg -v error -nostdin -re -threads 1 -skip_frame "$skip" -i "${files[$(((i - 1) % ${#files[@]}))]}" -f null - \
      > /dev/null 2> "$TMP/ffmpeg$i" &
    pids+=($!)
  done
  sleep "$WARMUP"
  local c0=0 c1=0 p
  for p in "${pids[@]}"; do c0=$((c0 + $(cpu_ticks "$p"))); done
  sleep "$WINDOW"
  for p in "${pids[@]}"; do
    if ! [ -e "/proc/$p/stat" ]; then
      echo "bench-scale: ffmpeg ended before the window did on $1:" >&2
      cat "$TMP"/ffmpeg* >&2
      exit 1
    fi
    c1=$((c1 + $(cpu_ticks "$p")))
  done
  kill "${pids[@]}" 2> /dev/null || true
  wait "${pids[@]}" 2> /dev/null || true
  awk -v c="$((c1 - c0))" -v t="$TICK" -v w="$WINDOW" 'BEGIN {printf "%.4f\n", c / t / w}'
}

# decode_only FILE PARSER N -> "cpu_share rss_kb": the same decoding in
# plain GStreamer (gst-launch-1.0, N paced copies, one decoder thread), what
# the service's figures compare with
decode_only() {
  local p="" i
  for i in $(seq 1 "$3"); do
    p="$p filesrc location=$1 ! qtdemux name=d$i d$i.video_0 ! queue ! $2 ! decodebin ! fakesink sync=true"
    p="$p d$i.audio_0 ! queue ! aacparse ! avdec_aac ! fakesink sync=true"
  done
  # shellcheck disable=SC2086
  taskset -c 0 gst-launch-1.0 -q $p > /dev/null 2>&1 &
  local pid=$!
  sleep "$WARMUP"
  local c0 c1 rss
  c0=$(cpu_ticks "$pid")
  sleep "$WINDOW"
  c1=$(cpu_ticks "$pid")
  rss=$(rss_kb "$pid")
  kill "$pid"; wait "$pid" 2> /dev/null || true
  awk -v c="$((c1 - c0))" -v t="$TICK" -v w="$WINDOW" -v r="$rss" 'BEGIN {printf "%.4f %d\n", c / t / w, r}'
}

cost() {
  local defaults='["blackdetect", "freezedetect", "silencedetect", "clipdetect", "loudnessmeter", "avsyncdetect"]'
  local all='["blackdetect", "freezedetect", "blockdetect", "silencedetect", "clipdetect", "phasedetect", "loudnessmeter", "avsyncdetect"]'
  local audio='["silencedetect", "clipdetect", "loudnessmeter"]'
  local medias=${COST_MEDIA:-h264-1080p25 h264-720p50 hevc-1080p25 hevc-720p50}
  local sets=${COST_SETS:-default full threads all step keyframes still audio}
  local order="every stream in step on one file (the worst case)"
  [ "${STAGGER:-0}" = 1 ] && order="streams staggered over ${STAGGER_COPIES:-8} copies begun at other keyframes (STAGGER=1)"
  echo "one core (taskset -c 0); live-paced files, ${order}; window ${WINDOW} s after ${WARMUP} s; $(nproc --all) cores here"
  echo
  echo "| media | detectors | decoding | CPU per stream | memory per stream | streams per core |"
  echo "|---|---|---|---|---|---|"
  local ratios=""
  for m in $medias; do
    local codec=${m%%-*} shape=${m#*-} file w h fps kbps
    case $shape in
      1080p25) w=1920 h=1080 fps=25 ;;
      720p50) w=1280 h=720 fps=50 ;;
    esac
    case $m in
      h264-1080p25) kbps=8000 ;;
      h264-720p50) kbps=6000 ;;
      hevc-1080p25) kbps=4000 ;;
      hevc-720p50) kbps=3000 ;;
    esac
    file=$(media "$m" "$codec" "$w" "$h" "$fps" "$kbps")
    local parser=h264parse
    [ "$codec" = hevc ] && parser=h265parse
    local dr2 dc6 dr6
    read -r _ dr2 < <(decode_only "$file" "$parser" 2)
    read -r dc6 dr6 < <(decode_only "$file" "$parser" 6)
    awk -v m="$m" -v c="$dc6" -v a="$dr2" -v b="$dr6" \
      'BEGIN {printf "| %s | none: gst-launch-1.0 decoding alone | every frame, libav default threads | %.1f%% | %.1f MB | - |\n", m, c * 100 / 6, (b - a) / 1024 / 4}'
    local floor
    floor=$(ffmpeg_floor "$file" "$codec")
    awk -v m="$m" -v f="$floor" \
      'BEGIN {printf "| %s | none: FFmpeg decoding alone (the floor) | as the default: B-frames skipped, 1 thread | %.1f%% | - | at most %d |\n", m, f * 100, int(1 / f)}'
    for set in $sets; do
      local dets stream_lines="realtime = true\n" global="" label decoding
      case $set in
        default) dets=$defaults label="default (avsyncdetect watching stalls)" decoding="B-frames skipped (H.264: all of them; HEVC: non-reference only), 1 thread" ;;
        full) dets=$defaults label="default, lip-sync measured (skip-frames = false)" decoding="every frame, 1 thread"
          stream_lines="${stream_lines}skip-frames = false\n" ;;
        threads) dets=$defaults label="default, lip-sync measured" decoding="every frame, $(nproc --all) threads (libav's choice unpinned)"
          stream_lines="${stream_lines}skip-frames = false\n" global="[decode]\nthreads = $(nproc --all)\n" ;;
        all) dets=$all label="all eight" decoding="every frame, 1 thread" ;;
        step) dets=$defaults label="default, black and freeze analysing 1 frame in 5 (frame-step)" decoding="B-frames skipped, 1 thread"
          stream_lines="${stream_lines}[stream.properties.blackdetect]\nframe-step = 5\n[stream.properties.freezedetect]\nframe-step = 5\n" ;;
        keyframes) dets=$defaults label="default, keyframes only (keyframes-only = true)" decoding="keyframes only, 1 thread"
          stream_lines="${stream_lines}keyframes-only = true\n" ;;
        still) dets=$defaults label="default, keyframes until still (keyframes-until-still = true)" decoding="keyframes, whole GOPs where a picture is still, 1 thread"
          stream_lines="${stream_lines}keyframes-until-still = true\n" ;;
        audio) dets=$audio label="audio only" decoding="audio only: the picture is not decoded" ;;
      esac
      # an audio monitor decodes no picture: its pace is its samples
      RATE_OF=frames
      [ "$set" = audio ] && RATE_OF=samples
      local cpu rss base_fps lag downs
      read -r cpu rss base_fps lag downs _ < <(run "$file" 2 "$dets" "$stream_lines" "$global")
      case $set in default | step | keyframes | still) base_fps=0 ;; esac
      local per n
      per=$(awk -v c="$cpu" 'BEGIN {printf "%.4f", c / 2}')
      n=$(awk -v p="$per" 'BEGIN {n = int(0.95 / p); print (n < 1) ? 1 : n}')
      # from the estimate, up while it holds, or down until it does, by a
      # tenth of it (exact below 20 streams)
      local held=0 tries=0 dir=0 rss_n=$rss n_rss=2 cpu_n=$cpu last="" step=$((n / 10))
      [ "$step" -lt 1 ] && step=1
      while [ "$tries" -lt 5 ] && [ "$n" -ge 1 ]; do
        tries=$((tries + 1))
        local c2 r2 f2 l2 d2 p2 b
        read -r c2 r2 f2 l2 d2 p2 < <(run "$file" "$n" "$dets" "$stream_lines" "$global")
        b=$(behind "$base_fps" "$f2" "$l2" "$d2")
        last=$b
        echo "  $m $set: $n streams: CPU $(awk -v c="$c2" 'BEGIN {printf "%.0f%%", c * 100}'), min fps $f2, lag $l2 s (peak $p2 s), behind $b" >&2
        if [ "$b" = no ]; then
          held=$n rss_n=$r2 n_rss=$n cpu_n=$c2
          [ "$dir" = -1 ] && break
          dir=1 n=$((n + step))
        else
          [ "$dir" = 1 ] && break
          dir=-1 n=$((n - step))
        fi
      done
      # once is not enough on a machine whose speed moves: the count found
      # must hold a second time, else one fewer is tried (at most twice; the
      # CPU and memory per stream are then those of the count that held)
      local again=0
      while [ "$held" -gt 1 ] && [ "$again" -lt 2 ] && [ "${CONFIRM:-1}" = 1 ]; do
        again=$((again + 1))
        local c3 r3 f3 l3 d3 p3 b3
        read -r c3 r3 f3 l3 d3 p3 < <(run "$file" "$held" "$dets" "$stream_lines" "$global")
        b3=$(behind "$base_fps" "$f3" "$l3" "$d3")
        echo "  $m $set: $held streams again: CPU $(awk -v c="$c3" 'BEGIN {printf "%.0f%%", c * 100}'), min fps $f3, lag $l3 s (peak $p3 s), behind $b3" >&2
        if [ "$b3" = no ]; then
          rss_n=$r3 n_rss=$held cpu_n=$c3
          break
        fi
        held=$((held - 1)) last=YES dir=-1
      done
      local mem
      mem=$(awk -v a="$rss" -v b="$rss_n" -v n="$n_rss" 'BEGIN {if (n > 2) printf "%.1f MB", (b - a) / 1024 / (n - 2); else printf "-"}')
      # CPU per stream over the most streams held (two alone carry start-up)
      per=$(awk -v c="$cpu_n" -v n="$n_rss" 'BEGIN {printf "%.4f", c / n}')
      # never behind within the tries: at least that many
      if [ "$dir" = 1 ] && [ "$last" = no ]; then held="$held or more"; fi
      printf '| %s | %s | %s | %.1f%% | %s | %s |\n' "$m" "$label" "$decoding" "$(awk -v p="$per" 'BEGIN {print p * 100}')" "$mem" "$held"
      if [ "$set" = default ]; then
        # FFmpeg as many at once as the service held, then the floor again,
        # after: the machine's speed moves within minutes
        local live floor2
        live=$(ffmpeg_window "$file" "$codec" "$n_rss")
        awk -v m="$m" -v n="$n_rss" -v c="$live" \
          'BEGIN {printf "| %s | none: FFmpeg decoding alone, %d at once, live-paced | as the default: B-frames skipped, 1 thread | %.1f%% | - | - |\n", m, n, c * 100 / n}'
        floor2=$(ffmpeg_floor "$file" "$codec")
        ratios="$ratios$(awk -v m="$m" -v p="$per" -v f="$floor" -v g="$floor2" -v n="$n_rss" -v c="$cpu_n" -v l="$live" \
          'BEGIN {h = (f + g) / 2; printf "%s: the default set costs %.2f times FFmpeg'"'"'s decoding of the same frames (%.1f%% a stream against %.1f%%, the floor measured before and after: %.1f%%, %.1f%%); %d streams at once take %.0f%% of the core, %d FFmpeg processes decoding alone %.0f%%: %.2f times", m, p / h, p * 100, h * 100, f * 100, g * 100, n, c * 100, n, l * 100, c / l}')\n"
      fi
    done
  done
  if [ -n "$ratios" ]; then
    echo
    printf '%b' "$ratios"
  fi
}

if [ "${1:-}" = cost ]; then
  cost
  exit 0
fi

echo "one core (taskset -c 0), window ${WINDOW} s after ${WARMUP} s"
echo
echo "raw 1080p25 + 48 kHz stereo, blackdetect + freezedetect + silencedetect"
printf '%6s %10s %12s %10s %12s %10s %8s %s\n' N "CPU %" "CPU/stream" "RSS MB" "MB/stream+" "min fps" "lag s" "behind"
base_rss=""
for n in $NS; do
  read -r cpu rss fps lag downs _ < <(run raw "$n" "$DETS")
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
