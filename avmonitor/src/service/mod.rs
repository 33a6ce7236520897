//! The avmonitor service: many streams in one process, each a pipeline of
//! the detectors, their messages turned into JSON Lines events, alarms and
//! Prometheus metrics; failed streams restarted with exponential backoff.
//!
//! Everything but the media runs on one GLib main loop (bus watches,
//! timers, signals), so a slow output never blocks a stream, and a stream's
//! failure only touches its own pipeline.

pub mod config;
pub mod metrics;
pub mod stream;
pub mod thumbnails;
pub mod webhook;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gst::glib;
use gst::prelude::*;

use crate::json;
use config::{Config, AUDIO_DETECTORS, SYNC_DETECTOR, VIDEO_DETECTORS};
use metrics::{DetectorLabels, EventLabels, LoudnessLabels, Metrics};

fn is_detector(name: &str) -> bool {
    VIDEO_DETECTORS.contains(&name) || AUDIO_DETECTORS.contains(&name) || name == SYNC_DETECTOR
}

/// Wall-clock UTC, ISO 8601 with milliseconds.
fn utc() -> String {
    glib::DateTime::now_utc()
        .and_then(|d| {
            d.format("%Y-%m-%dT%H:%M:%S")
                .map(|s| format!("{s}.{:03}Z", d.microsecond() / 1000))
        })
        .unwrap_or_default()
}

/// Where event lines go.
struct Output {
    stdout: bool,
    file: Option<(std::path::PathBuf, Option<std::fs::File>)>,
    metrics: Arc<Metrics>,
    failures: u64,
}

