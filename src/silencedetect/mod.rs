//! `silencedetect`: reports silence, per channel and for all channels.
//!
//! Levels are the power of 5 ms blocks, per channel. A channel is silent
//! while its level stays below `threshold-db`; a silence is reported once it
//! has lasted `min-duration`. When every channel is silent, that is one event
//! for all channels (`channel` = -1), never one per channel; a channel silent
//! while others are not (a dead channel of a pair) is reported with its index.
//! Gap events count as silence on every channel. NaN and infinite float
//! samples count as 0. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! audio/x-raw ! silencedetect threshold-db=-60 ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `silencedetect`: `event` (`start`/`end`),
//! `timestamp`, `stream-time`, `running-time` (ns; start of the first silent
//! block, or where the silence ended), `duration` and `reason` (end only),
//! `channel` (i32: the silent channel, -1 for all channels), `level-db` (f64,
//! dBFS: first silent block for a start, loudest block of the silence for an
//! end; -inf for digital silence).

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct SilenceDetect(ObjectSubclass<imp::SilenceDetect>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "silencedetect",
        gst::Rank::NONE,
        SilenceDetect::static_type(),
    )
}
