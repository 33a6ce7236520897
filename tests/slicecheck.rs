//! slicecheck: hand-made access units through a harness (exact frames,
//! both framings, flushes, caps, garbage), and real x264 and x265 pipelines
//! with a slice dropped before the decoder, where the meta must reach the
//! decoded frame it belongs to and blockdetect must report the corruption
//! from that frame to the next key frame; the quantiser read at 8 and 10
//! bits.
mod common;

use std::sync::{Arc, Mutex};

use gst::prelude::*;

use common::*;
use gstavmonitor::analysis::coded::slices::{Framing, LostRange, SliceLoss, STABLE_FRAMES};
use gstavmonitor::slicemeta::lost_slices;
use gstavmonitor::Evidence;
use gstavmonitor::{BlockDetectMessage, EventKind};

/// Exp-Golomb bits of `v`.
fn ue(v: u32, bits: &mut Vec<u8>) {
    let v = u64::from(v) + 1;
    let len = 64 - v.leading_zeros();
    bits.extend(std::iter::repeat_n(0, len as usize - 1));
    bits.extend((0..len).rev().map(|i| ((v >> i) & 1) as u8));
}

/// A slice unit: NAL header `header`, `first_mb_in_slice` `mb`,
/// `slice_type` `st`, then filler bytes.
fn unit(header: u8, mb: u32, st: u32) -> Vec<u8> {
    let mut bits = Vec::new();
    ue(mb, &mut bits);
    ue(st, &mut bits);
    bits.push(1);
    while !bits.len().is_multiple_of(8) {
        bits.push(0);
    }
    let mut out = vec![header];
    out.extend(
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | b)),
    );
    out.extend_from_slice(&[0x9a, 0x5c, 0x3e]);
    out
}

/// An access unit of slices starting at `starts` (P slices of a reference
/// picture, or I slices of an IDR picture), framed as asked.
fn access_unit(starts: &[u32], idr: bool, framing: Framing) -> gst::Buffer {
    let mut units = vec![vec![0x09, 0xf0]];
    for &s in starts {
        units.push(if idr {
            unit(0x65, s, 7)
        } else {
            unit(0x41, s, 5)
        });
    }
    let mut data = Vec::new();
    for u in units {
        match framing {
            Framing::ByteStream => data.extend_from_slice(&[0, 0, 0, 1]),
            Framing::Length(_) => data.extend_from_slice(&(u.len() as u32).to_be_bytes()),
        }
        data.extend_from_slice(&u);
    }
    gst::Buffer::from_mut_slice(data)
}

const LAYOUT: [u32; 4] = [0, 60, 120, 180];

fn harness(caps: &str) -> gst_check::Harness {
    init();
    let mut h = gst_check::Harness::new("slicecheck");
    h.set_src_caps_str(caps);
    h
}

/// Pushes frame `i` and returns what its output carries and whether its
/// bytes came out unchanged.
fn push(h: &mut gst_check::Harness, buf: gst::Buffer, i: u64) -> (Vec<LostRange>, bool) {
    let buf = timed(buf, Some(i * 40_000_000), Some(40_000_000));
    let sent = buf.map_readable().unwrap().to_vec();
    let out = h.push_and_pull(buf).unwrap();
    let same = out.map_readable().unwrap().as_slice() == sent.as_slice();
    assert_eq!(
        out.pts(),
        Some(gst::ClockTime::from_nseconds(i * 40_000_000))
    );
    (lost_slices(&out).lost, same)
}

fn runs(r: &[(u32, Option<u32>)]) -> Vec<LostRange> {
    r.iter()
        .map(|&(first, end)| LostRange { first, end })
        .collect()
}

#[test]
fn lost_slices_are_marked_on_their_frame_in_both_framings() {
    for (caps, framing) in [
        (
            "video/x-h264,stream-format=byte-stream,alignment=au",
            Framing::ByteStream,
        ),
        // codec_data's fifth byte 0xff: four-byte sizes
        (
            "video/x-h264,stream-format=avc,alignment=au,codec_data=(buffer)0164001fffe1",
            Framing::Length(4),
        ),
    ] {
        let mut h = harness(caps);
        let mut i = 0;
        let mut frame = |h: &mut gst_check::Harness, starts: &[u32], idr: bool| {
            let r = push(h, access_unit(starts, idr, framing), i);
            i += 1;
            assert!(r.1, "{caps}: bytes changed");
            r.0
        };
        for k in 0..STABLE_FRAMES {
            assert!(frame(&mut h, &LAYOUT, k == 0).is_empty());
        }
        assert_eq!(
            frame(&mut h, &[0, 60, 180], false),
            runs(&[(120, Some(180))]),
            "{caps}"
        );
        assert_eq!(
            frame(&mut h, &[60, 120, 180], false),
            runs(&[(0, Some(60))])
        );
        assert_eq!(frame(&mut h, &[0, 60, 120], false), runs(&[(180, None)]));
        assert!(frame(&mut h, &LAYOUT, false).is_empty());
    }
}

