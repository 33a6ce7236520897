//! blockdetect kernel on 8-bit and 10-bit luma, 1080p and 2160p: two
//! pictures in turn, so every frame is compared with a different previous
//! one. `8bit` and `10bit` use a sawtooth pattern whose sharp steps make many
//! grid segments candidates (a worst case for the judging part); `8bit-natural`
//! a smooth natural-looking texture.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::block::{BlockConfig, BlockDetector, BoundaryMap};
use gstavmonitor::analysis::video::frame::LumaPlane;

#[path = "video_common.rs"]
mod video_common;
use video_common::{picture, plane10, texture, words10, SIZES};

/// Benches a fresh detector on `pictures` in turn, one 25 fps frame each.
fn in_turn(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    pictures: [LumaPlane<'_>; 2],
) {
    let mut d = BlockDetector::new(BlockConfig::default());
    let mut i = 0u64;
    g.bench_function(id, |bench| {
        bench.iter(|| {
            i += 1;
            d.push(
                &pictures[(i % 2) as usize],
                i * 40_000_000,
                (i + 1) * 40_000_000,
            )
        })
    });
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("blockdetect");
    for (name, w, h) in SIZES {
        let a = picture(w, h);
        // the same pattern moved 3 pixels
        let b: Vec<u8> = (0..w * h).map(|i| a[(i + 3) % (w * h)]).collect();
        g.throughput(Throughput::Elements((w * h) as u64));
        fn gray(l: &[u8], w: usize, h: usize) -> LumaPlane<'_> {
            LumaPlane::gray8(l, w, h).unwrap()
        }
        in_turn(
            &mut g,
            BenchmarkId::new("8bit", name),
            [gray(&a, w, h), gray(&b, w, h)],
        );
        let (ta, tb) = (texture(w, h, 0), texture(w, h, 3));
        in_turn(
            &mut g,
            BenchmarkId::new("8bit-natural", name),
            [gray(&ta, w, h), gray(&tb, w, h)],
        );
        let mut map = BoundaryMap::default();
        let first = gray(&a, w, h);
        g.bench_function(BenchmarkId::new("8bit-map-only", name), |bench| {
            bench.iter(|| map.compute(&first))
        });
        let (a16, b16) = (words10(&a), words10(&b));
        in_turn(
            &mut g,
            BenchmarkId::new("10bit", name),
            [plane10(&a16, w, h), plane10(&b16, w, h)],
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
