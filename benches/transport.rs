//! What tsmonitor does per transport stream packet: a 20 Mb/s stream
//! (x264 1080p noise, AAC stereo, PAT and PMT every 100 ms, a PCR every
//! 20 ms, muxed by mpegtsmux) fed in UDP-sized buffers of 7 packets, made
//! once before measuring. The line rate of a 20 Mb/s feed is about 13,300
//! packets a second; `scripts/bench-ts.sh` sets the element beside
//! `tsdemux` on the same stream.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
#[path = "coded_common.rs"]
mod coded_common;
use gstavmonitor::analysis::transport::monitor::{TsConfig, TsMonitor};

/// 10 s of a 20 Mb/s transport stream.
fn stream() -> Vec<u8> {
    coded_common::pull(
        "videotestsrc num-buffers=250 pattern=snow ! video/x-raw,format=I420,width=1920,height=1080,framerate=25/1 ! \
         x264enc speed-preset=ultrafast bitrate=19000 key-int-max=50 ! h264parse ! queue ! \
         mpegtsmux name=m pcr-interval=1800 ! appsink name=out sync=false \
         audiotestsrc num-buffers=470 ! avenc_aac ! aacparse ! queue ! m.",
    )
    .concat()
}

fn bench(c: &mut Criterion) {
    let ts = stream();
    let packets = ts.len() / 188;
    let mut g = c.benchmark_group("tsmonitor");
    g.throughput(Throughput::Elements(packets as u64));
    g.sample_size(20);
    g.bench_function(
        format!("{packets} packets of a 20 Mb/s stream in 1316-byte buffers"),
        |b| {
            b.iter(|| {
                let mut m = TsMonitor::new(TsConfig::default());
                let mut out = Vec::new();
                for chunk in ts.chunks(1316) {
                    m.push(chunk, None, &mut out);
                }
                out.len()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
