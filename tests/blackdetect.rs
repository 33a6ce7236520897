//! blackdetect: exact timing on hand-made buffers, bad input, and a real pipeline.
mod common;

use common::contract::Spec;
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;
use gstavmonitor::BlackDetectMessage;

fn defect(info: &gst_video::VideoInfo, _i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    let mut luma = vec![16u8; w * h];
    // a little dark noise, still black
    grain(&mut luma, 7, 3);
    yuv_buffer(info, &luma)
}

fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    thread_local!(static T: Texture = Texture::new());
    T.with(|t| yuv_buffer(info, &t.window(w, h, 3 * i, 0, 1.0, 0.0)))
}

const SPEC: Spec = Spec {
    factory: "blackdetect",
    defect,
    good,
};

contract_tests!(SPEC);

/// Messages carry the black ratio and mean luma of the first black frame.
#[test]
fn start_and_end_fields() {
    let info = info(VideoFormat::I420, 100, 100);
    let mut r = Run::new(
        "blackdetect",
        &[("min-duration", &0u64)],
        &info.to_caps().unwrap(),
    );
    let mut luma = vec![16u8; 100 * 100];
    luma[..100].fill(235); // one white row: 99% black
    let m = r.push(timed(yuv_buffer(&info, &luma), Some(0), Some(F)));
    let BlackDetectMessage::Black {
        black_ratio,
        mean_luma,
        ..
    } = BlackDetectMessage::from_structure(&m[0]).unwrap()
    else {
        panic!("{m:?}")
    };
    assert!((black_ratio - 0.99).abs() < 1e-9);
    assert!((mean_luma - 0.01).abs() < 1e-9);
    let m = r.push(flat(&info, 126, Some(F), Some(F)));
    let BlackDetectMessage::Black {
        event, black_ratio, ..
    } = BlackDetectMessage::from_structure(&m[0]).unwrap()
    else {
        panic!("{m:?}")
    };
    assert_eq!(event.duration, Some(F));
    assert!((black_ratio - 0.99).abs() < 1e-9);
}

/// The thresholds follow the caps' range: limited (16..235) and full (0..255).
#[test]
fn threshold_follows_range() {
    for (range, at, above) in [("bt601", 37u8, 38u8), ("1:4:0:0", 25, 26)] {
        let caps = gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .field("width", 64)
            .field("height", 48)
            .field("framerate", gst::Fraction::new(25, 1))
            .field("colorimetry", range)
            .build();
        let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
        let mut r = Run::new("blackdetect", &[("min-duration", &0u64)], &caps);
        assert_eq!(
            kinds(&r.push(flat(&info, at, Some(0), Some(F)))),
            vec![start(0)],
            "{range}"
        );
        assert_eq!(
            r.push(flat(&info, above, Some(F), Some(F))).len(),
            1,
            "{range}: end"
        );
        assert!(r.push(flat(&info, above, Some(2 * F), Some(F))).is_empty());
    }
}

/// pixel-threshold and ratio are settable while playing; the region leaves out a logo.
#[test]
fn thresholds_and_region() {
    let info = info(VideoFormat::I420, 100, 100);
    let mut r = Run::new(
        "blackdetect",
        &[("min-duration", &0u64)],
        &info.to_caps().unwrap(),
    );
    let mut luma = vec![16u8; 100 * 100];
    common::square(&mut luma, 100, 100, 80, 0, 20, 235); // 4% bright logo, top right
    let logo = |pts| timed(yuv_buffer(&info, &luma), Some(pts), Some(F));
    assert!(
        r.push(logo(0)).is_empty(),
        "96% black is not black at ratio 0.98"
    );
    r.element().set_property("ratio", 0.95);
    assert_eq!(kinds(&r.push(logo(F))), vec![start(F)]);
    r.element().set_property("ratio", 0.98);
    assert_eq!(r.push(logo(2 * F)).len(), 1, "back to not black");
    r.element().set_property("region-y", 0.2);
    r.element().set_property("region-height", 0.8);
    assert_eq!(kinds(&r.push(logo(3 * F))), vec![start(3 * F)]);
    // mid grey counts as black once the pixel threshold is raised above it
    r.element().set_property("region-y", 0.0);
    r.element().set_property("region-height", 1.0);
    r.element().set_property("pixel-threshold", 0.5);
    assert!(r.push(flat(&info, 100, Some(4 * F), Some(F))).is_empty());
    assert_eq!(r.element().property::<f64>("pixel-threshold"), 0.5);
}

/// A real pipeline: videotestsrc black, 1.2 s; one event from 0 to EOS.
#[test]
fn real_pipeline() {
    init();
    let p = gst::parse::launch(
        "videotestsrc pattern=black num-buffers=30 ! video/x-raw,framerate=25/1,width=320,height=240 \
         ! blackdetect min-duration=400000000 ! fakesink",
    )
    .unwrap();
    let evs = run_to_eos(&p);
    assert_eq!(
        evs,
        vec![
            Ev {
                kind: "start",
                ts: 0,
                running: Some(0),
                duration: None,
                reason: None
            },
            Ev {
                kind: "end",
                ts: 30 * F,
                running: Some(30 * F),
                duration: Some(30 * F),
                reason: Some("eos")
            }
        ]
    );
}

