//! blockdetect: exact timing on hand-made buffers, bad input, what must never
//! raise an event (black, flat, still, panning pictures), decoder-flagged
//! buffers, measurements, and a real pipeline. Detection quality on encoded
//! and damaged video is measured in `block_corpus.rs`.
mod common;

use common::contract::Spec;
use common::*;
use gst_video::VideoFormat;
use gstavmonitor::Evidence;
use gstavmonitor::{BlockDetectMessage, EventKind};

thread_local!(static T: Texture = Texture::new());

/// Smooth texture panning 1 pixel a frame.
fn picture(info: &gst_video::VideoInfo, i: usize) -> Vec<u8> {
    let (w, h) = (info.width() as usize, info.height() as usize);
    T.with(|t| t.window(w, h, i, 0, 1.0, 0.0))
}

/// The panning texture with the 48x48 square at (32, 32) showing the
/// picture from 40 pixels right and 30 down: misplaced blocks, as
/// concealment leaves them (twelve macroblock edges: blockdetect's default
/// needs eight broken).
fn damaged(info: &gst_video::VideoInfo, i: usize) -> Vec<u8> {
    let (w, h) = (info.width() as usize, info.height() as usize);
    let mut luma = picture(info, i);
    if w >= 96 && h >= 96 {
        let other = T.with(|t| t.window(w, h, i + 40, 30, 1.0, 0.0));
        for y in 32..80 {
            luma[y * w + 32..y * w + 80].copy_from_slice(&other[y * w + 32..y * w + 80]);
        }
    }
    luma
}

fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    yuv_buffer(info, &picture(info, i))
}

fn defect(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    yuv_buffer(info, &damaged(info, i))
}

const SPEC: Spec = Spec {
    factory: "blockdetect",
    defect,
    good,
};

// Every shared behaviour except odd sizes (pictures smaller than two
// macroblocks have no block edges to judge: see `tiny_pictures`) and the
// caps change, after which damage already there in the first frame cannot
// be told from the picture (see `caps_change`).
contract_tests!(@each SPEC;
    exact_timing, short_defect_is_quiet, running_time_follows_segment,
    eos_closes_defect, flush_closes_defect,
    missing_timestamps, gaps_and_discontinuities,
    property_change_while_playing, unsupported_caps, never_drops_for_qos);

fn corruption(s: &gst::StructureRef) -> Option<(EventKind, u64, u32, Evidence, [u32; 4])> {
    match BlockDetectMessage::from_structure(s).ok()? {
        BlockDetectMessage::Corruption {
            event,
            damaged_blocks,
            area,
            evidence,
            ..
        } => Some((
            event.kind,
            event.at.timestamp,
            damaged_blocks,
            evidence,
            [area.x, area.y, area.width, area.height],
        )),
        BlockDetectMessage::Measurement { .. } => None,
    }
}

/// One damaged frame is a defect (default min-duration 0): start on that
/// frame, end on the next, with where the damage is and what showed it.
#[test]
fn single_damaged_frame() {
    let info = info(VideoFormat::I420, 320, 240);
    let mut r = Run::new("blockdetect", &[], &info.to_caps().unwrap());
    let mut got = Vec::new();
    for i in 0..12 {
        let b = if i == 6 {
            damaged(&info, i)
        } else {
            picture(&info, i)
        };
        for s in r.push(timed(yuv_buffer(&info, &b), Some(i as u64 * F), Some(F))) {
            got.extend(corruption(&s).map(|c| (i, c)));
        }
    }
    assert_eq!(got.len(), 2, "{got:?}");
    let (i, (kind, ts, blocks, evidence, area)) = got[0];
    assert_eq!(
        (i, kind, ts, evidence),
        (6, EventKind::Start, 6 * F, Evidence::PIXELS)
    );
    assert!(blocks >= 2, "{blocks}");
    // the misplaced square is at (32, 32) to (80, 80): the damage box
    // overlaps it and stays within a macroblock of it
    let (x0, y0, x1, y1) = (area[0], area[1], area[0] + area[2], area[1] + area[3]);
    assert!(x0 < 80 && y0 < 80 && x1 > 32 && y1 > 32, "{area:?}");
    assert!(x0 >= 16 && y0 >= 16 && x1 <= 96 && y1 <= 96, "{area:?}");
    assert_eq!(
        (got[1].0, got[1].1 .0, got[1].1 .1),
        (7, EventKind::End, 7 * F)
    );
}

