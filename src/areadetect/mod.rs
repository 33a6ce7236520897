//! `areadetect`: reports the active picture area (the rectangle inside black
//! borders) and when it changes: a letterbox or pillarbox that appears,
//! vanishes or changes size mid-programme.
//!
//! Each side's border is measured on 64 lines across it, each followed from
//! the picture's edge to its first pixel brighter than `pixel-threshold`;
//! the border is the median depth, and counts only when at least half of the
//! lines end within a 64th of the picture of it (a straight edge). A side
//! whose lines disagree (a dark scene, a fade, a black frame) keeps its last
//! value; borders under `min-border` count as none. A side's reference is no
//! border once a frame shows that, or the border the stream holds from its
//! first frame for `min-duration` (a letterboxed film). An area away from
//! the reference is reported once the same area has lasted `min-duration`,
//! each side that moved measured in at least half of its frames. The
//! buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! areadetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `areadetect`:
//! - `event` (string): `start` once an area away from the reference has
//!   lasted `min-duration`, back-dated to its first frame; `end` at the
//!   first frame back at the reference, or when the stream is interrupted
//!   (see `reason`); `measurement` once for each area the stream has held
//!   for `min-duration` (the first one included), timed at its first frame.
//! - `timestamp`, `stream-time`, `running-time` (u64, ns).
//! - `duration` (u64, ns, end only), `reason` (string, end only):
//!   `recovered`, `eos`, `flush`, `caps-change` or `discont`.
//! - `change` (string, start and end): `borders-appeared` (the reference
//!   filled the picture), `borders-disappeared` (the area fills it) or
//!   `borders-changed`.
//! - `x`, `y`, `width`, `height` (u32, pixels): the active area; for a
//!   start, of its first frame; for an end, of the last frame away from the
//!   reference.
//! - `reference-x`, `reference-y`, `reference-width`, `reference-height`
//!   (u32, pixels, start and end): the area expected.
//!
//! Buffers without a PTS are timed from the previous frame's end; until one
//! has been seen they are passed on unanalysed.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct AreaDetect(ObjectSubclass<imp::AreaDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "areadetect",
        gst::Rank::NONE,
        AreaDetect::static_type(),
    )
}
