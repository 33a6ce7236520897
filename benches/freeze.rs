//! freezedetect kernel (cell means and comparison with the reference) on one 8-bit and one 10-bit luma plane, 1080p and 2160p.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::frame::{LumaLayout, LumaPlane, LumaRange, Region};
use gstavmonitor::analysis::freeze::CellGrid;
use gstavmonitor::analysis::freeze::{FreezeConfig, FreezeDetector};

fn picture(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .map(|i| (16 + (i * 7 + i / w * 13) % 200) as u8)
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("freezedetect");
    for (name, w, h) in [("1080p", 1920, 1080), ("2160p", 3840, 2160)] {
        let data = picture(w, h);
        g.throughput(Throughput::Elements((w * h) as u64));
        let mut d = FreezeDetector::new(FreezeConfig::default());
        let plane = LumaPlane::gray8(&data, w, h).unwrap();
        g.bench_with_input(BenchmarkId::new("8bit", name), &plane, |b, p| {
            b.iter(|| d.push(p, 0, 40_000_000))
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
        let data16: Vec<u8> = data
            .iter()
            .flat_map(|&v| (u16::from(v) << 2).to_le_bytes())
            .collect();
        let plane = LumaPlane::new(
            &data16,
            w * 2,
            w,
            h,
            LumaLayout::U16 {
                offset: 0,
                step: 2,
                shift: 0,
            },
            LumaRange::new(10, false),
        )
        .unwrap();
        g.bench_with_input(BenchmarkId::new("10bit", name), &plane, |b, p| {
            b.iter(|| d.push(p, 0, 40_000_000))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