/// Black, flat, still and panning pictures, and a cut between them, never
/// raise an event; their blockiness is finite and flat pictures read 1.0.
#[test]
fn quiet_on_clean_pictures() {
    let info = info(VideoFormat::I420, 320, 240);
    let mut r = Run::new(
        "blockdetect",
        &[("interval", &(5 * F))],
        &info.to_caps().unwrap(),
    );
    let (w, h) = (320, 240);
    let mut all = Vec::new();
    for i in 0..60 {
        let luma = match i / 10 {
            0 => vec![16u8; w * h],
            1 => vec![128u8; w * h],
            2 => vec![235u8; w * h],
            3 => picture(&info, 0),
            4 => picture(&info, i),
            _ => picture(&info, 3 * i + 200),
        };
        all.extend(r.push(timed(yuv_buffer(&info, &luma), Some(i as u64 * F), Some(F))));
    }
    let mut blockiness = Vec::new();
    for s in &all {
        match BlockDetectMessage::from_structure(s).unwrap() {
            BlockDetectMessage::Corruption { event, .. } => panic!("unexpected {event:?}"),
            BlockDetectMessage::Measurement {
                at: gstavmonitor::Times { timestamp, .. },
                blockiness: b,
                frames,
                corrupted_frames,
                ..
            } => {
                assert_eq!(frames, 5);
                assert_eq!(corrupted_frames, 0);
                assert!(b.is_finite() && b > 0.0, "{b}");
                blockiness.push((timestamp, b));
            }
        }
    }
    assert_eq!(blockiness.len(), 12, "{blockiness:?}");
    // one every 5 frames, at the end of each interval
    assert_eq!(blockiness[0].0, 5 * F);
    for (t, b) in &blockiness[..6] {
        assert_eq!(*b, 1.0, "flat picture at {t}");
    }
}

/// A buffer the decoder flagged corrupted is a corruption with evidence
/// `decoder`, whatever the picture; pixels and flag together say both.
#[test]
fn decoder_flag_is_evidence() {
    let info = info(VideoFormat::I420, 320, 240);
    let mut r = Run::new("blockdetect", &[], &info.to_caps().unwrap());
    let push = |r: &mut Run, i: usize, luma: Vec<u8>, flag: bool| {
        let mut b = timed(yuv_buffer(&info, &luma), Some(i as u64 * F), Some(F));
        if flag {
            b.get_mut().unwrap().set_flags(gst::BufferFlags::CORRUPTED);
        }
        r.push(b)
            .iter()
            .filter_map(|s| corruption(s))
            .map(|c| (i, c.0, c.3))
            .collect::<Vec<_>>()
    };
    let mut got = Vec::new();
    for i in 0..4 {
        got.extend(push(&mut r, i, picture(&info, i), false));
    }
    got.extend(push(&mut r, 4, picture(&info, 4), true));
    got.extend(push(&mut r, 5, picture(&info, 5), false));
    got.extend(push(&mut r, 6, damaged(&info, 6), true));
    got.extend(push(&mut r, 7, picture(&info, 7), false));
    assert_eq!(
        got,
        vec![
            (4, EventKind::Start, Evidence::DECODER),
            (5, EventKind::End, Evidence::DECODER),
            (
                6,
                EventKind::Start,
                Evidence::PIXELS.union(Evidence::DECODER)
            ),
            (7, EventKind::End, Evidence::PIXELS.union(Evidence::DECODER)),
        ]
    );
}