impl Output {
    fn new(config: &config::Output, metrics: Arc<Metrics>) -> Output {
        let file = config.file.as_ref().map(|path| {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            let f = match f {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!(
                        "avmonitor: cannot open event file {}: {e} (events go on to stdout; counted in avmonitor_output_errors_total)",
                        path.display()
                    );
                    None
                }
            };
            (path.clone(), f)
        });
        Output {
            stdout: config.stdout,
            file,
            metrics,
            failures: 0,
        }
    }

    fn line(&mut self, line: &str) {
        if self.stdout {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|_| out.flush());
        }
        if let Some((path, file)) = &mut self.file {
            let ok = file
                .as_mut()
                .is_some_and(|f| writeln!(f, "{line}").and_then(|_| f.flush()).is_ok());
            if !ok {
                self.metrics.output_errors.inc();
                self.failures += 1;
                if self.failures % 1000 == 1 {
                    eprintln!(
                        "avmonitor: cannot write to the event file {} ({} lines lost so far)",
                        path.display(),
                        self.failures
                    );
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Started; no media yet.
    Starting,
    Up,
    /// Failed; a restart is scheduled.
    Down,
    /// A file or finite stream came to its end.
    Ended,
}

/// A defect that started and has not ended.
#[derive(Debug, Clone)]
struct Open {
    detector: String,
    id: u64,
    started: String,
    /// The fields that tell it from other defects of its detector.
    which: Vec<(String, String)>,
}

struct StreamRt {
    conf: config::Stream,
    built: Option<stream::Built>,
    watch: Option<gst::bus::BusWatchGuard>,
    live: bool,
    phase: Phase,
    backoff: u64,
    restarted: bool,
    open: BTreeMap<String, Open>,
    suppressed: HashSet<String>,
    next_id: u64,
}

pub struct Runtime {
    config: Config,
    metrics: Arc<Metrics>,
    out: Output,
    webhook: Option<webhook::Webhook>,
    thumbnails: Option<thumbnails::Thumbnails>,
    streams: Vec<StreamRt>,
    main_loop: glib::MainLoop,
    me: Weak<RefCell<Runtime>>,
    stopping: bool,
}

/// Fields that tell defects of one detector apart.
const WHICH: &[&str] = &["alarm", "channel", "kind", "stream"];

/// A structure field renamed for the event line (ours come first).
fn field_name(name: &str) -> &str {
    match name {
        // avsyncdetect's stall names the medium; "stream" is the stream id here
        "stream" => "medium",
        n => n,
    }
}

impl Runtime {
    fn emit(&mut self, i: usize, detector: &str, fields: Vec<(String, String)>) {
        let mut all = vec![
            ("stream".to_string(), json::string(&self.streams[i].conf.id)),
            ("detector".to_string(), json::string(detector)),
            ("utc".to_string(), json::string(&utc())),
        ];
        let event = fields
            .iter()
            .find(|(k, _)| k == "event")
            .map(|(_, v)| v.trim_matches('"').to_string())
            .unwrap_or_default();
        all.extend(fields);
        let line = json::object(&all);
        self.out.line(&line);
        if let Some(w) = &self.webhook {
            w.send(&event, &line);
        }
    }

    fn service_event(&mut self, i: usize, event: &str, mut extra: Vec<(String, String)>) {
        let mut fields = vec![("event".to_string(), json::string(event))];
        fields.append(&mut extra);
        self.emit(i, "avmonitor", fields);
    }

    fn label(&self, i: usize) -> metrics::StreamLabel {
        Metrics::stream(&self.streams[i].conf.id)
    }

    /// Starts (or restarts) stream `i`.
    fn start(&mut self, i: usize) {
        if self.stopping {
            return;
        }
        // not down any more: a failure from here on is a new one
        self.streams[i].phase = Phase::Starting;
        let built = match stream::build(
            &self.streams[i].conf,
            &self.metrics,
            self.thumbnails.is_some(),
        ) {
            Ok(b) => b,
            Err(e) => return self.down(i, &e),
        };
        let me = self.me.clone();
        let watch = built.pipeline.bus().and_then(|bus| {
            bus.add_watch_local(move |_, msg| {
                if let Some(rt) = me.upgrade() {
                    rt.borrow_mut().on_message(i, msg);
                }
                glib::ControlFlow::Continue
            })
            .ok()
        });
        let state = built.pipeline.set_state(gst::State::Playing);
        let s = &mut self.streams[i];
        s.watch = watch;
        s.phase = Phase::Starting;
        // once known live, a restarted stream is judged as live from its
        // start (uridecodebin tells only once media flows)
        s.live |= state == Ok(gst::StateChangeSuccess::NoPreroll);
        s.built = Some(built);
        if let Err(e) = state {
            self.down(i, &format!("cannot start: {e}"));
        }
    }

    /// Stream `i` failed: its open defects end (reason stream-down), and it
    /// restarts after the backoff, doubled each time up to the maximum.
    fn down(&mut self, i: usize, reason: &str) {
        if self.stopping || self.streams[i].phase == Phase::Down {
            return;
        }
        self.close_all(i, "stream-down");
        let wait = self.streams[i].backoff;
        let s = &mut self.streams[i];
        s.phase = Phase::Down;
        s.watch = None;
        if let Some(b) = s.built.take() {
            let _ = b.pipeline.set_state(gst::State::Null);
        }
        s.backoff = (wait * 2).min(self.config.restart.max_ms);
        s.restarted = true;
        self.metrics.up.get_or_create(&self.label(i)).set(0);
        self.service_event(
            i,
            "stream-down",
            vec![
                ("reason".into(), json::string(reason)),
                ("restart-in-ms".into(), wait.to_string()),
            ],
        );
        let me = self.me.clone();
        glib::timeout_add_local_once(Duration::from_millis(wait), move || {
            if let Some(rt) = me.upgrade() {
                rt.borrow_mut().start(i);
            }
        });
    }

    fn ended(&mut self, i: usize) {
        self.close_all(i, "eos");
        let s = &mut self.streams[i];
        s.phase = Phase::Ended;
        s.watch = None;
        if let Some(b) = s.built.take() {
            let _ = b.pipeline.set_state(gst::State::Null);
        }
        self.metrics.up.get_or_create(&self.label(i)).set(0);
        self.service_event(i, "stream-ended", Vec::new());
        if self.streams.iter().all(|s| s.phase == Phase::Ended) {
            self.main_loop.quit();
        }
    }

    fn on_message(&mut self, i: usize, msg: &gst::Message) {
        // before its first event (files can get far before the next tick)
        self.check_up(i);
        match msg.view() {
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure() {
                    if is_detector(s.name()) {
                        self.detector_message(i, s, msg.seqnum());
                    }
                }
            }
            gst::MessageView::Error(e) => {
                let src = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                self.down(i, &format!("{src}: {}", e.error()));
            }
            gst::MessageView::Eos(_) => {
                if self.streams[i].live {
                    self.down(i, "the live source ended");
                } else {
                    self.ended(i);
                }
            }
            _ => (),
        }
    }

    fn detector_message(&mut self, i: usize, s: &gst::StructureRef, seqnum: gst::Seqnum) {
        let detector = s.name().to_string();
        let event = s.get::<&str>("event").unwrap_or("").to_string();
        if event == "measurement" {
            self.measured(i, &detector, s);
            if self.config.output.measurements {
                let fields = renamed(s);
                self.emit(i, &detector, fields);
            }
            return;
        }
        let which: Vec<(String, String)> = json::fields(s)
            .into_iter()
            .filter(|(k, _)| WHICH.contains(&k.as_str()))
            .map(|(k, v)| (field_name(&k).to_string(), v))
            .collect();
        let key = format!("{detector}{}", json::object(&which));
        let st = &mut self.streams[i];
        let mut started = None;
        match event.as_str() {
            "start" => {
                // a freeze during black is the black's
                let black = st.open.keys().any(|k| k.starts_with("blackdetect"));
                if detector == "freezedetect" && black {
                    st.suppressed.insert(key);
                    return;
                }
                st.next_id += 1;
                let open = Open {
                    detector: detector.clone(),
                    id: st.next_id,
                    started: utc(),
                    which,
                };
                st.open.insert(key.clone(), open.clone());
                self.metrics
                    .active
                    .get_or_create(&DetectorLabels {
                        stream: st.conf.id.clone(),
                        detector: detector.clone(),
                    })
                    .inc();
                started = Some(open);
            }
            "end" => {
                if st.suppressed.remove(&key) {
                    return;
                }
                if st.open.remove(&key).is_some() {
                    self.metrics
                        .active
                        .get_or_create(&DetectorLabels {
                            stream: st.conf.id.clone(),
                            detector: detector.clone(),
                        })
                        .dec();
                }
            }
            _ => (),
        }
        self.count(i, &detector, &event);
        let mut fields = renamed(s);
        if event == "start" && VIDEO_DETECTORS.contains(&detector.as_str()) {
            if let Some(name) = self.thumbnail(i, &detector, seqnum) {
                fields.push(("thumbnail".into(), json::string(&name)));
            }
        }
        self.emit(i, &detector, fields);
        if let Some(open) = started {
            self.alarms(i, &key, &open);
        }
    }

    /// Saves the frame the detector was on when it posted message
    /// `seqnum` as a JPEG (off the main loop); its file name.
    fn thumbnail(&mut self, i: usize, detector: &str, seqnum: gst::Seqnum) -> Option<String> {
        let t = self.thumbnails.as_ref()?;
        let frame = self.streams[i]
            .built
            .as_ref()?
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&seqnum)?;
        let stamp: String = utc()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let name = format!("{}-{detector}-{stamp}.jpg", self.streams[i].conf.id);
        t.save(frame, &name).then_some(name)
    }

    fn count(&self, i: usize, detector: &str, event: &str) {
        self.metrics
            .events
            .get_or_create(&EventLabels {
                stream: self.streams[i].conf.id.clone(),
                detector: detector.to_string(),
                event: event.to_string(),
            })
            .inc();
    }

    fn measured(&mut self, i: usize, detector: &str, s: &gst::StructureRef) {
        let id = self.streams[i].conf.id.clone();
        match detector {
            "loudnessmeter" => {
                for m in ["momentary", "short-term", "integrated"] {
                    if let Ok(v) = s.get::<f64>(m) {
                        self.metrics
                            .loudness
                            .get_or_create(&LoudnessLabels {
                                stream: id.clone(),
                                measure: m.to_string(),
                            })
                            .set(v);
                    }
                }
            }
            "avsyncdetect" => {
                let conf = s.get::<f64>("confidence").unwrap_or(0.0);
                let label = Metrics::stream(&id);
                self.metrics.av_confidence.get_or_create(&label).set(conf);
                if conf > 0.0 {
                    if let Ok(v) = s.get::<f64>("offset-ms") {
                        self.metrics.av_offset.get_or_create(&label).set(v);
                    }
                }
            }
            _ => (),
        }
    }

    /// Alarm rules matching a defect that just started.
    fn alarms(&mut self, i: usize, key: &str, open: &Open) {
        let id = self.streams[i].conf.id.clone();
        let rules: Vec<config::Alarm> = self
            .config
            .alarms
            .iter()
            .filter(|a| {
                a.detector == open.detector && (a.streams.is_empty() || a.streams.contains(&id))
            })
            .cloned()
            .collect();
        for rule in rules {
            let fire = move |rt: &mut Runtime, i: usize, key: &str, open_id| {
                let Some(open) = rt.streams[i]
                    .open
                    .get(key)
                    .filter(|o| o.id == open_id)
                    .cloned()
                else {
                    return;
                };
                let mut fields = vec![
                    ("event".to_string(), json::string("alarm")),
                    ("alarm".to_string(), json::string(&rule.name)),
                    ("severity".to_string(), json::string(&rule.severity)),
                    ("since-utc".to_string(), json::string(&open.started)),
                ];
                fields.extend(open.which.clone());
                rt.count(i, &open.detector, "alarm");
                rt.emit(i, &open.detector, fields);
            };
            if rule.after_ms == 0 {
                // at once, after the start's own line: an idle callback
                // could come after the defect's end when media runs faster
                // than the main loop
                fire(self, i, key, open.id);
            } else {
                let me = self.me.clone();
                let key = key.to_string();
                let open_id = open.id;
                glib::timeout_add_local_once(Duration::from_millis(rule.after_ms), move || {
                    if let Some(rt) = me.upgrade() {
                        fire(&mut rt.borrow_mut(), i, &key, open_id);
                    }
                });
            }
        }
    }

    /// Ends every open defect of stream `i` with `reason` (its pipeline is
    /// going away); a silence open at an outage is marked as its audio side.
    fn close_all(&mut self, i: usize, reason: &str) {
        let open = std::mem::take(&mut self.streams[i].open);
        self.streams[i].suppressed.clear();
        for (_, o) in open {
            self.metrics
                .active
                .get_or_create(&DetectorLabels {
                    stream: self.streams[i].conf.id.clone(),
                    detector: o.detector.clone(),
                })
                .dec();
            let mut fields = vec![
                ("event".to_string(), json::string("end")),
                ("reason".to_string(), json::string(reason)),
                ("since-utc".to_string(), json::string(&o.started)),
            ];
            fields.extend(o.which.clone());
            if o.detector == "silencedetect" && reason == "stream-down" {
                fields.push(("outage".to_string(), "true".to_string()));
            }
            self.count(i, &o.detector, "end");
            self.emit(i, &o.detector, fields);
        }
    }

    /// Every 100 ms: the heartbeat, and streams whose media now flows.
    fn tick(&mut self) {
        self.metrics
            .heartbeat
            .store(metrics::now_s(), Ordering::Relaxed);
        let now = stream::now_ms();
        for i in 0..self.streams.len() {
            let s = &self.streams[i];
            let flowing = s
                .built
                .as_ref()
                .is_some_and(|b| b.flowing.load(Ordering::Relaxed));
            // a live stream without media (a source that stopped sending
            // without an error, as UDP does) is down
            let quiet = s.built.as_ref().map_or(0, |b| {
                now.saturating_sub(b.last_media_ms.load(Ordering::Relaxed))
            });
            if s.live
                && matches!(s.phase, Phase::Starting | Phase::Up)
                && quiet >= self.config.restart.no_media_ms
            {
                let reason = format!("no media for {} ms", self.config.restart.no_media_ms);
                self.down(i, &reason);
                continue;
            }
            if s.phase == Phase::Starting && flowing {
                self.up(i);
            }
        }
    }

    /// Media flows on stream `i`, which was starting: it is up.
    fn up(&mut self, i: usize) {
        let s = &self.streams[i];
        let restarted = s.restarted;
        // live or not, asked now that media flows (uridecodebin
        // makes its source only as it starts)
        let live = s.live || s.built.as_ref().is_some_and(|b| b.live());
        let s = &mut self.streams[i];
        s.live = live;
        s.phase = Phase::Up;
        s.backoff = self.config.restart.initial_ms;
        s.restarted = false;
        let label = self.label(i);
        self.metrics.up.get_or_create(&label).set(1);
        if restarted {
            self.metrics.restarts.get_or_create(&label).inc();
        }
        let live = self.streams[i].live;
        self.service_event(
            i,
            "stream-up",
            vec![
                ("live".into(), live.to_string()),
                ("restarted".into(), restarted.to_string()),
            ],
        );
    }

    /// `up` if media now flows on stream `i`, which was starting.
    fn check_up(&mut self, i: usize) {
        let s = &self.streams[i];
        let flowing = s
            .built
            .as_ref()
            .is_some_and(|b| b.flowing.load(Ordering::Relaxed));
        if s.phase == Phase::Starting && flowing {
            self.up(i);
        }
    }

    /// SIGINT/SIGTERM: open defects end (reason shutdown), pipelines stop,
    /// the loop ends.
    fn shutdown(&mut self) {
        self.stopping = true;
        for i in 0..self.streams.len() {
            self.close_all(i, "shutdown");
            let s = &mut self.streams[i];
            s.watch = None;
            if let Some(b) = s.built.take() {
                let _ = b.pipeline.set_state(gst::State::Null);
            }
        }
        self.main_loop.quit();
    }
}

