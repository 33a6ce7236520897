// Shared by the benches of coded and transport data: the buffers a
// GStreamer pipeline delivers to its appsink named `out`, encoded once
// before measuring.
use gst::prelude::*;

/// Every buffer `launch` delivers to `appsink name=out`, in order.
pub fn pull(launch: &str) -> Vec<Vec<u8>> {
    gst::init().unwrap();
    let p = gst::parse::launch(launch).unwrap();
    let sink = p
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    while let Ok(s) = sink.pull_sample() {
        out.push(s.buffer().unwrap().map_readable().unwrap().to_vec());
    }
    p.set_state(gst::State::Null).unwrap();
    out
}
