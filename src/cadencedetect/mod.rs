//! `cadencedetect`: reports broken frame cadence: frames repeated in a
//! regular pattern (judder, from a bad frame-rate conversion), repeated
//! irregularly (stutter), frames dropped, and timestamps that repeat, go
//! backwards, jump or jitter.
//!
//! Each frame is compared with the one before on a grid of 4x4-pixel means
//! (as freezedetect does): a frame no further than `repeat-threshold` from
//! the one before, in a run of at most 4 such frames with motion on both
//! sides, is a repeat; a longer run is a still picture and repeats nothing.
//! Runs that recur at a steady spacing (within a frame) are judder, others
//! stutter. Each frame's PTS is compared with the previous frame's end (its
//! PTS plus its duration): a gap of half a frame or more, up to a second, is
//! frames dropped; more, a jump; an offset of over a tenth of a frame, a
//! fault. A stream whose durations follow its variable frame rate is never
//! faulted. Each kind starts once occurrences no further apart than `hold`
//! have spanned `min-duration`, and ends when `hold` passes without one. The
//! buffers pass through untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! cadencedetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `cadencedetect`:
//! - `event` (string): `start`, back-dated to the first occurrence; `end`,
//!   at the frame after the last occurrence once `hold` has passed without
//!   another, or when the stream is interrupted (`reason`); `measurement`
//!   every `interval` when `post-messages` is on.
//! - `timestamp`, `stream-time`, `running-time` (u64, ns); `duration` and
//!   `reason` (end only) as for every element.
//! - `kind` (string): `judder`, `stutter`, `dropped` or `timestamps`.
//! - `count` (u64): occurrences so far (start) or over the fault (end).
//! - `period` (u64): judder, frames from one repeat to the next; else 0.
//! - measurements: `frames`, `repeated`, `dropped`, `timestamp-faults`
//!   (u64) over the interval. Repeats are judged when their run ends, up
//!   to 5 frames after they came, and count in the interval then.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct CadenceDetect(ObjectSubclass<imp::CadenceDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "cadencedetect",
        gst::Rank::NONE,
        CadenceDetect::static_type(),
    )
}
