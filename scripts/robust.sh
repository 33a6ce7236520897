#!/usr/bin/env bash
# The long run of the random element streams (tests/*_robustness.rs): every
# element driven through gst_check's harness with SEEDS random streams
# (default 1000; the suite runs 24), each of 40 to 120 buffers with random
# caps, sizes, content, timestamps and events, every buffer checked to come
# out unchanged and every message checked. A failure names its seed, which
# `ROBUST_SEEDS` reruns (seeds run from 0 up). Prints the streams and
# buffers per element and the time taken.
#
#   scripts/robust.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-1000}
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
SECONDS=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in picture_robustness audio_robustness stream_robustness; do
  status=0
  ROBUST_SEEDS=$SEEDS cargo test --quiet --profile test --test "$t" >"$log" 2>&1 || status=$?
  grep -E "^test |test result|panicked|seed [0-9]+:" "$log" || true
  [ "$status" -eq 0 ] || { echo "[robust] $t FAILED (at $SECONDS s)" >&2; exit 1; }
done
# buffers per stream: picture 60, audio 40, slicecheck 60, tsmonitor 80,
# captiondetect 60, avsyncdetect 120 (video and audio together)
echo "[robust] $SEEDS random streams per element (15 elements), 40 to 120 buffers each, in $SECONDS s" >&2
