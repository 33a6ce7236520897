//! Random streams through the single-stream picture detectors: random
//! formats and sizes (1x1 to 8192x4320, odd ones included), random content,
//! buffers shorter or longer than the caps say, timestamps missing,
//! repeated, backwards or huge, flushes, late segments, caps changes, gaps
//! and EOS, from fixed seeds. Every buffer must come out unchanged (data,
//! timestamps, flags: `Run::push` checks), every message must read back as
//! its element's typed message, and every start must have its end by EOS.
//! `ROBUST_SEEDS=N` runs more seeds (the suite runs 24 per element).
mod common;

use std::collections::HashMap;

use common::random::{
    all_closed, check, disturb, next_pts, no_criticals, seeds, watch_criticals, Rng,
};
use common::*;

fn random_info(rng: &mut Rng) -> gst_video::VideoInfo {
    let formats = gstavmonitor::videodetect::FORMATS;
    let format = formats[rng.below(formats.len() as u64) as usize];
    let (w, h) = match rng.below(24) {
        0..=2 => (1 + rng.below(4) as u32, 1 + rng.below(4) as u32),
        // the biggest the caps allow, and odd sizes near it
        3 => [(8192, 4320), (7680, 4320), (8191, 4319), (4097, 2161)][rng.below(4) as usize],
        _ => (1 + rng.below(400) as u32, 1 + rng.below(300) as u32),
    };
    let fps = [(25, 1), (30000, 1001), (50, 1), (0, 1)][rng.below(4) as usize];
    gst_video::VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(fps.0, fps.1))
        .build()
        .expect("video info")
}

/// A buffer of `info`'s size: random bytes, or a picture repeated from the
/// last one (so repeats, freezes and flat frames occur), or flat (always
/// flat when big, to keep the run short). One in twelve is shorter or
/// longer than the caps say.
fn random_buffer(rng: &mut Rng, info: &gst_video::VideoInfo, last: &mut Vec<u8>) -> gst::Buffer {
    let size = info.size();
    if last.len() != size || rng.below(3) == 0 {
        *last = match rng.below(3) {
            _ if size > 4_000_000 => vec![rng.below(256) as u8; size],
            0 => vec![rng.below(256) as u8; size],
            _ => (0..size).map(|_| rng.next() as u8).collect(),
        };
    }
    let mut data = last.clone();
    match rng.below(24) {
        0 => data.truncate(rng.below(size as u64) as usize),
        1 => data.resize(size + 1 + rng.below(1000) as usize, 0x80),
        _ => (),
    }
    gst::Buffer::from_mut_slice(data)
}

fn drive(factory: &str, seed: u64) {
    init();
    watch_criticals();
    let mut rng = Rng::seeded(seed);
    let mut info = random_info(&mut rng);
    let min = rng.below(5) * 40_000_000;
    let mut r = Run::new(factory, &[("min-duration", &min)], &info.to_caps().unwrap());
    let mut open = HashMap::new();
    let mut last = Vec::new();
    let mut t: u64 = 0;
    let mut big = 0;
    for _ in 0..60 {
        // (two buffers of a big size are enough: then the caps change)
        big += usize::from(info.size() > 4_000_000);
        if disturb(&mut rng, &mut r.h, &r.bus, &mut open, seed, &mut t, true) || big > 2 {
            info = random_info(&mut rng);
            r.h.set_src_caps(info.to_caps().unwrap());
            big = 0;
        }
        let pts = next_pts(&mut rng, &mut t, F);
        let dur = (rng.below(4) != 0).then_some(F);
        let buf = timed(random_buffer(&mut rng, &info, &mut last), pts, dur);
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
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