/// The structure's fields for an event line.
fn renamed(s: &gst::StructureRef) -> Vec<(String, String)> {
    json::fields(s)
        .into_iter()
        .map(|(k, v)| (field_name(&k).to_string(), v))
        .collect()
}

/// Runs the service until every stream has ended, or a signal. Returns the
/// HTTP address when it serves one.
/// With `http_optional`, an address that cannot be listened on is a
/// warning (the built-in demo), else an error.
pub fn run(
    config: Config,
    http_optional: bool,
    on_http: impl FnOnce(Option<std::net::SocketAddr>),
) -> Result<(), String> {
    let metrics = Arc::new(Metrics::new());
    let addr = if config.http.enabled {
        match metrics::serve(&config.http.listen, metrics.clone()) {
            Ok(a) => Some(a),
            Err(e) if http_optional => {
                eprintln!("avmonitor: no metrics endpoint: {e}");
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    on_http(addr);
    for s in &config.streams {
        let label = Metrics::stream(&s.id);
        metrics.up.get_or_create(&label).set(0);
        let _ = metrics.frames.get_or_create(&label);
        let _ = metrics.samples.get_or_create(&label);
        let _ = metrics.restarts.get_or_create(&label);
    }
    let main_loop = glib::MainLoop::new(None, false);
    let rt = Rc::new_cyclic(|me| {
        RefCell::new(Runtime {
            out: Output::new(&config.output, metrics.clone()),
            thumbnails: config
                .output
                .thumbnails
                .then_some(config.output.file.as_ref())
                .flatten()
                .map(|f| thumbnails::Thumbnails::start(f, metrics.clone())),
            webhook: config
                .webhook
                .as_ref()
                .map(|w| webhook::Webhook::start(w, metrics.clone())),
            streams: config
                .streams
                .iter()
                .map(|c| StreamRt {
                    conf: c.clone(),
                    built: None,
                    watch: None,
                    live: false,
                    phase: Phase::Starting,
                    backoff: config.restart.initial_ms,
                    restarted: false,
                    open: BTreeMap::new(),
                    suppressed: HashSet::new(),
                    next_id: 0,
                })
                .collect(),
            config: config.clone(),
            metrics: metrics.clone(),
            main_loop: main_loop.clone(),
            me: me.clone(),
            stopping: false,
        })
    });
    for i in 0..config.streams.len() {
        rt.borrow_mut().start(i);
    }
    // SIGINT/SIGTERM raise a flag the tick reads (a handler may do no more)
    let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, signalled.clone())
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let weak = Rc::downgrade(&rt);
    let _tick = glib::timeout_add_local(Duration::from_millis(100), move || {
        let Some(rt) = weak.upgrade() else {
            return glib::ControlFlow::Break;
        };
        if signalled.load(Ordering::Relaxed) {
            rt.borrow_mut().shutdown();
            return glib::ControlFlow::Break;
        }
        rt.borrow_mut().tick();
        glib::ControlFlow::Continue
    });
    main_loop.run();
    // give the webhook and the thumbnails a moment to finish what is queued
    if let Some(w) = rt.borrow_mut().webhook.as_mut() {
        w.finish(Duration::from_secs(3));
    }
    if let Some(t) = rt.borrow_mut().thumbnails.as_mut() {
        t.finish(Duration::from_secs(3));
    }
    Ok(())
}
