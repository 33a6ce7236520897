//! Detection quality on a corpus the test makes itself: synthetic moving
//! content with injected black and freeze stretches, raw and through an x264
//! encode and decode, plus hard negatives that must stay quiet. Prints recall
//! and false alarms per detector and clip; passes only with every injected
//! defect found (start and end within one frame) and no false alarm.
//!
//! The encodes with B-frames (B-pyramid) are decoded twice: every frame, and
//! with the B-frames skipped (`skip_frames`, what the service does for
//! streams whose detectors allow it: once the stream has shown its P frames
//! do not need them, every B-frame, the middle reference one included);
//! skipping may move a start or end to the nearest decoded frame, so there
//! the bar is the distance between P frames (4 frames for 3 B-frames), and
//! one freeze in six may be found later (heavy grain: see the assertion).
//! x264 runs one thread, so the encodes are the same on any machine.
//! The raw clips also run with black and freeze analysing one frame in 5
//! (`frame-step`), where a start or end may fall 4 frames late. The
//! B-pyramid encodes run a third time with keyframes only decoded
//! (`keyframes_only`): starts and ends within the GOP (50 frames), every
//! black found, no false alarm; freezes are counted, not required (one is
//! seen only where two keyframes in a row show it).
mod common;

use common::*;
use gst::prelude::*;
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
fn score(
    events: &[(String, Ev)],
    detector: &str,
    truth: &[(usize, usize)],
    clip: &str,
    tolerance: u64,
) -> Score {
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
        let near = |e: &Ev, t: u64| e.running.is_some_and(|r| r.abs_diff(t) <= tolerance * F);
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

/// How a clip reaches the detectors.
#[derive(Clone, Copy, PartialEq)]
enum Codec {
    Raw,
    /// x264 without B-frames, decoded.
    X264,
    /// x264 with 3 B-frames and B-pyramid (IBBBP, the middle B a
    /// reference), every frame decoded.
    X264B,
    /// The same with the B-frames skipped (`skip_frames`).
    X264BSkip,
    /// The same with keyframes only decoded (`keyframes_only`).
    X264BKey,
    /// The same decoding keyframes, and whole GOPs where the picture
    /// stands still (`keyframes_until_still`).
    X264BStill,
    /// Raw, black and freeze analysing one frame in 5 (`frame-step`).
    RawStep,
}

impl Codec {
    fn label(self) -> &'static str {
        match self {
            Codec::Raw => "raw",
            Codec::X264 => "x264 600 kb/s",
            Codec::X264B => "x264 B-frames",
            Codec::X264BSkip => "x264 B-frames skipped",
            Codec::X264BKey => "x264 keyframes only",
            Codec::X264BStill => "x264 until still",
            Codec::RawStep => "raw, frame-step 5",
        }
    }

    /// Frames an event's start or end may be off by.
    fn tolerance(self) -> u64 {
        match self {
            Codec::X264BSkip | Codec::X264BStill => 4,
            // the GOP: key-int-max
            Codec::X264BKey => 50,
            // up to frame-step - 1 frames late, and the one frame of all
            Codec::RawStep => 5,
            _ => 1,
        }
    }

    /// Applies its decoding economy, if any, to the decoder `dec`.
    fn economise(self, dec: &gst::Element) {
        match self {
            Codec::X264BSkip => gstavmonitor::skip_frames(dec),
            Codec::X264BKey => gstavmonitor::keyframes_only(dec),
            Codec::X264BStill => gstavmonitor::keyframes_until_still(dec),
            _ => {}
        }
    }

    /// The totals it counts in: every frame, B-frames skipped, frame-step,
    /// keyframes only.
    fn group(self) -> usize {
        match self {
            Codec::X264BSkip => 1,
            Codec::RawStep => 2,
            Codec::X264BKey => 3,
            Codec::X264BStill => 4,
            _ => 0,
        }
    }
}

/// The clip's raw pictures, timed at 25 fps, and their format.
fn clip_frames(t: &Texture, clip: &Clip) -> (gst_video::VideoInfo, Vec<gst::Buffer>) {
    let info = info(VideoFormat::I420, W as u32, H as u32);
    let frames = (0..clip.frames)
        .map(|i| {
            timed(
                yuv_buffer(&info, &clip.luma(t, i)),
                Some(i as u64 * F),
                Some(F),
            )
        })
        .collect();
    (info, frames)
}