#[test]
fn frames_after_a_lost_reference_are_tainted_until_a_key_frame() {
    let mut h = harness("video/x-h264,stream-format=byte-stream,alignment=au");
    let mut tainted = Vec::new();
    for i in 0..12u64 {
        let starts: &[u32] = if i == 5 { &[0, 120, 180] } else { &LAYOUT };
        let buf = timed(
            access_unit(starts, i == 0 || i == 9, Framing::ByteStream),
            Some(i * 40_000_000),
            Some(40_000_000),
        );
        let out = h.push_and_pull(buf).unwrap();
        let loss = lost_slices(&out);
        assert_eq!(loss.lost.is_empty(), i != 5, "frame {i}");
        tainted.push(loss.tainted);
    }
    // tainted from the frame after the loss to the key frame at 9
    let want: Vec<bool> = (0..12).map(|i| (6..9).contains(&i)).collect();
    assert_eq!(tainted, want);
}

#[test]
fn a_flush_or_new_caps_forget_the_layout() {
    let caps = "video/x-h264,stream-format=byte-stream,alignment=au";
    let mut h = harness(caps);
    let mut i = 0;
    for _ in 0..STABLE_FRAMES {
        assert!(
            push(&mut h, access_unit(&LAYOUT, false, Framing::ByteStream), i)
                .0
                .is_empty()
        );
        i += 1;
    }
    assert!(h.push_event(gst::event::FlushStart::new()));
    assert!(h.push_event(gst::event::FlushStop::new(true)));
    h.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
    // the first frame after the flush sets the layout: nothing lost
    assert!(push(
        &mut h,
        access_unit(&[0, 60, 180], false, Framing::ByteStream),
        i
    )
    .0
    .is_empty());
    i += 1;
    for _ in 0..STABLE_FRAMES {
        assert!(
            push(&mut h, access_unit(&LAYOUT, false, Framing::ByteStream), i)
                .0
                .is_empty()
        );
        i += 1;
    }
    // new caps (another stream): forgotten again
    h.set_src_caps_str("video/x-h264,stream-format=byte-stream,alignment=au,width=320,height=192");
    assert!(push(
        &mut h,
        access_unit(&[0, 60, 180], false, Framing::ByteStream),
        i
    )
    .0
    .is_empty());
}

#[test]
fn garbage_passes_through_unchanged_and_unmarked() {
    for caps in [
        "video/x-h264,stream-format=byte-stream,alignment=au",
        "video/x-h265,stream-format=byte-stream,alignment=au",
        // a codec_data too short for its own header
        "video/x-h265,stream-format=hvc1,alignment=au,codec_data=(buffer)01ff",
    ] {
        let mut h = harness(caps);
        let mut x = 7u32;
        for i in 0..300u64 {
            let len = (i as usize * 37) % 300;
            let data: Vec<u8> = (0..len)
                .map(|k| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    // many zeros, so that start codes turn up, and now and
                    // then an HEVC SPS or PPS header after one
                    match (x >> 29, k % 50) {
                        (_, 4) if i % 3 == 0 => 0x42,
                        (_, 4) if i % 3 == 1 => 0x44,
                        (0, _) => 0,
                        _ => (x >> 22) as u8,
                    }
                })
                .collect();
            let (lost, same) = push(&mut h, gst::Buffer::from_mut_slice(data), i);
            assert!(same, "{caps}");
            // random starts may well look like lost slices; they must only
            // be well-formed
            for r in lost {
                assert!(r.end.is_none_or(|e| e > r.first), "{caps}");
            }
        }
        // a buffer without a timestamp, and an empty one
        let out = h.push_and_pull(gst::Buffer::new()).unwrap();
        assert_eq!(out.size(), 0);
    }
}

#[test]
fn refuses_streams_it_cannot_read() {
    init();
    for (enc, caps) in [
        (
            "x264enc ! h264parse",
            "video/x-h264,stream-format=byte-stream,alignment=nal",
        ),
        (
            "x265enc ! h265parse",
            "video/x-h265,stream-format=byte-stream,alignment=nal",
        ),
    ] {
        if gst::ElementFactory::find(enc.split(' ').next().unwrap()).is_none() {
            continue;
        }
        // refused when linked, or else when the caps arrive
        let p = match gst::parse::launch(&format!(
            "videotestsrc num-buffers=3 ! {enc} ! capsfilter caps=\"{caps}\" ! slicecheck ! fakesink"
        )) {
            Err(e) => {
                assert!(e.message().contains("slicecheck"), "{caps}: {e}");
                continue;
            }
            Ok(p) => p,
        };
        let bus = p.bus().unwrap();
        p.set_state(gst::State::Playing).unwrap();
        let msg = bus
            .timed_pop_filtered(
                gst::ClockTime::from_seconds(30),
                &[gst::MessageType::Eos, gst::MessageType::Error],
            )
            .expect("no error or EOS");
        p.set_state(gst::State::Null).unwrap();
        assert_eq!(msg.type_(), gst::MessageType::Error, "{caps}");
    }
}

