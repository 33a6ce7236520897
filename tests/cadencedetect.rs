//! cadencedetect: exact timing on hand-made buffers, bad input, every
//! format, and real pipelines (videorate's frame-rate conversion).
mod common;

use common::contract::Spec;
use common::*;
use gst_video::VideoFormat;
use gstavmonitor::{CadenceDetectMessage, CadenceKind};

/// Picture `c` of content panning 3 pixels a picture.
fn picture(info: &gst_video::VideoInfo, c: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    thread_local!(static T: Texture = Texture::new());
    T.with(|t| yuv_buffer(info, &t.window(w, h, 3 * c, 0, 1.0, 0.0)))
}

// the contract's timing tests assume a defect in each frame alone; a
// cadence fault is a pattern over frames (tested below)
const SPEC: Spec = Spec {
    factory: "cadencedetect",
    defect: picture,
    good: picture,
};
contract_tests!(@each SPEC; unsupported_caps, never_drops_for_qos);

fn run(info: &gst_video::VideoInfo) -> Run {
    Run::new(
        "cadencedetect",
        &[
            ("min-duration", &(10 * F)),
            ("hold", &(8 * F)),
            ("post-messages", &false),
        ],
        &info.to_caps().unwrap(),
    )
}

/// Plays pictures `pictures[i]` at `pts[i]` (one frame long, or none);
/// returns (frame index, kind, event, running time, count, period).
fn play(
    r: &mut Run,
    info: &gst_video::VideoInfo,
    pictures: &[usize],
    pts: &[Option<u64>],
) -> Vec<(usize, &'static str, &'static str, u64, u64, u64)> {
    let mut out = Vec::new();
    for (i, (&c, &t)) in pictures.iter().zip(pts).enumerate() {
        for s in r.push(timed(picture(info, c), t, Some(F))) {
            out.push((i, s));
        }
    }
    faults(out)
}

fn faults(
    msgs: Vec<(usize, gst::Structure)>,
) -> Vec<(usize, &'static str, &'static str, u64, u64, u64)> {
    msgs.into_iter()
        .filter_map(
            |(i, s)| match CadenceDetectMessage::from_structure(&s).unwrap() {
                CadenceDetectMessage::Fault {
                    event,
                    kind,
                    count,
                    period,
                } => Some((
                    i,
                    kind.as_str(),
                    match event.kind {
                        gstavmonitor::EventKind::Start => "start",
                        gstavmonitor::EventKind::End => "end",
                    },
                    event.at.running_time.unwrap(),
                    count,
                    period,
                )),
                CadenceDetectMessage::Measurement { .. } => None,
            },
        )
        .collect()
}

fn every_frame(n: usize) -> Vec<Option<u64>> {
    (0..n as u64).map(|i| Some(i * F)).collect()
}

/// One repeat in five frames: judder, started when the third repeat shows
/// the pattern (it has lasted min-duration by then) and back-dated to its
/// first repeat; ended hold after the last repeat, at the frame after it.
#[test]
fn judder_exact_timing() {
    let info = info(VideoFormat::I420, 160, 120);
    let mut r = run(&info);
    let mut pictures: Vec<usize> = (0..50).map(|i| i - (i + 1) / 5).collect();
    pictures.extend(50..80);
    let got = play(&mut r, &info, &pictures, &every_frame(80));
    assert_eq!(
        got,
        vec![
            (15, "judder", "start", 4 * F, 3, 5),
            (57, "judder", "end", 50 * F, 10, 5),
        ]
    );
}

/// A fault open at EOS ends there with reason eos; a caps change ends it
/// with caps-change.
#[test]
fn interruptions_end_a_fault() {
    let info = info(VideoFormat::I420, 160, 120);
    let pictures: Vec<usize> = (0..40).map(|i| i - (i + 1) / 5).collect();
    let mut r = run(&info);
    play(&mut r, &info, &pictures, &every_frame(40));
    let m = r.event(gst::event::Eos::new());
    let CadenceDetectMessage::Fault { event, kind, .. } =
        CadenceDetectMessage::from_structure(&m[0]).unwrap()
    else {
        panic!("{m:?}")
    };
    // at the end of the last repeat judged (34; the one at 39 is in a run
    // that EOS cut short)
    assert_eq!(
        (kind, event.at.timestamp, event.reason.map(|r| r.as_str())),
        (CadenceKind::Judder, 35 * F, Some("eos"))
    );
    let mut r = run(&info);
    play(&mut r, &info, &pictures, &every_frame(40));
    let big = common::info(VideoFormat::I420, 320, 240);
    r.h.set_src_caps(big.to_caps().unwrap());
    let m = r.push(timed(picture(&big, 40), Some(40 * F), Some(F)));
    let e = events(&m);
    assert_eq!((e[0].kind, e[0].reason), ("end", Some("caps-change")));
}

