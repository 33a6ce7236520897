//! The service's configuration: a TOML file, or the quick form of URIs on
//! the command line. Everything is checked before anything starts, and a
//! problem is named by its key.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gst::prelude::*;
use serde::{Deserialize, Serialize};

/// Picture detectors, in the order they are chained.
pub const VIDEO_DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "areadetect",
    "cadencedetect",
    "levelsdetect",
    "patterndetect",
    "blockdetect",
    "captiondetect",
];
/// Audio detectors, in the order they are chained.
pub const AUDIO_DETECTORS: &[&str] = &[
    "silencedetect",
    "clipdetect",
    "phasedetect",
    "loudnessmeter",
];
/// The element that takes both streams.
pub const SYNC_DETECTOR: &str = "avsyncdetect";
/// Transport stream health: not a detector a stream lists, but run on every
/// transport stream it demuxes; `[stream.properties.tsmonitor]` sets its
/// limits.
pub const TRANSPORT_MONITOR: &str = "tsmonitor";
/// What a stream gets when its configuration does not say.
pub const DEFAULT_DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "silencedetect",
    "clipdetect",
    "loudnessmeter",
    "avsyncdetect",
];

/// What a broadcast probe watches for: the defaults, and the quiet failures
/// that cost little to find (the active area, the frame cadence, illegal
/// levels, a test pattern on air).
pub const BROADCAST_DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "areadetect",
    "cadencedetect",
    "levelsdetect",
    "patterndetect",
    "silencedetect",
    "clipdetect",
    "loudnessmeter",
    "avsyncdetect",
];

/// Names that stand for a set of detectors in a `detectors` list.
pub const PRESETS: &[(&str, &[&str])] = &[
    ("default", DEFAULT_DETECTORS),
    ("broadcast", BROADCAST_DETECTORS),
];

fn known(d: &str) -> bool {
    VIDEO_DETECTORS.contains(&d)
        || AUDIO_DETECTORS.contains(&d)
        || d == SYNC_DETECTOR
        || PRESETS.iter().any(|(name, _)| *name == d)
}

/// `detectors` with each preset name replaced by its detectors, each
/// detector once, in the order first named.
pub fn expand_presets(detectors: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in detectors {
        let set = PRESETS.iter().find(|(name, _)| name == d).map_or_else(
            || vec![d.clone()],
            |(_, set)| set.iter().map(|s| s.to_string()).collect(),
        );
        for d in set {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// A configuration that cannot be used: the key and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub http: Http,
    #[serde(default)]
    pub restart: Restart,
    #[serde(default, rename = "stream")]
    pub streams: Vec<Stream>,
    #[serde(default, rename = "alarm")]
    pub alarms: Vec<Alarm>,
    pub webhook: Option<Webhook>,
    /// Many instances sharing the streams over NATS.
    pub cluster: Option<Cluster>,
    /// File QC profiles of one's own (`avmonitor check --profile NAME`).
    #[serde(default, rename = "profile")]
    pub profiles: BTreeMap<String, crate::check::profile::Profile>,
    #[serde(default)]
    pub decode: Decode,
    #[serde(default)]
    pub sources: Sources,
}

/// Where streams may read from.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Sources {
    /// Folders local files may be read from (`file://` URIs and paths,
    /// from the configuration or the control API); empty: any.
    #[serde(default)]
    pub files: Vec<std::path::PathBuf>,
}

impl Sources {
    /// Whether `uri` (of stream `at`) may be read: network and generated
    /// sources always; a local file only inside one of `files`, once links
    /// and `..` are resolved.
    pub(crate) fn check_uri(&self, at: &str, uri: &str) -> Result<(), ConfigError> {
        if self.files.is_empty() {
            return Ok(());
        }
        let path = if uri.starts_with("file:") {
            match gst::glib::filename_from_uri(uri) {
                Ok((p, _)) => p,
                Err(e) => return err(format!("{at}: uri \"{uri}\": {e}")),
            }
        } else if uri.contains("://")
            || crate::demo::which(uri).is_some()
            || crate::loadgen::which(uri).is_some()
        {
            return Ok(());
        } else {
            std::path::PathBuf::from(uri)
        };
        let real = std::fs::canonicalize(&path).map_err(|e| {
            ConfigError(format!(
                "{at}: uri \"{uri}\": {e} (sources.files allows only files that exist in its folders)"
            ))
        })?;
        let inside = self
            .files
            .iter()
            .filter_map(|f| std::fs::canonicalize(f).ok())
            .any(|f| real.starts_with(f));
        if !inside {
            return err(format!(
                "{at}: uri \"{uri}\" is outside sources.files ({})",
                self.files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }
}

/// How streams are decoded.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Decode {
    /// Threads per software video decoder (`avdec_*`'s `max-threads`).
    /// When not given: one once the process has at least as many streams
    /// as it may use cores (threads within a stream then add memory and
    /// latency and buy nothing), else the decoder's own choice.
    pub threads: Option<u32>,
}

/// Detectors whose results need every decoded frame: the others are as
/// good on the reference frames alone (see [`Stream::skips_frames`]).
/// cadencedetect would take the skipped frames for dropped ones.
/// avsyncdetect needs them only to measure offsets (see
/// [`Stream::sync_mode_when_skipping`]).
pub const EVERY_FRAME_DETECTORS: &[&str] = &["blockdetect", "cadencedetect"];

/// avsyncdetect's `stall-timeout` in a stream that decodes keyframes only,
/// unless the stream sets one: 10 s, beyond the GOPs of broadcast and
/// streaming encoders (0.5 to 6 s), so a picture a GOP is not a stall.
pub const KEYFRAMES_STALL_TIMEOUT: u64 = 10_000_000_000;

/// avsyncdetect's mode that measures no offset, watching stalls only.
pub const SYNC_STALL_MODE: &str = "stall";

/// Cluster mode: the streams live in NATS's key-value store, shared by
/// every instance of a group; each runs its share (see `service::cluster`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cluster {
    /// The NATS server, `nats://HOST:PORT` (with JetStream).
    pub nats: String,
    /// This instance's name among the members; unique per process when not
    /// given (host name and process id).
    pub instance: Option<String>,
    /// Instances of one group share the streams; each group runs its own
    /// `detectors` on every stream.
    #[serde(default = "default_group")]
    pub group: String,
    /// The detectors this group runs (of each stream's own); all when not
    /// given.
    pub detectors: Option<Vec<String>>,
    /// How often an instance says it is alive and renews its claims, ms.
    #[serde(default = "heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// An instance not heard from for this long is gone (its streams move);
    /// one that cannot renew its claims for this long stops its streams, ms.
    #[serde(default = "ttl_ms")]
    pub ttl_ms: u64,
    /// Keep running streams while NATS cannot be reached, however long
    /// (never stopped for a lost lease: a partitioned instance and the one
    /// that took its streams over then both run them).
    #[serde(default)]
    pub keep_streams_without_nats: bool,
    /// Events held while NATS is away; beyond, dropped (counted).
    #[serde(default = "cluster_queue")]
    pub queue: usize,
}

fn default_group() -> String {
    "all".into()
}
fn cluster_queue() -> usize {
    10_000
}
fn heartbeat_ms() -> u64 {
    1000
}
fn ttl_ms() -> u64 {
    10_000
}

impl Cluster {
    /// This instance's name: the configuration's, or host name and
    /// process id.
    pub fn instance(&self) -> String {
        self.instance.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default();
            let host: String = host
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!(
                "{}-{}",
                if host.is_empty() { "avmonitor" } else { &host },
                std::process::id()
            )
        })
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !self.nats.starts_with("nats://") && !self.nats.starts_with("tls://") {
            return err(format!(
                "cluster.nats: \"{}\" is not a nats://HOST:PORT address",
                self.nats
            ));
        }
        for (key, name) in [
            ("instance", self.instance.as_deref()),
            ("group", Some(&self.group)),
        ] {
            if let Some(n) = name.filter(|n| !is_name(n)) {
                return err(format!(
                    "cluster.{key}: \"{n}\" must be letters, digits, '-' or '_'"
                ));
            }
        }
        for d in self.detectors.iter().flatten() {
            if !known(d) {
                return err(format!("cluster.detectors: unknown detector \"{d}\""));
            }
        }
        if self.heartbeat_ms == 0 || self.ttl_ms < 3 * self.heartbeat_ms {
            return err(format!(
                "cluster.ttl-ms: {} must be at least three heartbeats (cluster.heartbeat-ms = {})",
                self.ttl_ms, self.heartbeat_ms
            ));
        }
        if self.queue == 0 {
            return err("cluster.queue: must be above 0");
        }
        Ok(())
    }
}

