#!/usr/bin/env bash
# The main job: builds the avmonitor service and runs it on its built-in
# default, three generated streams with injected defects in one process
# (bars and tones with black, frozen, silent and clipped stretches; a
# flash/beep pattern with the audio 80 ms late; a stream whose source fails
# and is restarted), printing each event as a JSON line as it happens;
# metrics on http://127.0.0.1:9800/metrics meanwhile. Given files or URIs,
# it watches those instead; given --config FILE, what the file says.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "[demo] building (release)" >&2
cargo build --release --quiet -p avmonitor --bin avmonitor
echo "[demo] running" >&2
exec ./target/release/avmonitor "$@"