/// What each frame leaving the element named `name` (a decoder) carries,
/// by PTS, once the pipeline has run.
fn marks(pipeline: &gst::Element, name: &str) -> Arc<Mutex<Vec<(u64, SliceLoss)>>> {
    let marks = Arc::new(Mutex::new(Vec::new()));
    let m = marks.clone();
    src_pad(pipeline, name).add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_ref() {
            m.lock()
                .unwrap()
                .push((buf.pts().unwrap().nseconds(), lost_slices(buf)));
        }
        gst::PadProbeReturn::Ok
    });
    marks
}

/// Runs `pipeline` to its end; blockdetect's corruption events as (kind,
/// timestamp, evidence).
fn run_to_corruptions(pipeline: &gst::Element) -> Vec<(EventKind, u64, Evidence)> {
    run_structures(pipeline)
        .iter()
        .filter(|s| s.name() == "blockdetect")
        .filter_map(|s| match BlockDetectMessage::from_structure(s).unwrap() {
            BlockDetectMessage::Corruption {
                event, evidence, ..
            } => Some((event.kind, event.at.timestamp, evidence)),
            _ => None,
        })
        .collect()
}

/// Frames of a real x264 stream (B-frames, 4 slices, a key frame every 25)
/// with slice 1 of the 11th coded frame dropped before slicecheck: the meta
/// marks the decoded frame of that PTS as lost, the frames predicted from
/// it as tainted up to the key frame, and blockdetect reports one
/// corruption with `bitstream` evidence from the first of them to the key
/// frame at 1 s.
#[test]
fn a_dropped_slice_is_reported_from_its_frame_to_the_key_frame() {
    init();
    let desc = "videotestsrc num-buffers=40 pattern=ball ! video/x-raw,width=320,height=192,framerate=25/1 ! \
        x264enc speed-preset=faster threads=1 key-int-max=25 bframes=2 option-string=slices=4 ! \
        video/x-h264,stream-format=byte-stream,alignment=au ! identity name=inject ! slicecheck ! \
        avdec_h264 name=dec ! blockdetect post-messages=false ! fakesink";
    let p = gst::parse::launch(desc).unwrap();
    // slice 1 of the 11th coded frame
    let dropped = lose_slice(&p, "inject", 10, 1, false);
    let marks = marks(&p, "dec");
    let corruption = run_to_corruptions(&p);
    let (lost_pts, lost_slice) = dropped.lock().unwrap().expect("no slice dropped");
    assert!(
        lost_slice.reference,
        "the 11th coded frame should be a P frame"
    );
    let marks = marks.lock().unwrap();
    assert_eq!(marks.len(), 40);
    const F: u64 = 40_000_000;
    // x264enc starts its timestamps at 1000 hours
    let key = marks.iter().map(|m| m.0).min().unwrap() + 25 * F;
    for (pts, SliceLoss { lost, tainted, .. }) in marks.iter() {
        if *pts == lost_pts {
            assert_eq!(lost.len(), 1, "{pts}");
            assert_eq!(lost[0].first, lost_slice.first_mb);
            assert!(!tainted);
        } else {
            assert!(lost.is_empty(), "{pts}");
        }
    }
    // tainted: what was decoded after it, up to the key frame (B-frames
    // shown before it but predicted from it included)
    let first_tainted = marks
        .iter()
        .filter(|m| m.1.tainted)
        .map(|m| m.0)
        .min()
        .unwrap();
    assert!(first_tainted >= lost_pts - 2 * F && first_tainted <= lost_pts + F);
    for (pts, SliceLoss { tainted, .. }) in marks.iter() {
        if *pts > lost_pts && *pts < key {
            assert!(tainted, "{pts}");
        }
        if *pts >= key {
            assert!(!tainted, "{pts}");
        }
    }
    let start = first_tainted.min(lost_pts);
    assert!(corruption.len() >= 2, "{corruption:?}");
    assert_eq!(corruption[0].0, EventKind::Start);
    assert_eq!(corruption[0].1, start, "{corruption:?}");
    assert!(corruption[0].2.bitstream);
    assert_eq!(corruption[1].0, EventKind::End);
    assert_eq!(corruption[1].1, key, "{corruption:?}");
    assert!(corruption[1].2.bitstream);
}

