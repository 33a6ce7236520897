//! areadetect kernel on 1080p and 2160p 8-bit luma: content to the edges,
//! a letterbox, and a black frame (the worst case: every sampled line is
//! followed to its depth limit).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::area::{AreaConfig, AreaDetector};
use gstavmonitor::analysis::video::frame::LumaPlane;

#[path = "video_common.rs"]
mod video_common;
use video_common::{plane10, texture, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("areadetect");
    for (name, w, h) in SIZES {
        g.throughput(Throughput::Elements((w * h) as u64));
        let full = texture(w, h, 0);
        let mut boxed = full.clone();
        let bar = h / 8;
        boxed[..bar * w].fill(16);
        boxed[(h - bar) * w..].fill(16);
        let black = vec![16u8; w * h];
        for (case, data) in [
            ("8bit", &full),
            ("8bit-letterbox", &boxed),
            ("8bit-black-frame", &black),
        ] {
            let mut d = AreaDetector::new(AreaConfig::default());
            let mut out = Vec::new();
            let plane = LumaPlane::gray8(data, w, h).unwrap();
            g.bench_with_input(BenchmarkId::new(case, name), &plane, |b, p| {
                b.iter(|| {
                    d.push(p, 0, 40_000_000, &mut out);
                    out.clear()
                })
            });
        }
        let data16 = words10(&full);
        let plane = plane10(&data16, w, h);
        let mut d = AreaDetector::new(AreaConfig::default());
        let mut out = Vec::new();
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
