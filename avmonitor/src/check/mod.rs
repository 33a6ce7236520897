//! `avmonitor check`: file QC. Runs a profile's detectors over each file as
//! fast as it decodes (files side by side, one per core), and ends with a
//! verdict per file: every rule of the profile with pass or fail and the
//! events that broke it.
//!
//! ```text
//! avmonitor check FILE_OR_URI... [--profile broadcast|streaming|NAME] [--config FILE]
//!                                [--json out.json] [--report out.html]
//! ```
//! Exit status: 0 when every file passes, 1 when any fails, 2 when any
//! could not be checked (missing, undecodable: said on stderr; the others
//! are still checked) or the command line is wrong.
//!
//! A progress bar goes to standard error while it is a terminal.

pub mod profile;
mod progress;
mod report;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;
use gstavmonitor::{AvSyncDetectMessage, EventKind, LoudnessMeterMessage, Message};
use serde::Serialize;
use serde_json::Value;

use crate::service::config::{self, Config};
use crate::service::metrics::Metrics;
use crate::service::{book, stream};
use profile::{Findings, Found, Judged, Profile};

const USAGE: &str = "usage: avmonitor check FILE_OR_URI... [--profile broadcast|streaming|NAME] [--config FILE] [--json out.json] [--report out.html]
  exit status: 0 every file passes, 1 any fails, 2 any could not be checked";

/// One file checked.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Checked {
    pub input: String,
    /// `pass`, `fail` or `error`.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_s: f64,
    /// Frames a second of the video, when there is video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    pub rules: Vec<Judged>,
    pub events: Vec<Event>,
    pub loudness: Loudness,
    /// Measurements over time, one point per measurement.
    pub series: BTreeMap<String, Vec<[f64; 2]>>,
}

/// A defect in a file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Event {
    pub detector: &'static str,
    pub start_s: f64,
    pub end_s: f64,
    pub duration_s: f64,
    /// `HH:MM:SS:FF` of the start, at the video's frame rate (25 without
    /// video).
    pub timecode: String,
    /// Whether it was still open at the end of the file.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open_at_end: bool,
    /// The detector's own fields at the start (channel, alarm, confidence...).
    pub details: Value,
    /// The frame at the start, as a `data:` JPEG URI (report only).
    #[serde(skip)]
    pub thumbnail: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Loudness {
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
}

/// `HH:MM:SS:FF` of `s` seconds at `fps` frames a second.
pub(crate) fn timecode(s: f64, fps: f64) -> String {
    let fps = if fps > 0.0 { fps } else { 25.0 };
    let whole = s.max(0.0).floor() as u64;
    let frames = ((s.max(0.0) - whole as f64) * fps).floor() as u64;
    format!(
        "{:02}:{:02}:{:02}:{:02}",
        whole / 3600,
        whole / 60 % 60,
        whole % 60,
        frames
    )
}

/// The command line after `check`; the exit status.
pub fn main(args: &[String]) -> i32 {
    match parse(args) {
        Ok(opts) => run(&opts),
        Err(e) => {
            eprintln!("avmonitor check: {e}\n{USAGE}");
            2
        }
    }
}

struct Options {
    inputs: Vec<String>,
    profile_name: String,
    profile: Profile,
    json: Option<std::path::PathBuf>,
    report: Option<std::path::PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut inputs = Vec::new();
    let mut profile_name = "broadcast".to_string();
    let mut config_file = None;
    let mut json = None;
    let mut report = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |what: &str| it.next().cloned().ok_or(format!("{a} needs {what}"));
        match a.as_str() {
            "--profile" => profile_name = value("a name")?,
            "--config" => config_file = Some(value("a file")?),
            "--json" => json = Some(value("a file")?.into()),
            "--report" => report = Some(value("a file")?.into()),
            "-h" | "--help" => return Err("help".into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => inputs.push(a.clone()),
        }
    }
    if inputs.is_empty() {
        return Err("no file to check".into());
    }
    let mut profiles = BTreeMap::new();
    if let Some(f) = &config_file {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
        let c: Config = toml::from_str(&text).map_err(|e| format!("{f}: {e}"))?;
        for (name, p) in &c.profiles {
            config::check_detectors(&format!("profile.{name}.detectors"), &p.detectors)
                .map_err(|e| format!("{f}: {e}"))?;
        }
        profiles = c.profiles;
        for p in profiles.values_mut() {
            p.detectors = config::expand_presets(&p.detectors);
        }
    }
    let profile = match profiles.remove(&profile_name) {
        Some(p) => p,
        None => Profile::builtin(&profile_name).ok_or_else(|| {
            format!(
                "no profile \"{profile_name}\" (built in: broadcast, streaming; or a [profile.{profile_name}] in --config)"
            )
        })?,
    };
    Ok(Options {
        inputs,
        profile_name,
        profile,
        json,
        report,
    })
}

