#!/usr/bin/env bash
# The whole test suite: unit tests of the analysis kernels, element tests,
# the format and detection-quality corpora, the service's tests, doc tests,
# and a run of the service on its built-in demo.
set -euo pipefail
cd "$(dirname "$0")/.."
# (nats-server: the cluster tests start their own on 127.0.0.1; chromium:
# the QC report is opened in it; Python's GStreamer bindings: the Python
# client example is run; jsonschema: events are checked against the schema; dpkg-dev: the
# Debian packages are built and inspected; ffmpeg: real footage is
# multiplexed by a second multiplexer for tsmonitor's long feeds)
bash scripts/setup.sh nats-server chromium python3-gi python3-gst-1.0 python3-jsonschema dpkg-dev ffmpeg
export PATH="$HOME/.cargo/bin:$PATH"
# the real footage the detection-quality corpus measures on (fetched once)
AVMONITOR_FOOTAGE=$(bash scripts/footage.sh)
export AVMONITOR_FOOTAGE
# each step says when it starts, in seconds since the start
step() { echo "[test] $* (at ${SECONDS} s)" >&2; }
step "cargo test"
# the plugin as GStreamer loads it (libgstavmonitor.so, which test builds
# do not make): the clients, install and package tests use it. Built with
# the tests' own profile (optimised, in target/debug), so the dependencies
# are compiled once for it, the tests and the demo below
cargo build --quiet --profile test --workspace --all-features 2>&1
cargo test --quiet --workspace --all-features --all-targets 2>&1
step "doc tests"
cargo test --quiet --workspace --all-features --doc 2>&1
step "Kubernetes manifests"
bash scripts/check-deploy.sh
step "the service on its built-in demo"
out=$(./target/debug/avmonitor --no-http 2>/dev/null)
echo "$out"
count() { printf '%s\n' "$out" | grep -c "$1" || true; }
fail() { echo "demo: $1" >&2; echo "1 passed, 1 failed"; exit 1; }
# demo:1: clipping (with the true-peak alarm it raises), black, a freeze
# (not the black stretch, which is the black's), silence: a start and an end each
[ "$(count '"stream":"demo-1".*"event":"start"')" -eq 5 ] || fail "demo-1: expected 5 starts"
[ "$(count '"stream":"demo-1".*"event":"end"')" -eq 5 ] || fail "demo-1: expected 5 ends"
# demo:2: the audio 80 ms late raises the offset alarm
[ "$(count '"stream":"demo-2".*"alarm":"offset".*"offset-ms":80')" -ge 1 ] || fail "demo-2: no offset alarm"
# demo:3: down once, restarted, up
[ "$(count '"stream":"demo-3".*stream-down')" -eq 1 ] || fail "demo-3: expected one stream-down"
[ "$(count '"stream":"demo-3".*"restarted":true')" -eq 1 ] || fail "demo-3: expected a restart"
[ "$(count 'stream-ended')" -eq 3 ] || fail "expected 3 streams to end"
# every line fits the published schema (docs/schema/event.schema.json)
printf '%s\n' "$out" | /usr/bin/python3 -c '
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("docs/schema/event.schema.json")))
bad = [(l, e.message) for l in sys.stdin if l.strip() for e in v.iter_errors(json.loads(l))]
for l, e in bad: print("schema:", e, "in", l.strip(), file=sys.stderr)
sys.exit(1 if bad else 0)' || fail "events outside the schema"
echo "demo: events as expected"
step "done"
