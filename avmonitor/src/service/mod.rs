//! The avmonitor service: many streams in one process, each a pipeline of
//! the detectors, their messages turned into JSON Lines events, alarms and
//! Prometheus metrics; failed streams restarted with exponential backoff.
//!
//! Everything but the media runs on one GLib main loop (bus watches,
//! timers, signals), so a slow output never blocks a stream, and a stream's
//! failure only touches its own pipeline. The parts, one job each:
//! [`supervisor`] (a stream's pipeline and its life), [`book`] (open
//! defects and the policy on them), [`outputs`] (event lines, webhook,
//! thumbnails), [`metrics`] (Prometheus and HTTP); [`record`] is the one
//! event type they pass on. This module wires them: a detector message is
//! read into its typed form once, at the bus, and streams are addressed by
//! their id.

pub(crate) mod book;
mod changes;
pub mod cluster;
pub mod config;
mod control;
pub mod metrics;
mod outputs;
pub(crate) mod record;
pub mod stream;
mod supervisor;
pub mod thumbnails;
mod transport;
pub mod webhook;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use gst::glib;
use gst::prelude::*;
use gstavmonitor::{EventKind, LoudnessMeterMessage, Message};

use book::{Book, Decision, Key, Open};
pub use changes::Load;
use config::{Config, VIDEO_DETECTORS};
use metrics::Metrics;
use outputs::Outputs;
use record::{Body, EndCause, Posted, Record, Source, StreamEvent};
use supervisor::{Phase, Supervised};

/// Wall-clock UTC, ISO 8601 with milliseconds.
fn utc() -> String {
    glib::DateTime::now_utc()
        .and_then(|d| {
            d.format("%Y-%m-%dT%H:%M:%S")
                .map(|s| format!("{s}.{:03}Z", d.microsecond() / 1000))
        })
        .unwrap_or_default()
}

/// One stream: its pipeline's life and its open defects.
struct Stream {
    life: Supervised,
    book: Book,
    /// Packet loss on its video PIDs (transport streams).
    transport: transport::Losses,
    /// What added it: the configuration file (`Reload`), the control API
    /// or the cluster.
    origin: Source,
    /// Times a `loop` stream came to its end and started again.
    loops: u64,
}

pub struct Runtime {
    config: Config,
    metrics: Arc<Metrics>,
    outputs: Outputs,
    /// The streams by id, and their ids in the configuration's order.
    streams: BTreeMap<String, Stream>,
    order: Vec<String>,
    main_loop: glib::MainLoop,
    me: Weak<RefCell<Runtime>>,
    stopping: bool,
    /// Reads the configuration file again (SIGHUP), when there is one.
    load: Option<changes::Load>,
    /// Cluster mode: the thread that talks to NATS.
    cluster: Option<cluster::Handle>,
}

impl Runtime {
    fn emit(&mut self, id: &str, detector: &str, body: Body<'_>) {
        self.outputs.emit(&Record {
            stream: id,
            detector,
            utc: utc(),
            body,
        });
    }

    fn service_event(&mut self, id: &str, event: StreamEvent) {
        self.emit(id, "avmonitor", Body::Service(event));
    }

    /// Starts (or restarts) stream `id`.
    fn start(&mut self, id: &str) {
        if self.stopping {
            return;
        }
        let me = self.me.clone();
        let watched = id.to_string();
        let thumbnails = self.outputs.thumbnails();
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        let started = s.life.start(&self.metrics, thumbnails, |bus| {
            bus.add_watch_local(move |_, msg| {
                if let Some(rt) = me.upgrade() {
                    rt.borrow_mut().on_message(&watched, msg);
                }
                glib::ControlFlow::Continue
            })
            .ok()
        });
        if let Err(e) = started {
            self.down(id, &e);
        }
    }

    /// Stream `id` failed: its open defects end (reason stream-down), and it
    /// restarts after the backoff, doubled each time up to the maximum.
    fn down(&mut self, id: &str, reason: &str) {
        let max_ms = self.config.restart.max_ms;
        if self.stopping
            || self
                .streams
                .get(id)
                .is_none_or(|s| s.life.phase == Phase::Down)
        {
            return;
        }
        self.close_all(id, EndCause::StreamDown);
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        let wait = s.life.fail(max_ms);
        self.metrics.stream_up(id, false);
        self.service_event(
            id,
            StreamEvent::Down {
                reason: reason.to_string(),
                restart_in_ms: wait,
            },
        );
        let me = self.me.clone();
        let id = id.to_string();
        glib::timeout_add_local_once(Duration::from_millis(wait), move || {
            if let Some(rt) = me.upgrade() {
                // (not one removed, or replaced, meanwhile)
                let down = rt
                    .borrow()
                    .streams
                    .get(&id)
                    .is_some_and(|s| s.life.phase == Phase::Down);
                if down {
                    rt.borrow_mut().start(&id);
                }
            }
        });
    }

