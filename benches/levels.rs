//! levelsdetect kernel on 1080p and 2160p 8-bit I420 (the decoders' usual
//! output): legal content, and a picture whose every sample is out of
//! range (the per-sample work is the same; only the counts differ), at the
//! default line step (8) and reading every line; and 10-bit I420 (samples
//! read out of 16-bit words rather than where they lie).
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gstavmonitor::analysis::video::colour::{
    ColourFormat, ColourModel, ColourPicture, Component, Packing, PlaneData,
};
use gstavmonitor::analysis::video::levels::{LevelsConfig, LevelsDetector};

#[path = "video_common.rs"]
mod video_common;
use video_common::{texture, words10, SIZES};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("levelsdetect");
    for (name, w, h) in SIZES {
        g.throughput(Throughput::Elements((w * h) as u64));
        let legal = texture(w, h, 0);
        let illegal = vec![250u8; w * h];
        let chroma: Vec<u8> = (0..(w / 2) * (h / 2))
            .map(|i| 100 + (i % 50) as u8)
            .collect();
        for (case, luma, step) in [
            ("8bit-i420", &legal, 8),
            ("8bit-i420-illegal", &illegal, 8),
            ("8bit-i420-every-line", &legal, 1),
        ] {
            let planes = [
                PlaneData {
                    data: luma,
                    stride: w,
                },
                PlaneData {
                    data: &chroma,
                    stride: w / 2,
                },
                PlaneData {
                    data: &chroma,
                    stride: w / 2,
                },
            ];
            let f = ColourFormat::i420(ColourModel::BT709, false);
            let pic = ColourPicture::new(f, &planes, w, h).unwrap();
            let mut d = LevelsDetector::new(LevelsConfig {
                line_step: step,
                ..LevelsConfig::default()
            });
            let mut out = Vec::new();
            g.bench_with_input(BenchmarkId::new(case, name), &pic, |b, p| {
                b.iter(|| {
                    d.push(p, 0, 40_000_000, &mut out);
                    out.clear()
                })
            });
        }
        let (y10, c10) = (words10(&legal), words10(&chroma));
        let planes = [
            PlaneData {
                data: &y10,
                stride: 2 * w,
            },
            PlaneData {
                data: &c10,
                stride: w,
            },
            PlaneData {
                data: &c10,
                stride: w,
            },
        ];
        let word = |plane, sub| Component {
            plane,
            offset: 0,
            step: 2,
            wide: true,
            shift: 0,
            w_sub: sub,
            h_sub: sub,
        };
        let f = ColourFormat {
            model: ColourModel::BT709,
            packing: Packing::Components([word(0, 0), word(1, 1), word(2, 1)]),
            depth: 10,
            full_range: false,
        };
        let pic = ColourPicture::new(f, &planes, w, h).unwrap();
        let mut d = LevelsDetector::new(LevelsConfig::default());
        let mut out = Vec::new();
        g.bench_with_input(BenchmarkId::new("10bit-i420", name), &pic, |b, p| {
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