/// A frame missing from a steady 25 fps stream (what a decoder leaves when it
/// drops a frame it cannot decode) is a corruption with evidence
/// `missing-frames`, starting where the missing frame would have been; the
/// jump at a flushing seek or a new segment is not, nor is any gap with
/// `missing-frames` off.
#[test]
fn missing_frames_are_evidence() {
    let info = info(VideoFormat::I420, 320, 240);
    let play = |r: &mut Run, frames: &[usize]| {
        let mut got = Vec::new();
        for &i in frames {
            let b = timed(
                yuv_buffer(&info, &picture(&info, i)),
                Some(i as u64 * F),
                Some(F),
            );
            got.extend(
                r.push(b)
                    .iter()
                    .filter_map(|s| corruption(s))
                    .map(|c| (i, c.0, c.1, c.3)),
            );
        }
        got
    };
    let frames: Vec<usize> = (0..10).chain(11..14).chain(16..18).collect();
    let mut r = Run::new("blockdetect", &[], &info.to_caps().unwrap());
    assert_eq!(
        play(&mut r, &frames),
        vec![
            (11, EventKind::Start, 10 * F, Evidence::MISSING_FRAMES),
            (12, EventKind::End, 12 * F, Evidence::MISSING_FRAMES),
            (16, EventKind::Start, 14 * F, Evidence::MISSING_FRAMES),
            (17, EventKind::End, 17 * F, Evidence::MISSING_FRAMES),
        ]
    );
    // a flushing seek: the stream goes on elsewhere without a loss
    assert!(r.h.push_event(gst::event::FlushStart::new()));
    assert!(r.h.push_event(gst::event::FlushStop::new(true)));
    let mut seg = gst::FormattedSegment::<gst::ClockTime>::new();
    seg.set_start(gst::ClockTime::from_nseconds(30 * F));
    assert!(r.h.push_event(gst::event::Segment::new(&seg)));
    let after: Vec<usize> = (30..40).chain(41..43).collect();
    let got = play(&mut r, &after);
    assert_eq!(got.len(), 2, "only the frame missing after 40: {got:?}");
    assert_eq!((got[0].0, got[0].2), (41, 40 * F));

    // a new segment without a flush (files played one after another): the
    // jump to it is no loss either
    let mut seg = gst::FormattedSegment::<gst::ClockTime>::new();
    seg.set_start(gst::ClockTime::from_nseconds(44 * F));
    assert!(r.h.push_event(gst::event::Segment::new(&seg)));
    let got = play(&mut r, &(44..54).chain(55..56).collect::<Vec<_>>());
    assert_eq!(got.len(), 1, "only the frame missing after 53: {got:?}");
    assert_eq!((got[0].0, got[0].2), (55, 54 * F));

    let mut off = Run::new(
        "blockdetect",
        &[("missing-frames", &false)],
        &info.to_caps().unwrap(),
    );
    assert_eq!(play(&mut off, &frames), vec![]);
}

/// A caps change ends a corruption (reason `caps-change`); damage appearing
/// after it is found again.
#[test]
fn caps_change() {
    let small = info(VideoFormat::I420, 160, 120);
    let big = info(VideoFormat::I420, 320, 240);
    let mut r = Run::new("blockdetect", &[], &small.to_caps().unwrap());
    let mut got = Vec::new();
    for i in 0..4u64 {
        let l = if i >= 2 {
            damaged(&small, i as usize)
        } else {
            picture(&small, i as usize)
        };
        got.extend(events(&r.push(timed(
            yuv_buffer(&small, &l),
            Some(i * F),
            Some(F),
        ))));
    }
    r.h.set_src_caps(big.to_caps().unwrap());
    for i in 4..10u64 {
        let l = if i == 7 {
            damaged(&big, i as usize)
        } else {
            picture(&big, i as usize)
        };
        got.extend(events(&r.push(timed(
            yuv_buffer(&big, &l),
            Some(i * F),
            Some(F),
        ))));
    }
    let got: Vec<_> = got.iter().map(|e| (e.kind, e.ts, e.reason)).collect();
    assert_eq!(
        got,
        vec![
            ("start", 2 * F, None),
            ("end", 4 * F, Some("caps-change")),
            ("start", 7 * F, None),
            ("end", 8 * F, Some("recovered")),
        ]
    );
}

/// Pictures too small to hold two macroblocks pass through untouched and
/// raise nothing, except when the decoder flags them.
#[test]
fn tiny_pictures() {
    for (w, h) in [(1, 1), (2, 2), (3, 5), (17, 9), (31, 31)] {
        let info = info(VideoFormat::I420, w, h);
        let mut r = Run::new("blockdetect", &[], &info.to_caps().unwrap());
        for i in 0..4 {
            let luma = vec![if i % 2 == 0 { 16 } else { 235 }; (w * h) as usize];
            let m = r.push(timed(yuv_buffer(&info, &luma), Some(i * F), Some(F)));
            assert!(m.iter().all(|s| corruption(s).is_none()), "{w}x{h}: {m:?}");
        }
        let mut b = timed(
            yuv_buffer(&info, &vec![16; (w * h) as usize]),
            Some(4 * F),
            Some(F),
        );
        b.get_mut().unwrap().set_flags(gst::BufferFlags::CORRUPTED);
        let m = r.push(b);
        assert!(m.iter().any(|s| corruption(s).is_some()), "{w}x{h}: {m:?}");
    }
}

