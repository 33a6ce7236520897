//! What slicecheck does per coded frame (start codes found, every slice
//! header read in full, the layout followed) on a real x264 stream: 1080p
//! noise at 8 Mb/s (so that frames are full size, about 42 kB), 4 slices a
//! frame, a key frame every 25, encoded once before measuring. Per frame,
//! against an H.264 decode of about 10 ms.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
#[path = "coded_common.rs"]
mod coded_common;
use gstavmonitor::analysis::coded::slices::{
    is_recovery_point, nal_units, Framing, SliceLayout, SliceParser,
};

/// The access units of 50 frames of x264 at 1080p.
fn stream() -> Vec<Vec<u8>> {
    coded_common::pull(
        "videotestsrc num-buffers=50 pattern=snow ! video/x-raw,format=I420,width=1920,height=1080,framerate=25/1 ! \
         x264enc speed-preset=ultrafast bitrate=8000 key-int-max=25 option-string=slices=4 ! \
         video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=out sync=false",
    )
}

fn bench(c: &mut Criterion) {
    let aus = stream();
    let bytes: usize = aus.iter().map(|a| a.len()).sum();
    let mut g = c.benchmark_group("slicecheck");
    g.throughput(Throughput::Elements(1));
    let mut parser = SliceParser::new();
    let mut layout = SliceLayout::new();
    let mut i = 0;
    g.bench_function(
        format!("1080p x264 8 Mb/s ({} bytes a frame)", bytes / aus.len()),
        |b| {
            b.iter(|| {
                let au = &aus[i % aus.len()];
                i += 1;
                let units = nal_units(au, Framing::ByteStream);
                let slices: Vec<_> = units.iter().filter_map(|u| parser.unit(u)).collect();
                let recovery = units.iter().any(|u| is_recovery_point(u));
                layout.frame(&slices, recovery)
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
