//! areadetect: exact timing on hand-made buffers, bad input, every format,
//! and a real pipeline.
mod common;

use common::contract::Spec;
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;
use gstavmonitor::{Area, AreaChange, AreaDetectMessage};

/// Textured content inside borders of `[top, bottom, left, right]` rows and
/// columns of black (with a little dark noise, as encoders leave it).
fn boxed(w: usize, h: usize, i: usize, b: [usize; 4]) -> Vec<u8> {
    thread_local!(static T: Texture = Texture::new());
    let mut luma = T.with(|t| t.window(w, h, 3 * i, 0, 1.0, 20.0));
    let mut noise = vec![16u8; w * h];
    grain(&mut noise, i as u64, 2);
    for y in 0..h {
        for x in 0..w {
            if y < b[0] || y >= h - b[1].min(h) || x < b[2] || x >= w - b[3].min(w) {
                luma[y * w + x] = noise[y * w + x];
            }
        }
    }
    luma
}

/// A letterbox of an eighth of the height at the top and bottom.
fn defect(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    yuv_buffer(info, &boxed(w, h, i, [h / 8, h / 8, 0, 0]))
}

fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    yuv_buffer(info, &boxed(w, h, i, [0; 4]))
}

const SPEC: Spec = Spec {
    factory: "areadetect",
    defect,
    good,
};

// Not the shared caps-change and size tests: a new format starts a new
// reference (below), and a picture of a few pixels has no borders.
contract_tests!(@each SPEC;
    exact_timing, short_defect_is_quiet, running_time_follows_segment,
    eos_closes_defect, flush_closes_defect, missing_timestamps,
    gaps_and_discontinuities, property_change_while_playing, unsupported_caps,
    never_drops_for_qos);

fn typed(msgs: &[gst::Structure]) -> Vec<AreaDetectMessage> {
    msgs.iter()
        .map(|s| AreaDetectMessage::from_structure(s).unwrap())
        .collect()
}

fn run(info: &gst_video::VideoInfo, min_frames: u64) -> Run {
    Run::new(
        "areadetect",
        &[("min-duration", &(min_frames * F))],
        &info.to_caps().unwrap(),
    )
}

fn push_boxed(
    r: &mut Run,
    info: &gst_video::VideoInfo,
    frames: std::ops::Range<usize>,
    b: [usize; 4],
) -> Vec<AreaDetectMessage> {
    let (w, h) = (info.width() as usize, info.height() as usize);
    let mut out = Vec::new();
    for i in frames {
        let buf = timed(
            yuv_buffer(info, &boxed(w, h, i, b)),
            Some(i as u64 * F),
            Some(F),
        );
        out.extend(typed(&r.push(buf)));
    }
    out
}

/// A start says which change, the area and the reference; each area held
/// for min-duration is measured once.
#[test]
fn change_fields_and_measurements() {
    let info = info(VideoFormat::I420, 320, 180);
    let mut r = run(&info, 5);
    let whole = Area {
        x: 0,
        y: 0,
        width: 320,
        height: 180,
    };
    let m = push_boxed(&mut r, &info, 0..10, [0; 4]);
    assert!(
        matches!(m[..], [AreaDetectMessage::Measurement { at, area }] if at.timestamp == 0 && area == whole),
        "{m:?}"
    );
    // a pillarbox of 40 columns each side: 4:3 inside 16:9
    let m = push_boxed(&mut r, &info, 10..20, [0, 0, 40, 40]);
    let pillar = Area {
        x: 40,
        y: 0,
        width: 240,
        height: 180,
    };
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        matches!(m[0], AreaDetectMessage::Measurement { at, area } if at.timestamp == 10 * F && area == pillar),
        "{m:?}"
    );
    let AreaDetectMessage::Change {
        event,
        change,
        area,
        reference,
    } = m[1]
    else {
        panic!("{m:?}")
    };
    assert_eq!(event.at.timestamp, 10 * F);
    assert_eq!(
        (change, area, reference),
        (AreaChange::Appeared, pillar, whole)
    );
    // the pillarbox turns into a letterbox: still away, one defect
    let m = push_boxed(&mut r, &info, 20..30, [20, 20, 0, 0]);
    assert!(
        m.iter()
            .all(|m| matches!(m, AreaDetectMessage::Measurement { .. })),
        "{m:?}"
    );
    let m = push_boxed(&mut r, &info, 30..31, [0; 4]);
    let AreaDetectMessage::Change { event, area, .. } = m[0] else {
        panic!("{m:?}")
    };
    assert_eq!(
        (event.at.timestamp, event.duration, area.y, area.height),
        (30 * F, Some(20 * F), 20, 140)
    );
}

/// A letterboxed film from its first frame: its bars are the reference.
#[test]
fn bars_that_stay_put_are_quiet() {
    let info = info(VideoFormat::I420, 320, 180);
    let mut r = run(&info, 5);
    let m = push_boxed(&mut r, &info, 0..60, [22, 22, 0, 0]);
    assert!(
        m.iter()
            .all(|m| matches!(m, AreaDetectMessage::Measurement { .. })),
        "{m:?}"
    );
    assert_eq!(m.len(), 1);
}

