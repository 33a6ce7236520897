//! patterndetect: exact timing on hand-made bars, the layouts and levels it
//! names, still cards, hard negatives (moving content, stripes, a frozen
//! textured picture), every format and videotestsrc's patterns.
mod common;

use common::contract::Spec;
use common::footage::{self, bar, BT709};
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;
use gstavmonitor::{Pattern, PatternDetectMessage};

/// R'G'B' (0 to 1) to limited-range 8-bit Y'CbCr with the caps' matrix.
fn ycbcr(info: &gst_video::VideoInfo, rgb: [f64; 3]) -> [u8; 3] {
    let k = match info.colorimetry().matrix() {
        gst_video::VideoColorMatrix::Bt709 => BT709,
        _ => (0.299, 0.114),
    };
    footage::ycbcr(k, rgb)
}

/// An I420 frame of `info` whose pixel (x, y) is `colour(x, y)` (R'G'B').
fn paint(info: &gst_video::VideoInfo, colour: impl Fn(usize, usize) -> [f64; 3]) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    let mut buf = gst::Buffer::with_size(info.size()).unwrap();
    {
        let b = buf.get_mut().unwrap();
        let mut f = gst_video::VideoFrameRef::from_buffer_ref_writable(b, info).unwrap();
        for plane in 0..3u32 {
            let stride = info.stride()[plane as usize] as usize;
            let sub = usize::from(plane > 0);
            let data = f.plane_data_mut(plane).unwrap();
            for y in 0..h.div_ceil(1 << sub) {
                for x in 0..w.div_ceil(1 << sub) {
                    let c = ycbcr(info, colour(x << sub, y << sub));
                    data[y * stride + x] = c[plane as usize];
                }
            }
        }
    }
    buf
}

/// EBU bars: eight bars, top to bottom.
fn ebu(info: &gst_video::VideoInfo, _i: usize) -> gst::Buffer {
    let w = info.width() as usize;
    paint(info, |x, _| bar(x * 8 / w.max(1), 0.75))
}

/// SMPTE-style bars: seven bars in the upper two thirds, below them a
/// black field with a white patch and a PLUGE-like grey.
fn smpte(info: &gst_video::VideoInfo, level: f64) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    paint(info, |x, y| {
        if y < h * 2 / 3 {
            bar(x * 7 / w, level)
        } else if x < w / 4 {
            [0.0, 0.13, 0.3]
        } else if x < w / 2 {
            [1.0; 3]
        } else {
            [0.04; 3]
        }
    })
}

/// Moving textured content.
fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    thread_local!(static T: Texture = Texture::new());
    T.with(|t| yuv_buffer(info, &t.window(w, h, 3 * i, 0, 1.0, 0.0)))
}

const SPEC: Spec = Spec {
    factory: "patterndetect",
    defect: ebu,
    good,
};

// the contract's size test expects tiny pictures to show the defect; bars
// on a 3x5 picture are not bars (tested below instead)
contract_tests!(@each SPEC;
    exact_timing, short_defect_is_quiet, running_time_follows_segment,
    eos_closes_defect, flush_closes_defect, caps_change_closes_defect,
    missing_timestamps, gaps_and_discontinuities,
    property_change_while_playing, unsupported_caps, never_drops_for_qos);

fn run(info: &gst_video::VideoInfo) -> Run {
    Run::new(
        "patterndetect",
        &[("min-duration", &(4 * F))],
        &info.to_caps().unwrap(),
    )
}

/// (frame, event, pattern, amplitude) of each message.
fn play(r: &mut Run, frames: &[gst::Buffer]) -> Vec<(usize, &'static str, Pattern, f64)> {
    let mut out = Vec::new();
    for (i, b) in frames.iter().enumerate() {
        for s in r.push(timed(b.copy(), Some(i as u64 * F), Some(F))) {
            let m = PatternDetectMessage::from_structure(&s).unwrap();
            let kind = match m.event.kind {
                gstavmonitor::EventKind::Start => "start",
                gstavmonitor::EventKind::End => "end",
            };
            out.push((i, kind, m.pattern, m.amplitude));
        }
    }
    out
}

#[test]
fn names_the_layout_and_level() {
    let info = info(VideoFormat::I420, 320, 240);
    for (frame, want, level) in [
        (ebu(&info, 0), Pattern::EbuBars, 0.75),
        (smpte(&info, 0.75), Pattern::SmpteBars, 0.75),
        (smpte(&info, 1.0), Pattern::SmpteBars, 1.0),
    ] {
        let mut r = run(&info);
        let mut frames = vec![good(&info, 0), good(&info, 1)];
        frames.extend(std::iter::repeat_n(frame, 6));
        frames.push(good(&info, 9));
        let got = play(&mut r, &frames);
        assert_eq!(got.len(), 2, "{want:?}: {got:?}");
        assert_eq!((got[0].0, got[0].1, got[0].2), (5, "start", want));
        assert!((got[0].3 - level).abs() < 0.02, "{got:?}");
        assert_eq!((got[1].0, got[1].1), (8, "end"));
    }
}

