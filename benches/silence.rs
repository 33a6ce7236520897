//! silence kernel on one second of 48 kHz audio (see audio_common.rs).
use criterion::{criterion_group, criterion_main, Criterion};
use gstavmonitor::analysis::audio::silence::{SilenceConfig, SilenceDetector};

#[path = "audio_common.rs"]
mod audio_common;
use audio_common::{bench, RATE};

fn benches(c: &mut Criterion) {
    bench(c, "silence", "", |ch| {
        SilenceDetector::new(SilenceConfig::default(), RATE, ch)
    });
}

criterion_group!(group, benches);
criterion_main!(group);
