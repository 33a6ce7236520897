//! captiondetect: hand-made frames with caption metas through a harness
//! (exact event times), and real pipelines where `cccombiner` attaches
//! captions from a caption stream that stops, carries only padding, or is
//! not there at all.

mod common;

use common::*;
use gst::prelude::*;
use gstavmonitor::{CaptionDetectMessage, CaptionProblem, EventKind};

const F: u64 = 40_000_000;

fn frame(i: u64, caption: Option<(gst_video::VideoCaptionType, &[u8])>) -> gst::Buffer {
    let mut b = gst::Buffer::with_size(16).unwrap();
    {
        let b = b.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_nseconds(i * F));
        b.set_duration(gst::ClockTime::from_nseconds(F));
        if let Some((ty, data)) = caption {
            gst_video::VideoCaptionMeta::add(b, ty, data);
        }
    }
    b
}

fn problems(msgs: &[gst::Structure]) -> Vec<(EventKind, CaptionProblem, u64, Vec<u32>, bool)> {
    msgs.iter()
        .filter_map(|s| match CaptionDetectMessage::from_structure(s).unwrap() {
            CaptionDetectMessage::Problem {
                event,
                problem,
                services,
            } => Some((
                event.kind,
                problem,
                event.at.timestamp,
                services.cea608_fields,
                services.cea708,
            )),
            _ => None,
        })
        .collect()
}

fn caps() -> gst::Caps {
    init();
    gst_video::VideoInfo::builder(gst_video::VideoFormat::Gray8, 4, 4)
        .fps(gst::Fraction::new(25, 1))
        .build()
        .unwrap()
        .to_caps()
        .unwrap()
}

#[test]
fn captions_that_stop_are_missing_from_the_first_frame_without() {
    let mut r = Run::new("captiondetect", &[("min-duration", &(25 * F))], &caps());
    let cc: &[u8] = &[0xc8, 0xe5];
    let mut msgs = Vec::new();
    for i in 0..100u64 {
        let c = (!(30..70).contains(&i)).then_some((gst_video::VideoCaptionType::Cea608Raw, cc));
        msgs.extend(r.push(frame(i, c)));
    }
    msgs.extend(r.event(gst::event::Eos::new()));
    assert_eq!(
        problems(&msgs),
        vec![
            (
                EventKind::Start,
                CaptionProblem::Missing,
                30 * F,
                vec![1],
                false
            ),
            (
                EventKind::End,
                CaptionProblem::Missing,
                70 * F,
                vec![1],
                false
            ),
        ]
    );
}

#[test]
fn required_captions_that_never_come_and_padding_only() {
    // none at all, required: from the first frame, to EOS
    let mut r = Run::new(
        "captiondetect",
        &[("min-duration", &(10 * F)), ("required", &true)],
        &caps(),
    );
    let mut msgs = Vec::new();
    for i in 0..50 {
        msgs.extend(r.push(frame(i, None)));
    }
    msgs.extend(r.event(gst::event::Eos::new()));
    let p = problems(&msgs);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        (p[0].0, p[0].1, p[0].2),
        (EventKind::Start, CaptionProblem::Missing, 0)
    );
    assert_eq!((p[1].0, p[1].2), (EventKind::End, 50 * F));
    // not required: nothing
    let mut r = Run::new("captiondetect", &[("min-duration", &(10 * F))], &caps());
    let mut msgs = Vec::new();
    for i in 0..50 {
        msgs.extend(r.push(frame(i, None)));
    }
    msgs.extend(r.event(gst::event::Eos::new()));
    assert!(problems(&msgs).is_empty());
    // CEA-708 cc_data with only 608 padding in it, after real DTVCC data
    let mut r = Run::new("captiondetect", &[("padding-duration", &(20 * F))], &caps());
    let dtvcc: &[u8] = &[0xfe, 0x41, 0x42, 0xfc, 0x80, 0x80];
    let pad: &[u8] = &[0xfc, 0x80, 0x80, 0xfa, 0x00, 0x00];
    let mut msgs = Vec::new();
    for i in 0..60 {
        let data = if (10..40).contains(&i) { pad } else { dtvcc };
        msgs.extend(r.push(frame(
            i,
            Some((gst_video::VideoCaptionType::Cea708Raw, data)),
        )));
    }
    assert_eq!(
        problems(&msgs),
        vec![
            (
                EventKind::Start,
                CaptionProblem::PaddingOnly,
                10 * F,
                vec![],
                true
            ),
            (
                EventKind::End,
                CaptionProblem::PaddingOnly,
                40 * F,
                vec![],
                true
            ),
        ]
    );
}

/// videotestsrc through cccombiner, whose caption pad gets CEA-608 pairs
/// from an appsrc made by `pair(i)` for the first `frames` frames (then
/// EOS), into captiondetect.
fn combined(frames: u64, pair: fn(u64) -> [u8; 2], props: &str) -> Vec<gst::Structure> {
    combined_through(
        frames,
        |i| pair(i).to_vec(),
        "closedcaption/x-cea-608,format=raw",
        "",
        props,
    )
}

