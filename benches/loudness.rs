//! loudness kernel on one second of 48 kHz audio (see audio_common.rs).
use criterion::{criterion_group, criterion_main, Criterion};
use gstavmonitor::analysis::audio::loudness::{LoudnessConfig, LoudnessMeter};

#[path = "audio_common.rs"]
mod audio_common;
use audio_common::{bench, RATE};

fn benches(c: &mut Criterion) {
    for (tp, variant) in [(true, "-truepeak"), (false, "")] {
        let cfg = LoudnessConfig {
            true_peak: tp,
            ..LoudnessConfig::default()
        };
        bench(c, "loudness", variant, |ch| {
            LoudnessMeter::new(cfg, RATE, ch).expect("meter")
        });
    }
}

criterion_group!(group, benches);
criterion_main!(group);
