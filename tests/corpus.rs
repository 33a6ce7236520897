//! Detection quality on a corpus the test makes itself: synthetic moving
//! content with injected black and freeze stretches, raw and through an x264
//! encode and decode, plus hard negatives that must stay quiet. Prints recall
//! and false alarms per detector and clip; passes only with every injected
//! defect found (start and end within one frame) and no false alarm.
mod common;

use common::*;
use gst_video::VideoFormat;

const W: usize = 320;
const H: usize = 240;

/// What frame `i` of a clip shows.
#[derive(Clone, Copy, Debug)]
enum Shot {
    /// Moving content: pan of `speed` px a frame and a moving square, luma
    /// `gain` about black, grain amplitude `grain`.
    Moving { speed: usize, gain: f64, grain: i32 },
    /// Black, with dark noise of amplitude `grain`.
    Black { grain: i32 },
    /// The picture of frame `from` of moving content repeated, with fresh grain.
    Frozen { from: usize, grain: i32 },
    /// A fade of moving content from gain 1 to `to` over `frames` frames
    /// starting at `first`, then held (still moving).
    Fade {
        first: usize,
        frames: usize,
        to: f64,
    },
    /// A still, noise-free background with a small square moving over it.
    SmallObject,
}

struct Clip {
    name: &'static str,
    shots: Vec<(usize, Shot)>, // (first frame, shot), in order
    frames: usize,
    /// Injected (black, freeze) stretches, as frame ranges.
    black: Vec<(usize, usize)>,
    freeze: Vec<(usize, usize)>,
}

impl Clip {
    fn shot(&self, i: usize) -> Shot {
        self.shots
            .iter()
            .rev()
            .find(|(s, _)| *s <= i)
            .map(|(_, s)| *s)
            .unwrap()
    }

    fn luma(&self, t: &Texture, i: usize) -> Vec<u8> {
        let moving = |i: usize, speed: usize, gain: f64| {
            let mut l = t.window(W, H, speed * i, i / 3, gain, 0.0);
            let v = (16.0 + 219.0 * gain) as u8;
            square(&mut l, W, H, (7 * i) % W, 60 + (i % 100), 12, v);
            l
        };
        let mut l = match self.shot(i) {
            Shot::Moving { speed, gain, .. } => moving(i, speed, gain),
            Shot::Black { .. } => vec![16u8; W * H],
            Shot::Frozen { from, .. } => moving(from, 3, 1.0),
            Shot::Fade { first, frames, to } => {
                let k = ((i - first) as f64 / frames as f64).min(1.0);
                moving(i, 3, 1.0 + (to - 1.0) * k)
            }
            Shot::SmallObject => {
                let mut l = t.window(W, H, 0, 0, 1.0, 0.0);
                square(&mut l, W, H, 20 + (2 * i) % 260, 100, 12, 235);
                l
            }
        };
        let g = match self.shot(i) {
            Shot::Moving { grain, .. } | Shot::Black { grain } | Shot::Frozen { grain, .. } => {
                grain
            }
            _ => 0,
        };
        if g > 0 {
            grain(&mut l, i as u64, g);
        }
        l
    }
}

fn defects(name: &'static str, grain: i32) -> Clip {
    let mov = Shot::Moving {
        speed: 3,
        gain: 1.0,
        grain,
    };
    Clip {
        name,
        frames: 325,
        shots: vec![
            (0, mov),
            (50, Shot::Black { grain }),
            (125, mov),
            (175, Shot::Frozen { from: 175, grain }),
            (250, mov),
            // a 1 s black flash: shorter than min-duration, not a defect
            (275, Shot::Black { grain }),
            (300, mov),
        ],
        black: vec![(50, 125)],
        // a black picture is a still picture: freezedetect reports it too
        freeze: vec![(50, 125), (175, 250)],
    }
}

fn negatives() -> Vec<Clip> {
    let clip = |name, shots| Clip {
        name,
        frames: 150,
        shots,
        black: vec![],
        freeze: vec![],
    };
    vec![
        clip(
            "dark scene",
            vec![(
                0,
                Shot::Moving {
                    speed: 2,
                    gain: 0.15,
                    grain: 2,
                },
            )],
        ),
        clip(
            "fade stopping short of black",
            vec![(
                0,
                Shot::Fade {
                    first: 0,
                    frames: 75,
                    to: 0.25,
                },
            )],
        ),
        clip(
            "slow pan, 1 px a frame",
            vec![(
                0,
                Shot::Moving {
                    speed: 1,
                    gain: 1.0,
                    grain: 0,
                },
            )],
        ),
        clip(
            "small moving object on a still background",
            vec![(0, Shot::SmallObject)],
        ),
    ]
}