    fn ended(&mut self, id: &str) {
        self.close_all(id, EndCause::Eos);
        if let Some(s) = self.streams.get_mut(id) {
            s.life.end();
        }
        self.metrics.stream_up(id, false);
        self.service_event(id, StreamEvent::Ended);
        // (a cluster's streams come and go: it runs until stopped)
        if self.cluster.is_none() && self.streams.values().all(|s| s.life.phase == Phase::Ended) {
            self.main_loop.quit();
        }
    }

    /// A `loop` stream's end: its defects end (eos), and it starts again
    /// from the start, at once, in a new pipeline.
    fn looped(&mut self, id: &str) {
        self.close_all(id, EndCause::Eos);
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        s.life.end();
        s.loops += 1;
        let loops = s.loops;
        self.service_event(id, StreamEvent::Looped { loops });
        self.start(id);
    }

    fn on_message(&mut self, id: &str, msg: &gst::Message) {
        // before its first event (files can get far before the next tick)
        self.check_up(id);
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(s) = e.structure() else {
                    return;
                };
                match Message::from_structure(s) {
                    Some(Ok(m)) => self.detector_message(id, &m, s, msg.seqnum()),
                    Some(Err(e)) => eprintln!("avmonitor: {id}: unreadable message: {e}"),
                    None => (),
                }
            }
            gst::MessageView::Error(e) => {
                let src = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                self.down(id, &format!("{src}: {}", e.error()));
            }
            gst::MessageView::Eos(_) => {
                let Some(s) = self.streams.get(id) else {
                    return;
                };
                if s.life.live {
                    self.down(id, "the live source ended");
                } else if s.life.conf.looped {
                    self.looped(id);
                } else {
                    self.ended(id);
                }
            }
            _ => (),
        }
    }

    /// A detector's message (`posted` is its structure as posted).
    fn detector_message(
        &mut self,
        id: &str,
        m: &Message,
        posted: &gst::StructureRef,
        seqnum: gst::Seqnum,
    ) {
        let detector = m.element();
        let Some(defect) = m.defect() else {
            if let Message::Loudness(LoudnessMeterMessage::Measurement { momentary, .. }) = m {
                if let Some(s) = self.streams.get_mut(id) {
                    s.book.loudness(*momentary);
                }
            }
            self.metrics.measured(id, m);
            if self.config.output.measurements {
                self.emit(id, detector, detector_body(posted, m, None));
            }
            return;
        };
        let kind = defect.kind;
        let now = utc();
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        if let Message::Transport(t) = m {
            s.transport.note(t);
        }
        let Decision::Write { started, ended } = s.book.defect(m, kind, &now) else {
            return;
        };
        let mut with: Option<gst::Structure> = None;
        // a test pattern's start says whether it is line-up (bars and tone)
        if detector == "patterndetect" && kind == EventKind::Start {
            with.get_or_insert_with(|| posted.to_owned())
                .set("line-up", s.book.steady_tone());
        }
        // blocks or a freeze after packet loss on the video PID say so
        if matches!(detector, "blockdetect" | "freezedetect") && kind == EventKind::Start {
            if let Some((class, pid)) = defect.at.running_time.and_then(|rt| s.transport.before(rt))
            {
                let w = with.get_or_insert_with(|| posted.to_owned());
                w.set("transport-error", class.as_str());
                w.set("transport-pid", i32::from(pid));
            }
        }
        let posted = with.as_deref().unwrap_or(posted);
        if started.is_some() || ended {
            self.metrics.defect_open(id, detector, started.is_some());
        }
        self.metrics.count(id, detector, kind.as_str());
        let thumbnail = (kind == EventKind::Start && VIDEO_DETECTORS.contains(&detector))
            .then(|| self.thumbnail(id, detector, seqnum))
            .flatten();
        self.emit(id, detector, detector_body(posted, m, thumbnail));
        if let Some(open) = started {
            self.alarms(id, &open);
        }
    }

    /// Saves the frame the detector was on when it posted message
    /// `seqnum` as a JPEG (off the main loop); its file name.
    fn thumbnail(&mut self, id: &str, detector: &str, seqnum: gst::Seqnum) -> Option<String> {
        if !self.outputs.thumbnails() {
            return None;
        }
        let frame = self.streams.get(id)?.life.snapshot(seqnum)?;
        let stamp: String = utc()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let name = format!("{id}-{detector}-{stamp}.jpg");
        self.outputs.thumbnail(frame, &name).then_some(name)
    }

    /// Alarm rules matching a defect that just started.
    fn alarms(&mut self, id: &str, open: &Open) {
        let rules: Vec<config::Alarm> = self
            .config
            .alarms
            .iter()
            .filter(|a| {
                a.detector == open.detector
                    && (a.streams.is_empty() || a.streams.iter().any(|s| s == id))
            })
            .cloned()
            .collect();
        let key: Key = (open.detector, open.which.clone());
        for rule in rules {
            let fire = move |rt: &mut Runtime, id: &str, key: &Key, open_id| {
                let Some(open) = rt
                    .streams
                    .get(id)
                    .and_then(|s| s.book.still_open(key, open_id))
                    .cloned()
                else {
                    return;
                };
                rt.metrics.count(id, open.detector, "alarm");
                rt.emit(
                    id,
                    open.detector,
                    Body::Alarm {
                        event: "alarm",
                        alarm: rule.name.clone(),
                        severity: rule.severity.clone(),
                        since_utc: open.started.clone(),
                        which: open.which.clone(),
                    },
                );
            };
            if rule.after_ms == 0 {
                // at once, after the start's own line: an idle callback
                // could come after the defect's end when media runs faster
                // than the main loop
                fire(self, id, &key, open.id);
            } else {
                let me = self.me.clone();
                let (id, key, open_id) = (id.to_string(), key.clone(), open.id);
                glib::timeout_add_local_once(Duration::from_millis(rule.after_ms), move || {
                    if let Some(rt) = me.upgrade() {
                        fire(&mut rt.borrow_mut(), &id, &key, open_id);
                    }
                });
            }
        }
    }

    /// Ends every open defect of stream `id` (its pipeline is going away).
    fn close_all(&mut self, id: &str, cause: EndCause) {
        let Some(s) = self.streams.get_mut(id) else {
            return;
        };
        for (o, outage) in s.book.close_all(cause) {
            self.metrics.defect_open(id, o.detector, false);
            self.metrics.count(id, o.detector, "end");
            self.emit(
                id,
                o.detector,
                Body::End {
                    event: "end",
                    reason: cause,
                    since_utc: o.started,
                    which: o.which,
                    outage: outage.then_some(true),
                },
            );
        }
    }

    /// Every 100 ms: the heartbeat, and streams whose media now flows.
    fn tick(&mut self) {
        self.metrics
            .heartbeat
            .store(metrics::now_s(), Ordering::Relaxed);
        let now = stream::now_ms();
        let no_media = self.config.restart.no_media_ms;
        for id in self.order.clone() {
            // a live stream without media (a source that stopped sending
            // without an error, as UDP does) is down
            if self
                .streams
                .get(&id)
                .is_some_and(|s| s.life.silent(now, no_media))
            {
                self.down(&id, &format!("no media for {no_media} ms"));
                continue;
            }
            self.check_up(&id);
        }
    }

    /// Media flows on stream `id`, which was starting: it is up.
    fn check_up(&mut self, id: &str) {
        let initial = self.config.restart.initial_ms;
        let Some((live, restarted)) = self
            .streams
            .get_mut(id)
            .and_then(|s| s.life.check_up(initial))
        else {
            return;
        };
        self.metrics.stream_up(id, true);
        if restarted {
            self.metrics
                .restarts
                .get_or_create(&Metrics::stream(id))
                .inc();
        }
        self.service_event(id, StreamEvent::Up { live, restarted });
    }

    /// SIGINT/SIGTERM: open defects end (reason shutdown), pipelines stop,
    /// the loop ends.
    fn shutdown(&mut self) {
        self.stopping = true;
        for id in self.order.clone() {
            self.close_all(&id, EndCause::Shutdown);
            if let Some(s) = self.streams.get_mut(&id) {
                s.life.stop();
            }
        }
        if let Some(c) = &mut self.cluster {
            // its events flushed, its claims given up for the others
            c.leave(Duration::from_secs(3));
        }
        self.main_loop.quit();
    }
}

