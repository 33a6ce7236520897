//! Decoding economy for applications that build monitoring pipelines: what
//! a decoder may leave out when the detectors downstream do not need it.

use gst::prelude::*;

/// Makes a software decoder (`avdec_*`) skip the frames no other frame
/// refers to: the non-reference B-frames, three frames in four of an IBBBP
/// stream without B-pyramid (fewer with it), at no cost to black, freeze or audio detection
/// beyond their timing (a defect's start and end then fall on the nearest
/// decoded frame, at most the distance between reference frames away).
/// Not for `blockdetect` (corruption shows in any frame) nor
/// `avsyncdetect` on content (it times picture changes to the frame).
///
/// How: the decoder's input segments are marked as a trick mode, which
/// `avdec_*` answers with libav's `AVDISCARD_NONREF`. Its own `skip-frame`
/// property cannot do it: gst-libav 1.22 hands the property's values (1
/// "Skip B-frames", 2, 5 "Skip everything") to libav unchanged, where
/// skipping starts at 8 (`AVDISCARD_NONREF`), so every value skips nothing.
/// Meant for `avdec_*` (what other decoders make of the mark is theirs).
/// Downstream elements see the segment with the trick-mode flag.
pub fn skip_nonreference_frames(decoder: &gst::Element) {
    let Some(pad) = decoder.static_pad("sink") else {
        return;
    };
    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, |_, info| {
        if let Some(gst::PadProbeData::Event(ev)) = &info.data {
            if let gst::EventView::Segment(s) = ev.view() {
                let mut segment = s.segment().clone();
                if !segment.flags().contains(gst::SegmentFlags::TRICKMODE) {
                    segment.set_flags(segment.flags() | gst::SegmentFlags::TRICKMODE);
                    let marked = gst::event::Segment::builder(&segment)
                        .seqnum(ev.seqnum())
                        .build();
                    info.data = Some(gst::PadProbeData::Event(marked));
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}