#[test]
fn a_still_card_starts_at_its_first_frame_and_a_frozen_picture_is_no_card() {
    let info = info(VideoFormat::I420, 320, 240);
    // a slate: blue field, a white caption box
    let slate = paint(&info, |x, y| {
        if (100..140).contains(&y) && (60..260).contains(&x) {
            [1.0; 3]
        } else {
            [0.1, 0.2, 0.6]
        }
    });
    let mut frames: Vec<gst::Buffer> = (0..3).map(|i| good(&info, i)).collect();
    frames.extend(std::iter::repeat_n(slate, 8));
    frames.push(good(&info, 20));
    let got = play(&mut run(&info), &frames);
    assert_eq!(
        got.iter().map(|g| (g.0, g.1, g.2)).collect::<Vec<_>>(),
        [
            (6, "start", Pattern::StillCard),
            (11, "end", Pattern::StillCard)
        ]
    );
    // the same textured picture for 8 frames: a freeze, not a card
    let frozen = good(&info, 5);
    let mut frames: Vec<gst::Buffer> = (0..3).map(|i| good(&info, i)).collect();
    frames.extend(std::iter::repeat_n(frozen, 8));
    assert_eq!(play(&mut run(&info), &frames), []);
    // and with still-cards off, the slate is nothing either
    let mut r = run(&info);
    r.element().set_property("still-cards", false);
    let slate = paint(&info, |_, _| [0.1, 0.2, 0.6]);
    assert_eq!(play(&mut r, &vec![slate; 10]), []);
}

#[test]
fn stripes_in_other_orders_or_levels_are_not_bars() {
    let info = info(VideoFormat::I420, 320, 240);
    // moving vertical stripes of the bar colours in another order
    let shuffled: Vec<gst::Buffer> = (0..10)
        .map(|i| {
            let order = [2, 0, 5, 1, 6, 3, 4];
            paint(&info, |x, _| bar(order[((x + 4 * i) * 7 / 320) % 7], 0.75))
        })
        .collect();
    assert_eq!(play(&mut run(&info), &shuffled), []);
    // the bar order, but each bar at its own level (a graphic, not bars)
    let uneven: Vec<gst::Buffer> = (0..10)
        .map(|i| {
            paint(&info, |x, y| {
                let k = x * 7 / 320;
                let c = bar(k, 0.35 + 0.09 * k as f64);
                let n = ((x + y + i) % 3) as f64 * 0.002;
                c.map(|v| v + n)
            })
        })
        .collect();
    assert_eq!(play(&mut run(&info), &uneven), []);
    // a three-colour flag moving across the picture
    let flag: Vec<gst::Buffer> = (0..10)
        .map(|i| {
            paint(&info, |x, _| match ((x + 7 * i) * 3 / 320) % 3 {
                0 => [0.0, 0.2, 0.6],
                1 => [1.0; 3],
                _ => [0.8, 0.1, 0.1],
            })
        })
        .collect();
    assert_eq!(play(&mut run(&info), &flag), []);
}

#[test]
fn tiny_and_huge_pictures() {
    for (w, h) in [(1, 1), (2, 2), (3, 5), (16, 9)] {
        let info = info(VideoFormat::I420, w, h);
        let frames: Vec<_> = (0..6).map(|i| ebu(&info, i)).collect();
        // too small to hold bars: whatever it says, it says it cleanly
        let got = play(&mut run(&info), &frames);
        assert!(
            got.iter().all(|g| g.2 != Pattern::SmpteBars),
            "{w}x{h}: {got:?}"
        );
    }
    let info = info(VideoFormat::I420, 1921, 1081);
    let frames: Vec<_> = (0..6).map(|i| ebu(&info, i)).collect();
    let got = play(&mut run(&info), &frames);
    assert_eq!((got[0].1, got[0].2), ("start", Pattern::EbuBars));
}

/// Bars made in I420 and converted by videoconvert to every format are
/// found in each.
#[test]
fn every_format() {
    init();
    let base = info(VideoFormat::I420, 320, 240);
    let frames: Vec<gst::Buffer> = (0..20usize)
        .map(|i| {
            let b = if (5..15).contains(&i) {
                smpte(&base, 0.75)
            } else {
                good(&base, i)
            };
            timed(b, Some(i as u64 * F), Some(F))
        })
        .collect();
    let caps = base.to_caps().unwrap();
    let mut failures = Vec::new();
    for fmt in gstavmonitor::videodetect::FORMATS {
        let chain = format!(
            "videoconvert ! video/x-raw,format={} ! patterndetect min-duration={} still-cards=false",
            fmt.to_str(),
            4 * F
        );
        let got: Vec<(&str, u64)> = run_frames(&caps, frames.clone(), &chain)
            .iter()
            .map(|(_, e)| (e.kind, e.ts))
            .collect();
        let gray = fmt.to_str().contains("GRAY");
        let want = if gray {
            vec![]
        } else {
            vec![("start", 5 * F), ("end", 15 * F)]
        };
        if got != want {
            failures.push(format!("{}: {got:?}", fmt.to_str()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// videotestsrc: its SMPTE pattern is SMPTE bars (100%), its full-field
/// 75% and 100% bars are bars; flat fields and static synthetic patterns
/// are still cards; moving content, snow and the ball are nothing.
#[test]
fn videotestsrc_patterns() {
    init();
    let launch = |pattern: &str| {
        let p = gst::parse::launch(&format!(
            "videotestsrc pattern={pattern} num-buffers=75 \
             ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 \
             ! x264enc speed-preset=veryfast bitrate=2000 ! avdec_h264 \
             ! patterndetect ! fakesink"
        ))
        .unwrap();
        run_structures(&p)
            .iter()
            .map(|s| {
                let m = PatternDetectMessage::from_structure(s).unwrap();
                (m.pattern.as_str(), m.event.at.running_time.unwrap())
            })
            .collect::<Vec<_>>()
    };
    let whole = |p: &'static str| vec![(p, 0), (p, 3 * SECOND)];
    assert_eq!(launch("smpte"), whole("smpte-bars"));
    assert_eq!(launch("smpte75"), whole("bars"));
    assert_eq!(launch("smpte100"), whole("bars"));
    assert_eq!(launch("blue"), whole("still-card"));
    for p in ["snow", "ball", "colors", "circular"] {
        assert_eq!(launch(p), [], "{p}");
    }
}
