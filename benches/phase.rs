//! phase kernel on one second of 48 kHz audio (see audio_common.rs).
use criterion::{criterion_group, criterion_main, Criterion};
use gstavmonitor::analysis::audio::phase::{PhaseConfig, PhaseDetector};

#[path = "audio_common.rs"]
mod audio_common;
use audio_common::{bench, RATE};

fn benches(c: &mut Criterion) {
    bench(c, "phase", "", |_| {
        PhaseDetector::new(PhaseConfig::default(), RATE)
    });
}

criterion_group!(group, benches);
criterion_main!(group);
