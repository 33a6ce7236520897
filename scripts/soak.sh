#!/usr/bin/env bash
# Accelerated soak of the avmonitor service: STREAMS streams (default 20)
# of one 60 s file with three injected defects (3 s of black at 10 s, 4 s
# frozen at 25 s, 3 s of silence at 40 s), each looping (`loop = true`) as
# fast as it decodes, until every stream has played HOURS hours of media
# (default 1; 24 for the issue's day). Meanwhile it samples the process's
# resident memory, descriptors and threads; at the end it says the media
# hours played, the memory slope after warm-up (fitted to the floor of each
# tenth of the run; MB per stream per 24 h of
# media), whether descriptors and threads stayed flat, and compares the
# defects counted with those injected. Then RESTARTS forced restarts
# (default 1000) of a stream whose source fails on purpose, with the same
# samples. Exit status 1 when a pass condition fails.
#
#   scripts/soak.sh [HOURS] [STREAMS] [RESTARTS]
set -euo pipefail
cd "$(dirname "$0")/.."
HOURS=${1:-1}
STREAMS=${2:-20}
RESTARTS=${3:-1000}
bash scripts/setup.sh ffmpeg
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --quiet --release -p avmonitor --bin avmonitor
bin=$PWD/target/release/avmonitor
work=$(mktemp -d)
pid=
# the samples are kept in target/soak for a later look
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; mkdir -p target/soak; cp "$work"/samples* target/soak/ 2>/dev/null; rm -rf "$work"' EXIT
say() { echo "[soak] $*" >&2; }

# the file: camera-like test video (moving), a tone, and the defects
ffmpeg -v error -y \
  -f lavfi -i "testsrc2=size=320x180:rate=25:duration=60" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
  -filter_complex "[0:v]drawbox=c=black:t=fill:enable='between(t,10,13)',split[a][b];[a][b]freezeframes=first=625:last=724:replace=624[v];[1:a]volume=enable='between(t,40,43)':volume=0,aformat=channel_layouts=stereo[au]" \
  -map "[v]" -map "[au]" -c:v libx264 -preset ultrafast -g 50 -c:a aac -b:a 96k "$work/defects.mp4"
LOOP_S=60
loops_wanted=$(( HOURS * 3600 / LOOP_S ))

