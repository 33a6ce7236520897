//! `blackdetect`: reports stretches of black picture.
//!
//! A frame is black when at least `ratio` of the analysed pixels have luma at
//! or below `pixel-threshold` of the nominal luma range. The code value that
//! threshold stands for follows the caps: limited range (16..235 at 8 bit,
//! 64..940 at 10 bit) or full range, 8, 10 or 16 bit; packed RGB is judged on
//! its BT.709 luma. The buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! blackdetect min-duration=1000000000 \
//!     region-y=0.1 region-height=0.8 ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `blackdetect`:
//! - `event` (string): `start` once black has lasted `min-duration`, back-dated
//!   to the first black frame; `end` at the first frame that is not black, or
//!   when the stream is interrupted (see `reason`).
//! - `timestamp`, `stream-time`, `running-time` (u64, ns): of the first black
//!   frame (start) or of where black ended (end). `GST_CLOCK_TIME_NONE` when
//!   outside the segment.
//! - `duration` (u64, ns, end only): how long the black lasted.
//! - `reason` (string, end only): `recovered`, `eos`, `flush`, `caps-change`,
//!   or `discont` (timestamps went backwards). Interrupted black ends at the
//!   end of its last frame.
//! - `black-ratio` (f64): fraction of analysed pixels at or below the
//!   threshold; the first black frame's for a start, the mean over the stretch
//!   for an end.
//! - `mean-luma` (f64): mean luma of the analysed pixels, 0 = nominal black,
//!   1 = nominal white; first frame (start) or mean (end).
//!
//! ## Region
//! `region-x`, `region-y`, `region-width`, `region-height` (fractions of the
//! picture) choose the analysed rectangle, e.g. `region-y=0.1 region-height=0.8`
//! leaves out a logo band at the top and a ticker at the bottom.
//!
//! Buffers without a PTS are timed from the previous frame's end (its
//! duration, or the caps' frame rate); until one has been seen they are passed
//! on unanalysed.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct BlackDetect(ObjectSubclass<imp::BlackDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "blackdetect",
        gst::Rank::NONE,
        BlackDetect::static_type(),
    )
}
