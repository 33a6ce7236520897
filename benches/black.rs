//! blackdetect kernel on one 8-bit and one 10-bit luma plane, 1080p and 2160p.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::black::{BlackConfig, BlackDetector};
use gstavmonitor::analysis::frame::{LumaLayout, LumaPlane, LumaRange};

fn picture(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .map(|i| (16 + (i * 7 + i / w * 13) % 200) as u8)
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("blackdetect");
    for (name, w, h) in [("1080p", 1920, 1080), ("2160p", 3840, 2160)] {
        let data = picture(w, h);
        g.throughput(Throughput::Elements((w * h) as u64));
        let mut d = BlackDetector::new(BlackConfig::default());
        let plane = LumaPlane::gray8(&data, w, h).unwrap();
        g.bench_with_input(BenchmarkId::new("8bit", name), &plane, |b, p| {
            b.iter(|| d.push(p, 0, 40_000_000))
        });
        // a black frame is scanned to the end (other frames stop early)
        let black = vec![16u8; w * h];
        let plane = LumaPlane::gray8(&black, w, h).unwrap();
        g.bench_with_input(
            BenchmarkId::new("8bit-black-frame", name),
            &plane,
            |b, p| b.iter(|| d.push(p, 0, 40_000_000)),
        );
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