# samples of /proc/PID: elapsed s, RSS kB, descriptors, threads, a count
sample() {
  local rss fds thr
  # (the process may have just ended: then nothing is sampled)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 0
  thr=$(awk '/^Threads/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 0
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  [ -n "$rss" ] || return 0
  echo "$SECONDS $rss $fds $thr $1"
}

# runs the service on config $1 until its event file $2 has $4 lines that
# match $3, sampling /proc every $5 s into $6
watched() {
  local n
  "$bin" --config "$1" 2>>"$work/stderr" &
  pid=$!
  : >"$6"
  while kill -0 "$pid" 2>/dev/null; do
    n=$(grep -c "$3" "$2" 2>/dev/null || true)
    sample "${n:-0}" >>"$6"
    [ "${n:-0}" -ge "$4" ] && break
    sleep "$5"
  done
  kill -INT "$pid"
  wait "$pid" || true
  pid=
}

# whether the samples $1 stayed flat after warm-up (the first fifth of the
# count): descriptors and threads as the fewest of the first and last five
# samples (one taken mid-restart holds a pipeline's few more); memory as a
# slope per stream ($2) per 24 h of media (loops of $3 s), or, with $2 = 0,
# as its growth over the run (at most 5 MB)
flat() {
  python3 - "$@" <<'PY'
import sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
streams, loop_s = int(sys.argv[2]), int(sys.argv[3])
warm = [r for r in rows if r[4] >= rows[-1][4] / 5]
if len(warm) < 5:
    print("[soak] too short to measure"); sys.exit(0)
mb = [r[1] / 1024 for r in warm]
fd0, fd1 = min(r[2] for r in warm[:5]), min(r[2] for r in warm[-5:])
th0, th1 = min(r[3] for r in warm[:5]), min(r[3] for r in warm[-5:])
if streams:
    # the floor of each tenth of the run (resident memory rises and falls
    # as pipelines loop; the floor is what stays), fitted by least squares
    xs_all = [r[4] * loop_s / 3600 / streams for r in warm]  # media hours per stream
    lo, hi = xs_all[0], xs_all[-1]
    floors = {}
    for x, y in zip(xs_all, mb):
        k = min(9, int(10 * (x - lo) / (hi - lo))) if hi > lo else 0
        if k not in floors or y < floors[k][1]:
            floors[k] = (x, y)
    xs, ys = [p[0] for p in floors.values()], [p[1] for p in floors.values()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0
    print("[soak] floors (media h per stream, MB): " + ", ".join(f"{x:.1f} {y:.1f}" for x, y in zip(xs, ys)))
    grew = slope * 24 / streams > 1.0
    said = f"slope {slope * 24 / streams:+.3f} MB per stream per 24 h of media"
else:
    grew = mb[-1] - mb[0] > 5
    said = f"{mb[-1] - mb[0]:+.1f} MB over {warm[-1][4] - warm[0][4]} restarts"
print(f"[soak] resident memory {mb[0]:.1f} MB after warm-up, {mb[-1]:.1f} MB at the end ({said}); "
      f"descriptors {fd0} -> {fd1}, threads {th0} -> {th1}")
bad = grew or fd1 > fd0 or th1 > th0
if bad:
    print("[soak] FAIL: memory, descriptors or threads grew")
sys.exit(1 if bad else 0)
PY
}

# the streams
{
  echo "[output]"
  echo "stdout = false"
  echo "file = \"$work/events.jsonl\""
  echo "[http]"
  echo "enabled = false"
  for i in $(seq 1 "$STREAMS"); do
    cat <<EOF
[[stream]]
id = "s$i"
uri = "$work/defects.mp4"
realtime = false
loop = true
detectors = ["blackdetect", "freezedetect", "silencedetect"]
EOF
  done
} >"$work/soak.toml"
say "$STREAMS streams, $HOURS h of media each ($loops_wanted loops of $LOOP_S s)"
SECONDS=0
watched "$work/soak.toml" "$work/events.jsonl" '"stream-looped"' $(( loops_wanted * STREAMS )) 2 "$work/samples"
elapsed=$SECONDS
ev="$work/events.jsonl"
count() { grep "\"detector\":\"$1\"" "$ev" | grep -c '"event":"start"' || true; }
loops=$(grep -c '"stream-looped"' "$ev" || true)
black=$(count blackdetect); freeze=$(count freezedetect); silence=$(count silencedetect)
media_h=$(python3 -c "print(f'{$loops * $LOOP_S / 3600:.1f}')")
say "played $loops loops: $media_h h of media in $elapsed s ($(python3 -c "print(f'{$loops * $LOOP_S / max($elapsed, 1):.0f}')")x real time over $STREAMS streams)"
say "defects counted: black $black, freeze $freeze, silence $silence; injected: $loops of each in the finished loops (and up to $STREAMS more in the loops cut by the stop)"
fail=0
for n in "$black" "$freeze" "$silence"; do
  if [ "$n" -lt "$loops" ] || [ "$n" -gt $(( loops + STREAMS )) ]; then fail=1; fi
done
[ "$fail" -eq 1 ] && say "FAIL: the defects counted are not those injected"
flat "$work/samples" "$STREAMS" "$LOOP_S" || fail=1

# forced restarts: a source that fails on purpose (not a media file)
head -c 100000 /dev/urandom >"$work/broken.mp4"
cat >"$work/restart.toml" <<EOF
[output]
stdout = false
file = "$work/restarts.jsonl"
[http]
enabled = false
[restart]
initial-ms = 1
max-ms = 5
[[stream]]
id = "broken"
uri = "$work/broken.mp4"
detectors = ["blackdetect"]
[[stream]]
id = "steady"
uri = "$work/defects.mp4"
realtime = true
detectors = ["blackdetect"]
EOF
say "$RESTARTS forced restarts"
SECONDS=0
watched "$work/restart.toml" "$work/restarts.jsonl" '"stream-down"' "$RESTARTS" 0.2 "$work/samples2"
downs=$(grep -c '"stream-down"' "$work/restarts.jsonl" || true)
say "$downs restarts in $SECONDS s"
flat "$work/samples2" 0 0 || fail=1
exit "$fail"
