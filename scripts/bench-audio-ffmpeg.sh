#!/usr/bin/env bash
# Audio against FFmpeg, on the same raw 48 kHz stereo input in the same run:
#  1. speed: CPU time of FFmpeg's silencedetect, astats and ebur128 (without
#     and with true peak) and of our silencedetect, clipdetect, phasedetect
#     and loudnessmeter (without and with true peak), each minus its tool's
#     bare read-and-discard chain, as times real time, best of 3;
#  2. agreement: integrated loudness and loudness range of FFmpeg's ebur128
#     and our loudnessmeter on several signals, which must agree within 0.1 LU.
#
#   scripts/bench-audio-ffmpeg.sh [SECONDS]     (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ffmpeg
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet
SECS=${1:-300}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "[bench] making the inputs in $dir" >&2
gen() { ffmpeg -nostdin -loglevel error -f lavfi -i "$1" -ac 2 -ar 48000 -f f32le "$dir/$2.raw"; }
# music-like: partials with a slow envelope, different per channel
gen "aevalsrc=(0.1*(0.7+0.3*sin(2*PI*0.7*t))*(sin(2*PI*220*t)+0.5*sin(2*PI*440*t)+0.25*sin(2*PI*682*t)))|(0.1*(0.7+0.3*sin(2*PI*0.5*t))*(sin(2*PI*277*t)+0.5*sin(2*PI*554*t))):s=48000:d=$SECS" speed
gen "aevalsrc=0.0707946*sin(2*PI*1000*t)|0.0707946*sin(2*PI*1000*t):s=48000:d=20" sine-23
gen "aevalsrc=0.0223872*sin(2*PI*1000*t)|0.0223872*sin(2*PI*1000*t):s=48000:d=20" sine-33
gen "aevalsrc=(0.1*(0.6+0.4*sin(2*PI*0.2*t))*(sin(2*PI*220*t)+0.5*sin(2*PI*440*t)))|(0.08*(0.6+0.4*sin(2*PI*0.3*t))*sin(2*PI*330*t)):s=48000:d=60" music
gen "anoisesrc=color=pink:amplitude=0.2:seed=1:d=60:r=48000" pink
gen "aevalsrc=0.2*sin(2*PI*1000*t)*(0.2+0.8*lt(mod(t\\,10)\\,5)):s=48000:d=60" steps

GST_PLUGIN_PATH=$PWD/target/release SECS=$SECS DIR=$dir python3 - <<'PY'
import os, re, subprocess, sys

d = os.environ["DIR"]
secs = float(os.environ["SECS"])

def output(cmd):
    """stdout and stderr of one run."""
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

def cpu_time(cmd):
    """CPU seconds (user + system) of one run, best of 3; output to a file
    (a full pipe would stall a chatty filter such as ebur128)."""
    best = None
    for _ in range(3):
        with open(f"{d}/log", "w+") as log:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
            _, status, ru = os.wait4(p.pid, 0)
            log.seek(0)
            err = log.read()
        if status != 0:
            sys.exit(f"failed ({status}): {' '.join(cmd)}\n{err}")
        t = ru.ru_utime + ru.ru_stime
        best = t if best is None else min(best, t)
    return best

def ffmpeg(name, af, extra=()):
    return ["ffmpeg", "-nostdin", "-hide_banner", "-threads", "1", "-filter_threads", "1",
            "-f", "f32le", "-ar", "48000", "-ac", "2", "-i", f"{d}/{name}.raw",
            "-af", af, *extra, "-f", "null", "-"]

def gst(name, chain, messages=False):
    cmd = ["gst-launch-1.0"] + (["-m"] if messages else ["-q"]) + [
        "filesrc", f"location={d}/{name}.raw", "blocksize=19200", "!",
        "rawaudioparse", "format=pcm", "pcm-format=f32le", "sample-rate=48000", "num-channels=2", "!"]
    for el in chain:
        cmd += el.split() + ["!"]
    return cmd + ["fakesink", "sync=false"]

print(f"speed: {secs:.0f} s of 48 kHz stereo f32, one core; times real time (higher is faster)")
f0 = cpu_time(ffmpeg("speed", "anull"))
g0 = cpu_time(gst("speed", []))
def rt(t, base):
    c = max(t - base, 1e-3)
    return secs / c
rows = [
    ("silence", "silencedetect=n=-60dB:d=2", ["silencedetect"]),
    ("stats / clipping", "astats", ["clipdetect"]),
    ("phase", None, ["phasedetect"]),
    ("loudness", "ebur128=peak=none", ["loudnessmeter true-peak=false"]),
    ("loudness + true peak", "ebur128=peak=true", ["loudnessmeter true-peak=true"]),
]
print(f"{'measure':<22} {'FFmpeg filter':<28} {'FFmpeg x':>10} {'avmonitor x':>12} {'ratio':>7}")
for label, af, chain in rows:
    g = rt(cpu_time(gst("speed", chain)), g0)
    if af:
        f = rt(cpu_time(ffmpeg("speed", af)), f0)
        print(f"{label:<22} {af:<28} {f:>10.0f} {g:>12.0f} {g / f:>6.1f}x")
    else:
        print(f"{label:<22} {'(none)':<28} {'-':>10} {g:>12.0f} {'-':>7}")

print()
print("agreement with FFmpeg's ebur128 (integrated I, loudness range LRA)")
print(f"{'signal':<10} {'FFmpeg I':>9} {'ours I':>9} {'FFmpeg LRA':>11} {'ours LRA':>9}  verdict")
bad = 0
for name in ["sine-23", "sine-33", "music", "pink", "steps"]:
    out = output(ffmpeg(name, "ebur128=peak=true"))
    summary = out[out.rfind("Summary:"):]
    fi = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    flra = float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1))
    ours = output(gst(name, ["loudnessmeter interval=100000000"], messages=True))
    meas = re.findall(r"loudnessmeter, event=\(string\)measurement.*?integrated=\(double\)(-?[\d.e+-]+).*?loudness-range=\(double\)(-?[\d.e+-]+)", ours)
    oi, olra = float(meas[-1][0]), float(meas[-1][1])
    ok = abs(fi - oi) <= 0.1 and abs(flra - olra) <= 0.1 + 0.05  # FFmpeg prints LRA to 0.1
    bad += not ok
    print(f"{name:<10} {fi:>9.1f} {oi:>9.2f} {flra:>11.1f} {olra:>9.2f}  {'ok' if ok else 'DIFFERENT'}")
sys.exit(1 if bad else 0)
PY
