//! freezedetect: exact timing on hand-made buffers, bad input, grain, the
//! ticker/region behaviour, and real pipelines.
mod common;

use common::contract::Spec;
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;

thread_local!(static T: Texture = Texture::new());

fn picture(info: &gst_video::VideoInfo, dx: usize) -> Vec<u8> {
    let (w, h) = (info.width() as usize, info.height() as usize);
    T.with(|t| t.window(w, h, dx, 0, 1.0, 0.0))
}

/// The same picture every frame, with fresh grain where the picture is big
/// enough for noise to average out (a 1x1 picture cannot tell grain from change).
fn defect(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let mut luma = picture(info, 500);
    if info.width() >= 64 && info.height() >= 64 {
        grain(&mut luma, i as u64, 4);
    }
    yuv_buffer(info, &luma)
}

/// A pan of 3 pixels a frame with a bright square moving down, so that even
/// a 1x1 picture changes from frame to frame.
fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    let mut luma = picture(info, 3 * i);
    if w * h <= 16 {
        luma.fill(if i.is_multiple_of(2) { 40 } else { 200 });
    }
    square(&mut luma, w, h, 0, (5 * i) % h, 8, 235);
    yuv_buffer(info, &luma)
}

const SPEC: Spec = Spec {
    factory: "freezedetect",
    defect,
    good,
};

contract_tests!(SPEC);

/// A ticker crawling along the bottom keeps a frozen picture live; leaving it
/// out of the region finds the freeze, and the difference is reported.
#[test]
fn ticker_and_region() {
    let info = info(VideoFormat::I420, 320, 240);
    let frame = |i: usize| {
        let mut luma = picture(&info, 100);
        // ticker: bottom 24 rows, moving text-like stripes
        for y in 216..240 {
            for x in 0..320 {
                luma[y * 320 + x] = if ((x + 4 * i) / 6).is_multiple_of(3) {
                    235
                } else {
                    30
                };
            }
        }
        timed(yuv_buffer(&info, &luma), Some(i as u64 * F), Some(F))
    };
    let caps = info.to_caps().unwrap();
    let mut r = Run::new("freezedetect", &[("min-duration", &(5 * F))], &caps);
    for i in 0..20 {
        assert!(r.push(frame(i)).is_empty(), "the ticker moves: not frozen");
    }
    let mut r = Run::new(
        "freezedetect",
        &[("min-duration", &(5 * F)), ("region-height", &0.85)],
        &caps,
    );
    let mut evs = Vec::new();
    for i in 0..20 {
        evs.extend(r.push(frame(i)));
    }
    assert_eq!(kinds(&evs), vec![start(0)]);
    let m = gstavmonitor::FreezeDetectMessage::from_structure(&evs[0]).unwrap();
    assert_eq!(m.difference(), 0.0);
}

/// The threshold property decides how much grain still counts as frozen.
#[test]
fn threshold_property() {
    let info = info(VideoFormat::I420, 160, 120);
    let caps = info.to_caps().unwrap();
    let noisy = |i: usize| {
        let mut luma = picture(&info, 0);
        grain(&mut luma, i as u64, 40);
        timed(yuv_buffer(&info, &luma), Some(i as u64 * F), Some(F))
    };
    let mut r = Run::new("freezedetect", &[("min-duration", &(3 * F))], &caps);
    let mut evs = Vec::new();
    for i in 0..10 {
        evs.extend(r.push(noisy(i)));
    }
    assert!(
        evs.is_empty(),
        "+-40 grain is more than the default tolerates"
    );
    r.element().set_property("threshold", 0.2);
    for i in 10..20 {
        evs.extend(r.push(noisy(i)));
    }
    // frame 9 was the last new reference: the freeze begins there
    assert_eq!(kinds(&evs), vec![start(9 * F)]);
    let m = gstavmonitor::FreezeDetectMessage::from_structure(&evs[0]).unwrap();
    assert!(
        m.difference() > 0.02 && m.difference() <= 0.2,
        "{}",
        m.difference()
    );
}

/// Real pipelines: the SMPTE bars are static but for a patch of snow in the
/// bottom right corner, so they freeze only once the region leaves it out;
/// the moving ball never does.
#[test]
fn real_pipelines() {
    init();
    let caps = "video/x-raw,framerate=25/1,width=320,height=240";
    let p = gst::parse::launch(&format!(
        "videotestsrc pattern=smpte num-buffers=50 ! {caps} ! freezedetect min-duration=1000000000 ! fakesink"
    ))
    .unwrap();
    assert!(run_to_eos(&p).is_empty());
    let p = gst::parse::launch(&format!(
        "videotestsrc pattern=smpte num-buffers=50 ! {caps} ! freezedetect min-duration=1000000000 \
         region-width=0.7 ! fakesink"
    ))
    .unwrap();
    let evs = run_to_eos(&p);
    assert_eq!(evs.len(), 2, "{evs:?}");
    assert_eq!((evs[0].kind, evs[0].ts), ("start", 0));
    assert_eq!(
        (evs[1].kind, evs[1].ts, evs[1].reason),
        ("end", 50 * F, Some("eos"))
    );
    let p = gst::parse::launch(&format!(
        "videotestsrc pattern=ball num-buffers=75 ! {caps} ! freezedetect min-duration=1000000000 ! fakesink"
    ))
    .unwrap();
    assert!(run_to_eos(&p).is_empty());
}

/// With `post-messages` on and `interval` 0, every compared frame posts its
/// difference: high while the picture moves, 0 once it repeats.
#[test]
fn difference_per_frame_when_asked() {
    let info = info(VideoFormat::I420, 160, 120);
    let caps = info.to_caps().unwrap();
    let mut r = Run::new(
        "freezedetect",
        &[("post-messages", &true), ("interval", &0u64)],
        &caps,
    );
    let mut got = Vec::new();
    for i in 0..8u64 {
        let luma = picture(&info, 4 * i.min(4) as usize);
        for m in r.push(timed(yuv_buffer(&info, &luma), Some(i * F), Some(F))) {
            got.push((
                i,
                gstavmonitor::FreezeDetectMessage::from_structure(&m).unwrap(),
            ));
        }
    }
    let per_frame: Vec<(u64, u64, f64)> = got
        .iter()
        .filter_map(|(i, m)| match m {
            gstavmonitor::FreezeDetectMessage::Measurement {
                at,
                difference,
                frames,
            } => {
                assert_eq!(*frames, 1);
                Some((*i, at.timestamp, *difference))
            }
            _ => None,
        })
        .collect();
    // frame 0 has nothing to be compared with
    let frames: Vec<(u64, u64)> = per_frame.iter().map(|p| (p.0, p.1)).collect();
    assert_eq!(frames, (1..8).map(|i| (i, (i + 1) * F)).collect::<Vec<_>>());
    assert!(per_frame[..4].iter().all(|p| p.2 > 0.02), "{per_frame:?}");
    assert!(per_frame[4..].iter().all(|p| p.2 == 0.0), "{per_frame:?}");
}
