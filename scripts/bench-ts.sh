#!/usr/bin/env bash
# tsmonitor's cost per transport stream packet beside tsdemux's, in the same
# run, on the same file: a 20 Mb/s stream (x264 1080p, AAC, muxed by
# mpegtsmux with a PCR every 20 ms) read from the page cache in 1316-byte
# buffers (seven packets, as UDP brings them) for tsmonitor, and as tsdemux
# reads a file itself. Each cost is the CPU time of the pipeline less that of
# the same reads into a fakesink, / packets, the best of five runs, on one core. Prints each, their ratio,
# and how many times the line rate of a 20 Mb/s feed one core reads.
#
#   scripts/bench-ts.sh [SECONDS]      (default 20 s of stream, read 20 times)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet
SECONDS_OF_STREAM=${1:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "[bench] muxing ${SECONDS_OF_STREAM} s of a 20 Mb/s transport stream in $dir" >&2
gst-launch-1.0 -q videotestsrc num-buffers=$((SECONDS_OF_STREAM * 25)) pattern=snow \
  ! video/x-raw,format=I420,width=1920,height=1080,framerate=25/1 \
  ! x264enc speed-preset=ultrafast bitrate=19000 key-int-max=50 ! h264parse ! queue \
  ! mpegtsmux name=m pcr-interval=1800 ! filesink location="$dir/feed.ts" \
  audiotestsrc num-buffers=$((SECONDS_OF_STREAM * 47)) ! avenc_aac ! aacparse ! queue ! m.

# played 20 times over in one file (both are cheap: a run must last long
# enough to time)
for _ in $(seq 20); do cat "$dir/feed.ts"; done > "$dir/loop.ts"

GST_PLUGIN_PATH=$PWD/target/release DIR=$dir SECS=$SECONDS_OF_STREAM python3 - <<'PY'
import os, resource, subprocess

d = os.environ["DIR"]
ts = f"{d}/loop.ts"
packets = os.path.getsize(ts) // 188
caps = "video/mpegts,systemstream=true,packetsize=188"

def cpu(args):
    best = None
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["taskset", "-c", "0", "gst-launch-1.0", "-q", *args], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = t if best is None else min(best, t)
    return best

src = ["filesrc", f"location={ts}"]
sink = ["fakesink", "sync=false", "async=false"]
# tsmonitor, pushed to in UDP-sized buffers, against the same reads alone
udp = [*src, "blocksize=1316", "!", caps, "!"]
mon = cpu([*udp, "tsmonitor", "!", *sink]) - cpu([*udp, *sink])
# tsdemux as it reads a file (pulling, in its own chunks), its two streams
# unparsed, against the file read in 1 MB blocks
demux = cpu([*src, "!", "tsdemux", "name=d", "d.", "!", *sink, "d.", "!", *sink]) - cpu(
    [*src, "blocksize=1048576", "!", *sink])
line = 20e6 / (188 * 8)
print(f"{packets} packets ({int(os.environ['SECS'])} s at 20 Mb/s, 20 times over), CPU beyond the reads, best of 5, one core")
print(f"| element | ns a packet | packets a second | times a 20 Mb/s feed's line rate |")
print(f"|---|---|---|---|")
for name, t in [("tsmonitor", mon), ("tsdemux (no decoding)", demux)]:
    per = max(t, 1e-9) / packets
    print(f"| {name} | {per * 1e9:.0f} | {1 / per:,.0f} | {1 / per / line:,.0f}x |")
print(f"tsmonitor costs {mon / max(demux, 1e-9):.2f} of what tsdemux alone costs")
PY
