//! GStreamer glue every detector element shares: turning events into bus
//! messages and posting them, and the common properties.

use std::sync::{Mutex, MutexGuard, PoisonError};

use gst::glib;
use gst::prelude::*;
use gst_base::prelude::*;

/// A detector event that becomes a bus message, with times from the segment.
pub trait ToMessage {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure;
}

/// Posts `events` as element messages from `element` (no bus is not an error).
/// Call without holding any lock.
pub fn post<E: ToMessage>(
    element: &gst_base::BaseTransform,
    cat: gst::DebugCategory,
    events: &[E],
) {
    if events.is_empty() {
        return;
    }
    let segment = element.segment();
    for ev in events {
        let s = ev.structure(&segment);
        gst::debug!(cat, obj = element, "posting {s}");
        let _ = element.post_message(gst::message::Element::builder(s).src(element).build());
    }
}

/// A "src" and a "sink" template, both always there, with `caps`: a
/// passthrough element's pads.
pub fn passthrough_templates(caps: &gst::Caps) -> Vec<gst::PadTemplate> {
    [
        ("src", gst::PadDirection::Src),
        ("sink", gst::PadDirection::Sink),
    ]
    .into_iter()
    .filter_map(|(name, dir)| gst::PadTemplate::new(name, dir, gst::PadPresence::Always, caps).ok())
    .collect()
}

/// The `min-duration` property every event detector has.
pub fn min_duration_property(default: u64) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder("min-duration")
        .nick("Minimum duration")
        .blurb("How long a defect must last before it is reported, in nanoseconds")
        .maximum(u64::MAX - 1)
        .default_value(default)
        .mutable_playing()
        .build()
}

/// The `post-messages` and `interval` properties of a detector whose
/// measurements are off by default because they cost time (`blackdetect`'s
/// luma, `freezedetect`'s difference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurements {
    pub post: bool,
    /// Nanoseconds; 0 for one measurement per frame.
    pub interval: u64,
}

impl Default for Measurements {
    fn default() -> Self {
        Measurements {
            post: false,
            interval: 1_000_000_000,
        }
    }
}

impl Measurements {
    /// The kernel's setting: the interval, or `None` when they are off.
    pub fn every(&self) -> Option<u64> {
        self.post.then_some(self.interval)
    }

    /// The two properties, with the defaults of [`Measurements::default`];
    /// `what` says what is measured, `cost` why it is off by default.
    pub fn properties(what: &str, cost: &str) -> Vec<glib::ParamSpec> {
        Self::properties_from(Measurements::default(), what, cost)
    }

    /// The two properties with defaults `d`; `why` says why `post-messages`
    /// defaults as it does.
    pub fn properties_from(d: Measurements, what: &str, why: &str) -> Vec<glib::ParamSpec> {
        let blurb = format!("Post a measurement of {what} every interval ({why})");
        vec![
            glib::ParamSpecBoolean::builder("post-messages")
                .nick("Post measurements")
                .blurb(&blurb)
                .default_value(d.post)
                .mutable_playing()
                .build(),
            glib::ParamSpecUInt64::builder("interval")
                .nick("Measurement interval")
                .blurb("Time between measurements, in nanoseconds (0 = one per frame)")
                .maximum(u64::MAX - 1)
                .default_value(d.interval)
                .mutable_playing()
                .build(),
        ]
    }

    /// Sets `post-messages` or `interval`; false for any other name.
    pub fn set(&mut self, name: &str, value: &glib::Value) -> bool {
        match name {
            "post-messages" => self.post = value.get().expect("type checked upstream"),
            "interval" => self.interval = value.get().expect("type checked upstream"),
            _ => return false,
        }
        true
    }

    /// Reads `post-messages` or `interval`.
    pub fn get(&self, name: &str) -> Option<glib::Value> {
        match name {
            "post-messages" => Some(self.post.to_value()),
            "interval" => Some(self.interval.to_value()),
            _ => None,
        }
    }
}

/// Locks an element's settings or stream state without a panic on the
/// streaming path. A lock is poisoned only by a panic while it was held;
/// gstreamer-rs then marks the element as panicked and calls none of its
/// element or transform functions again, so poisoned stream state is not
/// analysed any further. Settings are plain values, each written whole by a
/// setter, so they stay valid whatever was interrupted.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a setter does with a property the element does not have: GObject
/// checks names against the element's ParamSpecs before it calls the
/// setter, so this cannot happen; should it, a warning, and no panic on a
/// user's pipeline.
pub fn unknown_property(pspec: &glib::ParamSpec) {
    glib::g_warning!("avmonitor", "no property {} to set", pspec.name());
}

/// What a getter gives for a property the element does not have (see
/// [`unknown_property`]): the ParamSpec's default, with a warning.
pub fn unknown_property_value(pspec: &glib::ParamSpec) -> glib::Value {
    glib::g_warning!("avmonitor", "no property {} to read", pspec.name());
    pspec.default_value().clone()
}
