//! Random streams through the audio detectors: random sample formats,
//! layouts, rates (8 to 192 kHz) and channel counts (1 to 64), random bytes
//! (NaN and infinity included in float formats), empty and uneven buffers,
//! buffers that are not whole frames or lack their planar audio meta,
//! timestamps missing, repeated, backwards or huge, flushes, caps changes,
//! gaps and EOS, from fixed seeds. Every buffer must come out unchanged,
//! every message must read back as its element's typed message, and every
//! start must have its end by EOS. `ROBUST_SEEDS=N` runs more seeds (the
//! suite runs 24 per element).
mod common;

use std::collections::HashMap;

use common::random::{
    all_closed, check, disturb, next_pts, no_criticals, seeds, watch_criticals, Rng,
};
use common::*;
use gst::prelude::*;
use gst_audio::{AudioFormat, AudioLayout};

const FORMATS: [AudioFormat; 6] = [
    AudioFormat::S16le,
    AudioFormat::S24le,
    AudioFormat::S2432le,
    AudioFormat::S32le,
    AudioFormat::F32le,
    AudioFormat::F64le,
];

fn random_info(rng: &mut Rng) -> gst_audio::AudioInfo {
    let format = FORMATS[rng.below(6) as usize];
    let rate = [
        8000,
        44_100,
        48_000,
        96_000,
        192_000,
        8000 + rng.below(184_001) as u32,
    ][rng.below(6) as usize];
    let channels = match rng.below(4) {
        0 => 1 + rng.below(64) as u32,
        _ => 1 + rng.below(8) as u32,
    };
    let layout = if rng.below(3) == 0 {
        AudioLayout::NonInterleaved
    } else {
        AudioLayout::Interleaved
    };
    gst_audio::AudioInfo::builder(format, rate, channels)
        .layout(layout)
        .build()
        .expect("audio info")
}

/// `frames` frames of `info`: random bytes, silence, or full scale. One in
/// sixteen does not match the caps: a part frame more (interleaved), or no
/// audio meta (planar).
fn random_buffer(rng: &mut Rng, info: &gst_audio::AudioInfo, frames: usize) -> gst::Buffer {
    let odd = rng.below(16) == 0;
    let size = frames * info.bpf() as usize
        + if odd && info.layout() == AudioLayout::Interleaved {
            1 + rng.below(u64::from(info.bpf()).max(2) - 1) as usize
        } else {
            0
        };
    let data: Vec<u8> = match rng.below(4) {
        0 => vec![0; size],
        1 => vec![0x7f; size],
        _ => (0..size).map(|_| rng.next() as u8).collect(),
    };
    let mut buf = gst::Buffer::from_mut_slice(data);
    if info.layout() == AudioLayout::NonInterleaved && !odd {
        gst_audio::AudioMeta::add(buf.get_mut().unwrap(), info, frames, &[]).expect("audio meta");
    }
    buf
}

fn drive(factory: &str, seed: u64) {
    init();
    watch_criticals();
    let mut rng = Rng::seeded(seed);
    let mut info = random_info(&mut rng);
    let min = rng.below(5) * 20_000_000;
    let mut r = Run::new(factory, &[], &info.to_caps().unwrap());
    // clipdetect has no min-duration (it merges runs instead)
    if r.element().find_property("min-duration").is_some() {
        r.element().set_property("min-duration", min);
    }
    let mut open = HashMap::new();
    let mut t: u64 = 0;
    for _ in 0..40 {
        if disturb(&mut rng, &mut r.h, &r.bus, &mut open, seed, &mut t, true) {
            info = random_info(&mut rng);
            r.h.set_src_caps(info.to_caps().unwrap());
        }
        let frames = match rng.below(8) {
            0 => 0,
            1 => 1 + rng.below(7) as usize,
            _ => rng.below(4800) as usize,
        };
        let dur = frames as u64 * 1_000_000_000 / u64::from(info.rate());
        let pts = next_pts(&mut rng, &mut t, dur);
        let buf = timed(random_buffer(&mut rng, &info, frames), pts, Some(dur));
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
}

#[test]
fn silencedetect_random_streams() {
    for seed in 0..seeds() {
        drive("silencedetect", seed);
    }
}

#[test]
fn clipdetect_random_streams() {
    for seed in 0..seeds() {
        drive("clipdetect", seed);
    }
}

#[test]
fn phasedetect_random_streams() {
    for seed in 0..seeds() {
        drive("phasedetect", seed);
    }
}

#[test]
fn loudnessmeter_random_streams() {
    for seed in 0..seeds() {
        drive("loudnessmeter", seed);
    }
}
