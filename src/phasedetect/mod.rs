//! `phasedetect`: reports phase problems on a channel pair.
//!
//! On channels `channel-a` and `channel-b` (by default the first two), per
//! 5 ms block: the correlation Σab / √(Σa² Σb²) and the power of the
//! difference. Out of phase (inverted polarity): the correlation at or below
//! `threshold`. Mono in stereo: the difference at least 60 dB below the
//! louder channel (identical channels). Blocks where both channels are below
//! `silence-db` are neither. Each is an event once it has lasted
//! `min-duration`. With fewer channels than the pair needs, nothing is
//! analysed. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! audio/x-raw ! phasedetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `phasedetect`: `event` (`start`/`end`),
//! `timestamp`, `stream-time`, `running-time` (ns), `duration` and `reason`
//! (end only), `kind` (`out-of-phase` or `mono`), `correlation` (f64: first
//! block for a start, mean over the stretch for an end), `channel-a`,
//! `channel-b` (u32).

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct PhaseDetect(ObjectSubclass<imp::PhaseDetect>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "phasedetect",
        gst::Rank::NONE,
        PhaseDetect::static_type(),
    )
}
