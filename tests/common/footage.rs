//! Real footage with a defect put in: a clip scaled to I420, frames changed
//! in a pad probe, encoded with x264 at an ordinary bitrate, decoded, and
//! run through the detectors under test.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;

use super::{init, run_structures, running_time};

/// What a clip is made into before it is encoded.
pub struct Clip<'a> {
    pub path: &'a std::path::Path,
    /// Frames of the clip used.
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    /// Scale keeping the clip's shape, inside bars (`videoscale add-borders`).
    pub letterbox: bool,
    /// Frames `from..to` hold the defect: their times are reported.
    pub from: usize,
    pub to: usize,
}

/// What came out.
pub struct Injected {
    /// Every detector message, in order.
    pub structures: Vec<gst::Structure>,
    /// Running times of frames `from` and `to` (where the change begins and
    /// ends), when the clip reached them.
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// Media played, s, and one frame's duration, ns.
    pub seconds: f64,
    pub frame: u64,
    /// Running time of the end of the last frame, ns.
    pub last_end: u64,
}

/// Plays `clip` with `change(data, i, fps)` applied to each I420 frame `i`
/// (the change decides which frames it alters), through x264 at 2 Mb/s (3
/// B-frames, a key frame every 2 s) and avdec_h264, then `chain` (ending in
/// a sink).
pub fn inject(
    clip: &Clip<'_>,
    change: impl Fn(&mut [u8], usize, f64) + Send + Sync + 'static,
    chain: &str,
) -> Injected {
    init();
    let p = gst::parse::launch(&format!(
        "filesrc location={src} ! decodebin ! videoconvert ! videoscale add-borders={letterbox} \
         ! video/x-raw,format=I420,width={w},height={h},pixel-aspect-ratio=1/1 \
         ! identity name=inject \
         ! x264enc bitrate=2000 speed-preset=veryfast bframes=3 key-int-max=50 \
         ! h264parse ! avdec_h264 ! {chain}",
        src = clip.path.display(),
        letterbox = clip.letterbox,
        w = clip.width,
        h = clip.height,
    ))
    .unwrap();
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    super::end_after(bin, "inject", clip.frames);
    let pad = bin.by_name("inject").unwrap().static_pad("src").unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new((None, None, 0u64, 0u64, 0u64)));
    let (c, t) = (count.clone(), times.clone());
    let (from, to) = (clip.from, clip.to);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let i = c.fetch_add(1, Ordering::SeqCst);
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        // in running time, as the events are compared in it (x264enc moves
        // timestamps on by an hour, qtdemux applies edit lists through the
        // segment)
        let pts = running_time(pad, buffer.pts());
        let dur = buffer.duration().map_or(0, |t| t.nseconds());
        {
            let mut t = t.lock().unwrap();
            if i == from {
                t.0 = Some(pts);
            }
            if i == to {
                t.1 = Some(pts);
            }
            t.2 += dur;
            t.3 = dur;
            t.4 = pts + dur;
        }
        let fps = 1e9 / dur.max(1) as f64;
        let b = buffer.make_mut();
        let mut map = b.map_writable().unwrap();
        change(map.as_mut_slice(), i, fps);
        gst::PadProbeReturn::Ok
    });
    let structures = run_structures(&p);
    let (start, end, total, frame, last_end) = *times.lock().unwrap();
    Injected {
        structures,
        start,
        end,
        seconds: total as f64 / 1e9,
        frame,
        last_end,
    }
}

/// Fades an I420 frame of `w` x `h` towards black: `k` frames into a
/// change of `len` frames at `fps`, a 1 s fade out, black, a 1 s fade in.
pub fn fade(data: &mut [u8], w: usize, h: usize, k: usize, len: usize, fps: f64) {
    let ramp = fps.round() as usize;
    let gain = if k < ramp {
        1.0 - k as f64 / ramp as f64
    } else if k + ramp >= len {
        (k + ramp + 1 - len) as f64 / ramp as f64
    } else {
        0.0
    };
    let (luma, chroma) = data.split_at_mut(w * h);
    for v in luma.iter_mut() {
        *v = (16.0 + (f64::from(*v) - 16.0) * gain).round() as u8;
    }
    for v in chroma[..w * h / 2].iter_mut() {
        *v = (128.0 + (f64::from(*v) - 128.0) * gain).round() as u8;
    }
}

/// R'G'B' (0 to 1) to limited-range 8-bit Y'CbCr with luma coefficients
/// `kr`, `kb` (BT.709: 0.2126, 0.0722; BT.601: 0.299, 0.114).
pub fn ycbcr((kr, kb): (f64, f64), [r, g, b]: [f64; 3]) -> [u8; 3] {
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let cb = (b - y) / (2.0 * (1.0 - kb));
    let cr = (r - y) / (2.0 * (1.0 - kr));
    let q = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    [
        q(16.0 + 219.0 * y),
        q(128.0 + 224.0 * cb),
        q(128.0 + 224.0 * cr),
    ]
}

pub const BT709: (f64, f64) = (0.2126, 0.0722);

/// Bar `i` of colour bars at `level`: white, yellow, cyan, green, magenta,
/// red, blue, then black.
pub fn bar(i: usize, level: f64) -> [f64; 3] {
    const BITS: [u8; 8] = [7, 6, 3, 2, 5, 4, 1, 0];
    let b = BITS[i.min(7)];
    [4, 2, 1].map(|m| if b & m != 0 { level } else { 0.0 })
}

/// What a corpus test found, case by case, and its totals.
#[derive(Default)]
pub struct Score {
    pub injected: usize,
    pub found: usize,
    pub false_starts: usize,
    pub clean_s: f64,
    pub failures: Vec<String>,
}

impl Score {
    /// One case: `expected` is the start and end an injected defect must
    /// have (within `frame` ns), `None` for a hard negative; `events` are
    /// the detector's (kind, running time). Prints a line with `detail`.
    pub fn case(
        &mut self,
        name: &str,
        expected: Option<(u64, u64)>,
        events: &[(&str, u64)],
        o: &Injected,
        detail: &str,
    ) -> bool {
        let ok = match expected {
            Some((s, e)) => {
                self.injected += 1;
                let near = |a: u64, b: u64| a.abs_diff(b) <= o.frame;
                let hit =
                    matches!(events, [("start", a), ("end", b)] if near(*a, s) && near(*b, e));
                self.found += usize::from(hit);
                hit
            }
            None => {
                self.clean_s += o.seconds;
                self.false_starts += events.iter().filter(|e| e.0 == "start").count();
                events.is_empty()
            }
        };
        println!(
            "{name:<44} {:>5.1} s {detail} expected {:<28} got {events:?}{}",
            o.seconds,
            expected
                .map(|(s, e)| format!("start {s} end {e}"))
                .unwrap_or_else(|| "nothing".into()),
            if ok { "" } else { "  FAIL" }
        );
        if !ok {
            self.failures.push(name.to_string());
        }
        ok
    }

    /// Prints the totals for `what`.
    pub fn summary(&self, what: &str) {
        println!(
            "{what} on real footage: {}/{} cases found to the frame; \
             {} false starts in {:.0} s of hard negatives ({:.0} an hour)",
            self.found,
            self.injected,
            self.false_starts,
            self.clean_s,
            self.false_starts as f64 * 3600.0 / self.clean_s.max(1.0)
        );
    }
}
