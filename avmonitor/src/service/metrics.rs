//! Prometheus metrics (the `prometheus-client` crate) and the HTTP endpoint
//! that serves them with `/health`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gstavmonitor::{
    AreaDetectMessage, AvSyncDetectMessage, CadenceDetectMessage, LevelsDetectMessage,
    LoudnessMeterMessage, Message, TsErrorClass, TsMonitorMessage,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabel {
    pub stream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DetectorLabels {
    pub stream: String,
    pub detector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub stream: String,
    pub detector: String,
    pub event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InstanceLabels {
    pub instance: String,
    pub group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LoudnessLabels {
    pub stream: String,
    pub measure: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AreaLabels {
    pub stream: String,
    /// `x`, `y`, `width` or `height`.
    pub dimension: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransportLabels {
    pub stream: String,
    /// The TR 101 290 class, e.g. `continuity-count-error` (tsmonitor).
    pub class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CadenceLabels {
    pub stream: String,
    /// `repeated`, `dropped` or `timestamp-faults`.
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelsLabels {
    pub stream: String,
    /// `luma` or `rgb`.
    pub kind: String,
}

type FGauge = Gauge<f64, AtomicU64>;

/// Every metric the service keeps.
pub struct Metrics {
    pub registry: Registry,
    pub up: Family<StreamLabel, Gauge>,
    pub frames: Family<StreamLabel, Counter>,
    pub samples: Family<StreamLabel, Counter>,
    pub restarts: Family<StreamLabel, Counter>,
    pub lag: Family<StreamLabel, FGauge>,
    pub active: Family<DetectorLabels, Gauge>,
    pub events: Family<EventLabels, Counter>,
    pub loudness: Family<LoudnessLabels, FGauge>,
    pub av_offset: Family<StreamLabel, FGauge>,
    pub av_confidence: Family<StreamLabel, FGauge>,
    /// The active picture area areadetect measured last.
    pub area: Family<AreaLabels, Gauge>,
    /// Repeated and dropped frames and timestamp faults cadencedetect counted.
    pub cadence: Family<CadenceLabels, Counter>,
    /// The highest share of pixels out of range of levelsdetect's last
    /// interval, in luma and in R'G'B'.
    pub levels_share: Family<LevelsLabels, FGauge>,
    /// Frames levelsdetect found illegal (above its maximum share).
    pub illegal_frames: Family<StreamLabel, Counter>,
    /// Transport stream errors tsmonitor counted, by TR 101 290 class.
    pub transport_errors: Family<TransportLabels, Counter>,
    /// The transport stream's bitrate over tsmonitor's last interval.
    pub transport_bitrate: Family<StreamLabel, FGauge>,
    pub output_errors: Counter,
    pub webhook_sent: Counter,
    pub webhook_failed: Counter,
    pub webhook_dropped: Counter,
    /// Streams this instance runs.
    pub streams: Gauge,
    /// Configuration reloads, `ok` or `failed`.
    pub reloads: Family<ResultLabel, Counter>,
    /// Cluster mode: 1 while connected to NATS.
    pub cluster_connected: Gauge,
    /// Cluster mode: live members of this instance's group, itself included.
    pub cluster_members: Gauge,
    pub cluster_events_published: Counter,
    pub cluster_events_dropped: Counter,
    /// `instance` and `group` labels, value 1 (cluster mode).
    pub instance: Family<InstanceLabels, Gauge>,
    /// Whether `/health` asks for a NATS connection (cluster mode).
    pub needs_nats: std::sync::atomic::AtomicBool,
    /// Unix time (s) the main loop last ticked: `/health` is bad when stale.
    pub heartbeat: AtomicU64,
}

/// An area's four numbers by name, as the gauge labels them.
fn area_dimensions(a: &gstavmonitor::Area) -> [(&'static str, u32); 4] {
    [
        ("x", a.x),
        ("y", a.y),
        ("width", a.width),
        ("height", a.height),
    ]
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Metrics {
    /// Every metric, registered with its help text: one list (about 100
    /// lines), read top to bottom like the `/metrics` page it makes.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("avmonitor");
        let up = Family::<StreamLabel, Gauge>::default();
        let frames = Family::<StreamLabel, Counter>::default();
        let samples = Family::<StreamLabel, Counter>::default();
        let restarts = Family::<StreamLabel, Counter>::default();
        let lag = Family::<StreamLabel, FGauge>::default();
        let active = Family::<DetectorLabels, Gauge>::default();
        let events = Family::<EventLabels, Counter>::default();
        let loudness = Family::<LoudnessLabels, FGauge>::default();
        let av_offset = Family::<StreamLabel, FGauge>::default();
        let av_confidence = Family::<StreamLabel, FGauge>::default();
        let area = Family::<AreaLabels, Gauge>::default();
        let cadence = Family::<CadenceLabels, Counter>::default();
        let levels_share = Family::<LevelsLabels, FGauge>::default();
        let illegal_frames = Family::<StreamLabel, Counter>::default();
        let transport_errors = Family::<TransportLabels, Counter>::default();
        let transport_bitrate = Family::<StreamLabel, FGauge>::default();
        let output_errors = Counter::default();
        let webhook_sent = Counter::default();
        let webhook_failed = Counter::default();
        let webhook_dropped = Counter::default();
        let streams = Gauge::default();
        let reloads = Family::<ResultLabel, Counter>::default();
        let cluster_connected = Gauge::default();
        let cluster_members = Gauge::default();
        let cluster_events_published = Counter::default();
        let cluster_events_dropped = Counter::default();
        let instance = Family::<InstanceLabels, Gauge>::default();
        registry.register(
            "instance",
            "This instance's id and group in cluster mode (value 1)",
            instance.clone(),
        );
        registry.register(
            "cluster_connected",
            "1 while connected to NATS (cluster mode)",
            cluster_connected.clone(),
        );
        registry.register(
            "cluster_members",
            "Live instances of this instance's group, itself included (cluster mode)",
            cluster_members.clone(),
        );
        registry.register(
            "cluster_events_published",
            "Events published to NATS JetStream (cluster mode)",
            cluster_events_published.clone(),
        );
        registry.register(
            "cluster_events_dropped",
            "Events dropped because the queue for NATS was full (cluster mode)",
            cluster_events_dropped.clone(),
        );
        registry.register("streams", "Streams this instance runs", streams.clone());
        registry.register(
            "config_reloads",
            "Configuration reloads (SIGHUP), by result (ok, failed)",
            reloads.clone(),
        );
        registry.register(
            "webhook_sent",
            "Events delivered to the webhook",
            webhook_sent.clone(),
        );
        registry.register(
            "webhook_failed",
            "Events the webhook did not take after every retry",
            webhook_failed.clone(),
        );
        registry.register(
            "webhook_dropped",
            "Events dropped because the webhook queue was full",
            webhook_dropped.clone(),
        );
        registry.register(
            "stream_up",
            "1 while the stream's media flows, 0 while it is down or starting",
            up.clone(),
        );
        registry.register("frames", "Video frames analysed", frames.clone());
        registry.register("samples", "Audio sample frames analysed", samples.clone());
        registry.register(
            "restarts",
            "Times the stream was restarted after a failure",
            restarts.clone(),
        );
        registry.register(
            "processing_lag_seconds",
            "How far analysis runs behind the pipeline clock (live streams)",
            lag.clone(),
        );
        registry.register(
            "defect_active",
            "Defects open now, per detector",
            active.clone(),
        );
        registry.register(
            "events",
            "Events posted, per detector and kind",
            events.clone(),
        );
        registry.register(
            "loudness_lufs",
            "Latest loudness (momentary, short-term, integrated)",
            loudness.clone(),
        );
        registry.register(
            "av_offset_ms",
            "Latest audio/video offset (positive: audio late)",
            av_offset.clone(),
        );
        registry.register(
            "av_offset_confidence",
            "Confidence of the latest audio/video offset (0 to 1)",
            av_confidence.clone(),
        );
        registry.register(
            "active_area_pixels",
            "The active picture area (inside black borders) the stream holds: x, y, width, height (areadetect)",
            area.clone(),
        );
        registry.register(
            "cadence_frames",
            "Frames repeated (judder and stutter) and dropped, and timestamp faults, by kind (cadencedetect)",
            cadence.clone(),
        );
        registry.register(
            "out_of_range_share",
            "Highest share of a frame's pixels out of the legal range in the last interval, by kind (luma, rgb) (levelsdetect)",
            levels_share.clone(),
        );
        registry.register(
            "illegal_frames",
            "Frames with more than the allowed share of pixels out of the legal range (levelsdetect)",
            illegal_frames.clone(),
        );
        registry.register(
            "transport_errors",
            "Transport stream errors before the demuxer, by ETSI TR 101 290 class (tsmonitor)",
            transport_errors.clone(),
        );
        registry.register(
            "transport_bitrate_bps",
            "The transport stream's bitrate over the last interval, bits a second (tsmonitor)",
            transport_bitrate.clone(),
        );
        registry.register(
            "output_errors",
            "Event lines that could not be written",
            output_errors.clone(),
        );
        Metrics {
            registry,
            up,
            frames,
            samples,
            restarts,
            lag,
            active,
            events,
            loudness,
            av_offset,
            av_confidence,
            area,
            cadence,
            levels_share,
            illegal_frames,
            transport_errors,
            transport_bitrate,
            output_errors,
            webhook_sent,
            webhook_failed,
            webhook_dropped,
            streams,
            reloads,
            cluster_connected,
            cluster_members,
            cluster_events_published,
            cluster_events_dropped,
            instance,
            needs_nats: std::sync::atomic::AtomicBool::new(false),
            heartbeat: AtomicU64::new(now_s()),
        }
    }

    /// A defect of `detector` on `stream` opened (`true`) or closed.
    pub fn defect_open(&self, stream: &str, detector: &str, open: bool) {
        let g = self.active.get_or_create(&DetectorLabels {
            stream: stream.to_string(),
            detector: detector.to_string(),
        });
        if open {
            g.inc();
        } else {
            g.dec();
        }
    }

    /// One more `event` from `detector` on `stream`.
    pub fn count(&self, stream: &str, detector: &str, event: &str) {
        self.events
            .get_or_create(&EventLabels {
                stream: stream.to_string(),
                detector: detector.to_string(),
                event: event.to_string(),
            })
            .inc();
    }

    /// The gauges a measurement sets: loudness, the A/V offset with its
    /// confidence (the offset only when there is some confidence), and the
    /// active picture area; and the cadence counts it adds to.
    pub fn measured(&self, stream: &str, m: &Message) {
        match m {
            Message::Loudness(LoudnessMeterMessage::Measurement {
                momentary,
                short_term,
                integrated,
                ..
            }) => {
                for (measure, v) in [
                    ("momentary", momentary),
                    ("short-term", short_term),
                    ("integrated", integrated),
                ] {
                    self.loudness
                        .get_or_create(&LoudnessLabels {
                            stream: stream.to_string(),
                            measure: measure.to_string(),
                        })
                        .set(*v);
                }
            }
            Message::AvSync(AvSyncDetectMessage::Measurement {
                offset_ms,
                confidence,
                ..
            }) => {
                let label = Metrics::stream(stream);
                self.av_confidence.get_or_create(&label).set(*confidence);
                if *confidence > 0.0 {
                    self.av_offset.get_or_create(&label).set(*offset_ms);
                }
            }
            Message::Area(AreaDetectMessage::Measurement { area, .. }) => {
                for (dimension, v) in area_dimensions(area) {
                    self.area
                        .get_or_create(&AreaLabels {
                            stream: stream.to_string(),
                            dimension: dimension.to_string(),
                        })
                        .set(i64::from(v));
                }
            }
            Message::Cadence(CadenceDetectMessage::Measurement { counts, .. }) => {
                for (kind, n) in [
                    ("repeated", counts.repeated),
                    ("dropped", counts.dropped),
                    ("timestamp-faults", counts.timestamp_faults),
                ] {
                    self.cadence
                        .get_or_create(&CadenceLabels {
                            stream: stream.to_string(),
                            kind: kind.to_string(),
                        })
                        .inc_by(n);
                }
            }
            Message::Levels(LevelsDetectMessage::Measurement {
                stats,
                illegal_frames,
                ..
            }) => {
                for (kind, share) in [("luma", stats.luma_share), ("rgb", stats.rgb_share)] {
                    self.levels_share
                        .get_or_create(&LevelsLabels {
                            stream: stream.to_string(),
                            kind: kind.to_string(),
                        })
                        .set(share);
                }
                self.illegal_frames
                    .get_or_create(&Metrics::stream(stream))
                    .inc_by(*illegal_frames);
            }
            Message::Transport(TsMonitorMessage::Measurement {
                errors, bitrates, ..
            }) => {
                for (class, n) in TsErrorClass::ALL.iter().zip(errors) {
                    // (every class has its series, at 0 until it counts)
                    self.transport_errors
                        .get_or_create(&TransportLabels {
                            stream: stream.to_string(),
                            class: class.as_str().to_string(),
                        })
                        .inc_by(*n);
                }
                self.transport_bitrate
                    .get_or_create(&Metrics::stream(stream))
                    .set(bitrates.iter().sum());
            }
            _ => (),
        }
    }

    /// A stream to run: its series, at 0.
    pub fn add_stream(&self, id: &str) {
        let label = Metrics::stream(id);
        self.up.get_or_create(&label).set(0);
        let _ = self.frames.get_or_create(&label);
        let _ = self.samples.get_or_create(&label);
        let _ = self.restarts.get_or_create(&label);
        self.streams.inc();
    }

    /// A stream removed: its per-stream series go (its event counts stay).
    pub fn remove_stream(&self, id: &str) {
        let label = Metrics::stream(id);
        for family in [&self.frames, &self.samples, &self.restarts] {
            family.remove(&label);
        }
        self.up.remove(&label);
        for family in [&self.lag, &self.av_offset, &self.av_confidence] {
            family.remove(&label);
        }
        for kind in ["luma", "rgb"] {
            self.levels_share.remove(&LevelsLabels {
                stream: id.to_string(),
                kind: kind.to_string(),
            });
        }
        for (dimension, _) in area_dimensions(&gstavmonitor::Area::default()) {
            self.area.remove(&AreaLabels {
                stream: id.to_string(),
                dimension: dimension.to_string(),
            });
        }
        self.streams.dec();
    }

    /// Whether `stream`'s media flows.
    pub fn stream_up(&self, stream: &str, up: bool) {
        self.up
            .get_or_create(&Metrics::stream(stream))
            .set(i64::from(up));
    }

    pub fn stream(id: &str) -> StreamLabel {
        StreamLabel {
            stream: id.to_string(),
        }
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Whether the main loop ticks (liveness).
    pub fn live(&self) -> bool {
        now_s().saturating_sub(self.heartbeat.load(Ordering::Relaxed)) <= 5
    }

    /// Why the instance is not ready to run streams, if it is not: a
    /// stalled main loop, or (cluster mode) no connection to NATS.
    pub fn not_ready(&self) -> Option<&'static str> {
        if !self.live() {
            Some("main loop stalled")
        } else if self.needs_nats.load(Ordering::Relaxed) && self.cluster_connected.get() == 0 {
            Some("not connected to NATS")
        } else {
            None
        }
    }

    /// Cluster mode: this instance's id and group.
    pub fn set_instance(&self, instance: &str, group: &str) {
        self.needs_nats.store(true, Ordering::Relaxed);
        self.instance
            .get_or_create(&InstanceLabels {
                instance: instance.into(),
                group: group.into(),
            })
            .set(1);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Control requests answered at once; more are refused (503).
const CONTROL_AT_ONCE: usize = 8;

/// Serves `/metrics` and `/health` on `listen` from a thread of its own,
/// and the control API with `control`.
pub(crate) fn serve(
    listen: &str,
    metrics: Arc<Metrics>,
    control: Option<super::control::Control>,
) -> Result<std::net::SocketAddr, String> {
    let server =
        tiny_http::Server::http(listen).map_err(|e| format!("http.listen {listen}: {e}"))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| format!("http.listen {listen}: not an IP address"))?;
    let header = |name: &str, value: &str| {
        tiny_http::Header::from_bytes(name, value).expect("a constant header is valid")
    };
    let control = control.map(Arc::new);
    // control requests in threads of their own (a slow body must not hold
    // up /metrics or /health), a few at a time
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("avmonitor-http".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                if let Some(c) = control.as_ref().filter(|c| c.wants(&request)) {
                    if busy.fetch_add(1, Ordering::SeqCst) >= CONTROL_AT_ONCE {
                        busy.fetch_sub(1, Ordering::SeqCst);
                        let _ = request.respond(
                            tiny_http::Response::from_string("too many control requests at once\n")
                                .with_status_code(503),
                        );
                        continue;
                    }
                    let (c, done) = (c.clone(), busy.clone());
                    let spawned = std::thread::Builder::new()
                        .name("avmonitor-control".into())
                        .spawn(move || {
                            let mut request = request;
                            let reply = c.answer(&mut request);
                            let mut response =
                                tiny_http::Response::from_string(format!("{}\n", reply.body))
                                    .with_status_code(reply.status)
                                    .with_header(header("Content-Type", "application/json"));
                            if reply.status == 401 {
                                response.add_header(header("WWW-Authenticate", "Bearer"));
                            }
                            let _ = request.respond(response);
                            done.fetch_sub(1, Ordering::SeqCst);
                        });
                    if spawned.is_err() {
                        busy.fetch_sub(1, Ordering::SeqCst);
                    }
                    continue;
                }
                let (code, body, kind) = match request.url() {
                    "/metrics" => (
                        200,
                        metrics.text(),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                    "/health" => match metrics.not_ready() {
                        None => (200, "ok\n".into(), "text/plain"),
                        Some(why) => (503, format!("{why}\n"), "text/plain"),
                    },
                    "/live" if metrics.live() => (200, "ok\n".into(), "text/plain"),
                    "/live" => (503, "main loop stalled\n".into(), "text/plain"),
                    _ => (
                        404,
                        "not found: try /metrics, /health, /live or /streams\n".into(),
                        "text/plain",
                    ),
                };
                let _ = request.respond(
                    tiny_http::Response::from_string(body)
                        .with_status_code(code)
                        .with_header(header("Content-Type", kind)),
                );
            }
        })
        .map_err(|e| format!("http thread: {e}"))?;
    Ok(addr)
}
