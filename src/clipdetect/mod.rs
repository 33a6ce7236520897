//! `clipdetect`: reports clipping.
//!
//! A clipping run is at least `min-run` consecutive samples of a channel at
//! or beyond full scale: integer samples at their extreme codes, float
//! samples at a magnitude of 1.0 or more (or NaN / infinite). A lower
//! `level-db` makes samples at that level or louder count as clipped, in any
//! format. Runs less than `merge-gap` apart, on any channel, form one event;
//! its end is reported once `merge-gap` has passed without another run, and
//! carries per-channel counts. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! audio/x-raw ! clipdetect min-run=3 ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `clipdetect`: `event` (`start`/`end`), `timestamp`,
//! `stream-time`, `running-time` (ns; first sample of the first run, or just
//! after the last sample of the last run), `duration` and `reason` (end only),
//! `clipped-samples` and `runs` (arrays of u64, per channel: clipped samples
//! in runs and number of runs, over the event; so far, for a start).

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct ClipDetect(ObjectSubclass<imp::ClipDetect>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "clipdetect",
        gst::Rank::NONE,
        ClipDetect::static_type(),
    )
}