fn run(opts: &Options) -> i32 {
    let progress = progress::Progress::new(opts.inputs.len());
    let results: Vec<Mutex<Option<Checked>>> =
        opts.inputs.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(opts.inputs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(input) = opts.inputs.get(i) else {
                    break;
                };
                let checked = check(input, i, &opts.profile, &progress);
                if let Ok(mut r) = results[i].lock() {
                    *r = Some(checked);
                }
            });
        }
    });
    progress.finish();
    let results: Vec<Checked> = results
        .into_iter()
        .filter_map(|r| r.into_inner().ok().flatten())
        .collect();
    let mut out = std::io::stdout().lock();
    for c in &results {
        let _ = write!(out, "{}", summary(c));
    }
    if let Some(path) = &opts.json {
        let doc = serde_json::json!({
            "profile": opts.profile_name,
            "rules-of-profile": opts.profile,
            "files": results,
        });
        let written = serde_json::to_string_pretty(&doc)
            .map_err(|e| e.to_string())
            .and_then(|t| std::fs::write(path, t).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("avmonitor check: {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(path) = &opts.report {
        let written = report::html(&opts.profile_name, &opts.profile, &results)
            .and_then(|t| std::fs::write(path, t).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("avmonitor check: {}: {e}", path.display());
            return 2;
        }
    }
    if results.iter().any(|c| c.verdict == "error") {
        2
    } else if results.iter().any(|c| c.verdict == "fail") {
        1
    } else {
        0
    }
}

/// The verdict of one file as a person reads it.
fn summary(c: &Checked) -> String {
    let mut s = format!(
        "{}  {}  ({:.1} s)\n",
        c.verdict.to_uppercase(),
        c.input,
        c.duration_s
    );
    if let Some(e) = &c.error {
        s.push_str(&format!("  error: {e}\n"));
        return s;
    }
    for r in &c.rules {
        s.push_str(&format!(
            "  {}  {}",
            if r.pass { "pass" } else { "FAIL" },
            r.rule
        ));
        if let Some(v) = r.value {
            s.push_str(&format!(" (measured {v:.1})"));
        }
        s.push('\n');
        for &i in &r.events {
            if let Some(e) = c.events.get(i) {
                s.push_str(&format!(
                    "        {} {:.3}-{:.3} s ({:.1} s)\n",
                    e.timecode, e.start_s, e.end_s, e.duration_s
                ));
            }
        }
    }
    s
}

/// Why `input` cannot be checked before trying, if it cannot.
fn missing(input: &str) -> Option<String> {
    let is_path = !input.contains("://") && crate::demo::which(input).is_none();
    (is_path && !std::path::Path::new(input).exists()).then(|| format!("{input}: no such file"))
}

/// Checks one file.
fn check(input: &str, index: usize, profile: &Profile, progress: &progress::Progress) -> Checked {
    let mut checked = Checked {
        input: input.to_string(),
        verdict: "error",
        error: None,
        duration_s: 0.0,
        frame_rate: None,
        rules: Vec::new(),
        events: Vec::new(),
        loudness: Loudness::default(),
        series: BTreeMap::new(),
    };
    if let Some(e) = missing(input) {
        checked.error = Some(e);
        progress.done(index, 0.0);
        return checked;
    }
    let conf = config::Stream {
        id: format!("check-{index}"),
        uri: input.to_string(),
        detectors: Some(profile.detectors.clone()),
        properties: measured_per_frame(),
        realtime: Some(false),
        // a QC report gives each defect's first frame: decode them all
        skip_frames: Some(false),
        keyframes_only: false,
        keyframes_until_still: false,
        looped: false,
    };
    let mut run = Run::default();
    let result = run.play(&conf, index, progress);
    progress.done(index, run.duration_s);
    match result {
        Err(e) => {
            checked.error = Some(e);
            checked
        }
        Ok(()) => run.verdict(checked, profile),
    }
}

/// The charts' per-frame measurements, off by default in the elements:
/// blackdetect's luma and freezedetect's difference.
fn measured_per_frame() -> BTreeMap<String, BTreeMap<String, toml::Value>> {
    ["blackdetect", "freezedetect"]
        .into_iter()
        .map(|d| {
            let props = BTreeMap::from([
                ("post-messages".to_string(), toml::Value::Boolean(true)),
                ("interval".to_string(), toml::Value::Integer(0)),
            ]);
            (d.to_string(), props)
        })
        .collect()
}

/// What one file's pipeline gave.
#[derive(Default)]
struct Run {
    duration_s: f64,
    /// The furthest position seen, s (the length when the source has none).
    position_s: f64,
    frame_rate: Option<f64>,
    /// Defects as found, with the detector's fields at the start, whether
    /// open at the end, and the frame at the start.
    found: Vec<(Found, Value, bool, Option<String>)>,
    integrated: Option<f64>,
    range: Option<f64>,
    true_peak: Option<f64>,
    offsets: Vec<f64>,
    series: BTreeMap<String, Vec<[f64; 2]>>,
}

impl Run {
    /// Plays `conf` to its end, reading the detectors' messages.
    fn play(
        &mut self,
        conf: &config::Stream,
        index: usize,
        progress: &progress::Progress,
    ) -> Result<(), String> {
        let metrics = Arc::new(Metrics::new());
        let video = conf
            .detectors()
            .iter()
            .any(|d| config::VIDEO_DETECTORS.contains(&d.as_str()));
        let built = stream::build(conf, &metrics, video)?;
        let snapshots = built.snapshots;
        let pipeline = built.pipeline;
        let bus = pipeline.bus().ok_or("no bus")?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| format!("{}: cannot be played", conf.uri))?;
        let mut book = book::Book::default();
        let mut open: BTreeMap<book::Key, usize> = BTreeMap::new();
        let mut last_progress = Instant::now();
        let outcome = loop {
            let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
                if last_progress.elapsed() > Duration::from_millis(200) {
                    last_progress = Instant::now();
                    let pos = pipeline.query_position::<gst::ClockTime>();
                    let dur = pipeline.query_duration::<gst::ClockTime>();
                    if let Some(d) = dur {
                        self.duration_s = d.seconds_f64();
                    }
                    let pos = pos.map_or(0.0, |p| p.seconds_f64());
                    self.position_s = self.position_s.max(pos);
                    progress.at(index, pos, self.duration_s);
                }
                continue;
            };
            match msg.view() {
                gst::MessageView::Eos(_) => break Ok(()),
                gst::MessageView::Error(e) => {
                    break Err(format!("{}: {}", conf.uri, e.error()));
                }
                gst::MessageView::Element(e) => {
                    if let Some(Ok(m)) = e.structure().and_then(Message::from_structure) {
                        let frame = snapshots
                            .lock()
                            .ok()
                            .and_then(|mut s| s.remove(&msg.seqnum()));
                        let before = self.found.len();
                        self.message(&m, e.structure(), &mut book, &mut open);
                        // (a start that opened a defect: the frame is its)
                        // (and the report keeps to MAX_THUMBNAILS frames)
                        let started =
                            self.found.len() > before && self.found.len() <= report::MAX_THUMBNAILS;
                        if let (Some((buffer, caps)), Some(last), true) =
                            (frame, self.found.last_mut(), started)
                        {
                            last.3 = super::service::thumbnails::jpeg(&buffer, &caps, 240)
                                .ok()
                                .map(|j| {
                                    format!(
                                        "data:image/jpeg;base64,{}",
                                        base64::Engine::encode(
                                            &base64::engine::general_purpose::STANDARD,
                                            j
                                        )
                                    )
                                });
                        }
                    }
                }
                _ => (),
            }
        };
        if let Some(d) = pipeline.query_duration::<gst::ClockTime>() {
            self.duration_s = d.seconds_f64();
        }
        self.frame_rate = frame_rate(&pipeline);
        let _ = pipeline.set_state(gst::State::Null);
        outcome?;
        // a defect still open at the end lasts to the end
        for (_, i) in open {
            if let Some((f, _, at_end, _)) = self.found.get_mut(i) {
                f.end_s = f.end_s.max(self.duration_s);
                *at_end = true;
            }
        }
        if self.duration_s == 0.0 {
            self.duration_s = self
                .found
                .iter()
                .map(|(f, ..)| f.end_s)
                .fold(self.position_s, f64::max);
        }
        Ok(())
    }

    fn message(
        &mut self,
        m: &Message,
        posted: Option<&gst::StructureRef>,
        book: &mut book::Book,
        open: &mut BTreeMap<book::Key, usize>,
    ) {
        let secs = |t: &gstavmonitor::Times| t.stream_time.unwrap_or(t.timestamp) as f64 / 1e9;
        if let Some(t) = measured_at(m) {
            self.position_s = self.position_s.max(secs(t));
        }
        if let Some(d) = m.defect() {
            let key: book::Key = (m.element(), crate::service::record::Which::of(m));
            let book::Decision::Write { started, ended } = book.defect(m, d.kind, "") else {
                return;
            };
            let at = secs(&d.at);
            if started.is_some() {
                let mut details = posted.map_or(Value::Null, structure_fields);
                if let Value::Object(o) = &mut details {
                    for k in ["event", "timestamp", "stream-time", "running-time"] {
                        o.remove(k);
                    }
                }
                self.found.push((
                    Found {
                        detector: m.element(),
                        start_s: at,
                        end_s: at,
                    },
                    details,
                    false,
                    None,
                ));
                open.insert(key, self.found.len() - 1);
            } else if ended && d.kind == EventKind::End {
                if let Some(i) = open.remove(&key) {
                    self.found[i].0.end_s = at.max(self.found[i].0.start_s);
                }
            }
            return;
        }
        match m {
            Message::Loudness(LoudnessMeterMessage::Measurement {
                at,
                momentary,
                short_term,
                integrated,
                loudness_range,
                sample_peak_db,
                true_peak_db,
            }) => {
                let t = secs(at);
                for (name, v) in [
                    ("momentary-lufs", momentary),
                    ("short-term-lufs", short_term),
                ] {
                    // (silence reads hundreds of LUFS down: kept from -70)
                    if v.is_finite() {
                        self.series
                            .entry(name.to_string())
                            .or_default()
                            .push([t, v.max(-70.0)]);
                    }
                }
                if integrated.is_finite() {
                    self.integrated = Some(*integrated);
                    self.range = Some(*loudness_range);
                }
                for (ch, v) in sample_peak_db.iter().enumerate() {
                    let name = format!("peak-db-ch{}", ch + 1);
                    self.series
                        .entry(name)
                        .or_default()
                        .push([t, v.max(-120.0)]);
                }
                if let Some(tp) = true_peak_db
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .reduce(f64::max)
                {
                    self.series
                        .entry("true-peak-dbtp".into())
                        .or_default()
                        .push([t, tp]);
                    self.true_peak = Some(self.true_peak.map_or(tp, |p: f64| p.max(tp)));
                }
            }
            Message::AvSync(AvSyncDetectMessage::Measurement {
                at,
                offset_ms,
                confidence,
                ..
            }) => {
                let t = secs(at);
                self.series
                    .entry("av-confidence".into())
                    .or_default()
                    .push([t, *confidence]);
                if *confidence > 0.0 {
                    self.series
                        .entry("av-offset-ms".into())
                        .or_default()
                        .push([t, *offset_ms]);
                }
                if *confidence >= 0.5 {
                    self.offsets.push(*offset_ms);
                }
            }
            Message::Black(gstavmonitor::BlackDetectMessage::Measurement {
                at,
                luma_min,
                luma_mean,
                luma_max,
                ..
            }) => {
                let t = secs(at);
                for (name, v) in [
                    ("luma-min", luma_min),
                    ("luma-mean", luma_mean),
                    ("luma-max", luma_max),
                ] {
                    // as a percentage of the nominal range, as EBU R103 gives limits
                    self.series
                        .entry(name.into())
                        .or_default()
                        .push([t, 100.0 * v]);
                }
            }
            Message::Freeze(gstavmonitor::FreezeDetectMessage::Measurement {
                at,
                difference,
                ..
            }) => {
                self.series
                    .entry("freeze-difference".into())
                    .or_default()
                    .push([secs(at), 100.0 * difference]);
            }
            Message::Block(gstavmonitor::BlockDetectMessage::Measurement {
                at,
                blockiness,
                corrupted_frames,
                ..
            }) => {
                self.series
                    .entry("blockiness".into())
                    .or_default()
                    .push([secs(at), *blockiness]);
                self.series
                    .entry("corrupted-frames".into())
                    .or_default()
                    .push([secs(at), *corrupted_frames as f64]);
            }
            _ => (),
        }
    }

    fn verdict(self, mut checked: Checked, profile: &Profile) -> Checked {
        let fps = self.frame_rate.unwrap_or(25.0);
        let mut findings = Findings {
            duration_s: self.duration_s,
            events: Vec::new(),
            integrated: self.integrated,
            true_peak: self.true_peak,
            av_offsets: self.offsets,
        };
        let mut found = self.found;
        found.sort_by(|a, b| a.0.start_s.total_cmp(&b.0.start_s));
        findings.events = found.iter().map(|(f, ..)| f.clone()).collect();
        checked.rules = profile::judge(profile, &findings);
        checked.verdict = if checked.rules.iter().all(|r| r.pass) {
            "pass"
        } else {
            "fail"
        };
        checked.duration_s = self.duration_s;
        checked.frame_rate = self.frame_rate;
        checked.events = found
            .into_iter()
            .map(|(f, details, open_at_end, thumbnail)| Event {
                detector: f.detector,
                start_s: f.start_s,
                end_s: f.end_s,
                duration_s: f.duration_s(),
                timecode: timecode(f.start_s, fps),
                open_at_end,
                details,
                thumbnail,
            })
            .collect();
        checked.loudness = Loudness {
            integrated_lufs: self.integrated,
            loudness_range_lu: self.range,
            true_peak_dbtp: self.true_peak,
        };
        checked.series = self.series;
        checked
    }
}

