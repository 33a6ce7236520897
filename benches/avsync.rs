//! avsyncdetect kernel: the cost per 1080p frame (8 and 10 bit) and per
//! 10 ms audio buffer (stereo F32 and S16), each with the other stream
//! flowing so that pairing and content measurement run as in a pipeline.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::audio::samples::{AudioView, SampleFormat};
use gstavmonitor::analysis::audio::timing::AudioTime;
use gstavmonitor::analysis::avsync::{AvSync, SyncConfig};
use gstavmonitor::analysis::video::frame::LumaPlane;

#[path = "video_common.rs"]
#[allow(dead_code)]
mod video_common;
use video_common::{plane10, texture, words10};

#[path = "audio_common.rs"]
#[allow(dead_code)]
mod audio_common;
use audio_common::{second, RATE};

const F: u64 = 40_000_000;

fn video(c: &mut Criterion) {
    let mut g = c.benchmark_group("avsyncdetect");
    let (w, h) = (1920, 1080);
    // two pictures in turn, so every frame differs from the one before
    let pics = [texture(w, h, 0), texture(w, h, 3)];
    let silence = vec![0u8; 480 * 8];
    let audio = AudioView::interleaved(&silence, SampleFormat::F32, 2).unwrap();
    g.throughput(Throughput::Elements(1));
    for bits in [8, 10] {
        let words: Vec<Vec<u8>> = pics.iter().map(|p| words10(p)).collect();
        let mut sync = AvSync::new(SyncConfig::default());
        let mut out = Vec::new();
        let mut i = 0u64;
        g.bench_function(BenchmarkId::new("frame", format!("1080p-{bits}bit")), |b| {
            b.iter(|| {
                let plane = if bits == 8 {
                    LumaPlane::gray8(&pics[(i % 2) as usize], w, h).unwrap()
                } else {
                    plane10(&words[(i % 2) as usize], w, h)
                };
                let t = i * F;
                // keep audio level with video, outside the timing loop's cost
                // as little as possible: one 10 ms buffer per frame
                sync.push_audio(&audio, AudioTime::at(t), RATE, &mut out);
                sync.push_video(&plane, t, t + F, &mut out);
                out.clear();
                i += 1;
            })
        });
    }
    g.finish();
}

fn audio(c: &mut Criterion) {
    let mut g = c.benchmark_group("avsyncdetect");
    let luma = vec![16u8; 64 * 36];
    let plane = LumaPlane::gray8(&luma, 64, 36).unwrap();
    for format in [SampleFormat::F32, SampleFormat::S16] {
        let data = second(2, format);
        let bytes = 480 * 2 * format.bytes();
        let mut sync = AvSync::new(SyncConfig::default());
        let mut out = Vec::new();
        let mut i = 0u64;
        g.throughput(Throughput::Elements(480));
        g.bench_function(
            BenchmarkId::new("audio-10ms", format!("stereo-{format:?}")),
            |b| {
                b.iter(|| {
                    let k = (i % 100) as usize;
                    let view = AudioView::interleaved(&data[k * bytes..(k + 1) * bytes], format, 2)
                        .unwrap();
                    let t = i * 10_000_000;
                    if i.is_multiple_of(4) {
                        sync.push_video(&plane, t, t + F, &mut out);
                    }
                    sync.push_audio(&view, AudioTime::at(t), RATE, &mut out);
                    out.clear();
                    i += 1;
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, video, audio);
criterion_main!(benches);
