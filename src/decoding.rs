//! Decoding economy for applications that build monitoring pipelines: what
//! a decoder may leave out when the detectors downstream do not need it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use gst::prelude::*;

use crate::analysis::coded::bskip::{BSkipper, Mode};
use crate::analysis::coded::slices::Framing;
use crate::analysis::coded::stillgate::{coded, Coded, StillGate, Verdict};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "avmonitordecoding",
        gst::DebugColorFlags::empty(),
        Some("avmonitor decoding economy"),
    )
});

/// Makes a software decoder (`avdec_*`) skip the frames the detectors that
/// allow it do not need: black, freeze, silence, clipping and loudness
/// lose nothing but timing (a defect's start and end fall on the nearest
/// decoded frame, at most the distance between decoded frames away). Not
/// for `blockdetect` (corruption shows in any frame), `cadencedetect`, nor
/// `avsyncdetect` on content (it times picture changes to the frame).
///
/// Two ways, both on the decoder's sink pad:
/// - **Pictures nothing refers to**, in any codec: the decoder's input
///   segments are marked as a trick mode, which `avdec_*` answers with
///   libav's `AVDISCARD_NONREF`. Its own `skip-frame` property cannot do
///   it: gst-libav 1.22 hands the property's values (1 "Skip B-frames", 2,
///   5 "Skip everything") to libav unchanged, where skipping starts at 8
///   (`AVDISCARD_NONREF`), so every value skips nothing. Downstream
///   elements see the segment with the trick-mode flag.
/// - **Every B picture** of H.264, reference ones (B-pyramid) included,
///   dropped before the decoder once the stream has shown that no I or P
///   picture refers to a B picture (see
///   [`crate::analysis::coded::bskip`]), and never in a stream where one
///   may. In an IBBBP stream with B-pyramid that leaves a third of the
///   pictures to decode, against a half with the first way alone.
///
/// Meant for `avdec_*` (what other decoders make of the mark is theirs).
pub fn skip_frames(decoder: &gst::Element) {
    let Some(pad) = decoder.static_pad("sink") else {
        return;
    };
    let skipper = Arc::new(Mutex::new(BSkip::default()));
    pad.add_probe(
        gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::BUFFER,
        move |pad, info| {
            match &info.data {
                Some(gst::PadProbeData::Buffer(buf))
                    if !crate::glue::lock(&skipper).pass(pad, buf) =>
                {
                    // taken, and dropped with `info` (`Drop` has GStreamer
                    // 1.22 unref the buffer gstreamer-rs already took: a
                    // critical)
                    return gst::PadProbeReturn::Handled;
                }
                Some(gst::PadProbeData::Event(ev)) => {
                    crate::glue::lock(&skipper).event(ev);
                    if let gst::EventView::Segment(s) = ev.view() {
                        let flags = gst::SegmentFlags::TRICKMODE;
                        if let Some(marked) = marked(ev, s.segment(), flags) {
                            info.data = Some(gst::PadProbeData::Event(marked));
                        }
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// The segment event `ev` (of `segment`) again with `flags` set, or
/// `None` when they are set already.
fn marked(ev: &gst::Event, segment: &gst::Segment, flags: gst::SegmentFlags) -> Option<gst::Event> {
    (!segment.flags().contains(flags))
        .then(|| segment_event(segment, ev.seqnum(), flags, gst::SegmentFlags::empty()))
}

/// A segment event of `segment` with `set` flags set and `clear` cleared.
fn segment_event(
    segment: &gst::Segment,
    seqnum: gst::Seqnum,
    set: gst::SegmentFlags,
    clear: gst::SegmentFlags,
) -> gst::Event {
    let mut segment = segment.clone();
    segment.set_flags((segment.flags() | set) - clear);
    gst::event::Segment::builder(&segment)
        .seqnum(seqnum)
        .build()
}

/// Every B picture of H.264 dropped before the decoder where the stream
/// allows it (the `bskip` kernel), fed the decoder's input caps.
#[derive(Default)]
struct BSkip(Option<BSkipper>);

impl BSkip {
    /// Whether `buf` goes on to the decoder.
    fn pass(&mut self, pad: &gst::Pad, buf: &gst::Buffer) -> bool {
        let Some(s) = self.0.as_mut().filter(|s| s.mode() != Mode::Off) else {
            return true;
        };
        let Ok(map) = buf.map_readable() else {
            return true;
        };
        let before = s.mode();
        let pass = s.pass(map.as_slice());
        if s.mode() != before {
            let (pictures, dropped) = s.counts();
            match s.mode() {
                Mode::Dropping => gst::info!(
                    CAT,
                    obj = pad,
                    "dropping B pictures from {}: no P picture referred to one in {} that could (picture {pictures})",
                    buf.pts().display(),
                    crate::analysis::coded::bskip::EVIDENCE
                ),
                _ => gst::info!(
                    CAT,
                    obj = pad,
                    "B pictures decoded from {} on: a P picture may refer to one, or the stream is not followed (picture {pictures}, {dropped} dropped before)",
                    buf.pts().display()
                ),
            }
        }
        pass
    }

    /// Follows the caps (H.264 or not, its framing) and flushes.
    fn event(&mut self, ev: &gst::Event) {
        match ev.view() {
            gst::EventView::Caps(c) => {
                let caps = c.caps();
                let h264 = caps
                    .structure(0)
                    .is_some_and(|s| s.name() == "video/x-h264");
                if !h264 {
                    self.0 = None;
                } else {
                    let s = self.0.get_or_insert_with(BSkipper::new);
                    let cd = caps
                        .structure(0)
                        .and_then(|st| st.get::<gst::Buffer>("codec_data").ok());
                    let map = cd.as_ref().and_then(|b| b.map_readable().ok());
                    s.set_format(
                        crate::slicecheck::framing(caps),
                        map.as_ref().map(|m| m.as_slice()),
                    );
                }
            }
            gst::EventView::FlushStop(_) => {
                if let Some(s) = self.0.as_mut() {
                    s.reset();
                }
            }
            _ => {}
        }
    }
}

/// Makes a decoder decode keyframes only: every picture marked a delta
/// unit (`GST_BUFFER_FLAG_DELTA_UNIT`, as the parsers mark all but
/// keyframes) is dropped before it, and its input segments are marked as a
/// key-units trick mode, which `GstVideoDecoder` answers by draining the
/// decoder after each keyframe. Without the drain, libav holds each picture
/// back until as many more have come as the stream may reorder (2 in x264
/// encodes with B-frames), one more with frame threads: GOPs, seconds late.
///
/// For monitors of very many streams that accept a picture a GOP: black
/// and freeze starts and ends fall on keyframes (up to a GOP from the true
/// ones), and a freeze is seen only where two keyframes in a row show it.
/// The sound is untouched. Works with any decoder that takes parsed input
/// (what other decoders make of the trick mode is theirs).
pub fn keyframes_only(decoder: &gst::Element) {
    let Some(pad) = decoder.static_pad("sink") else {
        return;
    };
    pad.add_probe(
        gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::BUFFER,
        move |_, info| {
            match &info.data {
                Some(gst::PadProbeData::Buffer(buf))
                    if buf.flags().contains(gst::BufferFlags::DELTA_UNIT) =>
                {
                    // taken, and dropped with `info` (see `skip_frames`)
                    return gst::PadProbeReturn::Handled;
                }
                Some(gst::PadProbeData::Event(ev)) => {
                    if let gst::EventView::Segment(s) = ev.view() {
                        let flags =
                            gst::SegmentFlags::TRICKMODE | gst::SegmentFlags::TRICKMODE_KEY_UNITS;
                        if let Some(marked) = marked(ev, s.segment(), flags) {
                            info.data = Some(gst::PadProbeData::Event(marked));
                        }
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// Makes a decoder decode keyframes only while pictures move, and every I
/// and P picture of a GOP where they stand still: black (and a freeze the
/// encoder codes as skipped blocks) timed to the picture, as with
/// [`skip_frames`], at about the cost of [`keyframes_only`] on moving
/// pictures; other freezes are seen as [`keyframes_only`] sees them.
///
/// Before the decoder, the B pictures go as with [`skip_frames`], and the
/// pictures nothing refers to (which the default's decoder skips); of the
/// rest, each GOP's delta units are held back and its keyframe passes
/// alone, drained at once (the key-units trick mode of [`keyframes_only`]).
/// When a held GOP shows a still picture (nearly free to code: see
/// [`crate::analysis::coded::stillgate`]), the decoder's segment loses the
/// key-units mark, the keyframe is passed again with every picture held
/// since, and the GOP is decoded to its end; the keyframe's second picture
/// is dropped after the decoder. Pictures held back then reach the
/// detectors late, together: by up to a GOP at the start of a still
/// stretch.
///
/// Meant for `avdec_*` (the trick modes are `GstVideoDecoder`'s and
/// gst-libav's).
pub fn keyframes_until_still(decoder: &gst::Element) {
    let (Some(sink), Some(src)) = (decoder.static_pad("sink"), decoder.static_pad("src")) else {
        return;
    };
    let gate = Arc::new(Mutex::new(Gate::default()));
    // the keyframe passed again, whose second picture is dropped
    let again = Arc::new(Mutex::new(None::<gst::ClockTime>));
    let replaying = Arc::new(AtomicBool::new(false));
    let a = again.clone();
    sink.add_probe(
        gst::PadProbeType::EVENT_DOWNSTREAM | gst::PadProbeType::BUFFER,
        move |pad, info| {
            if replaying.load(Ordering::SeqCst) {
                return gst::PadProbeReturn::Ok;
            }
            match &info.data {
                Some(gst::PadProbeData::Buffer(buf)) => {
                    let mut g = crate::glue::lock(&gate);
                    let fed = g.bskip.pass(pad, buf);
                    let key = !buf.flags().contains(gst::BufferFlags::DELTA_UNIT);
                    let c = match (g.framing, buf.map_readable()) {
                        (Some((framing, hevc)), Ok(map)) => coded(&map, framing, hevc),
                        _ => Coded {
                            slice_bytes: buf.size(),
                            non_reference: false,
                        },
                    };
                    // what the default's decoder skips (B pictures dropped,
                    // AVDISCARD_NONREF) never waits, but its size says
                    // whether the picture stands still
                    if !fed || (!key && c.non_reference) {
                        g.still.skipped(c.slice_bytes);
                        return gst::PadProbeReturn::Handled;
                    }
                    let verdict = g.still.picture(key, c.slice_bytes);
                    match verdict {
                        Verdict::Pass | Verdict::Close => {
                            if key {
                                g.keyframe = Some(buf.clone());
                                g.held.clear();
                            }
                            let segment = (verdict == Verdict::Close)
                                .then(|| g.segment(true))
                                .flatten();
                            drop(g);
                            if let Some(segment) = segment {
                                replaying.store(true, Ordering::SeqCst);
                                pad.send_event(segment);
                                replaying.store(false, Ordering::SeqCst);
                            }
                        }
                        Verdict::Drop => return gst::PadProbeReturn::Handled,
                        Verdict::Hold => {
                            g.held.push(buf.clone());
                            return gst::PadProbeReturn::Handled;
                        }
                        Verdict::Open => {
                            let segment = g.segment(false);
                            let keyframe = g.keyframe.clone();
                            let held = std::mem::take(&mut g.held);
                            let (gops, opened) = g.still.counts();
                            drop(g);
                            gst::debug!(
                                CAT,
                                obj = pad,
                                "a still picture at {}: its GOP decoded whole ({opened} of {gops} GOPs so far)",
                                buf.pts().display()
                            );
                            replaying.store(true, Ordering::SeqCst);
                            if let Some(segment) = segment {
                                pad.send_event(segment);
                            }
                            // a flow error (or flushing) comes back to
                            // upstream with the picture that opened the GOP
                            if let Some(k) = keyframe {
                                *crate::glue::lock(&a) = k.pts();
                                let _ = pad.chain(k);
                            }
                            for b in held {
                                let _ = pad.chain(b);
                            }
                            replaying.store(false, Ordering::SeqCst);
                        }
                    }
                }
                Some(gst::PadProbeData::Event(ev)) => {
                    let mut g = crate::glue::lock(&gate);
                    g.bskip.event(ev);
                    match ev.view() {
                        gst::EventView::Segment(s) => {
                            g.upstream = Some((s.segment().clone(), ev.seqnum()));
                            if let Some(marked) = g.segment(!g.still.is_open()) {
                                info.data = Some(gst::PadProbeData::Event(marked));
                            }
                        }
                        gst::EventView::Caps(c) => {
                            let hevc = c
                                .caps()
                                .structure(0)
                                .is_some_and(|s| s.name() == "video/x-h265");
                            g.framing =
                                crate::slicecheck::framing(c.caps()).map(|f| (f, hevc));
                            let size = c.caps().structure(0).and_then(|s| {
                                Some((s.get::<i32>("width").ok()?, s.get::<i32>("height").ok()?))
                            });
                            if let Some((w, h)) = size {
                                g.still.set_size(w.max(0) as u32, h.max(0) as u32);
                            }
                        }
                        gst::EventView::FlushStop(_) => {
                            g.still.reset();
                            g.held.clear();
                            g.keyframe = None;
                            *crate::glue::lock(&a) = None;
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            gst::PadProbeReturn::Ok
        },
    );
    src.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = &info.data {
            let mut again = crate::glue::lock(&again);
            if again.is_some() && *again == buf.pts() {
                *again = None;
                // the keyframe's picture a second time (see `skip_frames`)
                return gst::PadProbeReturn::Handled;
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// The state of [`keyframes_until_still`] before the decoder.
struct Gate {
    bskip: BSkip,
    still: StillGate,
    /// how the input's NAL units are framed, and whether it is HEVC (else
    /// H.264), when it is either
    framing: Option<(Framing, bool)>,
    /// the upstream segment (before the trick-mode marks) and its seqnum
    upstream: Option<(gst::Segment, gst::Seqnum)>,
    /// the current GOP's keyframe
    keyframe: Option<gst::Buffer>,
    /// its delta units held back
    held: Vec<gst::Buffer>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            bskip: BSkip::default(),
            still: StillGate::new(0, 0),
            framing: None,
            upstream: None,
            keyframe: None,
            held: Vec::new(),
        }
    }
}

impl Gate {
    /// The upstream segment again, marked a trick mode that skips
    /// non-reference pictures, and (`key_units`) one that drains the
    /// decoder after each keyframe.
    fn segment(&self, key_units: bool) -> Option<gst::Event> {
        let (segment, seqnum) = self.upstream.as_ref()?;
        let key = gst::SegmentFlags::TRICKMODE_KEY_UNITS;
        let (set, clear) = if key_units {
            (key, gst::SegmentFlags::empty())
        } else {
            (gst::SegmentFlags::empty(), key)
        };
        Some(segment_event(
            segment,
            *seqnum,
            set | gst::SegmentFlags::TRICKMODE,
            clear,
        ))
    }
}