/// Buffers without PTS are timed from the previous frame's end, which is no
/// fault; a timestamp going back is one.
#[test]
fn missing_and_backward_timestamps() {
    let info = info(VideoFormat::I420, 160, 120);
    let mut r = run(&info);
    let pts: Vec<Option<u64>> = (0..40u64).map(|i| (i % 3 != 0).then_some(i * F)).collect();
    let pictures: Vec<usize> = (0..40).collect();
    assert!(play(&mut r, &info, &pictures, &pts).is_empty());
    // then every fourth frame stamped two frames back, for 40 frames
    let mut got = Vec::new();
    for i in 40..80u64 {
        let pts = if i % 4 == 0 { (i - 2) * F } else { i * F };
        for s in r.push(timed(picture(&info, i as usize), Some(pts), Some(F))) {
            got.push((i as usize, s));
        }
    }
    let got = faults(got);
    // the first going back, at 40, starts the fault, once it has recurred
    // for min-duration (at 52)
    assert_eq!(
        got.iter()
            .find(|g| g.1 == "timestamps")
            .map(|g| (g.0, g.2, g.3)),
        Some((52, "start", 38 * F)),
        "{got:?}"
    );
}

/// Measurements count each interval's frames, repeats and drops.
#[test]
fn measurements_per_interval() {
    let info = info(VideoFormat::I420, 160, 120);
    let mut r = Run::new(
        "cadencedetect",
        &[("interval", &(10 * F))],
        &info.to_caps().unwrap(),
    );
    // frames 12 and 13 missing; picture 16 repeated
    let mut msgs = Vec::new();
    for i in (0..30u64).filter(|i| *i != 12 && *i != 13) {
        let c = if i == 17 { 16 } else { i as usize };
        msgs.extend(r.push(timed(picture(&info, c), Some(i * F), Some(F))));
    }
    let m: Vec<_> = msgs
        .iter()
        .filter_map(|s| match CadenceDetectMessage::from_structure(s).unwrap() {
            CadenceDetectMessage::Measurement { counts, .. } => Some((
                counts.frames,
                counts.repeated,
                counts.dropped,
                counts.timestamp_faults,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(m, vec![(10, 0, 0, 0), (8, 1, 2, 0), (10, 0, 0, 0)]);
}

/// The same judder in every supported format (converted from I420).
#[test]
fn every_format_gives_the_same_events() {
    init();
    let base = info(VideoFormat::I420, 320, 240);
    let frames: Vec<gst::Buffer> = (0..60usize)
        .map(|i| {
            let c = if i < 40 { i - (i + 1) / 5 } else { i };
            timed(picture(&base, c), Some(i as u64 * F), Some(F))
        })
        .collect();
    let caps = base.to_caps().unwrap();
    let summary = |fmt: &str| -> Vec<(&'static str, u64)> {
        run_frames(
            &caps,
            frames.clone(),
            &format!(
                "videoconvert ! video/x-raw,format={fmt} \
                 ! cadencedetect min-duration=400000000 hold=320000000"
            ),
        )
        .into_iter()
        .map(|(_, e)| (e.kind, e.ts))
        .collect()
    };
    let reference = summary("I420");
    assert_eq!(reference, vec![("start", 4 * F), ("end", 40 * F)]);
    let failures: Vec<_> = gstavmonitor::videodetect::FORMATS
        .iter()
        .filter_map(|f| {
            let got = summary(f.to_str());
            (got != reference).then(|| (f.to_str(), got))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Real pipelines: videorate turning 25 fps into 30 repeats one frame in
/// six (judder, period 6); the same content at its own rate, and a still
/// test card, raise nothing.
#[test]
fn videorate_conversion_is_judder() {
    init();
    let launch = |chain: &str| {
        gst::parse::launch(&format!(
            "videotestsrc num-buffers=150 pattern=ball motion=sweep \
             ! video/x-raw,width=320,height=240,framerate=25/1 {chain} \
             ! cadencedetect post-messages=false ! fakesink"
        ))
        .unwrap()
    };
    let p = launch("! videorate ! video/x-raw,framerate=30/1");
    let got: Vec<_> = run_structures(&p)
        .iter()
        .map(|s| CadenceDetectMessage::from_structure(s).unwrap())
        .collect();
    assert!(
        matches!(
            got[..],
            [
                CadenceDetectMessage::Fault {
                    kind: CadenceKind::Judder,
                    period: 6,
                    ..
                },
                CadenceDetectMessage::Fault {
                    kind: CadenceKind::Judder,
                    ..
                }
            ]
        ),
        "{got:?}"
    );
    assert!(run_structures(&launch("")).is_empty());
    let still = gst::parse::launch(
        "videotestsrc num-buffers=150 pattern=smpte ! video/x-raw,width=320,height=240 \
         ! cadencedetect post-messages=false ! fakesink",
    )
    .unwrap();
    assert!(run_structures(&still).is_empty());
}

/// Tiny, odd and very large pictures pass without trouble; a pattern of
/// repeats is still judder where there is picture enough to move.
#[test]
fn odd_and_extreme_sizes() {
    for (w, h) in [(1, 1), (2, 2), (3, 5), (1921, 1081), (7680, 4320)] {
        let info = info(VideoFormat::I420, w, h);
        let mut r = run(&info);
        let pictures: Vec<usize> = (0..30).map(|i| i - (i + 1) / 5).collect();
        let got = play(&mut r, &info, &pictures, &every_frame(30));
        if w >= 1000 {
            assert_eq!(
                got.first().map(|g| (g.1, g.2, g.3)),
                Some(("judder", "start", 4 * F)),
                "{w}x{h}"
            );
        }
        // the buffers came through (Run::push checks each is unchanged)
        let m = r.event(gst::event::Eos::new());
        assert!(m.len() <= 1, "{w}x{h}: {m:?}");
    }
}
