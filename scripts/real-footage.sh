#!/usr/bin/env bash
# blockdetect on real footage, all of the corpus (tests/real_footage: five
# kinds of footage, x264 and x265, 0.03 to 0.3 bits per pixel, clean and
# damaged): false corruptions per hour, recall and precision, printed per
# encode, analysis (pixels alone, with slicecheck), codec, bitrate class,
# kind of footage and damage. The suite runs a part of it
# (real_footage_quick). FOOTAGE_PROPS="min-breaks=4 ..." sets blockdetect's
# properties; FOOTAGE_DEBUG=1 prints every start and every miss.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
AVMONITOR_FOOTAGE=$(bash scripts/footage.sh)
export AVMONITOR_FOOTAGE
cargo test --release --test real_footage real_footage -- --ignored --exact --nocapture
