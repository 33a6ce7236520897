//! `loudnessmeter`: loudness per ITU-R BS.1770 / EBU R128 (with the
//! `ebur128` crate), measured continuously, with alarms.
//!
//! Every `interval` (when `post-messages` is on) it posts momentary (400 ms),
//! short-term (3 s) and integrated loudness, loudness range, and per-channel
//! sample and true peak over the interval. Alarms, as start/end events,
//! regardless of `post-messages`: short-term loudness outside
//! `target-lufs` ± `tolerance-lu` for `min-duration` (judged every 100 ms
//! once 3 s have been measured; short-term loudness below -70 LUFS is
//! silence, left to `silencedetect`), and a true peak above
//! `max-true-peak-dbtp` (any 100 ms step). `preset` sets target and maximum
//! true peak for EBU R128 (-23 LUFS, -1 dBTP), ATSC A/85 (-24 LKFS, -2 dBTP)
//! or a streaming target (-14 LUFS, -1 dBTP); setting either value on its
//! own makes the preset `custom`. A flushing seek starts the measurement
//! afresh. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! audio/x-raw ! loudnessmeter preset=atsc-a85 ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `loudnessmeter`.
//! - `event` = `measurement`: `timestamp`, `stream-time`, `running-time` (ns,
//!   end of the interval), `momentary`, `short-term`, `integrated` (f64,
//!   LUFS; -inf until defined), `loudness-range` (f64, LU), `sample-peak-db`
//!   (array of f64, dBFS per channel), `true-peak-db` (array of f64, dBTP per
//!   channel; empty when `true-peak` is off).
//! - `event` = `start`/`end`: the shared event fields (`timestamp`,
//!   `stream-time`, `running-time`, `duration` and `reason` on end), `alarm`
//!   (`short-term` or `true-peak`), `value` (f64: LUFS or dBTP; the first
//!   out-of-range value for a start, the furthest out for an end).

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

/// Loudness targets.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstLoudnessPreset")]
pub enum Preset {
    #[enum_value(name = "EBU R128: -23 LUFS, -1 dBTP", nick = "ebu-r128")]
    EbuR128 = 0,
    #[enum_value(name = "ATSC A/85: -24 LKFS, -2 dBTP", nick = "atsc-a85")]
    AtscA85 = 1,
    #[enum_value(name = "Streaming: -14 LUFS, -1 dBTP", nick = "streaming")]
    Streaming = 2,
    #[enum_value(
        name = "Custom: target-lufs and max-true-peak-dbtp as set",
        nick = "custom"
    )]
    Custom = 3,
}

impl Preset {
    /// (target LUFS, maximum true peak dBTP); `None` for custom.
    pub fn values(&self) -> Option<(f64, f64)> {
        match self {
            Preset::EbuR128 => Some((-23.0, -1.0)),
            Preset::AtscA85 => Some((-24.0, -2.0)),
            Preset::Streaming => Some((-14.0, -1.0)),
            Preset::Custom => None,
        }
    }
}

glib::wrapper! {
    pub struct LoudnessMeter(ObjectSubclass<imp::LoudnessMeter>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    // the enums its properties take, listed with their values by
    // gst-inspect-1.0 and the plugin documentation
    Preset::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "loudnessmeter",
        gst::Rank::NONE,
        LoudnessMeter::static_type(),
    )
}