/// With `post-messages` on, a luma measurement ends each interval at the
/// exact end of its last frame; off (the default), there is none.
#[test]
fn luma_measurements_when_asked() {
    let info = info(VideoFormat::I420, 64, 48);
    let caps = info.to_caps().unwrap();
    let mut quiet = Run::new("blackdetect", &[], &caps);
    for i in 0..30 {
        assert!(quiet
            .push(flat(&info, 126, Some(i * F), Some(F)))
            .is_empty());
    }
    let mut r = Run::new(
        "blackdetect",
        &[("post-messages", &true), ("interval", &(10 * F))],
        &caps,
    );
    let mut got = Vec::new();
    for i in 0..25u64 {
        // code 16 + 8 i, with one pixel at 235 in every frame
        let mut luma = vec![16 + 8 * i as u8; 64 * 48];
        luma[100] = 235;
        for m in r.push(timed(yuv_buffer(&info, &luma), Some(i * F), Some(F))) {
            got.push((i, BlackDetectMessage::from_structure(&m).unwrap()));
        }
    }
    let measured: Vec<_> = got
        .iter()
        .filter_map(|(i, m)| match m {
            BlackDetectMessage::Measurement {
                at,
                luma_min,
                luma_max,
                frames,
                ..
            } => Some((*i, at.timestamp, *frames, *luma_min, *luma_max)),
            BlackDetectMessage::Black { .. } => None,
        })
        .collect();
    assert_eq!(measured.len(), 2, "{got:?}");
    // (frame posting it, timestamp, frames measured)
    assert_eq!(
        (measured[0].0, measured[0].1, measured[0].2),
        (9, 10 * F, 10)
    );
    assert_eq!(
        (measured[1].0, measured[1].1, measured[1].2),
        (19, 20 * F, 10)
    );
    assert!(measured[0].3.abs() < 1e-9);
    assert!((measured[0].4 - 1.0).abs() < 1e-9);
    assert!((measured[1].3 - 80.0 / 219.0).abs() < 1e-9);
    // switched off while playing: no more measurements
    r.element().set_property("post-messages", false);
    for i in 25..60u64 {
        let m = r.push(flat(&info, 126, Some(i * F), Some(F)));
        assert!(m.iter().all(|s| !is_measurement(s)), "{m:?}");
    }
}

/// With `frame-step` 4 only frames 0, 4, 8, ... are analysed: black over
/// frames 10 to 69 starts at frame 12 and ends at frame 72, and the frames
/// between pass through untouched.
#[test]
fn frame_step_analyses_one_frame_in_n() {
    let info = info(VideoFormat::I420, 64, 48);
    let mut r = Run::new(
        "blackdetect",
        &[("min-duration", &(20 * F)), ("frame-step", &4u32)],
        &info.to_caps().unwrap(),
    );
    let mut evs = Vec::new();
    for i in 0..100u64 {
        let luma = if (10..70).contains(&i) { 16 } else { 126 };
        for m in r.push(flat(&info, luma, Some(i * F), Some(F))) {
            evs.push((i, ev(&m)));
        }
    }
    let got: Vec<(u64, &str, u64)> = evs.iter().map(|(i, e)| (*i, e.kind, e.ts)).collect();
    // the start is known at frame 32 (frames 12..=32 span 20 frames' time)
    assert_eq!(got, [(32, "start", 12 * F), (72, "end", 72 * F)]);
}

/// A picture laid out as `avdec_*` decodes into its own buffers (padded
/// rows and planes, told by a `GstVideoMeta`, as the service lets it push
/// them) is read through the meta: black in its picture, white in its
/// padding, it is black. Without the meta the same bytes read as rows of
/// the default layout are not.
#[test]
fn pictures_are_read_through_their_video_meta() {
    let info = info(VideoFormat::I420, 320, 240);
    let caps = info.to_caps().unwrap();
    let black = vec![16u8; 320 * 240];
    let mut r = Run::new("blackdetect", &[("min-duration", &0u64)], &caps);
    let padded = padded_i420(&info, &black);
    assert!(padded.size() > info.size());
    let m = r.push(timed(padded.copy(), Some(0), Some(F)));
    assert_eq!(kinds(&m), vec![start(0)], "{m:?}");
    // the same bytes, meta removed: rows of the default layout run into
    // the white padding
    let mut r = Run::new("blackdetect", &[("min-duration", &0u64)], &caps);
    let mut bare = padded.copy();
    {
        let b = bare.get_mut().unwrap();
        b.set_size(info.size());
        while let Some(meta) = b.meta_mut::<gst_video::VideoMeta>() {
            meta.remove().unwrap();
        }
    }
    let m = r.push(timed(bare, Some(0), Some(F)));
    assert_eq!(kinds(&m), vec![], "{m:?}");
}