/// The clip's events, and the frames the detectors saw.
fn run_clip(t: &Texture, clip: &Clip, codec: Codec) -> (Vec<(String, Ev)>, usize) {
    let (info, frames) = clip_frames(t, clip);
    let launch = match codec {
        Codec::Raw | Codec::RawStep => "",
        Codec::X264 => {
            "x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=50 ! avdec_h264 name=dec ! "
        }
        Codec::X264B | Codec::X264BSkip | Codec::X264BKey | Codec::X264BStill => {
            "x264enc speed-preset=ultrafast bitrate=600 key-int-max=50 bframes=3 b-adapt=false b-pyramid=true threads=1 ! avdec_h264 name=dec ! "
        }
    };
    let p = appsrc_pipeline(
        &info.to_caps().unwrap(),
        frames,
        &if codec == Codec::RawStep {
            format!("{launch}blackdetect name=black frame-step=5 ! freezedetect frame-step=5")
        } else {
            format!("{launch}blackdetect name=black ! freezedetect")
        },
    );
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    if let Some(dec) = bin.by_name("dec") {
        codec.economise(&dec);
    }
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    bin.by_name("black")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        });
    let events = run_named(&p);
    (events, seen.load(std::sync::atomic::Ordering::Relaxed))
}

#[test]
fn detection_quality() {
    init();
    let t = Texture::new();
    let mut clips: Vec<(Clip, Codec)> = vec![
        (defects("exact defects", 0), Codec::Raw),
        (defects("grainy defects", 4), Codec::Raw),
        (defects("heavy grain (+-10) defects", 10), Codec::Raw),
    ];
    for codec in [
        Codec::X264,
        Codec::X264B,
        Codec::X264BSkip,
        Codec::X264BKey,
        Codec::X264BStill,
    ] {
        clips.push((defects("heavy grain (+-10) defects", 10), codec));
        clips.push((defects("grainy defects", 4), codec));
        clips.push((defects("clean defects", 0), codec));
    }
    clips.push((defects("exact defects", 0), Codec::RawStep));
    clips.push((defects("grainy defects", 4), Codec::RawStep));
    clips.push((defects("heavy grain (+-10) defects", 10), Codec::RawStep));
    for codec in [
        Codec::Raw,
        Codec::X264,
        Codec::X264BSkip,
        Codec::RawStep,
        Codec::X264BKey,
        Codec::X264BStill,
    ] {
        for c in negatives() {
            clips.push((c, codec));
        }
    }
    println!(
        "{:<45} {:<22} {:<13} {:>8} {:>6} {:>12} {:>7}",
        "clip", "codec", "detector", "injected", "found", "false alarms", "frames"
    );
    // per way: (every frame, B-frames skipped, frame-step, keyframes only,
    // keyframes until still) x (black, freeze)
    let mut total: [[Score; 2]; 5] = Default::default();
    let mut frames = [[0usize; 2]; 5];
    let mut failed = false;
    for (clip, codec) in &clips {
        let (events, seen) = run_clip(&t, clip, *codec);
        let group = codec.group();
        if matches!(
            codec,
            Codec::X264B | Codec::X264BSkip | Codec::X264BKey | Codec::X264BStill
        ) {
            frames[group][0] += clip.frames;
            frames[group][1] += seen;
        }
        for (k, (det, truth)) in [("blackdetect", &clip.black), ("freezedetect", &clip.freeze)]
            .into_iter()
            .enumerate()
        {
            let s = score(&events, det, truth, clip.name, codec.tolerance());
            println!(
                "{:<45} {:<22} {:<13} {:>8} {:>6} {:>12} {:>7}",
                clip.name,
                codec.label(),
                det,
                s.injected,
                s.found,
                s.false_alarms,
                seen
            );
            // with B-frames skipped a freeze may be found late (below);
            // with keyframes only, a freeze is seen only where two
            // keyframes in a row show it (recall printed, not a bar); a
            // false alarm on a clip without defects fails all the same
            let lenient = matches!(group, 1 | 3 | 4) && det == "freezedetect" && s.injected > 0;
            failed |= !lenient && (s.found != s.injected || s.false_alarms != 0);
            total[group][k].injected += s.injected;
            total[group][k].found += s.found;
            total[group][k].false_alarms += s.false_alarms;
        }
    }
    for (group, how) in [
        "every frame decoded",
        "B-frames skipped",
        "one frame in 5 analysed",
        "keyframes only",
        "keyframes until still",
    ]
    .iter()
    .enumerate()
    {
        for (det, s) in ["blackdetect", "freezedetect"].iter().zip(&total[group]) {
            println!(
                "TOTAL {how}, {det}: recall {}/{} = {:.0}%, false alarms {}",
                s.found,
                s.injected,
                100.0 * s.found as f64 / s.injected.max(1) as f64,
                s.false_alarms
            );
        }
    }
    println!(
        "B-frame encodes: {} of {} frames analysed with every frame decoded, {} of {} with the B-frames skipped, {} of {} with keyframes only, {} of {} with keyframes until still",
        frames[0][1], frames[0][0], frames[1][1], frames[1][0], frames[3][1], frames[3][0], frames[4][1], frames[4][0]
    );
    assert!(!failed, "see the table above");
    // Skipping B-frames leaves the P frames alone to compare, 4 frames
    // apart: in heavy grain at 600 kb/s (x264 coding a frozen picture's
    // grain afresh in each P frame) a freeze can be seen up to a second
    // late. At most one freeze in six may be so (docs/cost.md).
    let freeze = &total[1][1];
    assert!(
        freeze.found * 6 >= freeze.injected * 5,
        "B-frames skipped: {} of {} freezes found in time",
        freeze.found,
        freeze.injected
    );
    // skipping must skip: about 3 frames in 4 of an IBBBP stream
    assert!(
        frames[1][1] * 2 < frames[1][0],
        "{} of {} frames decoded with skipping",
        frames[1][1],
        frames[1][0]
    );
    assert_eq!(frames[0][1], frames[0][0]);
    // keyframes only: a picture a GOP (50 frames, and scene cuts)
    assert!(
        frames[3][1] * 10 < frames[3][0],
        "{} of {} frames decoded with keyframes only",
        frames[3][1],
        frames[3][0]
    );
    // keyframes until still: fewer than the default decodes, though these
    // clips are mostly defects, still pictures
    assert!(
        frames[4][1] < frames[1][1],
        "{} frames decoded until still, {} with the B-frames skipped",
        frames[4][1],
        frames[1][1]
    );
}

