//! `captiondetect`: closed captions that go missing.
//!
//! After the decoder (or any element that keeps the meta), it reads the
//! CEA-608 and CEA-708 caption data attached to each frame as
//! `GstVideoCaptionMeta` and posts an event when captions that were there
//! stop for `min-duration` (10 s), when a stream that must carry them
//! (`required`) has none for `min-duration` from the start, or when the
//! caption data carries nothing but padding (null CEA-608 pairs, invalid
//! CEA-708 triplets) for `padding-duration` (60 s). Every buffer passes
//! through untouched, in any video format and memory.
//!
//! In GStreamer 1.22, `h264parse` and `h265parse` attach the meta from the
//! captions in SEI user data (ATSC A/53), `mpegvideoparse` from MPEG-2
//! user data, the `avdec_*` decoders from libav's A/53 side data, and
//! `cccombiner` from a caption stream; `ccconverter` and `ccextractor` read
//! it.
//!
//! ```text
//! gst-launch-1.0 -m udpsrc port=5000 caps=video/mpegts,systemstream=true ! tsdemux ! \
//!     h264parse ! avdec_h264 ! captiondetect required=true ! fakesink
//! ```
//!
//! ## Messages
//! Structure `captiondetect`, with `timestamp`, `stream-time`,
//! `running-time` and `event`:
//! - "start" / "end" (an end has `duration` and `reason`): `problem`
//!   (string: "missing" or "padding-only"), `cea608-fields` (array of u32:
//!   the CEA-608 fields that carried content, 1 and/or 2) and `cea708`
//!   (boolean: CEA-708 DTVCC data), as seen so far in the stream.
//! - "measurement", every `interval` when `post-messages` is on: `frames`,
//!   `frames-with-captions` (u64, in the interval), `cea608-fields`,
//!   `cea708`.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::{CaptionDetectMessage, CaptionServices};

glib::wrapper! {
    pub struct CaptionDetectElement(ObjectSubclass<imp::CaptionDetect>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "captiondetect",
        gst::Rank::NONE,
        CaptionDetectElement::static_type(),
    )
}