/// The instant a measurement or defect message is about.
fn measured_at(m: &Message) -> Option<&gstavmonitor::Times> {
    if let Some(d) = m.defect() {
        return Some(&d.at);
    }
    match m {
        Message::Loudness(LoudnessMeterMessage::Measurement { at, .. })
        | Message::Black(gstavmonitor::BlackDetectMessage::Measurement { at, .. })
        | Message::Freeze(gstavmonitor::FreezeDetectMessage::Measurement { at, .. })
        | Message::AvSync(AvSyncDetectMessage::Measurement { at, .. })
        | Message::Block(gstavmonitor::BlockDetectMessage::Measurement { at, .. }) => Some(at),
        _ => None,
    }
}

/// A structure's fields as JSON (as the service's event lines write them).
fn structure_fields(s: &gst::StructureRef) -> Value {
    serde_json::to_value(crate::json::Fields {
        structure: s,
        rename: crate::json::same,
    })
    .unwrap_or(Value::Null)
}

/// The frame rate of the first video caps in `pipeline`, if any.
fn frame_rate(pipeline: &gst::Pipeline) -> Option<f64> {
    pipeline
        .iterate_recurse()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let caps = e.static_pad("src")?.current_caps()?;
            let s = caps.structure(0)?;
            if !s.name().starts_with("video/x-raw") {
                return None;
            }
            let f = s.get::<gst::Fraction>("framerate").ok()?;
            (f.numer() > 0 && f.denom() > 0).then(|| f.numer() as f64 / f.denom() as f64)
        })
}
