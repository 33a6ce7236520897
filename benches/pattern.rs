//! patterndetect kernel on 1080p and 2160p 8-bit I420: moving content (the
//! usual case), EBU colour bars (every line matches) and a flat slate
//! (the still-card test runs in full).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::colour::{ColourFormat, ColourModel, ColourPicture, PlaneData};
use gstavmonitor::analysis::video::pattern::{PatternConfig, PatternDetector};

#[path = "video_common.rs"]
mod video_common;
use video_common::{texture, SIZES};

/// An I420 picture (luma, chroma U, chroma V) of eight 75% bars.
fn bars(w: usize, h: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    // BT.709 limited range: white, yellow, cyan, green, magenta, red, blue, black
    const YUV: [[u8; 3]; 8] = [
        [180, 128, 128],
        [168, 44, 136],
        [145, 147, 44],
        [133, 63, 52],
        [63, 193, 204],
        [51, 109, 212],
        [28, 212, 120],
        [16, 128, 128],
    ];
    let at = |x: usize, c: usize| YUV[x * 8 / w][c];
    let y = (0..w * h).map(|i| at(i % w, 0)).collect();
    let (cw, ch) = (w / 2, h / 2);
    let u = (0..cw * ch).map(|i| at((i % cw) * 2, 1)).collect();
    let v = (0..cw * ch).map(|i| at((i % cw) * 2, 2)).collect();
    (y, u, v)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("patterndetect");
    for (name, w, h) in SIZES {
        g.throughput(Throughput::Elements((w * h) as u64));
        let (cw, ch) = (w / 2, h / 2);
        let content = (texture(w, h, 0), vec![120u8; cw * ch], vec![136u8; cw * ch]);
        let slate = (
            vec![60u8; w * h],
            vec![170u8; cw * ch],
            vec![110u8; cw * ch],
        );
        for (case, (y, u, v)) in [
            ("8bit-content", &content),
            ("8bit-bars", &bars(w, h)),
            ("8bit-slate", &slate),
        ] {
            let planes = [
                PlaneData { data: y, stride: w },
                PlaneData {
                    data: u,
                    stride: cw,
                },
                PlaneData {
                    data: v,
                    stride: cw,
                },
            ];
            let f = ColourFormat::i420(ColourModel::BT709, false);
            let pic = ColourPicture::new(f, &planes, w, h).unwrap();
            let mut d = PatternDetector::new(PatternConfig::default());
            let mut out = Vec::new();
            g.bench_with_input(BenchmarkId::new(case, name), &pic, |b, p| {
                b.iter(|| {
                    d.push(p, 0, 40_000_000, &mut out);
                    out.clear()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
