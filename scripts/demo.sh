#!/usr/bin/env bash
# The main job: builds avmonitor and runs the video and audio detectors over
# a built-in generated clip with injected black, frozen, silent and clipped
# stretches (or over the file or URI given), printing each event as a JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "[demo] building (release)" >&2
cargo build --release --quiet --example monitor
echo "[demo] running" >&2
exec ./target/release/examples/monitor "$@"
