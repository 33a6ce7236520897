//! blockdetect kernel on 8-bit and 10-bit luma, 1080p and 2160p: two
//! pictures in turn, so every frame is compared with a different previous
//! one. `8bit` and `10bit` use a sawtooth pattern whose sharp steps make many
//! grid segments candidates (a worst case for the judging part); `8bit-natural`
//! a smooth natural-looking texture.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::block::{BlockConfig, BlockDetector, BoundaryMap};
use gstavmonitor::analysis::frame::LumaPlane;

#[path = "video_common.rs"]
mod video_common;
use video_common::{picture, plane10, texture, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("blockdetect");
    for (name, w, h) in SIZES {
        let a = picture(w, h);
        // the same texture moved 3 pixels
        let b: Vec<u8> = (0..w * h).map(|i| a[(i + 3) % (w * h)]).collect();
        g.throughput(Throughput::Elements((w * h) as u64));
        let mut d = BlockDetector::new(BlockConfig::default());
        let planes = [
            LumaPlane::gray8(&a, w, h).unwrap(),
            LumaPlane::gray8(&b, w, h).unwrap(),
        ];
        let mut i = 0usize;
        g.bench_function(BenchmarkId::new("8bit", name), |bench| {
            bench.iter(|| {
                i += 1;
                d.push(
                    &planes[i % 2],
                    i as u64 * 40_000_000,
                    (i as u64 + 1) * 40_000_000,
                )
            })
        });
        let (ta, tb) = (texture(w, h, 0), texture(w, h, 3));
        let natural = [
            LumaPlane::gray8(&ta, w, h).unwrap(),
            LumaPlane::gray8(&tb, w, h).unwrap(),
        ];
        g.bench_function(BenchmarkId::new("8bit-natural", name), |bench| {
            bench.iter(|| {
                i += 1;
                d.push(
                    &natural[i % 2],
                    i as u64 * 40_000_000,
                    (i as u64 + 1) * 40_000_000,
                )
            })
        });
        let mut map = BoundaryMap::default();
        g.bench_function(BenchmarkId::new("8bit-map-only", name), |bench| {
            bench.iter(|| map.compute(&planes[0]))
        });
        let (a16, b16) = (words10(&a), words10(&b));
        let planes = [plane10(&a16, w, h), plane10(&b16, w, h)];
        g.bench_function(BenchmarkId::new("10bit", name), |bench| {
            bench.iter(|| {
                i += 1;
                d.push(
                    &planes[i % 2],
                    i as u64 * 40_000_000,
                    (i as u64 + 1) * 40_000_000,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