/// The record body of detector message `m`, `posted` as this structure.
fn detector_body<'a>(
    posted: &'a gst::StructureRef,
    m: &Message,
    thumbnail: Option<String>,
) -> Body<'a> {
    Body::Detector {
        message: Posted {
            structure: posted,
            event: m.defect().map_or("measurement", |d| d.kind.as_str()),
        },
        thumbnail,
    }
}

/// Runs the service until every stream has ended, or a signal. Returns the
/// HTTP address when it serves one.
/// With `http_optional`, an address that cannot be listened on is a
/// warning (the built-in demo), else an error. `load` reads the
/// configuration file again on SIGHUP.
pub fn run(
    config: Config,
    http_optional: bool,
    load: Option<changes::Load>,
    on_http: impl FnOnce(Option<std::net::SocketAddr>),
) -> Result<(), String> {
    let metrics = Arc::new(Metrics::new());
    let (calls, mut incoming) = futures_channel::mpsc::unbounded::<control::Call>();
    let addr = if config.http.enabled {
        let control = control::Control {
            calls,
            token: config.http.token(),
            loopback: config
                .http
                .listen
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| a.ip().is_loopback()),
        };
        match metrics::serve(&config.http.listen, metrics.clone(), Some(control)) {
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
    let main_loop = glib::MainLoop::new(None, false);
    let (assign, mut assignments) = futures_channel::mpsc::unbounded::<cluster::Assignment>();
    let cluster = config
        .cluster
        .as_ref()
        .map(|c| cluster::Handle::start(c, config.streams.clone(), metrics.clone(), assign))
        .transpose()?;
    let mut outputs = Outputs::new(&config, metrics.clone());
    if let Some(c) = &cluster {
        outputs.publish_to(c.publisher());
    }
    let rt = Rc::new_cyclic(|me| {
        RefCell::new(Runtime {
            outputs,
            streams: BTreeMap::new(),
            order: Vec::new(),
            config: config.clone(),
            metrics: metrics.clone(),
            main_loop: main_loop.clone(),
            me: me.clone(),
            stopping: false,
            load,
            cluster,
        })
    });
    // in a cluster the file's streams are shared, and run where assigned
    let local = if config.cluster.is_some() {
        &[][..]
    } else {
        &config.streams[..]
    };
    for s in local {
        rt.borrow_mut().insert(s.clone(), Source::Reload);
    }
    for s in local {
        rt.borrow_mut().start(&s.id);
    }
    // control requests, answered on the main loop
    let context = glib::MainContext::default();
    let _owner = context
        .acquire()
        .map_err(|e| format!("the main context is another thread's: {e}"))?;
    let weak = Rc::downgrade(&rt);
    context.spawn_local(async move {
        use futures_util::StreamExt;
        while let Some((request, reply)) = incoming.next().await {
            let Some(rt) = weak.upgrade() else {
                break;
            };
            rt.borrow_mut().answer(request, reply);
        }
    });
    // the cluster's assignments, applied on the main loop
    let weak = Rc::downgrade(&rt);
    context.spawn_local(async move {
        use futures_util::StreamExt;
        while let Some(streams) = assignments.next().await {
            let Some(rt) = weak.upgrade() else {
                break;
            };
            let streams: Vec<config::Stream> = streams.into_values().collect();
            rt.borrow_mut().converge(&streams, Source::Cluster);
        }
    });
    // SIGINT/SIGTERM and SIGHUP raise flags the tick reads (a handler may
    // do no more)
    let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, signalled.clone())
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let hangup = Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hangup.clone())
        .map_err(|e| format!("cannot handle SIGHUP: {e}"))?;
    let weak = Rc::downgrade(&rt);
    let _tick = glib::timeout_add_local(Duration::from_millis(100), move || {
        let Some(rt) = weak.upgrade() else {
            return glib::ControlFlow::Break;
        };
        if signalled.load(Ordering::Relaxed) {
            rt.borrow_mut().shutdown();
            return glib::ControlFlow::Break;
        }
        if hangup.swap(false, Ordering::Relaxed) {
            // (logrotate's postrotate: a new event file at the path)
            rt.borrow_mut().outputs.reopen();
            rt.borrow_mut().reload();
        }
        rt.borrow_mut().tick();
        glib::ControlFlow::Continue
    });
    main_loop.run();
    // give the webhook and the thumbnails a moment to finish what is queued
    rt.borrow_mut().outputs.finish(Duration::from_secs(3));
    Ok(())
}
