//! freezedetect kernel (cell means and comparison with the reference) on one 8-bit and one 10-bit luma plane, 1080p and 2160p.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::frame::{LumaPlane, Region};
use gstavmonitor::analysis::video::freeze::CellGrid;
use gstavmonitor::analysis::video::freeze::{FreezeConfig, FreezeDetector};

#[path = "video_common.rs"]
mod video_common;
use video_common::{picture, plane10, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("freezedetect");
    for (name, w, h) in SIZES {
        let data = picture(w, h);
        g.throughput(Throughput::Elements((w * h) as u64));
        let mut d = FreezeDetector::new(FreezeConfig::default());
        let mut out = Vec::new();
        let plane = LumaPlane::gray8(&data, w, h).unwrap();
        g.bench_with_input(BenchmarkId::new("8bit", name), &plane, |b, p| {
            b.iter(|| {
                d.push(p, 0, 40_000_000, &mut out);
                out.clear()
            })
        });
        let rect = Region::default().to_rect(w, h);
        let mut grid = CellGrid::default();
        g.bench_with_input(BenchmarkId::new("8bit-cells-only", name), &plane, |b, p| {
            b.iter(|| grid.compute(p, rect, 8))
        });
        let other = grid.clone();
        g.bench_with_input(BenchmarkId::new("compare-only", name), &other, |b, o| {
            b.iter(|| grid.max_tile_difference(o))
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
