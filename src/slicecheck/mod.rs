//! `slicecheck`: finds H.264 slices and HEVC slice segments lost whole
//! before the decoder, and tells `blockdetect` after the decoder which
//! blocks they covered.
//!
//! A slice lost whole (an RTP or UDP packet that never arrived) is concealed
//! by the decoder, and the concealment can be hard to see in the pixels,
//! but the coded frame shows the loss plainly (see
//! [`crate::analysis::coded::slices`]): its slices do not start at macroblock 0, or
//! a stream that cut every frame into the same slices has some of them
//! missing. Loss inside a slice (bit errors, a slice cut short) is left to
//! the pixels.
//!
//! For H.264 it also reads each slice header in full (parameter sets in band
//! or in `codec_data`) for the slice quantiser, and passes each frame's mean QP
//! on, which `blockdetect` uses to tell a quantiser's steps from damage.
//!
//! Concealment errors in a reference picture spread to the pictures predicted
//! from it, so the frames after such a loss are *tainted* up to the next key
//! frame (complete intra frame or recovery point; 300 frames at most).
//!
//! For each frame with lost slices, the element logs a warning (debug
//! category `slicecheck`); to it, to each tainted frame and to each frame
//! whose quantiser it read it attaches a custom meta named
//! [`crate::slicemeta::LOST_SLICES_META`] to the buffer. Decoders and filters copy a meta
//! without tags to the frames they make from a buffer, so the decoded frame
//! carries it, matched by frame even where B-frames reorder, and
//! `blockdetect` counts it as `bitstream` evidence, with the damaged
//! fraction and area of the lost macroblocks. The element posts no bus
//! messages of its own and passes every buffer through unchanged.
//!
//! ```text
//! gst-launch-1.0 -m udpsrc port=5000 caps=application/x-rtp,media=video,encoding-name=H264,clock-rate=90000 ! \
//!     rtph264depay ! h264parse ! slicecheck ! avdec_h264 ! blockdetect ! fakesink
//! ```
//!
//! Input: `video/x-h264` in access units (`alignment=au`, which `h264parse`
//! gives when asked), `stream-format` `byte-stream`, `avc` or `avc3`; or
//! `video/x-h265` in access units, `byte-stream`, `hvc1` or `hev1`. The
//! slice layout is forgotten on a flush or a caps change. Interlaced streams
//! coded as macroblock pairs (MBAFF) address pairs, so the area reported for
//! them is off; which frames lost slices is still right.
//!
//! ## The meta
//! A `GstCustomMeta` named `GstAvmonitorLostSlicesMeta` whose structure
//! (`lost-slices`) holds `first-mbs` and `end-mbs` (`GstValueArray` of u32):
//! the block addresses each lost run of slices starts at, and where it
//! ends (exclusive; `4294967295`: at the end of the picture), `block-size`
//! (u32: 16 for H.264 macroblocks, the CTB size for HEVC), `tainted`
//! (boolean): the frame is predicted from a picture that lost slices (see
//! [`crate::analysis::coded::slices`]: until the next key frame), and `qp` (i32,
//! when known): the mean slice QP (`SliceQPY`, on the 8-bit scale at any
//! bit depth).

use gst::glib;
use gst::prelude::*;

use crate::analysis::coded::slices::{
    is_recovery_point, nal_units, Framing, HevcParser, SliceLayout, SliceLoss, SliceParser,
};

mod imp;

