//! Real footage with a defect put in: a clip scaled to I420, frames changed
//! in a pad probe, encoded with x264 at an ordinary bitrate, decoded, and
//! run through the detectors under test.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;

use super::{init, run_structures, running_time};

/// What a clip is made into before it is encoded.
pub struct Clip<'a> {
    pub path: &'a std::path::Path,
    /// Frames of the clip used.
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    /// Scale keeping the clip's shape, inside bars (`videoscale add-borders`).
    pub letterbox: bool,
    /// Frames `from..to` hold the defect: their times are reported.
    pub from: usize,
    pub to: usize,
}

/// What came out.
pub struct Injected {
    /// Every detector message, in order.
    pub structures: Vec<gst::Structure>,
    /// Running times of frames `from` and `to` (where the change begins and
    /// ends), when the clip reached them.
    pub start: Option<u64>,
    pub end: Option<u64>,
    /// Media played, s, and one frame's duration, ns.
    pub seconds: f64,
    pub frame: u64,
    /// Running time of the end of the last frame, ns.
    pub last_end: u64,
}

/// Plays `clip` with `change(data, i, fps)` applied to each I420 frame `i`
/// (the change decides which frames it alters), through x264 at 2 Mb/s (3
/// B-frames, a key frame every 2 s) and avdec_h264, then `chain` (ending in
/// a sink).
pub fn inject(
    clip: &Clip<'_>,
    change: impl Fn(&mut [u8], usize, f64) + Send + Sync + 'static,
    chain: &str,
) -> Injected {
    init();
    let p = gst::parse::launch(&format!(
        "filesrc location={src} ! decodebin ! videoconvert ! videoscale add-borders={letterbox} \
         ! video/x-raw,format=I420,width={w},height={h},pixel-aspect-ratio=1/1 \
         ! identity name=inject eos-after={frames} \
         ! x264enc bitrate=2000 speed-preset=veryfast bframes=3 key-int-max=50 \
         ! h264parse ! avdec_h264 ! {chain}",
        src = clip.path.display(),
        letterbox = clip.letterbox,
        w = clip.width,
        h = clip.height,
        frames = clip.frames,
    ))
    .unwrap();
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let pad = bin.by_name("inject").unwrap().static_pad("src").unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new((None, None, 0u64, 0u64, 0u64)));
    let (c, t) = (count.clone(), times.clone());
    let (from, to) = (clip.from, clip.to);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let i = c.fetch_add(1, Ordering::SeqCst);
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        // in running time, as the events are compared in it (x264enc moves
        // timestamps on by an hour, qtdemux applies edit lists through the
        // segment)
        let pts = running_time(pad, buffer.pts());
        let dur = buffer.duration().map_or(0, |t| t.nseconds());
        {
            let mut t = t.lock().unwrap();
            if i == from {
                t.0 = Some(pts);
            }
            if i == to {
                t.1 = Some(pts);
            }
            t.2 += dur;
            t.3 = dur;
            t.4 = pts + dur;
        }
        let fps = 1e9 / dur.max(1) as f64;
        let b = buffer.make_mut();
        let mut map = b.map_writable().unwrap();
        change(map.as_mut_slice(), i, fps);
        gst::PadProbeReturn::Ok
    });
    let structures = run_structures(&p);
    let (start, end, total, frame, last_end) = *times.lock().unwrap();
    Injected {
        structures,
        start,
        end,
        seconds: total as f64 / 1e9,
        frame,
        last_end,
    }
}
