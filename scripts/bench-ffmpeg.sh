#!/usr/bin/env bash
# Compares the per-frame CPU cost of FFmpeg's blackdetect, freezedetect,
# blockdetect, cropdetect (the active area), mpdecimate (repeated frames)
# and signalstats (levels, with its out-of-broadcast-range count) with
# avmonitor's elements (areadetect for cropdetect, cadencedetect for
# mpdecimate, levelsdetect for signalstats) on the same raw 1080p I420
# input, in the same run.
# Each cost is (CPU time with the detector - CPU time of the same chain
# without it) / frames, the best of several runs; both tools run one stream
# on one core. Two inputs: moving content (FFmpeg testsrc2) and black.
#
#   scripts/bench-ffmpeg.sh [FRAMES]      (default 100, played 5 times)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ffmpeg
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet
FRAMES=${1:-100}
LOOPS=5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "[bench] making ${FRAMES} raw 1080p frames of each input in $dir" >&2
ffmpeg -loglevel error -f lavfi -i "testsrc2=size=1920x1080:rate=25" -frames:v "$FRAMES" \
  -pix_fmt yuv420p -f rawvideo "$dir/content.yuv"
ffmpeg -loglevel error -f lavfi -i "color=black:size=1920x1080:rate=25" -frames:v "$FRAMES" \
  -pix_fmt yuv420p -f rawvideo "$dir/black.yuv"
# GStreamer reads the input LOOPS times over, one frame per read() as FFmpeg
# does, so each frame arrives as warm in cache as it would from a decoder
for f in content black; do
  for _ in $(seq "$LOOPS"); do cat "$dir/$f.yuv"; done > "$dir/$f-loop.yuv"
done

GST_PLUGIN_PATH=$PWD/target/release FRAMES=$FRAMES LOOPS=$LOOPS DIR=$dir python3 - <<'PY'
import os, subprocess, sys

frames = int(os.environ["FRAMES"]) * int(os.environ["LOOPS"])
loops = int(os.environ["LOOPS"])
d = os.environ["DIR"]

def cpu(cmd):
    """CPU seconds (user + system) of one run of cmd, best of 3."""
    best = None
    for _ in range(3):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
        t = ru.ru_utime + ru.ru_stime
        best = t if best is None else min(best, t)
    return best

def ffmpeg(inp, vf):
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-threads", "1", "-filter_threads", "1",
            "-stream_loop", str(loops - 1), "-f", "rawvideo", "-pix_fmt", "yuv420p",
            "-s", "1920x1080", "-r", "25", "-i", inp, "-vf", vf, "-f", "null", "-"]

def gst(inp, element):
    chain = element.split() + ["!"] if element else []
    return ["gst-launch-1.0", "-q", "filesrc", f"location={inp[:-4]}-loop.yuv",
            "blocksize=3110400", "!", "rawvideoparse", "width=1920", "height=1080",
            "format=i420", "framerate=25/1", "!"] + chain + ["fakesink", "sync=false"]

print(f"per-frame CPU cost, 1080p I420, {frames} frames, one stream on one core")
print(f"{'detector':<13} {'input':<8} {'FFmpeg ms':>10} {'avmonitor ms':>13} {'FFmpeg / avmonitor':>19}")
for inp in ["content", "black"]:
    path = f"{d}/{inp}.yuv"
    f0 = cpu(ffmpeg(path, "null"))
    g0 = cpu(gst(path, None))
    for name, vf, element in [
            ("blackdetect", "blackdetect=d=2:pix_th=0.10:pic_th=0.98", "blackdetect"),
            ("freezedetect", "freezedetect=n=-60dB:d=2", "freezedetect"),
            ("blockdetect", "blockdetect", "blockdetect"),
            ("areadetect", "cropdetect=limit=24:round=2:reset=0", "areadetect"),
            ("cadencedetect", "mpdecimate", "cadencedetect"),
            ("levelsdetect", "signalstats=stat=brng", "levelsdetect")]:
        f = max(cpu(ffmpeg(path, vf)) - f0, 0.0) / frames * 1e3
        g = max(cpu(gst(path, element)) - g0, 0.0) / frames * 1e3
        # CPU time is counted in scheduler ticks (4 ms at most): below that
        # spread over the frames, say "less than"
        floor = 0.004 / frames * 1e3
        if g < floor:
            print(f"{name:<13} {inp:<8} {f:>10.3f} {'<' + format(floor, '.3f'):>13} {'>' + format(f / floor, '.0f') + 'x':>19}")
        else:
            print(f"{name:<13} {inp:<8} {f:>10.3f} {g:>13.3f} {f / g:>18.1f}x")
PY
