//! Random streams through the single-stream picture detectors: random
//! formats and sizes (odd ones included), random content, timestamps
//! missing, repeated, backwards or huge, flushes, caps changes, gaps and
//! EOS, from fixed seeds. Every buffer must come out unchanged (data,
//! timestamps, flags: `Run::push` checks), every message must read back as
//! its element's typed message, and every start must have its end by EOS.
//! `ROBUST_SEEDS=N` runs more seeds (the suite runs 24 per element).
mod common;

use std::collections::HashMap;

use common::*;
use gstavmonitor::Message;

/// xorshift64*: small, seeded, enough to vary the streams.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn random_info(rng: &mut Rng) -> gst_video::VideoInfo {
    let formats = gstavmonitor::videodetect::FORMATS;
    let format = formats[rng.below(formats.len() as u64) as usize];
    let (w, h) = match rng.below(10) {
        0 => (1 + rng.below(4) as u32, 1 + rng.below(4) as u32),
        _ => (1 + rng.below(400) as u32, 1 + rng.below(300) as u32),
    };
    let fps = [(25, 1), (30000, 1001), (50, 1), (0, 1)][rng.below(4) as usize];
    gst_video::VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(fps.0, fps.1))
        .build()
        .expect("video info")
}

/// A buffer of `info`'s size: random bytes, or a picture repeated from the
/// last one (so repeats, freezes and flat frames occur), or flat.
fn random_buffer(rng: &mut Rng, info: &gst_video::VideoInfo, last: &mut Vec<u8>) -> gst::Buffer {
    let size = info.size();
    if last.len() != size || rng.below(3) == 0 {
        *last = match rng.below(3) {
            0 => vec![rng.below(256) as u8; size],
            _ => (0..size).map(|_| rng.next() as u8).collect(),
        };
    }
    gst::Buffer::from_mut_slice(last.clone())
}

/// The key under which a start must meet its end: the element, and the
/// kind for elements that report several at once.
fn key(m: &Message) -> String {
    match m {
        Message::Cadence(gstavmonitor::CadenceDetectMessage::Fault { kind, .. }) => {
            format!("{}:{}", m.element(), kind.as_str())
        }
        _ => m.element().to_string(),
    }
}

fn check(messages: &[gst::Structure], open: &mut HashMap<String, i32>, seed: u64) {
    for s in messages {
        let m = Message::from_structure(s)
            .unwrap_or_else(|| panic!("seed {seed}: not a detector message: {s}"))
            .unwrap_or_else(|e| panic!("seed {seed}: malformed: {e}"));
        if let Some(e) = m.defect() {
            let n = open.entry(key(&m)).or_default();
            match e.kind {
                gstavmonitor::EventKind::Start => *n += 1,
                gstavmonitor::EventKind::End => *n -= 1,
            }
            assert!((0..=1).contains(n), "seed {seed}: {s} leaves {n} open");
        }
    }
}

fn drive(factory: &str, seed: u64) {
    init();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut info = random_info(&mut rng);
    let min = rng.below(5) * 40_000_000;
    let mut r = Run::new(factory, &[("min-duration", &min)], &info.to_caps().unwrap());
    let mut open = HashMap::new();
    let mut last = Vec::new();
    let mut t: u64 = 0;
    for _ in 0..60 {
        match rng.below(20) {
            0 => {
                // a flushing seek: time starts again
                check(&r.event(gst::event::FlushStart::new()), &mut open, seed);
                check(&r.event(gst::event::FlushStop::new(true)), &mut open, seed);
                let seg = gst::FormattedSegment::<gst::ClockTime>::new();
                check(&r.event(gst::event::Segment::new(&seg)), &mut open, seed);
                t = 0;
            }
            1 => {
                info = random_info(&mut rng);
                r.h.set_src_caps(info.to_caps().unwrap());
            }
            2 => {
                let gap = gst::event::Gap::builder(gst::ClockTime::from_nseconds(t))
                    .duration(gst::ClockTime::from_mseconds(40))
                    .build();
                check(&r.event(gap), &mut open, seed);
                t += 40_000_000;
            }
            _ => (),
        }
        let pts = match rng.below(12) {
            0 => None,
            1 => Some(t),                             // repeated
            2 => Some(t.saturating_sub(200_000_000)), // backwards
            3 => Some(t + 3_600_000_000_000),         // an hour on
            4 => Some(u64::MAX / 4),                  // huge
            _ => {
                t += 40_000_000 + rng.below(3) * 1_000_000;
                Some(t)
            }
        };
        let dur = (rng.below(4) != 0).then_some(40_000_000);
        let buf = timed(random_buffer(&mut rng, &info, &mut last), pts, dur);
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    let left: Vec<_> = open.iter().filter(|(_, &n)| n != 0).collect();
    assert!(left.is_empty(), "seed {seed}: open at EOS: {left:?}");
}

fn seeds() -> u64 {
    std::env::var("ROBUST_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24)
}

#[test]
fn areadetect_random_streams() {
    for seed in 0..seeds() {
        drive("areadetect", seed);
    }
}

#[test]
fn cadencedetect_random_streams() {
    for seed in 0..seeds() {
        drive("cadencedetect", seed);
    }
}

#[test]
fn blackdetect_random_streams() {
    for seed in 0..seeds() {
        drive("blackdetect", seed);
    }
}

#[test]
fn blockdetect_random_streams() {
    for seed in 0..seeds() {
        drive("blockdetect", seed);
    }
}

#[test]
fn freezedetect_random_streams() {
    for seed in 0..seeds() {
        drive("freezedetect", seed);
    }
}