/// As [`combined`], with caption buffers `data(i)` of `caps`, and `chain`
/// between cccombiner and captiondetect (an encoder, a multiplexer, ...).
fn combined_through(
    frames: u64,
    data: impl Fn(u64) -> Vec<u8>,
    caps: &str,
    chain: &str,
    props: &str,
) -> Vec<gst::Structure> {
    init();
    let p = gst::parse::launch(&format!(
        "videotestsrc num-buffers=150 ! video/x-raw,width=160,height=120,framerate=25/1 ! cccombiner name=c \
         ! {chain} captiondetect {props} ! fakesink \
         appsrc name=cc format=time caps={caps},framerate=25/1 ! c.caption"
    ))
    .unwrap();
    let src = p
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("cc")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    for i in 0..frames {
        let mut b = gst::Buffer::from_slice(data(i));
        let bm = b.get_mut().unwrap();
        bm.set_pts(gst::ClockTime::from_nseconds(i * F));
        bm.set_duration(gst::ClockTime::from_nseconds(F));
        src.push_buffer(b).unwrap();
    }
    src.end_of_stream().unwrap();
    run_structures(&p)
        .into_iter()
        .filter(|s| s.name() == "captiondetect")
        .collect()
}

/// Captions carried as broadcast carries them: CEA-708 cc_data that
/// x264enc writes into the H.264 stream (A/53 SEI), multiplexed into a
/// transport stream, demuxed, and read back by h264parse and avdec_h264,
/// whose metas captiondetect reads; the captions stop after 2.4 s.
#[test]
fn captions_through_an_h264_transport_stream() {
    // a CEA-608 field-1 pair inside a cc_data triplet (cc_valid, type 0)
    let msgs = combined_through(
        60,
        |_| vec![0xfc, 0xc8, 0xe5],
        "closedcaption/x-cea-708,format=cc_data",
        "x264enc speed-preset=ultrafast bframes=0 ! mpegtsmux ! tsdemux ! h264parse ! avdec_h264 !",
        "min-duration=1000000000",
    );
    let p = problems(&msgs);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        (p[0].0, p[0].1),
        (EventKind::Start, CaptionProblem::Missing)
    );
    // in running time, which after the demuxer carries the multiplex's
    // delay (125 ms for mpegtsmux): the end at EOS, after the 150th frame;
    // the start on the first frame without, the 60th or 61st
    let running: Vec<u64> = msgs
        .iter()
        .filter_map(|s| match CaptionDetectMessage::from_structure(s).unwrap() {
            CaptionDetectMessage::Problem { event, .. } => event.at.running_time,
            _ => None,
        })
        .collect();
    assert_eq!(running.len(), 2);
    let delay = running[1] - 150 * F;
    assert!(delay <= 200_000_000, "{running:?}");
    assert!(
        (59 * F..=61 * F).contains(&(running[0] - delay)),
        "{running:?}"
    );
    // the 608 pairs came through as 708 cc_data, on field 1
    assert_eq!((p[0].3.clone(), p[0].4), (vec![1], false));
    assert_eq!(p[1].0, EventKind::End);
}

#[test]
fn cccombiner_captions_that_stop_midway() {
    let text = |i: u64| {
        if i.is_multiple_of(2) {
            [0xc8, 0xe5]
        } else {
            [0x80, 0x80]
        }
    };
    let msgs = combined(60, text, "min-duration=1000000000");
    let p = problems(&msgs);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        (p[0].0, p[0].1),
        (EventKind::Start, CaptionProblem::Missing)
    );
    // the first frame without: the 61st, or the 60th, whose caption
    // cccombiner leaves out as the caption stream ends on it
    assert!((59 * F..=60 * F).contains(&p[0].2), "{}", p[0].2);
    assert_eq!(p[0].3, vec![1]);
    assert_eq!((p[1].0, p[1].2), (EventKind::End, 150 * F));
    // padding only, the whole time
    let msgs = combined(150, |_| [0x80, 0x80], "padding-duration=2000000000");
    let p = problems(&msgs);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        (p[0].1, p[0].2, p[0].3.clone()),
        (CaptionProblem::PaddingOnly, 0, vec![])
    );
}

#[test]
fn measurements_keep_to_their_interval_grid() {
    // 40 ms frames, a measurement every 100 ms: due at 100, 200, 300 ms...,
    // each posted at the end of the frame that reaches it
    let mut r = Run::new(
        "captiondetect",
        &[("post-messages", &true), ("interval", &(100_000_000u64))],
        &caps(),
    );
    let cc: &[u8] = &[0xc8, 0xe5];
    let mut msgs = Vec::new();
    for i in 0..20u64 {
        let c = (i % 2 == 0).then_some((gst_video::VideoCaptionType::Cea608Raw, cc));
        msgs.extend(r.push(frame(i, c)));
    }
    let got: Vec<(u64, u64, u64)> = msgs
        .iter()
        .filter_map(|s| match CaptionDetectMessage::from_structure(s).unwrap() {
            CaptionDetectMessage::Measurement {
                at,
                frames,
                frames_with_captions,
                ..
            } => Some((at.timestamp / 1_000_000, frames, frames_with_captions)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (120, 3, 2),
            (200, 2, 1),
            (320, 3, 1),
            (400, 2, 1),
            (520, 3, 2),
            (600, 2, 1),
            (720, 3, 1),
            (800, 2, 1)
        ]
    );
}