/// Damage outside the region is not looked at.
#[test]
fn region_leaves_damage_out() {
    let info = info(VideoFormat::I420, 320, 240);
    let mut r = Run::new(
        "blockdetect",
        &[("region-x", &0.5)],
        &info.to_caps().unwrap(),
    );
    for i in 0..10 {
        let b = if i == 5 {
            damaged(&info, i)
        } else {
            picture(&info, i)
        };
        let m = r.push(timed(yuv_buffer(&info, &b), Some(i as u64 * F), Some(F)));
        assert!(m.iter().all(|s| corruption(s).is_none()), "{m:?}");
    }
}

/// 10-bit pictures are judged like 8-bit ones.
#[test]
fn ten_bit() {
    let info10 = info(VideoFormat::I42010le, 320, 240);
    let info8 = info(VideoFormat::I420, 320, 240);
    let caps = info10.to_caps().unwrap();
    let mut r = Run::new("blockdetect", &[], &caps);
    let mut got = Vec::new();
    for i in 0..10 {
        let l8 = if i == 5 {
            damaged(&info8, i)
        } else {
            picture(&info8, i)
        };
        let mut buf = gst::Buffer::with_size(info10.size()).unwrap();
        {
            let b = buf.get_mut().unwrap();
            let mut map = b.map_writable().unwrap();
            for c in map.as_mut_slice().chunks_exact_mut(2) {
                c.copy_from_slice(&512u16.to_le_bytes());
            }
            let (stride, off) = (info10.stride()[0] as usize, info10.offset()[0]);
            for y in 0..240 {
                for x in 0..320 {
                    let v = u16::from(l8[y * 320 + x]) << 2;
                    let p = off + y * stride + 2 * x;
                    map[p..p + 2].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        for s in r.push(timed(buf, Some(i as u64 * F), Some(F))) {
            got.extend(corruption(&s).map(|c| (i, c.0)));
        }
    }
    assert_eq!(got, vec![(5, EventKind::Start), (6, EventKind::End)]);
}

/// The launch line from the element documentation runs, and a clean
/// encode through it raises no corruption.
#[test]
fn launch_line() {
    init();
    let p = gst::parse::launch(
        "videotestsrc pattern=ball num-buffers=50 ! video/x-raw,width=320,height=240 ! \
         x264enc speed-preset=faster bitrate=800 ! avdec_h264 ! blockdetect ! fakesink",
    )
    .unwrap();
    let msgs = run_structures(&p);
    let mut measurements = 0;
    for s in &msgs {
        match BlockDetectMessage::from_structure(s).unwrap() {
            BlockDetectMessage::Corruption { event, .. } => panic!("unexpected {event:?}"),
            BlockDetectMessage::Measurement { blockiness, .. } => {
                measurements += 1;
                assert!(blockiness > 0.5 && blockiness < 2.0, "{blockiness}");
            }
        }
    }
    assert!(measurements >= 1);
}

/// The misplaced square is found wherever the pan is (robustness of the
/// synthetic defect used above) when two broken edges are enough (but one
/// phase of 37, where too few damaged macroblocks touch); with the default
/// of eight, the smooth texture hides enough of its twelve edges at some
/// phases (8 of 37 when last measured), so most must do.
#[test]
fn misplaced_block_found_at_every_phase() {
    let info = info(VideoFormat::I420, 320, 240);
    for (props, most_missed) in [("min-breaks=2", 1), ("", 10)] {
        let mut missed = Vec::new();
        for at in 3..40 {
            let mut r = if props.is_empty() {
                Run::new("blockdetect", &[], &info.to_caps().unwrap())
            } else {
                Run::new(
                    "blockdetect",
                    &[("min-breaks", &2u32)],
                    &info.to_caps().unwrap(),
                )
            };
            let mut found = false;
            for i in 0..=at {
                let b = if i == at {
                    damaged(&info, i)
                } else {
                    picture(&info, i)
                };
                let m = r.push(timed(yuv_buffer(&info, &b), Some(i as u64 * F), Some(F)));
                found |= i == at && events(&m).iter().any(|e| e.kind == "start");
            }
            if !found {
                missed.push(at);
            }
        }
        println!("{props}: missed at {missed:?}");
        assert!(missed.len() <= most_missed, "{props}: missed at {missed:?}");
    }
}
