//! phase kernel on one second of 48 kHz audio (stereo and 16 channels, F32
//! and S16), fed as 10 ms buffers. Throughput is in frames: frames per
//! second over 48 000 is the real-time factor.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::blocks::AudioTime;
use gstavmonitor::analysis::phase::{PhaseConfig, PhaseDetector};
use gstavmonitor::analysis::samples::{AudioView, SampleFormat};

#[path = "audio_common.rs"]
mod audio_common;
use audio_common::{second, RATE};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("phase");
    g.throughput(Throughput::Elements(u64::from(RATE)));
    for (channels, format) in [
        (2, SampleFormat::F32),
        (2, SampleFormat::S16),
        (16, SampleFormat::F32),
    ] {
        let data = second(channels, format);
        let per = 480 * channels * format.bytes();
        let id = BenchmarkId::new(format!("{format:?}"), format!("{channels}ch"));
        g.bench_function(id, |b| {
            let mut d = PhaseDetector::new(PhaseConfig::default(), RATE);
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