glib::wrapper! {
    pub struct SliceCheck(ObjectSubclass<imp::SliceCheck>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    crate::slicemeta::register_meta();
    gst::Element::register(
        Some(plugin),
        "slicecheck",
        gst::Rank::NONE,
        SliceCheck::static_type(),
    )
}

/// What the element does to a stream, for use elsewhere too (a pad probe
/// on a parser inside `uridecodebin`, see [`attach_to_parser`]).
#[derive(Default, Debug)]
pub struct Checker {
    framing: Option<Framing>,
    /// HEVC rather than H.264.
    hevc: bool,
    layout: SliceLayout,
    parser: SliceParser,
    hevc_parser: HevcParser,
    /// Frames with lost slices, and frames seen.
    pub lossy: u64,
    pub frames: u64,
}

impl Checker {
    /// New caps: their framing and parameter sets; the layout is forgotten.
    /// `false` when the caps are not H.264 or HEVC in a known
    /// `stream-format`.
    pub fn set_caps(&mut self, caps: &gst::CapsRef) -> bool {
        self.layout.reset();
        self.parser = SliceParser::new();
        self.hevc_parser = HevcParser::new();
        self.framing = framing(caps);
        self.hevc = caps
            .structure(0)
            .is_some_and(|s| s.name() == "video/x-h265");
        if let Some(cd) = caps
            .structure(0)
            .and_then(|s| s.get::<gst::Buffer>("codec_data").ok())
        {
            if let Ok(m) = cd.map_readable() {
                if self.hevc {
                    self.hevc_parser.codec_data(m.as_slice());
                } else {
                    self.parser.codec_data(m.as_slice());
                }
            }
        }
        self.framing.is_some()
    }

    /// A flush: the layout is forgotten.
    pub fn reset(&mut self) {
        self.layout.reset();
    }

    /// What one access unit lost (nothing before caps).
    pub fn check(&mut self, data: &[u8]) -> SliceLoss {
        let Some(framing) = self.framing else {
            return SliceLoss::default();
        };
        let units = nal_units(data, framing);
        let (slices, recovery): (Vec<_>, bool) = if self.hevc {
            let parser = &mut self.hevc_parser;
            // (IRAP pictures mark the key frames)
            (units.iter().filter_map(|u| parser.unit(u)).collect(), false)
        } else {
            let parser = &mut self.parser;
            (
                units.iter().filter_map(|u| parser.unit(u)).collect(),
                units.iter().any(|u| is_recovery_point(u)),
            )
        };
        let mut loss = self.layout.frame(&slices, recovery);
        if self.hevc {
            loss.block = self.hevc_parser.block();
        }
        self.frames += 1;
        self.lossy += u64::from(!loss.lost.is_empty());
        loss
    }

    /// [`Checker::check`] on a buffer, and the meta attached when there is
    /// anything to tell.
    pub fn check_buffer(&mut self, buffer: &mut gst::BufferRef) -> SliceLoss {
        let loss = match buffer.map_readable() {
            Ok(m) => self.check(m.as_slice()),
            Err(_) => return SliceLoss::default(),
        };
        if !loss.is_clean() || loss.qp.is_some() {
            crate::slicemeta::add_lost_slices(buffer, &loss);
        }
        loss
    }
}

/// How the units of buffers with `caps` are framed.
/// How the units of H.264 or HEVC caps are framed (`None` for other caps).
pub(crate) fn framing(caps: &gst::CapsRef) -> Option<Framing> {
    let s = caps.structure(0)?;
    // where lengthSizeMinusOne is, in the low two bits of a byte of the
    // decoder configuration record; four bytes when there is none
    let size_at = match (s.name().as_str(), s.get::<&str>("stream-format").ok()?) {
        ("video/x-h264" | "video/x-h265", "byte-stream") => return Some(Framing::ByteStream),
        ("video/x-h264", "avc" | "avc3") => 4,
        ("video/x-h265", "hvc1" | "hev1") => 21,
        _ => return None,
    };
    let size = s
        .get::<gst::Buffer>("codec_data")
        .ok()
        .and_then(|b| {
            let m = b.map_readable().ok()?;
            m.get(size_at).map(|&v| usize::from(v & 3) + 1)
        })
        .unwrap_or(4);
    Some(Framing::Length(size))
}

/// Does what the element does in a pad probe on `parser`'s source pad (an
/// `h264parse` or `h265parse` that `uridecodebin` plugged before the
/// decoder, where no element can be put): buffers in access units get the
/// meta.
pub fn attach_to_parser(parser: &gst::Element) {
    let Some(pad) = parser.static_pad("src") else {
        return;
    };
    let checker = std::sync::Mutex::new(Checker::default());
    pad.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            let mut c = checker.lock().unwrap_or_else(|e| e.into_inner());
            match info.data.as_mut() {
                Some(gst::PadProbeData::Buffer(buf)) if c.framing.is_some() => {
                    let loss = match buf.map_readable() {
                        Ok(m) => c.check(m.as_slice()),
                        Err(_) => SliceLoss::default(),
                    };
                    // the buffer is made writable only to carry the meta
                    if !loss.is_clean() || loss.qp.is_some() {
                        crate::slicemeta::add_lost_slices(buf.make_mut(), &loss);
                    }
                }
                Some(gst::PadProbeData::Event(ev)) => match ev.view() {
                    gst::EventView::Caps(caps) => {
                        // access units only: a unit at a time says nothing
                        // of the frame's slices
                        let au = caps
                            .caps()
                            .structure(0)
                            .is_some_and(|s| s.get::<&str>("alignment").is_ok_and(|a| a == "au"));
                        if !(c.set_caps(caps.caps()) && au) {
                            c.framing = None;
                        }
                    }
                    gst::EventView::FlushStop(_) => c.reset(),
                    _ => {}
                },
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}
