//! `freezedetect`: reports stretches of frozen picture.
//!
//! Each frame is reduced to 4x4-pixel luma means and compared with the
//! *reference* frame, the first frame of the candidate freeze (not the
//! previous frame). The difference of a 16x16-pixel tile is the mean absolute
//! difference of its 16 cell means; a frame is frozen when no tile differs by
//! more than `threshold` of the nominal luma range. So:
//! - exact repeats, repeats with film grain or sensor noise, and repeats that
//!   went through a lossy re-encode (not bit-identical) are frozen: averaging
//!   keeps independent noise well under the threshold;
//! - a slow pan (even 1 pixel a frame), a fade or a slow zoom is not: change
//!   against the fixed reference adds up until it exceeds the threshold, and
//!   the candidate restarts there, long before `min-duration`;
//! - a small moving object over a still background is not: the tiles it
//!   crosses change by a large share of its contrast.
//!
//! A moving ticker, a running clock or an animated logo over a frozen picture
//! keeps the picture from counting as frozen, because those tiles do change.
//! To watch the programme behind them, leave them out of the analysed region,
//! e.g. `region-height=0.85` to drop a ticker along the bottom 15%. A shot
//! with no motion at all for `min-duration` (a slate, a still caption) is
//! indistinguishable from a freeze and is reported; raise `min-duration` where
//! such stills are normal.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! freezedetect min-duration=2000000000 \
//!     region-height=0.85 ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `freezedetect`:
//! - `event` (string): `start` once the picture has been frozen for
//!   `min-duration`, back-dated to the first frame of the frozen picture (the
//!   reference); `end` at the first frame that differs, or when the stream is
//!   interrupted (see `reason`).
//! - `timestamp`, `stream-time`, `running-time` (u64, ns): of the first frozen
//!   frame (start) or of where the freeze ended (end). `GST_CLOCK_TIME_NONE`
//!   when outside the segment.
//! - `duration` (u64, ns, end only): how long the picture was frozen.
//! - `reason` (string, end only): `recovered`, `eos`, `flush`, `caps-change`,
//!   or `discont` (timestamps went backwards).
//! - `difference` (f64): the largest tile difference from the reference, as a
//!   fraction of the nominal luma range, over the freeze so far (start) or the
//!   whole freeze (end); 0 for exact repeats.
//!
//! Buffers without a PTS are timed from the previous frame's end; until one
//! has been seen they are passed on unanalysed.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

glib::wrapper! {
    pub struct FreezeDetect(ObjectSubclass<imp::FreezeDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "freezedetect",
        gst::Rank::NONE,
        FreezeDetect::static_type(),
    )
}
