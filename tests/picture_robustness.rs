//! Random streams through the single-stream picture detectors: random
//! formats and sizes (odd ones included), random content, timestamps
//! missing, repeated, backwards or huge, flushes, caps changes, gaps and
//! EOS, from fixed seeds. Every buffer must come out unchanged (data,
//! timestamps, flags: `Run::push` checks), every message must read back as
//! its element's typed message, and every start must have its end by EOS.
//! `ROBUST_SEEDS=N` runs more seeds (the suite runs 24 per element).
mod common;

use std::collections::HashMap;

use common::random::{all_closed, check, seeds, Rng};
use common::*;

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

fn drive(factory: &str, seed: u64) {
    init();
    let mut rng = Rng::seeded(seed);
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
    all_closed(&open, seed);
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
fn levelsdetect_random_streams() {
    for seed in 0..seeds() {
        drive("levelsdetect", seed);
    }
}

#[test]
fn patterndetect_random_streams() {
    for seed in 0..seeds() {
        drive("patterndetect", seed);
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