/// The slice quantiser reaches the decoded frames, from in-band parameter
/// sets (byte-stream) and from `codec_data` (avc): x264 at a constant
/// quantiser of 30 codes P frames at exactly 30 and key frames finer. At
/// 10 bits x264's quantiser is QP'Y, 12 above the QPY the frame reports (on
/// the 8-bit scale, where the same QP means the same step relative to the
/// range).
#[test]
fn the_slice_quantiser_is_read_in_both_stream_formats() {
    init();
    for (format, raw, p_qp) in [
        ("byte-stream", "I420", 30),
        ("avc", "I420", 30),
        ("byte-stream", "I420_10LE", 18),
    ] {
        let desc = format!(
            "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,format={raw},width=320,height=192,framerate=25/1 ! \
             x264enc speed-preset=faster threads=1 key-int-max=25 bframes=0 pass=quant quantizer=30 ! \
             h264parse ! video/x-h264,stream-format={format},alignment=au ! slicecheck ! \
             avdec_h264 ! appsink name=out sync=false"
        );
        let p = gst::parse::launch(&desc).unwrap();
        let bin = p.downcast_ref::<gst::Bin>().unwrap();
        let sink = bin
            .by_name("out")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        let qps = Arc::new(Mutex::new(Vec::new()));
        let q = qps.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    q.lock()
                        .unwrap()
                        .push(lost_slices(sample.buffer().unwrap()).qp);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        run_structures(&p);
        let qps = qps.lock().unwrap();
        assert_eq!(qps.len(), 30, "{format} {raw}");
        for (i, qp) in qps.iter().enumerate() {
            let qp = qp.unwrap_or_else(|| panic!("{format}: no qp on frame {i}"));
            if i % 25 == 0 {
                assert!(qp < p_qp, "{format} {raw}: key frame {i} at {qp}");
            } else {
                assert_eq!(qp, p_qp, "{format} {raw}: frame {i}");
            }
        }
    }
}

/// HEVC, in byte-stream and in hvc1 (sizes and parameter sets in
/// `codec_data`): the third of four slice segments of the 11th frame never
/// arrives; the decoded frame of that PTS is marked with the lost coding
/// tree blocks (32 pixels in x265's ultrafast preset), the frames after it
/// as tainted up to the key frame, and blockdetect reports the corruption
/// from that frame to the key frame at 1 s with `bitstream` evidence.
#[test]
fn a_dropped_hevc_slice_segment_is_reported_in_both_stream_formats() {
    init();
    if gst::ElementFactory::find("x265enc").is_none()
        || gst::ElementFactory::find("avdec_h265").is_none()
    {
        eprintln!("skipping: no x265enc or avdec_h265");
        return;
    }
    const F: u64 = 40_000_000;
    for format in ["byte-stream", "hvc1"] {
        let desc = format!(
            "videotestsrc num-buffers=40 pattern=ball ! video/x-raw,format=I420,width=320,height=192,framerate=25/1 ! \
             x265enc speed-preset=ultrafast key-int-max=25 option-string=bframes=0:slices=4 ! \
             video/x-h265,stream-format=byte-stream,alignment=au ! identity name=inject ! h265parse ! \
             video/x-h265,stream-format={format},alignment=au ! slicecheck ! avdec_h265 name=dec ! \
             blockdetect post-messages=false ! fakesink"
        );
        let p = gst::parse::launch(&desc).unwrap();
        let dropped = lose_slice(&p, "inject", 10, 2, true);
        let marks = marks(&p, "dec");
        let corruption: Vec<_> = run_to_corruptions(&p)
            .into_iter()
            .map(|(kind, at, evidence)| (kind, at, evidence.bitstream))
            .collect();
        let (lost_pts, _) = dropped.lock().unwrap().expect("no slice dropped");
        let marks = marks.lock().unwrap();
        assert_eq!(marks.len(), 40, "{format}");
        let base = marks.iter().map(|m| m.0).min().unwrap();
        let key = base + 25 * F;
        for (pts, loss) in marks.iter() {
            assert_eq!(loss.lost.is_empty(), *pts != lost_pts, "{format} {pts}");
            if *pts == lost_pts {
                assert_eq!(loss.block, 32, "{format}");
                // a run of whole rows of 10 coding tree blocks
                let r = loss.lost[0];
                assert!(r.first > 0 && r.first % 10 == 0, "{format} {r:?}");
                assert!(
                    r.end.is_some_and(|e| e > r.first && e % 10 == 0),
                    "{format} {r:?}"
                );
            }
            assert_eq!(
                loss.tainted,
                *pts > lost_pts && *pts < key,
                "{format} {pts}"
            );
        }
        assert_eq!(
            corruption,
            [
                (EventKind::Start, lost_pts, true),
                (EventKind::End, key, true)
            ],
            "{format}"
        );
    }
}
