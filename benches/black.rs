//! blackdetect kernel on one 8-bit and one 10-bit luma plane, 1080p and 2160p.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::black::{BlackConfig, BlackDetector};
use gstavmonitor::analysis::video::frame::LumaPlane;

#[path = "video_common.rs"]
mod video_common;
use video_common::{picture, plane10, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("blackdetect");
    for (name, w, h) in SIZES {
        let data = picture(w, h);
        g.throughput(Throughput::Elements((w * h) as u64));
        let mut d = BlackDetector::new(BlackConfig::default());
        let mut out = Vec::new();
        let plane = LumaPlane::gray8(&data, w, h).unwrap();
        g.bench_with_input(BenchmarkId::new("8bit", name), &plane, |b, p| {
            b.iter(|| {
                d.push(p, 0, 40_000_000, &mut out);
                out.clear()
            })
        });
        // a black frame is scanned to the end (other frames stop early)
        let black = vec![16u8; w * h];
        let plane = LumaPlane::gray8(&black, w, h).unwrap();
        g.bench_with_input(
            BenchmarkId::new("8bit-black-frame", name),
            &plane,
            |b, p| {
                b.iter(|| {
                    d.push(p, 0, 40_000_000, &mut out);
                    out.clear()
                })
            },
        );
        // with luma measurements on, every frame is scanned to the end
        let mut m = BlackDetector::new(BlackConfig {
            measurements: Some(0),
            ..BlackConfig::default()
        });
        let plane = LumaPlane::gray8(&data, w, h).unwrap();
        g.bench_with_input(BenchmarkId::new("8bit-measured", name), &plane, |b, p| {
            b.iter(|| {
                m.push(p, 0, 40_000_000, &mut out);
                out.clear()
            })
        });
        let data16 = words10(&data);
        let plane = plane10(&data16, w, h);
        g.bench_with_input(BenchmarkId::new("10bit", name), &plane, |b, p| {
            b.iter(|| {
                d.push(p, 0, 40_000_000, &mut out);
                out.clear()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