fn is_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

/// Events POSTed to a URL (http or https).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Webhook {
    pub url: String,
    /// Events held while the receiver is slow; beyond, dropped (counted).
    #[serde(default = "queue")]
    pub queue: usize,
    /// Attempts after the first, 0.5 s, 1 s, 2 s, ... apart.
    #[serde(default = "retries")]
    pub retries: u32,
    #[serde(default = "timeout_ms")]
    pub timeout_ms: u64,
    /// Which events (the `event` field) to send.
    #[serde(default = "webhook_events")]
    pub events: Vec<String>,
    /// Detector events carrying a `confidence` (blockdetect's corruptions)
    /// below this are not sent (they are still written to the event lines).
    #[serde(default = "min_confidence")]
    pub min_confidence: f64,
}

fn min_confidence() -> f64 {
    0.5
}

fn queue() -> usize {
    1000
}
fn retries() -> u32 {
    5
}
fn timeout_ms() -> u64 {
    5000
}
fn webhook_events() -> Vec<String> {
    [
        "start",
        "end",
        "alarm",
        "stream-down",
        "stream-up",
        "stream-ended",
    ]
    .map(String::from)
    .to_vec()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Output {
    /// Events as JSON Lines on standard output.
    #[serde(default = "yes")]
    pub stdout: bool,
    /// And/or appended to this file.
    pub file: Option<PathBuf>,
    /// Also log measurements (loudness, sync offset, blockiness), not only
    /// events.
    #[serde(default)]
    pub measurements: bool,
    /// Save a JPEG of the frame where each video defect is detected, beside
    /// the event file, and name it in the event.
    #[serde(default)]
    pub thumbnails: bool,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            stdout: true,
            file: None,
            measurements: false,
            thumbnails: false,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Http {
    /// Serve /metrics and /health.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Where: loopback unless said otherwise.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The bearer token the control API (`/streams`) asks for; the
    /// environment's `AVMONITOR_TOKEN` when not set here. Without one, the
    /// control API answers only on a loopback listener.
    pub token: Option<String>,
}

impl Http {
    /// The control API's token: this configuration's, or the environment's.
    pub fn token(&self) -> Option<String> {
        self.token
            .clone()
            .or_else(|| std::env::var("AVMONITOR_TOKEN").ok())
            .filter(|t| !t.is_empty())
    }
}

fn default_listen() -> String {
    "127.0.0.1:9800".into()
}

impl Default for Http {
    fn default() -> Self {
        Http {
            enabled: true,
            listen: default_listen(),
            token: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Restart {
    /// First wait before restarting a failed stream, ms (doubled each time).
    #[serde(default = "initial_ms")]
    pub initial_ms: u64,
    /// Longest wait, ms.
    #[serde(default = "max_ms")]
    pub max_ms: u64,
    /// A live stream with no media for this long is down, ms.
    #[serde(default = "no_media_ms")]
    pub no_media_ms: u64,
}

fn no_media_ms() -> u64 {
    5000
}

fn initial_ms() -> u64 {
    1000
}
fn max_ms() -> u64 {
    30_000
}

impl Default for Restart {
    fn default() -> Self {
        Restart {
            initial_ms: initial_ms(),
            max_ms: max_ms(),
            no_media_ms: no_media_ms(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Stream {
    pub id: String,
    /// A URI GStreamer can play, a file path, or `demo:N` for a built-in
    /// generated stream.
    pub uri: String,
    /// Detectors to run; [`DEFAULT_DETECTORS`] when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detectors: Option<Vec<String>>,
    /// Detector properties: `[stream.properties.blackdetect]` `min-duration = 2000000000`.
    #[serde(default)]
    pub properties: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// Play at the media's own pace (as a live feed comes) rather than as
    /// fast as it decodes; the default for demo streams, not for files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realtime: Option<bool>,
    /// Skip B-frames in software decoders (H.264: every B-frame where the
    /// P frames do not need them; other codecs: the frames nothing refers
    /// to; see `gstavmonitor::skip_frames`); by default, when none of the
    /// stream's detectors needs every frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_frames: Option<bool>,
    /// Decode keyframes only (`gstavmonitor::keyframes_only`): one picture a
    /// GOP for black and freeze, the sound untouched; for the largest fleets
    /// (docs/cost.md). Not with a detector that needs every frame, nor with
    /// avsyncdetect measuring offsets or `skip-frames = false`; avsyncdetect
    /// watches stalls, with a `stall-timeout` of [`KEYFRAMES_STALL_TIMEOUT`]
    /// unless the stream sets one (the pictures come a GOP apart).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keyframes_only: bool,
    /// Decode keyframes only while pictures move, and whole GOPs (their I
    /// and P frames) where a picture stands still
    /// (`gstavmonitor::keyframes_until_still`): black timed to the frame,
    /// freezes where the encoder codes them still, at about the cost of
    /// keyframes only (docs/cost.md). Refused and watched as
    /// `keyframes-only` is; not with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keyframes_until_still: bool,
    /// Play a file again from its start at its end, for ever (a test loop,
    /// or an accelerated soak): each end is a `stream-looped` event, and
    /// the defects open at the end are ended with reason `eos`.
    #[serde(default, rename = "loop", skip_serializing_if = "std::ops::Not::not")]
    pub looped: bool,
}

impl Stream {
    /// Whether its video decoder skips B-frames: as `skip-frames` says,
    /// else when none of its detectors is one of [`EVERY_FRAME_DETECTORS`]
    /// and it does not ask avsyncdetect to measure offsets.
    pub fn skips_frames(&self) -> bool {
        self.keyframes().is_some()
            || self.skip_frames.unwrap_or_else(|| {
                !self
                    .detectors()
                    .iter()
                    .any(|d| EVERY_FRAME_DETECTORS.contains(&d.as_str()))
                    && !self.asks_sync_offsets()
            })
    }

    /// The mode the service gives its avsyncdetect when its software
    /// decoder skips B-frames: `stall` (no offset measured, stalls still
    /// watched), unless the stream sets avsyncdetect's `mode` itself.
    /// Offsets (lip-sync) time picture changes to the frame, so they are
    /// measured when the stream decodes every frame: when a detector needs
    /// every frame anyway, `skip-frames = false`, a `mode` other than
    /// `stall` set for avsyncdetect, or a decoder that is not `avdec_*`.
    pub fn sync_mode_when_skipping(&self) -> Option<&'static str> {
        (self.runs_sync() && self.sync_mode_said().is_none() && self.skips_frames())
            .then_some(SYNC_STALL_MODE)
    }

    /// The `stall-timeout` the service gives its avsyncdetect when it decodes
    /// keyframes only: [`KEYFRAMES_STALL_TIMEOUT`], unless the stream sets
    /// avsyncdetect's `stall-timeout` itself.
    pub fn stall_timeout_for_keyframes(&self) -> Option<u64> {
        (self.keyframes().is_some()
            && self.runs_sync()
            && !self
                .properties
                .get(SYNC_DETECTOR)
                .is_some_and(|p| p.contains_key("stall-timeout")))
        .then_some(KEYFRAMES_STALL_TIMEOUT)
    }

    /// The setting that has its decoder decode keyframes (while pictures
    /// move, or always), if one does.
    pub fn keyframes(&self) -> Option<&'static str> {
        if self.keyframes_only {
            Some("keyframes-only")
        } else if self.keyframes_until_still {
            Some("keyframes-until-still")
        } else {
            None
        }
    }

    /// Its avsyncdetect properties set a `mode` that measures offsets.
    fn asks_sync_offsets(&self) -> bool {
        self.runs_sync() && self.sync_mode_said().is_some_and(|m| m != SYNC_STALL_MODE)
    }

    /// The `mode` its avsyncdetect properties set.
    fn sync_mode_said(&self) -> Option<String> {
        self.properties
            .get(SYNC_DETECTOR)?
            .get("mode")
            .map(value_string)
    }

    fn runs_sync(&self) -> bool {
        self.detectors().iter().any(|d| d == SYNC_DETECTOR)
    }

    /// Its detectors, presets expanded.
    pub fn detectors(&self) -> Vec<String> {
        self.detectors.as_deref().map_or_else(
            || DEFAULT_DETECTORS.iter().map(|s| s.to_string()).collect(),
            expand_presets,
        )
    }

    /// This stream with only the detectors of `only` (all when `None`),
    /// and their properties; `None` when none of its detectors is there.
    pub fn narrowed(&self, only: Option<&[String]>) -> Option<Stream> {
        let Some(only) = only else {
            return Some(self.clone());
        };
        let only = expand_presets(only);
        let detectors: Vec<String> = self
            .detectors()
            .into_iter()
            .filter(|d| only.contains(d))
            .collect();
        if detectors.is_empty() {
            return None;
        }
        let mut s = self.clone();
        s.properties
            .retain(|d, _| detectors.contains(d) || d == TRANSPORT_MONITOR);
        s.detectors = Some(detectors);
        Some(s)
    }

    /// The properties of `detector` as (name, value as a string).
    pub fn properties_of(&self, detector: &str) -> Vec<(String, String)> {
        self.properties
            .get(detector)
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), value_string(v)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub(crate) fn value_string(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An alarm rule: a defect of `detector` (on `streams`, or all) still open
/// after `after-ms` becomes an `alarm` event with `name` and `severity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Alarm {
    pub name: String,
    pub detector: String,
    #[serde(default)]
    pub streams: Vec<String>,
    #[serde(default)]
    pub after_ms: u64,
    #[serde(default = "warning")]
    pub severity: String,
}

fn warning() -> String {
    "warning".into()
}

impl Config {
    /// Parses and checks a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// The quick form: each argument a stream with the default detectors.
    pub fn from_uris(uris: &[String]) -> Result<Config, ConfigError> {
        let config = Config {
            output: Output::default(),
            http: Http::default(),
            restart: Restart::default(),
            streams: uris
                .iter()
                .enumerate()
                .map(|(i, u)| Stream {
                    id: match crate::demo::which(u) {
                        Some(n) => format!("demo-{n}"),
                        None => format!("stream-{}", i + 1),
                    },
                    uri: u.clone(),
                    detectors: None,
                    properties: BTreeMap::new(),
                    realtime: None,
                    skip_frames: None,
                    keyframes_only: false,
                    keyframes_until_still: false,
                    looped: false,
                })
                .collect(),
            alarms: Vec::new(),
            webhook: None,
            cluster: None,
            profiles: BTreeMap::new(),
            decode: Decode::default(),
            sources: Sources::default(),
        };
        config.check()?;
        Ok(config)
    }

    /// Checks what parsing cannot: names, references, property names and
    /// values (against the elements themselves, so the plugin must be
    /// registered).
    pub fn check(&self) -> Result<(), ConfigError> {
        // (in a cluster, the streams may all come from NATS)
        if self.streams.is_empty() && self.cluster.is_none() {
            return err("stream: no stream configured (add a [[stream]] with id and uri)");
        }
        if let Some(c) = &self.cluster {
            c.check()?;
        }
        for (name, p) in &self.profiles {
            check_detectors(&format!("profile.{name}.detectors"), &p.detectors)?;
        }
        self.restart.check()?;
        self.http.check()?;
        let mut ids = std::collections::HashSet::new();
        for (i, s) in self.streams.iter().enumerate() {
            s.check(&format!("stream[{i}]"), &mut ids)?;
            self.sources
                .check_uri(&format!("stream \"{}\"", s.id), &s.uri)?;
        }
        if self.output.thumbnails && self.output.file.is_none() {
            return err("output.thumbnails: thumbnails are saved beside the event file: set output.file too");
        }
        if let Some(w) = &self.webhook {
            w.check()?;
        }
        for (i, a) in self.alarms.iter().enumerate() {
            a.check(i, &ids)?;
        }
        Ok(())
    }
}

/// Whether `v` is within a numeric property's range (other types: true).
fn in_range(pspec: &gst::glib::ParamSpec, v: &gst::glib::Value) -> bool {
    use gst::glib::{
        ParamSpecDouble, ParamSpecFloat, ParamSpecInt, ParamSpecInt64, ParamSpecUInt,
        ParamSpecUInt64,
    };
    macro_rules! check {
        ($($spec:ty => $t:ty),*) => {
            $(if let Some(p) = pspec.downcast_ref::<$spec>() {
                return v.get::<$t>().is_ok_and(|x| x >= p.minimum() && x <= p.maximum());
            })*
        };
    }
    check!(
        ParamSpecDouble => f64,
        ParamSpecFloat => f32,
        ParamSpecInt => i32,
        ParamSpecUInt => u32,
        ParamSpecInt64 => i64,
        ParamSpecUInt64 => u64
    );
    true
}

impl Restart {
    fn check(&self) -> Result<(), ConfigError> {
        if self.no_media_ms == 0 {
            return err("restart.no-media-ms: must be above 0");
        }
        if self.initial_ms == 0 || self.initial_ms > self.max_ms {
            return err(format!(
                "restart.initial-ms: {} must be above 0 and at most restart.max-ms ({})",
                self.initial_ms, self.max_ms
            ));
        }
        Ok(())
    }
}

impl Http {
    fn check(&self) -> Result<(), ConfigError> {
        if self.enabled {
            if let Err(e) = self.listen.parse::<std::net::SocketAddr>() {
                return err(format!(
                    "http.listen: \"{}\" is not an address:port ({e})",
                    self.listen
                ));
            }
        }
        Ok(())
    }
}

impl Stream {
    /// The stream, named `at` in errors: its id (not in `ids` yet, and
    /// added), uri, detectors and their properties.
    pub(crate) fn check<'a>(
        &'a self,
        at: &str,
        ids: &mut std::collections::HashSet<&'a str>,
    ) -> Result<(), ConfigError> {
        // (ids name files: thumbnails, the QC report's; a leading '.'
        // would make them hidden, or "." and "..")
        if self.id.is_empty()
            || self.id.len() > 128
            || self.id.starts_with('.')
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return err(format!(
                "{at}.id: \"{}\" must be 1 to 128 letters, digits, '-', '_' or '.' (not first)",
                self.id
            ));
        }
        if !ids.insert(self.id.as_str()) {
            return err(format!("{at}.id: \"{}\" is used twice", self.id));
        }
        let at = format!("stream \"{}\"", self.id);
        if self.uri.trim().is_empty() {
            return err(format!("{at}: uri is empty"));
        }
        if self.uri.chars().any(char::is_control) {
            return err(format!("{at}: uri has a control character"));
        }
        // an empty list only decodes (a baseline to measure against)
        check_detectors(&format!("{at}: detectors"), &self.detectors())?;
        self.check_properties(&at, &self.properties)?;
        if self.keyframes_only && self.keyframes_until_still {
            return err(format!(
                "{at}: keyframes-only and keyframes-until-still are two ways to decode: set one"
            ));
        }
        if let Some(way) = self.keyframes() {
            if self.skip_frames == Some(false) {
                return err(format!(
                    "{at}: {way} leaves pictures out: not with skip-frames = false"
                ));
            }
            if let Some(d) = self
                .detectors()
                .iter()
                .find(|d| EVERY_FRAME_DETECTORS.contains(&d.as_str()))
            {
                return err(format!(
                    "{at}: {d} needs every frame: not with {way} = true"
                ));
            }
        }
        let said = if let Some(way) = self.keyframes() {
            Some((format!("{way} = true"), "mode"))
        } else {
            (self.skip_frames == Some(true)).then(|| ("skip-frames = true".into(), "skip-frames"))
        };
        if let Some((setting, leave)) = said.filter(|_| self.asks_sync_offsets()) {
            return err(format!(
                "{at}: properties.{SYNC_DETECTOR}.mode measures offsets, which needs every frame: not with {setting} (leave {leave} out, or set mode = \"{SYNC_STALL_MODE}\")"
            ));
        }
        Ok(())
    }

    /// Each of `properties` (by detector) is a valid value of a property of
    /// one of the stream's detectors; `at` names the stream in errors.
    pub(crate) fn check_properties(
        &self,
        at: &str,
        properties: &BTreeMap<String, BTreeMap<String, toml::Value>>,
    ) -> Result<(), ConfigError> {
        let detectors = self.detectors();
        for (det, props) in properties {
            if !detectors.contains(det) && det != TRANSPORT_MONITOR {
                return err(format!(
                    "{at}: properties.{det}: \"{det}\" is not among the stream's detectors"
                ));
            }
            check_detector_properties(at, det, props)?;
        }
        Ok(())
    }
}

/// Each of `detectors` (named `at` in errors) is a detector.
pub(crate) fn check_detectors(at: &str, detectors: &[String]) -> Result<(), ConfigError> {
    for d in detectors {
        if !known(d) {
            return err(format!(
                "{at}: unknown detector \"{d}\" (known: {}, {}, {SYNC_DETECTOR}; presets: {})",
                VIDEO_DETECTORS.join(", "),
                AUDIO_DETECTORS.join(", "),
                PRESETS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Each of `props` is a property of `det` and a valid value for it (asked
/// of the element itself).
fn check_detector_properties(
    at: &str,
    det: &str,
    props: &BTreeMap<String, toml::Value>,
) -> Result<(), ConfigError> {
    let element = gst::ElementFactory::make(det).build().map_err(|e| {
        ConfigError(format!(
            "{at}: properties.{det}: cannot make the element: {e}"
        ))
    })?;
    for (name, value) in props {
        let Some(pspec) = element.find_property(name) else {
            return err(format!(
                "{at}: properties.{det}.{name}: {det} has no property \"{name}\" (see gst-inspect-1.0 {det})"
            ));
        };
        let text = value_string(value);
        let ok = gst::glib::Value::deserialize(&text, pspec.value_type())
            .is_ok_and(|v| in_range(&pspec, &v));
        if !ok || matches!(name.as_str(), "name" | "parent") {
            return err(format!(
                "{at}: properties.{det}.{name}: {value} is not a valid {} (see gst-inspect-1.0 {det})",
                pspec.value_type().name()
            ));
        }
    }
    Ok(())
}

impl Webhook {
    fn check(&self) -> Result<(), ConfigError> {
        if !self.url.starts_with("http://") && !self.url.starts_with("https://") {
            return err(format!(
                "webhook.url: \"{}\" must be an http:// or https:// URL",
                self.url
            ));
        }
        if self.queue == 0 {
            return err("webhook.queue: must be above 0");
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return err("webhook.min-confidence: must be from 0 to 1");
        }
        Ok(())
    }
}

impl Alarm {
    /// Alarm rule `i`, whose streams must be among `ids`.
    fn check(&self, i: usize, ids: &std::collections::HashSet<&str>) -> Result<(), ConfigError> {
        if !known(&self.detector) {
            return err(format!(
                "alarm[{i}].detector: unknown detector \"{}\"",
                self.detector
            ));
        }
        if let Some(s) = self.streams.iter().find(|s| !ids.contains(s.as_str())) {
            return err(format!("alarm[{i}].streams: no stream \"{s}\""));
        }
        if self.name.is_empty() {
            return err(format!("alarm[{i}].name is empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::init;

    #[test]
    fn the_kubernetes_example_configuration_is_valid() {
        init();
        let c =
            Config::from_toml(include_str!("../../../deploy/kubernetes/avmonitor.toml")).unwrap();
        let cluster = c.cluster.unwrap();
        assert_eq!(cluster.nats, "nats://nats:4222");
        assert_eq!((cluster.heartbeat_ms, cluster.ttl_ms), (1000, 10_000));
        assert_eq!(cluster.queue, 10_000);
        assert_eq!(cluster.group, "all");
    }

    #[test]
    fn cluster_settings_are_checked() {
        let base = "[cluster]\nnats = \"nats://127.0.0.1:4222\"\n";
        // (a cluster needs no stream of its own)
        init();
        assert!(Config::from_toml(base).is_ok());
        for (extra, says) in [
            ("instance = \"a b\"\n", "cluster.instance"),
            ("group = \"\"\n", "cluster.group"),
            ("detectors = [\"nope\"]\n", "cluster.detectors"),
            ("ttl-ms = 2000\n", "cluster.ttl-ms"),
            ("queue = 0\n", "cluster.queue"),
            ("color = 1\n", "unknown field"),
        ] {
            let e = error(&format!("{base}{extra}"));
            assert!(e.contains(says), "{extra}: {e}");
        }
        assert!(error("[cluster]\nnats = \"http://x\"\n").contains("cluster.nats"));
    }

    #[test]
    fn sources_outside_the_allowed_folders_are_refused() {
        init();
        let dir = std::env::temp_dir().join(format!("avmonitor-sources-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.ts"), b"").unwrap();
        std::fs::write(dir.join("b.ts"), b"").unwrap();
        let conf = |uri: String| {
            format!(
                "[sources]\nfiles = [\"{}\"]\n[[stream]]\nid = \"s\"\nuri = \"{uri}\"\n",
                dir.join("in").display()
            )
        };
        assert!(Config::from_toml(&conf(dir.join("in/a.ts").display().to_string())).is_ok());
        assert!(Config::from_toml(&conf(format!("file://{}/in/a.ts", dir.display()))).is_ok());
        // network and generated sources are not files
        assert!(Config::from_toml(&conf("udp://239.0.0.1:5000".into())).is_ok());
        assert!(Config::from_toml(&conf("demo:1".into())).is_ok());
        for uri in [
            dir.join("b.ts").display().to_string(),
            format!("{}/in/../b.ts", dir.display()),
            format!("file://{}/in/../b.ts", dir.display()),
        ] {
            let e = error(&conf(uri.clone()));
            assert!(e.contains("outside sources.files"), "{uri}: {e}");
        }
        // a file that is not there cannot be shown to be inside
        assert!(
            error(&conf(dir.join("in/none.ts").display().to_string())).contains("sources.files")
        );
        // and without sources.files, ids and URIs are still checked
        for (stream, says) in [
            ("id = \"..\"\nuri = \"demo:1\"", "stream[0].id"),
            ("id = \".x\"\nuri = \"demo:1\"", "stream[0].id"),
            ("id = \"a\"\nuri = \"demo:1\\u0007\"", "control character"),
        ] {
            let e = error(&format!("[[stream]]\n{stream}\n"));
            assert!(e.contains(says), "{stream}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stream_narrowed_to_a_groups_detectors() {
        let s = Stream {
            id: "a".into(),
            uri: "demo:0".into(),
            detectors: None,
            properties: [
                ("blackdetect".to_string(), BTreeMap::new()),
                ("silencedetect".to_string(), BTreeMap::new()),
            ]
            .into(),
            realtime: None,
            skip_frames: None,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        let video = s
            .narrowed(Some(&["blackdetect".into(), "blockdetect".into()]))
            .unwrap();
        assert_eq!(video.detectors, Some(vec!["blackdetect".to_string()]));
        assert_eq!(video.properties.keys().collect::<Vec<_>>(), ["blackdetect"]);
        assert_eq!(s.narrowed(None), Some(s.clone()));
        assert_eq!(s.narrowed(Some(&["phasedetect".into()])), None);
    }

    fn error(text: &str) -> String {
        init();
        Config::from_toml(text).unwrap_err().0
    }

    #[test]
    fn presets_stand_for_their_detectors() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            expand_presets(&names(&["broadcast"])),
            names(BROADCAST_DETECTORS)
        );
        // each detector once, in the order first named
        assert_eq!(
            expand_presets(&names(&["blockdetect", "default", "blackdetect"]))[..3],
            names(&["blockdetect", "blackdetect", "freezedetect"])[..]
        );
        let s = Stream {
            id: "a".into(),
            uri: "demo:1".into(),
            detectors: Some(names(&["broadcast", "blockdetect"])),
            properties: BTreeMap::new(),
            realtime: None,
            skip_frames: None,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        assert!(s.detectors().contains(&"areadetect".to_string()));
        // cadencedetect would take skipped frames for dropped ones
        assert!(!s.skips_frames());
        let area_only = Stream {
            detectors: Some(names(&["blackdetect", "areadetect"])),
            ..s.clone()
        };
        assert!(area_only.skips_frames());
        assert!(s.detectors().contains(&"blockdetect".to_string()));
        assert_eq!(
            s.narrowed(Some(&names(&["default"]))).unwrap().detectors(),
            names(DEFAULT_DETECTORS)
        );
        assert!(check_detectors("x", &names(&["broadcast"])).is_ok());
        let e = check_detectors("x", &names(&["broadcasts"])).unwrap_err();
        assert!(e.0.contains("presets: default, broadcast"), "{e}");
    }

    #[test]
    fn decoding_settings() {
        init();
        let c = Config::from_toml(
            "[decode]\nthreads = 1\n[[stream]]\nid = \"a\"\nuri = \"demo:1\"\nskip-frames = false\ndetectors = [\"blackdetect\"]\n[[stream]]\nid = \"b\"\nuri = \"demo:1\"\n",
        )
        .unwrap();
        assert_eq!(c.decode.threads, Some(1));
        // said, or decided from the detectors
        assert!(!c.streams[0].skips_frames());
        assert_eq!(c.streams[1].skip_frames, None);
        let audio = Stream {
            detectors: Some(vec!["silencedetect".into()]),
            ..c.streams[1].clone()
        };
        assert!(audio.skips_frames(), "an audio monitor needs no B-frame");
        assert!(error("[decode]\nthread = 1\n").contains("unknown field"));
    }

    #[test]
    fn lip_sync_is_measured_where_every_frame_is_decoded() {
        init();
        let stream = |extra: &str| {
            let text = format!("[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n{extra}");
            Config::from_toml(&text).unwrap().streams.remove(0)
        };
        // the defaults (avsyncdetect among them) skip B-frames; avsyncdetect
        // then watches stalls only
        let d = stream("");
        assert!(d.detectors().contains(&SYNC_DETECTOR.to_string()));
        assert!(d.skips_frames());
        assert_eq!(d.sync_mode_when_skipping(), Some(SYNC_STALL_MODE));
        // every frame decoded: offsets measured in avsyncdetect's own mode
        let every = stream("skip-frames = false\n");
        assert!(!every.skips_frames());
        assert_eq!(every.sync_mode_when_skipping(), None);
        let broadcast = stream("detectors = [\"broadcast\"]\n");
        assert!(!broadcast.skips_frames(), "cadencedetect needs every frame");
        assert_eq!(broadcast.sync_mode_when_skipping(), None);
        // asking for offsets asks for every frame
        for mode in ["auto", "content", "test-signal"] {
            let m = stream(&format!(
                "[stream.properties.avsyncdetect]\nmode = \"{mode}\"\n"
            ));
            assert!(!m.skips_frames(), "{mode}");
            assert_eq!(m.sync_mode_when_skipping(), None);
        }
        let stall = stream("[stream.properties.avsyncdetect]\nmode = \"stall\"\n");
        assert!(stall.skips_frames());
        assert_eq!(stall.sync_mode_when_skipping(), None, "set by the stream");
        // without avsyncdetect there is nothing to set
        let black = stream("detectors = [\"blackdetect\"]\n");
        assert!(black.skips_frames());
        assert_eq!(black.sync_mode_when_skipping(), None);
        // offsets and skipped frames contradict each other
        let e = error(
            "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\nskip-frames = true\n[stream.properties.avsyncdetect]\nmode = \"auto\"\n",
        );
        assert!(
            e.contains("stream \"a\": properties.avsyncdetect.mode measures offsets"),
            "{e}"
        );
        assert!(Config::from_toml(
            "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\nskip-frames = true\n[stream.properties.avsyncdetect]\nmode = \"stall\"\n"
        )
        .is_ok());
    }

    /// Keyframes only: it skips frames, gives avsyncdetect the longer stall
    /// timeout unless the stream sets one, and refuses what needs every frame.
    #[test]
    fn keyframes_only_refuses_what_needs_every_frame() {
        init();
        for way in ["keyframes-only", "keyframes-until-still"] {
            let stream = |extra: &str| {
                Config::from_toml(&format!(
                    "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n{way} = true\n{extra}"
                ))
                .unwrap()
                .streams
                .remove(0)
            };
            let k = stream("");
            assert_eq!(k.keyframes(), Some(way));
            assert!(k.skips_frames());
            assert_eq!(k.sync_mode_when_skipping(), Some(SYNC_STALL_MODE));
            assert_eq!(
                k.stall_timeout_for_keyframes(),
                Some(KEYFRAMES_STALL_TIMEOUT)
            );
            let own = stream("[stream.properties.avsyncdetect]\nstall-timeout = 3000000000\n");
            assert_eq!(own.stall_timeout_for_keyframes(), None);
            let black = stream("detectors = [\"blackdetect\"]\n");
            assert_eq!(black.stall_timeout_for_keyframes(), None);
            for (extra, says) in [
                (
                    "skip-frames = false\n".to_string(),
                    format!("{way} leaves pictures out: not with skip-frames = false"),
                ),
                (
                    "detectors = [\"blackdetect\", \"blockdetect\"]\n".into(),
                    format!("blockdetect needs every frame: not with {way} = true"),
                ),
                (
                    "[stream.properties.avsyncdetect]\nmode = \"content\"\n".into(),
                    format!("properties.avsyncdetect.mode measures offsets, which needs every frame: not with {way} = true"),
                ),
            ] {
                let e = error(&format!(
                    "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n{way} = true\n{extra}"
                ));
                assert!(e.contains(&says), "{extra}: {e}");
            }
        }
        let e = error(
            "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\nkeyframes-only = true\nkeyframes-until-still = true\n",
        );
        assert!(e.contains("two ways to decode: set one"), "{e}");
        // a stream without them says nothing of them when written out
        let plain = Config::from_toml("[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n").unwrap();
        assert!(!toml::to_string(&plain.streams[0])
            .unwrap()
            .contains("keyframes"));
    }

    #[test]
    fn a_full_configuration() {
        init();
        let c = Config::from_toml(
            r#"
            [output]
            file = "/tmp/events.jsonl"
            [http]
            listen = "127.0.0.1:9911"
            [restart]
            initial-ms = 500
            [[stream]]
            id = "cam1"
            uri = "rtsp://127.0.0.1:8554/cam"
            detectors = ["blackdetect", "freezedetect", "silencedetect"]
            [stream.properties.blackdetect]
            min-duration = 2000000000
            region-height = 0.85
            [[stream]]
            id = "file.2"
            uri = "/media/in.mp4"
            realtime = true
            [stream.properties.loudnessmeter]
            preset = "atsc-a85"
            [[alarm]]
            name = "long black"
            detector = "blackdetect"
            after-ms = 10000
            severity = "critical"
            "#,
        )
        .unwrap();
        assert_eq!(c.streams.len(), 2);
        assert_eq!(c.streams[1].detectors(), DEFAULT_DETECTORS);
        assert_eq!(
            c.streams[0].properties_of("blackdetect"),
            vec![
                ("min-duration".to_string(), "2000000000".to_string()),
                ("region-height".to_string(), "0.85".to_string())
            ]
        );
        assert_eq!(c.restart.initial_ms, 500);
        assert_eq!(c.restart.max_ms, 30_000);
        assert!(c.output.stdout);
        assert_eq!(c.alarms[0].after_ms, 10_000);
    }

    #[test]
    fn problems_are_named_by_key() {
        let base = "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n";
        for (text, want) in [
            ("", "no stream configured"),
            ("[[stream]]\nid = \"a\"\n", "missing field `uri`"),
            (&format!("{base}colour = 1\n"), "unknown field `colour`"),
            (&format!("{base}[[stream]]\nid = \"a\"\nuri = \"x\"\n"), "stream[1].id: \"a\" is used twice"),
            ("[[stream]]\nid = \"a b\"\nuri = \"x\"\n", "stream[0].id"),
            (&format!("{base}detectors = [\"blackdetec\"]\n"), "unknown detector \"blackdetec\""),
            (
                &format!("{base}detectors = [\"blackdetect\"]\n[stream.properties.freezedetect]\nthreshold = 0.1\n"),
                "properties.freezedetect: \"freezedetect\" is not among",
            ),
            (
                &format!("{base}[stream.properties.blackdetect]\nthreshhold = 0.1\n"),
                "properties.blackdetect.threshhold: blackdetect has no property",
            ),
            (
                &format!("{base}[stream.properties.blackdetect]\nratio = \"lots\"\n"),
                "properties.blackdetect.ratio: \"lots\" is not a valid gdouble",
            ),
            (
                &format!("{base}[stream.properties.blackdetect]\nratio = 7.0\n"),
                "properties.blackdetect.ratio: 7.0 is not a valid",
            ),
            (
                &format!("{base}[stream.properties.loudnessmeter]\npreset = \"loud\"\n"),
                "properties.loudnessmeter.preset",
            ),
            (&format!("{base}[http]\nlisten = \"localhost\"\n"), "http.listen"),
            (&format!("{base}[restart]\ninitial-ms = 0\n"), "restart.initial-ms"),
            (&format!("{base}[[alarm]]\nname = \"x\"\ndetector = \"blackdetect\"\nstreams = [\"b\"]\n"), "alarm[0].streams: no stream \"b\""),
            ("[[stream]]\nid = \"a\"\nuri = 5\n", "invalid type"),
            (&format!("{base}[webhook]\nurl = \"ftp://x/y\"\n"), "webhook.url"),
            (
                &format!("{base}[webhook]\nurl = \"http://x/y\"\nmin-confidence = 1.5\n"),
                "webhook.min-confidence",
            ),
        ] {
            let got = error(text);
            assert!(got.contains(want), "{text:?}: {got}");
        }
    }

    #[test]
    fn the_quick_form() {
        init();
        let c = Config::from_uris(&["demo:1".into(), "file:///x.mp4".into()]).unwrap();
        let ids: Vec<_> = c.streams.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["demo-1", "stream-2"]);
        assert!(Config::from_uris(&[]).is_err());
    }
}
