//! cadencedetect kernel on 1080p and 2160p 8-bit luma: moving content
//! (each frame compared with the one before on freeze's cell grid) and a
//! 10-bit plane.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::cadence::{CadenceConfig, CadenceDetector};
use gstavmonitor::analysis::video::frame::LumaPlane;

#[path = "video_common.rs"]
mod video_common;
use video_common::{plane10, texture, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cadencedetect");
    for (name, w, h) in SIZES {
        g.throughput(Throughput::Elements((w * h) as u64));
        // two pictures in turn, so every frame differs from the one before
        let frames = [texture(w, h, 0), texture(w, h, 3)];
        let mut d = CadenceDetector::new(CadenceConfig::default());
        let mut out = Vec::new();
        let mut i = 0u64;
        g.bench_function(BenchmarkId::new("8bit", name), |b| {
            b.iter(|| {
                let data = &frames[(i % 2) as usize];
                let plane = LumaPlane::gray8(data, w, h).unwrap();
                d.push(&plane, i * 40_000_000, (i + 1) * 40_000_000, &mut out);
                out.clear();
                i += 1;
            })
        });
        let words = [words10(&frames[0]), words10(&frames[1])];
        let mut d = CadenceDetector::new(CadenceConfig::default());
        g.bench_function(BenchmarkId::new("10bit", name), |b| {
            b.iter(|| {
                let plane = plane10(&words[(i % 2) as usize], w, h);
                d.push(&plane, i * 40_000_000, (i + 1) * 40_000_000, &mut out);
                out.clear();
                i += 1;
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