/// A new format ends a change with caps-change; the new stream's first area
/// held for min-duration is its reference.
#[test]
fn caps_change_closes_and_relearns() {
    let small = info(VideoFormat::I420, 160, 120);
    let mut r = run(&small, 4);
    push_boxed(&mut r, &small, 0..2, [0; 4]);
    push_boxed(&mut r, &small, 2..8, [15, 15, 0, 0]);
    let big = info(VideoFormat::I420, 320, 240);
    r.h.set_src_caps(big.to_caps().unwrap());
    let m = push_boxed(&mut r, &big, 8..9, [30, 30, 0, 0]);
    let AreaDetectMessage::Change { event, .. } = m[0] else {
        panic!("{m:?}")
    };
    assert_eq!(
        (event.at.timestamp, event.reason.map(|r| r.as_str())),
        (8 * F, Some("caps-change"))
    );
    let m = push_boxed(&mut r, &big, 9..30, [30, 30, 0, 0]);
    assert!(
        m.iter()
            .all(|m| matches!(m, AreaDetectMessage::Measurement { .. })),
        "{m:?}"
    );
}

/// Large and odd pictures are measured; pictures of a few pixels pass
/// without a change.
#[test]
fn odd_and_extreme_sizes() {
    for (w, h) in [(1921, 1081), (7680, 4320), (1, 1), (2, 2), (3, 5), (17, 9)] {
        let info = info(VideoFormat::I420, w, h);
        let mut r = run(&info, 2);
        let mut m = push_boxed(&mut r, &info, 0..1, [0; 4]);
        let b = (h as usize / 8).max(1);
        m.extend(push_boxed(&mut r, &info, 1..5, [b, b, 0, 0]));
        let starts = m
            .iter()
            .filter(|m| matches!(m, AreaDetectMessage::Change { .. }))
            .count();
        assert_eq!(starts, usize::from(h >= 100), "{w}x{h}: {m:?}");
    }
}

/// The same bordered pictures in every supported format give the same
/// events (converted from I420 by videoconvert).
#[test]
fn every_format_gives_the_same_events() {
    init();
    let base = info(VideoFormat::I420, 320, 240);
    let frames: Vec<gst::Buffer> = (0..60usize)
        .map(|i| {
            let b = match i {
                10..30 => [30, 30, 0, 0],
                40..55 => [0, 0, 40, 40],
                _ => [0; 4],
            };
            timed(
                yuv_buffer(&base, &boxed(320, 240, i, b)),
                Some(i as u64 * F),
                Some(F),
            )
        })
        .collect();
    // videoconvert hands GRAY8 and GRAY16 the limited-range codes under
    // full-range caps, so black arrives at 6% of the range there: a
    // threshold above that, for every format alike
    let chain = |fmt: &str| {
        format!(
            "videoconvert ! video/x-raw,format={fmt} \
             ! areadetect min-duration=400000000 pixel-threshold=0.08"
        )
    };
    let caps = base.to_caps().unwrap();
    let summary = |fmt: &str| -> Vec<(&'static str, u64)> {
        run_frames(&caps, frames.clone(), &chain(fmt))
            .into_iter()
            .map(|(_, e)| (e.kind, e.ts))
            .collect()
    };
    let reference = summary("I420");
    assert_eq!(
        reference,
        vec![
            ("start", 10 * F),
            ("end", 30 * F),
            ("start", 40 * F),
            ("end", 55 * F)
        ]
    );
    let failures: Vec<_> = gstavmonitor::videodetect::FORMATS
        .iter()
        .filter_map(|f| {
            let got = summary(f.to_str());
            (got != reference).then(|| (f.to_str(), got))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A real pipeline: videobox adds a letterbox to a test source for two
/// seconds in the middle, and the scaler brings the picture back to its
/// size and shape (the caps stay the same), as a wrong aspect-ratio
/// conversion upstream does.
#[test]
fn pipeline_with_videobox() {
    init();
    let p = gst::parse::launch(
        "videotestsrc num-buffers=150 pattern=snow ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! videobox name=box fill=black ! videoscale ! videoconvert \
         ! video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=1/1 \
         ! areadetect min-duration=1000000000 \
         ! fakesink",
    )
    .unwrap();
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let vbox = bin.by_name("box").unwrap();
    let pad = vbox.static_pad("sink").unwrap();
    let count = std::sync::atomic::AtomicU32::new(0);
    let weak = vbox.downgrade();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if let Some(v) = weak.upgrade() {
            match n {
                50 => {
                    v.set_property("top", -40i32);
                    v.set_property("bottom", -40i32);
                }
                100 => {
                    v.set_property("top", 0i32);
                    v.set_property("bottom", 0i32);
                }
                _ => (),
            }
        }
        gst::PadProbeReturn::Ok
    });
    let got: Vec<(&str, u64)> = run_to_eos(&p).into_iter().map(|e| (e.kind, e.ts)).collect();
    assert_eq!(got, vec![("start", 50 * F), ("end", 100 * F)]);
}
