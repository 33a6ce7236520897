//! `blockdetect`: reports block corruption (damage from lost or broken coded
//! data) and measures ordinary compression blockiness.
//!
//! Error concealment after packet loss or bit errors leaves macroblocks that
//! do not fit their neighbours: smeared, grey or misplaced blocks, slices
//! shifted against the rows above. The element measures every 16-pixel
//! segment of the 16x16 macroblock grid: the luma step across it against the
//! gradients beside it. A segment is *broken* when its excess step is at
//! least `threshold` of the nominal luma range and `masking` times the
//! texture activity in the blocks either side (coarsely coded texture and
//! noise are blocky but busy), and is not part of a straight content edge
//! that carries on through the block corner (a graphic lying on the grid).
//! A frame is corrupted when breaks that the *previous frame did not have*
//! touch at least `min-blocks` macroblocks: concealment damage appears
//! suddenly and locally, ordinary compression blocking is there frame after
//! frame. A buffer the decoder flagged `GST_BUFFER_FLAG_CORRUPTED` is
//! corrupted too (avdec_h264 1.22 never sets it; others do).
//!
//! Black, flat and single-colour frames have no steps: they are never
//! corrupted and their blockiness is 1.0. The first frame after a start,
//! flush or caps change only sets the comparison up.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=srt://:7001 ! blockdetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `blockdetect`:
//! - `event` (string): `start` at the first corrupted frame once corruption
//!   has lasted `min-duration` (default 0: one frame is a defect); `end` at
//!   the first clean frame, or when the stream is interrupted (see `reason`);
//!   `measurement` every `interval`.
//! - `timestamp`, `stream-time`, `running-time` (u64, ns): of the first
//!   corrupted frame (start), of where the corruption ended (end), of the end
//!   of the interval (measurement). `GST_CLOCK_TIME_NONE` when outside the
//!   segment.
//! - `duration` (u64, ns, end only) and `reason` (string, end only):
//!   `recovered`, `eos`, `flush`, `caps-change` or `discont`.
//! - start and end: `damaged-blocks` (u32), `damaged-fraction` (f64, of the
//!   analysed macroblocks): in the first corrupted frame (start) or the worst
//!   one (end); `area-x`, `area-y`, `area-width`, `area-height` (u32,
//!   pixels): the bounding box of the damage (its union over the corruption
//!   for an end); `evidence` (string): `pixels`, `decoder` or
//!   `pixels+decoder`.
//! - measurement: `blockiness` (f64): mean luma gradient across the 8-pixel
//!   grid over the mean gradient off it, over the interval (1.0: no blocking;
//!   watch its trend for coding quality, it never raises an event);
//!   `frames`, `corrupted-frames` (u64).
//!
//! Corruption is judged on whole macroblocks inside the region properties;
//! buffers without a PTS are timed from the previous frame's end.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct BlockDetect(ObjectSubclass<imp::BlockDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "blockdetect",
        gst::Rank::NONE,
        BlockDetect::static_type(),
    )
}
