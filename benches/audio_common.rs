// Shared by the audio benches: one second of music-like audio, fed to a
// kernel as 10 ms buffers; throughput in frames (frames per second over
// 48 000 is the real-time factor).
use criterion::{BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::audio::samples::{AudioView, SampleFormat};
use gstavmonitor::analysis::audio::timing::AudioTime;
use gstavmonitor::analysis::AudioDetector;

pub const RATE: u32 = 48_000;

/// One second, `channels` interleaved, in `format` (F32 or S16).
pub fn second(channels: usize, format: SampleFormat) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..RATE as usize {
        for c in 0..channels {
            let t = i as f64 / RATE as f64;
            let v = 0.2 * (t * 2.0 * std::f64::consts::PI * (220.0 + 30.0 * c as f64)).sin();
            match format {
                SampleFormat::S16 => out.extend(((v * 32767.0) as i16).to_le_bytes()),
                _ => out.extend((v as f32).to_le_bytes()),
            }
        }
    }
    out
}

/// Benches `make(channels)` on stereo F32 and S16 and 16-channel F32;
/// `variant` names a setting in the benchmark id.
pub fn bench<D: AudioDetector>(
    c: &mut Criterion,
    name: &str,
    variant: &str,
    make: impl Fn(usize) -> D,
) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(u64::from(RATE)));
    for (channels, format) in [
        (2, SampleFormat::F32),
        (2, SampleFormat::S16),
        (16, SampleFormat::F32),
    ] {
        let data = second(channels, format);
        let per = 480 * channels * format.bytes();
        let id = BenchmarkId::new(format!("{format:?}{variant}"), format!("{channels}ch"));
        g.bench_function(id, |b| {
            let mut d = make(channels);
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