#[derive(Default)]
struct Score {
    injected: usize,
    found: usize,
    false_alarms: usize,
}

/// Matches events to injected stretches: a start within one frame of a
/// stretch's first frame and its end within one frame of its end, in running
/// time (the encoder and decoder move buffer times by 1000 hours and put that
/// in the segment, as real streams do).
fn score(events: &[(String, Ev)], detector: &str, truth: &[(usize, usize)], clip: &str) -> Score {
    let evs: Vec<&Ev> = events
        .iter()
        .filter(|(n, _)| n == detector)
        .map(|(_, e)| e)
        .collect();
    let mut s = Score {
        injected: truth.len(),
        ..Score::default()
    };
    let mut used = vec![false; evs.len()];
    for &(a, b) in truth {
        let (ta, tb) = (a as u64 * F, b as u64 * F);
        let near = |e: &Ev, t: u64| e.running.is_some_and(|r| r.abs_diff(t) <= F);
        let st = evs.iter().position(|e| e.kind == "start" && near(e, ta));
        let en = evs
            .iter()
            .position(|e| e.kind == "end" && near(e, tb) && e.reason == Some("recovered"));
        if let (Some(i), Some(j)) = (st, en) {
            used[i] = true;
            used[j] = true;
            s.found += 1;
        } else {
            println!("  MISSED {detector} {clip} frames {a}..{b}: {evs:?}");
        }
    }
    let extra: Vec<_> = evs.iter().zip(&used).filter(|(_, u)| !**u).collect();
    s.false_alarms = extra.iter().filter(|(e, _)| e.kind == "start").count();
    for (e, _) in &extra {
        println!("  UNEXPECTED {detector} {clip}: {e:?}");
    }
    s
}

fn run_clip(t: &Texture, clip: &Clip, encode: bool) -> Vec<(String, Ev)> {
    let info = info(VideoFormat::I420, W as u32, H as u32);
    let frames: Vec<gst::Buffer> = (0..clip.frames)
        .map(|i| {
            timed(
                yuv_buffer(&info, &clip.luma(t, i)),
                Some(i as u64 * F),
                Some(F),
            )
        })
        .collect();
    let codec = if encode {
        "x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=50 ! avdec_h264 ! "
    } else {
        ""
    };
    run_frames(
        &info.to_caps().unwrap(),
        frames,
        &format!("{codec}blackdetect ! freezedetect"),
    )
}

#[test]
fn detection_quality() {
    init();
    let t = Texture::new();
    let mut clips: Vec<(Clip, bool)> = vec![
        (defects("exact defects, raw", 0), false),
        (defects("grainy defects, raw", 4), false),
        (defects("heavy grain (+-10) defects, raw", 10), false),
        (
            defects("heavy grain (+-10) defects, x264 600 kb/s", 10),
            true,
        ),
        (defects("grainy defects, x264 600 kb/s", 4), true),
        (defects("clean defects, x264 600 kb/s", 0), true),
    ];
    for c in negatives() {
        clips.push((c, false));
    }
    for c in negatives() {
        let c = Clip {
            name: Box::leak(format!("{}, x264", c.name).into_boxed_str()),
            ..c
        };
        clips.push((c, true));
    }
    println!(
        "{:<50} {:<13} {:>8} {:>6} {:>12}",
        "clip", "detector", "injected", "found", "false alarms"
    );
    let mut total = [Score::default(), Score::default()];
    let mut failed = false;
    for (clip, encode) in &clips {
        let events = run_clip(&t, clip, *encode);
        for (k, (det, truth)) in [("blackdetect", &clip.black), ("freezedetect", &clip.freeze)]
            .into_iter()
            .enumerate()
        {
            let s = score(&events, det, truth, clip.name);
            println!(
                "{:<50} {:<13} {:>8} {:>6} {:>12}",
                clip.name, det, s.injected, s.found, s.false_alarms
            );
            failed |= s.found != s.injected || s.false_alarms != 0;
            total[k].injected += s.injected;
            total[k].found += s.found;
            total[k].false_alarms += s.false_alarms;
        }
    }
    for (det, s) in ["blackdetect", "freezedetect"].iter().zip(&total) {
        println!(
            "TOTAL {det}: recall {}/{} = {:.0}%, false alarms {}",
            s.found,
            s.injected,
            100.0 * s.found as f64 / s.injected.max(1) as f64,
            s.false_alarms
        );
    }
    assert!(!failed, "see the table above");
}