/// (detector, start, end) in running time of each stretch `events` report.
fn stretches(events: &[(String, Ev)]) -> Vec<(String, u64, u64)> {
    let mut open: Vec<(String, u64)> = Vec::new();
    let mut out = Vec::new();
    for (det, e) in events {
        let Some(t) = e.running else { continue };
        match e.kind {
            "start" => open.push((det.clone(), t)),
            "end" => {
                if let Some(i) = open.iter().position(|(d, _)| d == det) {
                    let (d, s) = open.remove(i);
                    out.push((d, s, t));
                }
            }
            _ => {}
        }
    }
    out
}

/// An x264 encode (avc, 3 B-frames with B-pyramid, a 2 s GOP, 800 kb/s,
/// one thread) of `file` scaled to 640x360 at 25 fps, with a 3 s black
/// stretch injected from a fifth of the way in and a 3 s freeze (one
/// picture repeated) from three fifths: (caps, buffers, black and freeze
/// stretches in frames).
#[allow(clippy::type_complexity)]
fn footage_with_defects(
    file: &std::path::Path,
) -> (gst::Caps, Vec<gst::Buffer>, (usize, usize), (usize, usize)) {
    // the clip's length first, to place the defects
    let (_, raw) = pull_all(&format!(
        "filesrc location={} ! decodebin ! videoconvert ! videoscale ! videorate \
         ! video/x-raw,format=I420,width=64,height=36,framerate=25/1",
        file.display()
    ))
    .expect("the footage decodes");
    let n = raw.len();
    let black = (n / 5, n / 5 + 75);
    let freeze = (3 * n / 5, 3 * n / 5 + 75);
    assert!(freeze.1 < n, "{}: {n} frames, too short", file.display());
    let (caps, buffers) = pull_all_with(
        &format!(
            "filesrc location={} ! decodebin ! videoconvert ! videoscale ! videorate \
             ! video/x-raw,format=I420,width=640,height=360,pixel-aspect-ratio=1/1,framerate=25/1 \
             ! identity name=inject ! x264enc speed-preset=veryfast threads=1 bitrate=800 key-int-max=50 \
             bframes=3 b-pyramid=true ! h264parse ! video/x-h264,stream-format=avc,alignment=au",
            file.display()
        ),
        |bin| {
            let held = std::sync::Mutex::new(None::<Vec<u8>>);
            inject(bin, move |i, map| {
                let luma = 640 * 360;
                if (black.0..black.1).contains(&i) {
                    map[..luma].fill(16);
                    map[luma..].fill(128);
                } else if i == freeze.0 {
                    *held.lock().unwrap() = Some(map.to_vec());
                } else if (freeze.0..freeze.1).contains(&i) {
                    map.copy_from_slice(held.lock().unwrap().as_ref().unwrap());
                }
            });
        },
    )
    .expect("an x264 encode of the footage");
    (caps, buffers, black, freeze)
}

