//! Stream supervision: one stream's pipeline and its life. It starts, is up
//! once media flows, goes down on a failure (torn down, restarted after a
//! backoff that doubles up to a maximum) and ends with its media.

use std::sync::atomic::Ordering;

use gst::prelude::*;

use super::config;
use super::metrics::Metrics;
use super::stream::{self, Built, Frame};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Started; no media yet.
    Starting,
    Up,
    /// Failed; a restart is scheduled.
    Down,
    /// A file or finite stream came to its end.
    Ended,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Up => "up",
            Phase::Down => "down",
            Phase::Ended => "ended",
        }
    }
}

/// One stream's pipeline and where it is in its life.
pub struct Supervised {
    pub conf: config::Stream,
    built: Option<Built>,
    watch: Option<gst::bus::BusWatchGuard>,
    /// Whether its source is live (known once media flowed, or at start).
    pub live: bool,
    pub phase: Phase,
    /// The wait before the next restart, ms.
    backoff: u64,
    /// Restarted after a failure, and not yet up since.
    restarted: bool,
    /// When its pipeline was built (wall clock): a pipeline left running
    /// keeps it.
    pub started_utc: Option<String>,
}

impl Supervised {
    pub fn new(conf: config::Stream, backoff: u64) -> Self {
        Supervised {
            conf,
            built: None,
            watch: None,
            live: false,
            phase: Phase::Starting,
            backoff,
            restarted: false,
            started_utc: None,
        }
    }

    /// Builds the pipeline, watches its bus with `watch`, and starts it.
    /// An error says why it could not start (the stream is then to go down).
    pub fn start(
        &mut self,
        metrics: &std::sync::Arc<Metrics>,
        thumbnails: bool,
        watch: impl FnOnce(&gst::Bus) -> Option<gst::bus::BusWatchGuard>,
    ) -> Result<(), String> {
        // not down any more: a failure from here on is a new one
        self.phase = Phase::Starting;
        let built = stream::build(&self.conf, metrics, thumbnails)?;
        self.watch = built.pipeline.bus().and_then(|bus| watch(&bus));
        let state = built.pipeline.set_state(gst::State::Playing);
        // once known live, a restarted stream is judged as live from its
        // start (uridecodebin tells only once media flows)
        self.live |= state == Ok(gst::StateChangeSuccess::NoPreroll);
        self.built = Some(built);
        self.started_utc = Some(super::utc());
        state.map(|_| ()).map_err(|e| format!("cannot start: {e}"))
    }

    fn teardown(&mut self) {
        self.watch = None;
        if let Some(b) = self.built.take() {
            let _ = b.pipeline.set_state(gst::State::Null);
        }
    }

    /// The stream failed: torn down, and the wait before its restart (ms),
    /// the next one doubled up to `max_ms`.
    pub fn fail(&mut self, max_ms: u64) -> u64 {
        let wait = self.backoff;
        self.phase = Phase::Down;
        self.teardown();
        self.backoff = (wait * 2).min(max_ms);
        self.restarted = true;
        wait
    }

    /// Its media ended.
    pub fn end(&mut self) {
        self.phase = Phase::Ended;
        self.teardown();
    }

    /// The service stops.
    pub fn stop(&mut self) {
        self.teardown();
    }

    fn flowing(&self) -> bool {
        self.built
            .as_ref()
            .is_some_and(|b| b.flowing.load(Ordering::Relaxed))
    }

    /// How long (ms) no media reached a sink, as of `now_ms`.
    pub fn quiet_ms(&self, now_ms: u64) -> u64 {
        self.built.as_ref().map_or(0, |b| {
            now_ms.saturating_sub(b.last_media_ms.load(Ordering::Relaxed))
        })
    }

    /// A live stream that was starting or up and had no media for
    /// `limit_ms`.
    pub fn silent(&self, now_ms: u64, limit_ms: u64) -> bool {
        self.live
            && matches!(self.phase, Phase::Starting | Phase::Up)
            && self.quiet_ms(now_ms) >= limit_ms
    }

    /// Media now flows on a stream that was starting: it is up, its
    /// backoff back to `initial_ms`. Returns (live, restarted).
    pub fn check_up(&mut self, initial_ms: u64) -> Option<(bool, bool)> {
        if self.phase != Phase::Starting || !self.flowing() {
            return None;
        }
        let restarted = self.restarted;
        // live or not, asked now that media flows (uridecodebin makes its
        // source only as it starts)
        self.live = self.live || self.built.as_ref().is_some_and(|b| b.live());
        self.phase = Phase::Up;
        self.backoff = initial_ms;
        self.restarted = false;
        Some((self.live, restarted))
    }

    /// Sets property `name` of detector `detector` in the running pipeline
    /// (if it runs) to `value`, or to its default with `None`. The value
    /// has been checked against the element's property.
    pub fn set_property(&self, detector: &str, name: &str, value: Option<&str>) {
        let Some(element) = self
            .built
            .as_ref()
            .and_then(|b| b.pipeline.by_name(detector))
        else {
            return;
        };
        let Some(pspec) = element.find_property(name) else {
            return;
        };
        match value {
            Some(v) => element.set_property_from_str(name, v),
            None => element.set_property_from_value(name, pspec.default_value()),
        }
    }

    /// The frame a video detector was on when it posted message `seqnum`.
    pub fn snapshot(&self, seqnum: gst::Seqnum) -> Option<Frame> {
        self.built
            .as_ref()?
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&seqnum)
    }
}
