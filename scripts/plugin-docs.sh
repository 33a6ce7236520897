#!/usr/bin/env bash
# Writes the plugin documentation cache, docs/plugins/gst_plugins_cache.json
# (the format of GStreamer's and gst-plugins-rs's caches), from the elements
# as the code registers them. The test suite fails while it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
AVMONITOR_WRITE_PLUGIN_DOCS=1 cargo test --quiet -p avmonitor --test ecosystem plugin_docs
echo "wrote docs/plugins/gst_plugins_cache.json" >&2
