//! `blockdetect`: reports block corruption (damage from lost or broken coded
//! data) and measures ordinary compression blockiness. Experimental: see
//! the limits below.
//!
//! Error concealment after packet loss or bit errors leaves macroblocks that
//! do not fit their neighbours: smeared or misplaced blocks, slices shifted
//! against the rows above, grey where a reference or a slice is missing. The
//! element measures every 16-pixel segment of the 16x16 macroblock grid: the
//! luma step across it beyond the gradients beside it. A segment is *broken*
//! when that step reaches `threshold` of the nominal luma range, is `masking`
//! times any step across other lines within 12 pixels (content edges lie
//! anywhere, damage on the grid), is `texture` times the mean gradient of
//! the blocks beside it (coarsely coded texture and noise are blocky but
//! busy), was not in the previous frame within 6 pixels with the same sign
//! and size (content that moved), and is not part of a straight edge running
//! along three segments or more (a graphic lying on the grid).
//!
//! A corruption starts when at least `min-breaks` segments break at once,
//! well above the stream's running mean (ordinary blocking is there frame
//! after frame; how far above is the start's `confidence`, which must reach
//! `min-confidence`), beside a group of at least five damaged macroblocks
//! side by side, or when a tenth of the picture turns flat mid-grey from
//! another level (an encoder short of bits flattens a block to its own
//! mean, so noise averaging mid-grey turning flat does not count); it
//! continues while its blocks stay broken or grey, or segments break
//! within two macroblocks of them (steps the picture had before it do not
//! count, nor do breaks elsewhere in the picture) and ends at the first
//! frame without. A buffer the
//! decoder flagged `GST_BUFFER_FLAG_CORRUPTED` is corrupted too (avdec_h264
//! 1.22 never sets it; other decoders do). So are frames missing from a
//! stream that kept a steady frame rate for 8 frames (1 to 5 frames, or up to
//! a second's worth if more, counted
//! again after a flush, caps change or new segment; `missing-frames`):
//! decoders drop a frame they cannot decode, and the content after it is
//! often a frame behind in ways the pixels do not show; such a corruption
//! starts where the first missing frame would have been. So are frames
//! `slicecheck` marked before the decoder: H.264 slices lost whole, and the
//! frames predicted from such a loss up to the next key frame (evidence
//! `bitstream`, the lost macroblocks as the area), whatever the pixels
//! show. Each event says which evidence raised it. Where `slicecheck` read
//! a frame's slice QP, a step must also reach `qp-masking` quantiser steps
//! (about 22 code values at QP 31, 113 at QP 45): coding alone leaves
//! smaller steps between blocks.
//!
//! Black, flat and single-colour frames have no steps: they never raise an
//! event and their blockiness is 1.0 (256 at most, for flat 8x8 blocks of
//! full contrast). The first frame after a start, flush or caps change only
//! sets the comparison up, so damage already there then is not seen; a
//! scene cut (most macroblocks changing texture) is not judged either,
//! except for grey, and a corruption open at one (often the key frame that
//! ends it, or brings new damage) is held over it and judged again on the
//! next frame.
//!
//! Limits, measured by the crate's `tests/block_corpus.rs`: with
//! `slicecheck` before the H.264 decoder, 95% of visibly damaged intervals
//! in x264 and x265 encodes are found and no hard negative (very low
//! bitrate, noise, text, checkers, cuts, fades) raises an event; from the
//! pixels alone 88%, and very low bitrate or noisy video raises some false
//! alarms, each a few frames long. Moving bars coded at 200-400 kb/s
//! (640x352) raise some even with the quantiser known.
//! Damage hidden in busy texture is missed, and a cut from textured content
//! straight to flat mid-grey reads as decoder grey.
//!
//! ```text
//! gst-launch-1.0 -m srtsrc uri=srt://:9000 ! tsdemux ! h264parse ! slicecheck ! \
//!     avdec_h264 ! blockdetect ! fakesink
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
//!   analysed macroblocks): the most damaged frame of the corruption so far
//!   (with the default `min-duration` of 0, a start has its first frame's);
//!   `area-x`, `area-y`, `area-width`, `area-height` (u32, pixels): the
//!   bounding box of the damage, its union over the corruption so far;
//!   `evidence` (string): `pixels`, `decoder`, `missing-frames`,
//!   `bitstream`, or several joined by `+` (`pixels+bitstream`).
//! - measurement: `blockiness` (f64): mean luma gradient across the 8-pixel
//!   grid over the mean gradient off it, over the interval (1.0: no blocking;
//!   watch its trend for coding quality, it never raises an event);
//!   `frames`, `corrupted-frames` (u64).
//!
//! Corruption is judged on whole macroblocks inside the region properties;
//! buffers without a PTS are timed from the previous frame's end. Every
//! format of the other picture detectors is read; 10- and 16-bit luma is
//! judged in the same fractions of the range as 8-bit.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

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