/// Real footage (scripts/footage.sh: camera, street, film trailer; the
/// animation clip is 5 s, too short for both defects) with a black stretch
/// and a freeze injected ([`footage_with_defects`]), decoded three ways
/// and watched by blackdetect and freezedetect with their defaults
/// (`min-duration` 2 s): every frame; the B-frames skipped
/// (`skip_frames`); keyframes only (`keyframes_only`). Injected: the black
/// (a black picture is a still one: freezedetect reports it too) and the
/// freeze. Every frame and B-frames skipped must find each, start and end
/// within 4 frames. Keyframes only is counted, not required (starts and
/// ends within the GOP, 50 frames): a stretch is seen from its first
/// keyframe to the first keyframe past it, so one of 3 s with a single
/// keyframe inside measures under the 2 s of `min-duration` (only those of
/// `min-duration` and a GOP, 4 s here, are sure to be seen). Any other
/// stretch is a false alarm, in any way, and none is allowed. Prints each
/// way's stretches, recall and false alarms per hour.
#[test]
fn real_footage_however_decoded() {
    init();
    let files = ["bikes.mp4", "vtest.avi", "Megamind.avi"];
    let dir = footage_dir(&files);
    let mut failed = Vec::new();
    let mut seconds = 0.0;
    let mut totals = [(0usize, 0usize, 0usize, 0usize); 4];
    for file in files {
        let (caps, buffers, black, freeze) = footage_with_defects(&dir.join(file));
        seconds += buffers.len() as f64 / 25.0;
        let at = |(a, b): (usize, usize)| (a as u64 * F, b as u64 * F);
        let truth = [
            ("blackdetect".to_string(), at(black)),
            ("freezedetect".to_string(), at(black)),
            ("freezedetect".to_string(), at(freeze)),
        ];
        for (w, way) in [
            Codec::X264B,
            Codec::X264BSkip,
            Codec::X264BKey,
            Codec::X264BStill,
        ]
        .into_iter()
        .enumerate()
        {
            let p = appsrc_pipeline(
                &caps,
                buffers.clone(),
                "avdec_h264 name=dec max-threads=1 ! blackdetect ! freezedetect",
            );
            let dec = p
                .downcast_ref::<gst::Bin>()
                .unwrap()
                .by_name("dec")
                .unwrap();
            way.economise(&dec);
            let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let counter = seen.clone();
            dec.static_pad("src")
                .unwrap()
                .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    gst::PadProbeReturn::Ok
                });
            // the encoder's 1000 hours, in the appsrc's running time
            let base = buffers[0].pts().unwrap().nseconds();
            let found: Vec<_> = stretches(&run_named(&p))
                .into_iter()
                .map(|(d, a, b)| (d, a.saturating_sub(base), b.saturating_sub(base)))
                .collect();
            // every frame too within 4 (the encode at 800 kb/s moves an edge)
            let tolerance = way.tolerance().max(4) * F;
            let near = |(d, s, e): &(String, u64, u64), (td, (ts, te)): &(String, (u64, u64))| {
                d == td && s.abs_diff(*ts) <= tolerance && e.abs_diff(*te) <= tolerance
            };
            let extra: Vec<_> = found
                .iter()
                .filter(|f| !truth.iter().any(|t| near(f, t)))
                .collect();
            let missed: Vec<_> = truth
                .iter()
                .filter(|t| !found.iter().any(|f| near(f, t)))
                .collect();
            let s = |t: u64| format!("{:.2}", t as f64 / 1e9);
            let seen = seen.load(std::sync::atomic::Ordering::Relaxed);
            println!(
                "{file:<18} {:<22} {seen:>5} pictures: {}",
                way.label(),
                found
                    .iter()
                    .map(|(d, a, b)| format!("{d} {}..{} s", s(*a), s(*b)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (d, (a, b)) in &missed {
                println!("  MISSED {d} {}..{} s", s(*a), s(*b));
            }
            for (d, a, b) in &extra {
                println!("  FALSE ALARM {d} {}..{} s", s(*a), s(*b));
            }
            totals[w].0 += truth.len();
            totals[w].1 += truth.len() - missed.len();
            totals[w].2 += extra.len();
            totals[w].3 += seen;
            // keyframes until still must find the black (a still picture)
            let must = |(_, t): &&(String, (u64, u64))| match way {
                Codec::X264BKey => false,
                Codec::X264BStill => *t == at(black),
                _ => true,
            };
            if !extra.is_empty() || missed.iter().any(must) {
                failed.push(format!("{file} {}", way.label()));
            }
        }
    }
    for (w, way) in [
        "every frame",
        "B-frames skipped",
        "keyframes only",
        "keyframes until still",
    ]
    .iter()
    .enumerate()
    {
        let (injected, found, extra, seen) = totals[w];
        println!(
            "TOTAL real footage, {way}: recall {found}/{injected}, {extra} false alarms ({:.1} an hour) in {seconds:.0} s, {seen} pictures decoded",
            extra as f64 * 3600.0 / seconds
        );
    }
    assert!(failed.is_empty(), "{failed:?}: see above");
    // and the freezes x264 sharpens, by their B pictures: all but the
    // street camera's (a fixed camera, its B pictures tiny all along)
    assert!(
        totals[3].1 + 1 >= totals[3].0,
        "keyframes until still found {} of {}",
        totals[3].1,
        totals[3].0
    );
    // keyframes until still decodes fewer pictures than the default, even
    // on a street camera whose repeated pictures open most of its GOPs
    assert!(
        totals[3].3 < totals[1].3,
        "{} pictures decoded until still, {} with the B-frames skipped",
        totals[3].3,
        totals[1].3
    );
}

/// Keyframes only times black by its keyframes. A stream with a fixed GOP
/// (x264 `scenecut=0`: a keyframe each 50 frames, none at scene cuts):
/// black is reported, with the default `min-duration` of 2 s, where its
/// black keyframes span it (from the start of the first to the end of the
/// last), from the first black keyframe to the first keyframe past it; and
/// the pictures between keyframes are not seen, so black stretches with
/// less than a GOP between them are one.
/// - a 1 s flash (frames 90 to 115) with one keyframe inside (100): one
///   black picture, not reported;
/// - 2.6 s of black (190 to 255) holding keyframes 200 and 250: reported,
///   200 to 300;
/// - a 1 s flash (340 to 365, keyframe 350) 0.6 s before 6 s of black (380
///   to 530, keyframes 400, 450, 500): one stretch, 350 to 550.
#[test]
fn keyframes_only_times_black_by_its_keyframes() {
    init();
    let t = Texture::new();
    let mov = Shot::Moving {
        speed: 3,
        gain: 1.0,
        grain: 4,
    };
    let black = Shot::Black { grain: 4 };
    let clip = Clip {
        name: "1 s flashes, 2.6 s and 6 s of black, fixed GOP",
        frames: 600,
        shots: vec![
            (0, mov),
            (90, black),
            (115, mov),
            (190, black),
            (255, mov),
            (340, black),
            (365, mov),
            (380, black),
            (530, mov),
        ],
        black: vec![(190, 255), (380, 530)],
        freeze: vec![],
    };
    let (info, frames) = clip_frames(&t, &clip);
    let p = appsrc_pipeline(
        &info.to_caps().unwrap(),
        frames,
        "x264enc speed-preset=ultrafast bitrate=600 key-int-max=50 bframes=3 b-pyramid=true \
         threads=1 option-string=scenecut=0 ! avdec_h264 name=dec ! blackdetect",
    );
    let dec = p
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("dec")
        .unwrap();
    gstavmonitor::keyframes_only(&dec);
    // in running time, which starts at 0 (the encoder's 1000 hours are in
    // its segment), in frames
    let found: Vec<(u64, u64)> = stretches(&run_named(&p))
        .into_iter()
        .map(|(_, a, b)| (a / F, b / F))
        .collect();
    println!("{}: black {found:?}", clip.name);
    assert_eq!(found, [(200, 300), (350, 550)]);
}
