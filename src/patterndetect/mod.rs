//! `patterndetect`: a test pattern on air instead of the programme: colour
//! bars (SMPTE and EBU layouts, 75% and 100%) or a still card (a static
//! slate or card of a few flat colours).
//!
//! Nine lines across the picture are cut into runs of near-constant
//! colour. Colour bars are seven runs side by side whose R', G' and B'
//! (through the caps' matrix) are each off or at one common amplitude, in
//! the bar order white (or grey), yellow, cyan, green, magenta, red, blue,
//! of nearly equal widths, on at least three of the five upper lines. Bars
//! from top to bottom with a black bar after blue are EBU bars; bars in the
//! upper part only are SMPTE bars (their bottom rows hold other patches);
//! other layouts are `bars`. A still card is a picture that has not
//! changed since the previous frame, with at least 80% of the lines in at
//! most four flat colours, not mostly black. An event starts once a pattern
//! has stayed for `min-duration`, back-dated to its first frame, and ends
//! at the first frame without it. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! patterndetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `patterndetect`:
//! - `event` (string): `start` once a pattern has lasted `min-duration`,
//!   back-dated to its first frame; `end` at the first frame without it, or
//!   when the stream is interrupted (see `reason`).
//! - `timestamp`, `stream-time`, `running-time` (u64, ns);
//!   `duration` (u64, ns, end only), `reason` (string, end only):
//!   `recovered`, `eos`, `flush`, `caps-change` or `discont`.
//! - `pattern` (string): `smpte-bars`, `ebu-bars`, `bars` or `still-card`,
//!   as the first frame of the stretch showed it.
//! - `amplitude` (f64): the coloured bars' level, a fraction of the nominal
//!   range (0.75 for 75% bars, 1.0 for 100%); 0 for a still card.
//!
//! Buffers without a PTS are timed from the previous frame's end; until one
//! has been seen they are passed on unanalysed.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct PatternDetect(ObjectSubclass<imp::PatternDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "patterndetect",
        gst::Rank::NONE,
        PatternDetect::static_type(),
    )
}
