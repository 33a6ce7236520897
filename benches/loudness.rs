//! loudness kernel on one second of 48 kHz audio (stereo and 16 channels, F32
//! and S16), fed as 10 ms buffers. Throughput is in frames: frames per
//! second over 48 000 is the real-time factor.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::blocks::AudioTime;
use gstavmonitor::analysis::loudness::{LoudnessConfig, LoudnessMeter};
use gstavmonitor::analysis::samples::{AudioView, SampleFormat};

#[path = "audio_common.rs"]
mod audio_common;
use audio_common::{second, RATE};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("loudness");
    g.throughput(Throughput::Elements(u64::from(RATE)));
    for (channels, format, tp) in [
        (2, SampleFormat::F32, true),
        (2, SampleFormat::F32, false),
        (2, SampleFormat::S16, true),
        (16, SampleFormat::F32, true),
    ] {
        let data = second(channels, format);
        let per = 480 * channels * format.bytes();
        let id = BenchmarkId::new(
            format!("{format:?}{}", if tp { "-truepeak" } else { "" }),
            format!("{channels}ch"),
        );
        g.bench_function(id, |b| {
            let cfg = LoudnessConfig {
                true_peak: tp,
                ..LoudnessConfig::default()
            };
            let mut d = LoudnessMeter::new(cfg, RATE, channels).unwrap();
            b.iter(|| {
                let mut at = AudioTime::at(0);
                for chunk in data.chunks(per) {
                    let v = AudioView::interleaved(chunk, format, channels).unwrap();
                    std::hint::black_box(d.push(&v, at));
                    at.offset += v.frames() as u64;
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
