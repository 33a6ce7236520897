//! Random streams through the audio detectors: random sample formats,
//! layouts, rates (8 to 192 kHz) and channel counts (1 to 64), random bytes
//! (NaN and infinity included in float formats), empty and uneven buffers,
//! timestamps missing, repeated, backwards or huge, flushes, caps changes,
//! gaps and EOS, from fixed seeds. Every buffer must come out unchanged,
//! every message must read back as its element's typed message, and every
//! start must have its end by EOS. `ROBUST_SEEDS=N` runs more seeds (the
//! suite runs 24 per element).
mod common;

use std::collections::HashMap;

use common::random::{all_closed, check, seeds, Rng};
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

/// `frames` frames of `info`: random bytes, silence, or full scale.
fn random_buffer(rng: &mut Rng, info: &gst_audio::AudioInfo, frames: usize) -> gst::Buffer {
    let size = frames * info.bpf() as usize;
    let data: Vec<u8> = match rng.below(4) {
        0 => vec![0; size],
        1 => vec![0x7f; size],
        _ => (0..size).map(|_| rng.next() as u8).collect(),
    };
    let mut buf = gst::Buffer::from_mut_slice(data);
    if info.layout() == AudioLayout::NonInterleaved {
        gst_audio::AudioMeta::add(buf.get_mut().unwrap(), info, frames, &[]).expect("audio meta");
    }
    buf
}

fn drive(factory: &str, seed: u64) {
    init();
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
        match rng.below(20) {
            0 => {
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
                    .duration(gst::ClockTime::from_mseconds(100))
                    .build();
                check(&r.event(gap), &mut open, seed);
                t += 100_000_000;
            }
            _ => (),
        }
        let frames = match rng.below(8) {
            0 => 0,
            1 => 1 + rng.below(7) as usize,
            _ => rng.below(4800) as usize,
        };
        let dur = frames as u64 * 1_000_000_000 / u64::from(info.rate());
        let pts = match rng.below(12) {
            0 => None,
            1 => Some(t),
            2 => Some(t.saturating_sub(300_000_000)),
            3 => Some(t + 3_600_000_000_000),
            4 => Some(u64::MAX / 4),
            _ => {
                t += dur + rng.below(2) * 5_000_000;
                Some(t)
            }
        };
        let buf = timed(random_buffer(&mut rng, &info, frames), pts, Some(dur));
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
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
