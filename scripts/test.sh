#!/usr/bin/env bash
# The whole test suite: unit tests of the analysis kernels, element tests,
# the format and detection-quality corpus, doc tests, and a run of the
# example on its built-in clip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "[test] cargo test" >&2
cargo test --quiet --all-targets 2>&1
cargo test --quiet --doc 2>&1
echo "[test] example on the built-in clip" >&2
out=$(cargo run --quiet --release --example monitor 2>/dev/null)
echo "$out"
n=$(printf '%s\n' "$out" | grep -c '"event":' || true)
# black, freeze (twice: the black stretch is still too), silence, clipping
# and the true-peak alarm the clipping raises: a start and an end each
if [ "$n" -ne 12 ]; then
  echo "example: expected 12 events, got $n" >&2
  echo "1 passed, 1 failed"
  exit 1
fi
echo "example: 12 events as expected"
