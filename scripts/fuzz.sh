#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the parsers that read
# coded and transport data off the network: tsmonitor's checks
# (fuzz/fuzz_targets/tsmonitor.rs) and slicecheck's H.264 and HEVC readers
# (fuzz/fuzz_targets/slices.rs). Seeds come from real encodes
# (scripts/footage.sh): the footage muxed to a transport stream by
# mpegtsmux, and its H.264 re-encoded to HEVC, cut in pieces. Each input is
# bounded in time (-timeout) and memory (-rss_limit_mb). A crash leaves its
# input in fuzz/artifacts/TARGET/ and fails the script.
#
#   scripts/fuzz.sh [SECONDS per target]     (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-300}
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo fuzz needs nightly flags; the stable toolchain takes them so
export RUSTC_BOOTSTRAP=1
footage=$(bash scripts/footage.sh)
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/tsmonitor" "$seeds/slices"
gst-launch-1.0 -q filesrc location="$footage/bigbuckbunny.mp4" ! qtdemux name=d \
  mpegtsmux name=m pcr-interval=1800 ! filesink location="$seeds/bunny.ts" \
  d.video_0 ! queue ! h264parse ! m. d.audio_0 ! queue ! aacparse ! m.
# and padded to a constant rate, so the PCR accuracy checks run
gst-launch-1.0 -q filesrc location="$footage/bigbuckbunny.mp4" ! qtdemux name=d \
  mpegtsmux name=m pcr-interval=1800 bitrate=3000000 ! filesink location="$seeds/cbr.ts" \
  d.video_0 ! queue ! h264parse ! m. d.audio_0 ! queue ! aacparse ! m.
gst-launch-1.0 -q filesrc location="$footage/bikes.mp4" ! qtdemux ! h264parse \
  ! video/x-h264,stream-format=byte-stream,alignment=au ! filesink location="$seeds/bikes.h264"
gst-launch-1.0 -q filesrc location="$footage/bikes.mp4" ! decodebin ! videoconvert \
  ! x265enc speed-preset=ultrafast ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au \
  ! filesink location="$seeds/bikes.h265"
# pieces: two bytes of settings before transport stream bytes; three before
# coded ones (H.264: mode 0, HEVC: mode 1; byte-stream framing)
python3 - "$seeds" <<'PY'
import sys
d = sys.argv[1]
ts = open(f"{d}/bunny.ts", "rb").read()
for i in range(40):
    piece = ts[i * 18800:(i + 1) * 18800]
    open(f"{d}/tsmonitor/seed{i}", "wb").write(bytes([i % 256, i % 8]) + piece)
# (half a second each: past the ten PCRs before accuracy is measured)
cbr = open(f"{d}/cbr.ts", "rb").read()
for i in range(8):
    piece = cbr[i * 188000:(i + 1) * 188000]
    open(f"{d}/tsmonitor/cbr{i}", "wb").write(bytes([i, i % 8]) + piece)
for mode, name in [(0, "h264"), (1, "h265")]:
    es = open(f"{d}/bikes.{name}", "rb").read()
    for i in range(20):
        piece = es[i * 8000:(i + 1) * 8000]
        open(f"{d}/slices/{name}{i}", "wb").write(bytes([mode, 0, 40]) + piece)
PY
cd fuzz
for target in tsmonitor slices; do
  echo "[fuzz] $target for ${SECS} s" >&2
  mkdir -p "corpus/$target"
  cargo fuzz run --release "$target" "corpus/$target" "$seeds/$target" -- \
    -max_total_time="$SECS" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 2>&1 \
    | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done|ERROR|panicked|SUMMARY" || true
  if ls "artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "[fuzz] $target: crashes in fuzz/artifacts/$target" >&2
    exit 1
  fi
done
