//! Lost H.264 slices and HEVC slice segments, told from the coded stream
//! before the decoder.
//!
//! A decoder conceals a slice that never arrived (an RTP or UDP packet lost
//! whole) by copying or smoothing from elsewhere, and the concealment can be
//! hard to see in the pixels, while the coded frame shows the loss plainly:
//! every slice header starts with `first_mb_in_slice`, the macroblock address
//! the slice starts at, so
//!
//! - a frame whose slices do not start at macroblock 0 lost its first slice,
//!   whatever the encoder;
//! - an encoder that cuts every frame into the same slices (a fixed count,
//!   as broadcast and x264 `slices=N` encoders do) repeats the same list of
//!   starts frame after frame; once a stream has kept one list for
//!   [`STABLE_FRAMES`] frames, a frame whose starts are that list with some
//!   missing lost those slices, each reaching to the next start it has.
//!
//! Reference pictures and the others keep a list each (an encoder may cut
//! pictures nothing refers to into fewer slices). Anything else (starts
//! that are not a part of the usual list, a list that changes every frame
//! as with slices cut by size) is taken as the encoder's own layout, never
//! as loss. Loss inside a slice (bit errors, a slice cut short) is not seen
//! here; the pixels have to show it.
//!
//! HEVC works the same way on `slice_segment_address` (in coding tree
//! blocks; the first segment of a picture carries a flag instead), read
//! with the stream's SPS and PPS ([`HevcParser`]); IRAP pictures (IDR, CRA,
//! BLA) are its key frames. The quantiser is read for H.264 only.
//!
//! Concealment errors in a reference picture spread to the pictures
//! predicted from it, often growing as they go, so after a reference
//! picture (`nal_ref_idc` > 0) lost slices, every frame is *tainted* until
//! a complete intra frame (every slice I or SI, nothing lost: IDR and
//! ordinary key frames) or one with a recovery point SEI, or for at most
//! [`TAINT_FRAMES`] frames (streams refreshed gradually, without key
//! frames).
//!
//! Whole pictures lost show in H.264 too: `frame_num` counts reference
//! pictures in decode order (`FrameNum`), so a picture whose count skips
//! one or more follows reference pictures that never arrived (a frame
//! dropped, or a PES packet a demuxer threw away for a transport packet
//! lost), and it and the frames after it are tainted the same way. A
//! picture nothing refers to leaves no such trace; `blockdetect` sees its
//! absence in the frame timing. Streams whose SPS allows gaps in
//! `frame_num` are not judged.

/// Frames with the same slice starts a stream needs before a frame with some
/// of them missing counts as lost slices.
pub const STABLE_FRAMES: u32 = 4;

/// The most frames a loss in a reference picture taints when no key frame
/// comes (10 s at 30 frames a second).
pub const TAINT_FRAMES: u32 = 300;

#[cfg(any(test, feature = "internals"))]
pub use super::h264::FrameNum;
pub use super::h264::{is_recovery_point, Slice, SliceParser};
pub use super::hevc::HevcParser;
// slice headers read one by one, for the tests
pub use super::nal::{nal_units, Framing};
#[cfg(any(test, feature = "internals"))]
pub use {super::h264::slice, super::hevc::hevc_segment};

/// Macroblocks a frame lost: from `first` up to `end` (exclusive; `None`:
/// to the end of the picture).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostRange {
    pub first: u32,
    pub end: Option<u32>,
}

/// What a coded frame lost: its own macroblocks, and whether it refers to
/// pictures that lost some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SliceLoss {
    pub lost: Vec<LostRange>,
    pub tainted: bool,
    /// The frame's quantiser: the mean of its slices' (rounded), when known.
    pub qp: Option<i32>,
    /// The size in pixels of the blocks `lost` counts (16: H.264
    /// macroblocks; HEVC: the CTB size; 0 counts as 16).
    pub block: u32,
}

impl SliceLoss {
    /// Nothing lost.
    pub fn is_clean(&self) -> bool {
        self.lost.is_empty() && !self.tainted
    }
}

/// Follows a stream's slice layouts frame by frame, one for reference
/// pictures and one for the others (an encoder may cut pictures nothing
/// refers to into fewer slices), and the taint of a lost reference; see
/// the module documentation.
#[derive(Debug, Clone, Default)]
pub struct SliceLayout {
    reference: Layout,
    other: Layout,
    /// Frames still tainted by a reference picture that lost slices.
    taint: u32,
    /// The `frame_num` of the last reference picture (H.264), and its
    /// modulus.
    prev_ref: Option<(u32, u32)>,
}

/// One slice layout: the starts a kind of frame keeps to.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The starts of the last frame taken as the encoder's layout, sorted.
    usual: Vec<u32>,
    /// Frames in a row that had exactly `usual`.
    stable: u32,
}

impl SliceLayout {
    #[cfg(any(test, feature = "internals"))]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the layouts (a flush, a caps change, a discontinuity).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The slices of one coded frame in decode order (in any order within
    /// the frame), and whether it carries a recovery point SEI; returns what
    /// it lost. A frame with no slice at all is not judged (it may carry
    /// only parameter sets or SEI).
    pub fn frame(&mut self, slices: &[Slice], recovery_point: bool) -> SliceLoss {
        if slices.is_empty() {
            return SliceLoss::default();
        }
        let starts: Vec<u32> = slices.iter().map(|s| s.first_mb).collect();
        let reference = slices.iter().any(|s| s.reference);
        let lost = if reference {
            self.reference.push(&starts)
        } else {
            self.other.push(&starts)
        };
        let key = lost.is_empty() && (recovery_point || slices.iter().all(|s| s.intra));
        if key {
            self.taint = 0;
        }
        if self.skipped_reference(slices, reference) && !key {
            self.taint = TAINT_FRAMES;
        }
        let tainted = self.taint > 0;
        self.taint = self.taint.saturating_sub(1);
        if !lost.is_empty() && reference {
            self.taint = TAINT_FRAMES;
        }
        let qps: Vec<i32> = slices.iter().filter_map(|s| s.qp).collect();
        let qp = (!qps.is_empty()).then(|| {
            let n = qps.len() as i32;
            (qps.iter().sum::<i32>() + n / 2).div_euclid(n)
        });
        SliceLoss {
            lost,
            tainted,
            qp,
            block: 16,
        }
    }
}

impl SliceLayout {
    /// Whether this picture's `frame_num` skips reference pictures (see
    /// `FrameNum`); follows the count.
    fn skipped_reference(&mut self, slices: &[Slice], reference: bool) -> bool {
        let Some(n) = slices.iter().find_map(|s| s.frame_num) else {
            return false;
        };
        let skipped = match self.prev_ref {
            Some((p, max)) if !n.idr && max == n.max => n.value != p && n.value != (p + 1) % max,
            _ => false,
        };
        if reference {
            self.prev_ref = Some((if n.reset { 0 } else { n.value }, n.max));
        }
        skipped
    }
}

impl Layout {
    /// Forgets the layout.
    #[cfg(any(test, feature = "internals"))]
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The slice starts of one coded frame of this layout's kind, in any
    /// order; returns what it lost.
    pub fn push(&mut self, starts: &[u32]) -> Vec<LostRange> {
        if starts.is_empty() {
            return Vec::new();
        }
        let mut s = starts.to_vec();
        s.sort_unstable();
        if s == self.usual {
            self.stable = self.stable.saturating_add(1);
            return Vec::new();
        }
        let mut lost = Vec::new();
        if self.stable >= STABLE_FRAMES && is_sub_multiset(&s, &self.usual) {
            // the usual layout with slices missing: each reaches to the
            // next start the frame has
            let mut have = s.iter().peekable();
            let mut prev_missing = false;
            for &u in &self.usual {
                if have.peek() == Some(&&u) {
                    have.next();
                    prev_missing = false;
                    continue;
                }
                if !prev_missing {
                    lost.push(LostRange {
                        first: u,
                        end: have.peek().map(|&&n| n),
                    });
                }
                prev_missing = true;
            }
            // the usual layout stays
            return lost;
        }
        if s[0] != 0 {
            lost.push(LostRange {
                first: 0,
                end: Some(s[0]),
            });
            // only the starts it has are known
            return lost;
        }
        self.usual = s;
        self.stable = 1;
        lost
    }
}

/// Whether sorted `a` is a proper part of sorted `b`, counting repeats.
fn is_sub_multiset(a: &[u32], b: &[u32]) -> bool {
    if a.len() >= b.len() {
        return false;
    }
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            return false;
        }
        j += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `v` as Exp-Golomb bits.
    fn ue(v: u32) -> Vec<u8> {
        let v = u64::from(v) + 1;
        let len = 64 - v.leading_zeros();
        // len - 1 zeros, then v in len bits
        let mut bits: Vec<u8> = vec![0; len as usize - 1];
        bits.extend((0..len).rev().map(|i| ((v >> i) & 1) as u8));
        bits
    }

    /// An H.264 slice unit of type `t` (a reference picture) whose header
    /// starts with `first_mb_in_slice` = `mb` and a P slice type, then
    /// `rest`.
    fn unit(t: u8, mb: u32, rest: &[u8]) -> Vec<u8> {
        typed(0x60 | t, mb, 0, rest)
    }

    /// A slice unit with NAL header `header`, `first_mb_in_slice` `mb` and
    /// `slice_type` `st`.
    fn typed(header: u8, mb: u32, st: u32, rest: &[u8]) -> Vec<u8> {
        let mut bits = ue(mb);
        bits.extend(ue(st));
        // a stop bit, byte aligned
        bits.push(1);
        while !bits.len().is_multiple_of(8) {
            bits.push(0);
        }
        let mut out = vec![header];
        out.extend(
            bits.chunks(8)
                .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | b)),
        );
        out.extend_from_slice(rest);
        out
    }

    #[test]
    fn first_mb_of_slices_and_not_of_other_units() {
        for mb in [0, 1, 2, 219, 660, 8159, 65535] {
            for t in [1, 2, 5] {
                assert_eq!(
                    slice(&unit(t, mb, &[0xff])).map(|s| s.first_mb),
                    Some(mb),
                    "{t} {mb}"
                );
            }
        }
        // SPS, PPS, SEI, AUD and partitions B and C carry no slice header
        for t in [3, 4, 6, 7, 8, 9] {
            assert_eq!(slice(&unit(t, 5, &[0xff])), None);
        }
        // forbidden bit set, empty, cut short
        assert_eq!(slice(&[0x80 | 0x65, 0x80]), None);
        assert_eq!(slice(&[]), None);
        assert_eq!(slice(&[0x65]), None);
        assert_eq!(slice(&[0x65, 0x00]), None);
        // 40 zero bits: no code of 32 bits
        assert_eq!(slice(&[0x65, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn slice_types_and_reference_pictures() {
        for (st, intra) in [(0, false), (1, false), (2, true), (3, false), (4, true)] {
            for st in [st, st + 5] {
                let s = slice(&typed(0x65, 7, st, &[])).unwrap();
                assert_eq!((s.first_mb, s.intra, s.reference), (7, intra, true));
            }
        }
        // nal_ref_idc 0: a picture nothing refers to
        assert!(!slice(&typed(0x01, 0, 1, &[])).unwrap().reference);
        assert!(slice(&typed(0x21, 0, 1, &[])).unwrap().reference);
        // no slice type 10 or more
        assert_eq!(slice(&typed(0x65, 0, 10, &[])), None);
        // recovery point SEI (payload type 6) and other SEI
        assert!(is_recovery_point(&[0x06, 0x06, 0x01, 0x84, 0x80]));
        assert!(!is_recovery_point(&[0x06, 0x05, 0x10]));
        assert!(!is_recovery_point(&[0x65, 0x06]));
        assert!(!is_recovery_point(&[0x06]));
    }

    fn p(mb: u32) -> Slice {
        Slice {
            first_mb: mb,
            intra: false,
            reference: true,
            qp: None,
            frame_num: None,
        }
    }

    /// A slice of a picture counted `n` (modulo 16).
    fn counted(n: u32, reference: bool, idr: bool) -> Vec<Slice> {
        vec![Slice {
            intra: idr,
            reference,
            frame_num: Some(FrameNum {
                value: n % 16,
                max: 16,
                idr,
                reset: false,
            }),
            ..p(0)
        }]
    }

    #[test]
    fn a_reference_picture_missing_from_the_count_taints_up_to_the_next_key_frame() {
        let mut l = SliceLayout::new();
        // IDR, then P B P B ...: each P one more, each B its P's count + 1
        assert!(l.frame(&counted(0, true, true), false).is_clean());
        for n in 1..20 {
            assert!(l.frame(&counted(n, true, false), false).is_clean(), "{n}");
            assert!(
                l.frame(&counted(n + 1, false, false), false).is_clean(),
                "{n}"
            );
        }
        // the count wrapped at 16 without complaint; a B lost leaves none
        assert!(l.frame(&counted(20, true, false), false).is_clean());
        // P 21 lost: P 22 and what follows are tainted
        let got = l.frame(&counted(22, true, false), false);
        assert!(got.tainted && got.lost.is_empty());
        assert!(l.frame(&counted(23, false, false), false).tainted);
        assert!(l.frame(&counted(23, true, false), false).tainted);
        // until the next IDR, which restarts the count
        assert!(l.frame(&counted(0, true, true), false).is_clean());
        assert!(l.frame(&counted(1, true, false), false).is_clean());
        // a stream joined midway is judged from its first reference on
        let mut l = SliceLayout::new();
        assert!(l.frame(&counted(9, false, false), false).is_clean());
        assert!(l.frame(&counted(7, true, false), false).is_clean());
        assert!(l.frame(&counted(8, true, false), false).is_clean());
        assert!(l.frame(&counted(10, true, false), false).tainted);
        // a picture after one that marked every reference unused counts from 0
        let mut l = SliceLayout::new();
        assert!(l.frame(&counted(5, true, false), false).is_clean());
        let mut mmco5 = counted(6, true, false);
        mmco5[0].frame_num.as_mut().unwrap().reset = true;
        assert!(l.frame(&mmco5, false).is_clean());
        assert!(l.frame(&counted(1, true, false), false).is_clean());
    }

    fn frame(make: fn(u32) -> Slice, starts: &[u32]) -> Vec<Slice> {
        starts.iter().map(|&m| make(m)).collect()
    }

    #[test]
    fn a_loss_in_a_reference_taints_frames_up_to_the_next_key_frame() {
        let i = |mb| Slice {
            intra: true,
            ..p(mb)
        };
        let b = |mb| Slice {
            reference: false,
            ..p(mb)
        };
        let mut l = SliceLayout::new();
        for _ in 0..STABLE_FRAMES {
            assert!(l.frame(&frame(p, &USUAL), false).is_clean());
            assert!(l.frame(&frame(b, &USUAL), false).is_clean());
        }
        // a non-reference frame's loss is its own
        let got = l.frame(&frame(b, &[0, 220, 660]), false);
        assert_eq!((got.lost.len(), got.tainted), (1, false));
        assert!(l.frame(&frame(p, &USUAL), false).is_clean());
        // a reference frame's loss taints what follows
        let got = l.frame(&frame(p, &[0, 220, 660]), false);
        assert_eq!((got.lost.len(), got.tainted), (1, false));
        for _ in 0..5 {
            let got = l.frame(&frame(b, &USUAL), false);
            assert!(got.lost.is_empty() && got.tainted);
        }
        // an intra frame that lost a slice is no key frame
        let got = l.frame(&frame(i, &[0, 220, 440]), false);
        assert_eq!((got.lost.len(), got.tainted), (1, true));
        assert!(l.frame(&frame(p, &USUAL), false).tainted);
        // a whole intra frame is
        assert!(l.frame(&frame(i, &USUAL), false).is_clean());
        assert!(l.frame(&frame(p, &USUAL), false).is_clean());
        // so is a recovery point
        l.frame(&frame(p, &[0, 220, 440]), false);
        assert!(l.frame(&frame(p, &USUAL), false).tainted);
        assert!(l.frame(&frame(p, &USUAL), true).is_clean());
        // without either, the taint wears off
        l.frame(&frame(p, &[0, 220, 440]), false);
        for _ in 0..TAINT_FRAMES {
            assert!(l.frame(&frame(p, &USUAL), false).tainted);
        }
        assert!(l.frame(&frame(p, &USUAL), false).is_clean());
        // a reset forgets it
        l.frame(&frame(p, &[0, 220, 440]), false);
        l.reset();
        assert!(l.frame(&frame(p, &USUAL), false).is_clean());
    }

    /// An encoder may cut the frames nothing refers to into fewer slices:
    /// reference and other frames keep a layout each, and neither is judged
    /// by the other's.
    #[test]
    fn frames_nothing_refers_to_keep_a_layout_of_their_own() {
        let b = |mb| Slice {
            reference: false,
            ..p(mb)
        };
        let mut l = SliceLayout::new();
        // long runs of P frames in four slices, now and then a B in two
        for run in 0..6 {
            for _ in 0..STABLE_FRAMES + run {
                assert!(l.frame(&frame(p, &USUAL), false).is_clean());
            }
            assert!(l.frame(&frame(b, &[0, 440]), false).is_clean(), "{run}");
        }
        // each layout still finds its own losses
        let got = l.frame(&frame(b, &[0]), false);
        assert_eq!(
            got.lost,
            [LostRange {
                first: 440,
                end: None
            }]
        );
        let got = l.frame(&frame(p, &[0, 220, 660]), false);
        assert_eq!(
            got.lost,
            [LostRange {
                first: 440,
                end: Some(660)
            }]
        );
        // a frame without slices is not judged
        assert!(l.frame(&[], false).is_clean());
    }

    #[test]
    fn emulation_prevention_bytes_are_skipped() {
        // first_mb_in_slice = 2^17 - 1: 16 zero bits, then 1 and 16 ones
        // (00 00 80 ...), written with an emulation-prevention byte after
        // the two zero bytes
        let unit = [0x65, 0x00, 0x00, 0x03, 0xff, 0xff, 0xc0];
        assert_eq!(
            slice(&unit).map(|s| s.first_mb),
            Some((1 << 16) - 1 + 0xffff)
        );
    }

    #[test]
    fn units_of_byte_stream_and_length_prefixed_buffers() {
        let a = unit(5, 0, &[1, 2]);
        let b = unit(1, 220, &[3]);
        let mut bs = vec![0, 0, 0, 1];
        bs.extend_from_slice(&[0x09, 0xf0]);
        bs.extend_from_slice(&[0, 0, 1]);
        bs.extend_from_slice(&a);
        bs.extend_from_slice(&[0, 0, 0, 0, 1]);
        bs.extend_from_slice(&b);
        let units = nal_units(&bs, Framing::ByteStream);
        assert_eq!(units, [&[0x09, 0xf0][..], &a[..], &b[..]]);
        let mut avc = Vec::new();
        for u in [&a, &b] {
            avc.extend_from_slice(&(u.len() as u32).to_be_bytes());
            avc.extend_from_slice(u);
        }
        assert_eq!(nal_units(&avc, Framing::Length(4)), [&a[..], &b[..]]);
        // a size running past the end: the unit as far as it goes
        let mut cut = avc.clone();
        cut.truncate(avc.len() - 1);
        assert_eq!(nal_units(&cut, Framing::Length(4))[1], &b[..b.len() - 1]);
        // two-byte sizes
        let mut avc2 = Vec::new();
        avc2.extend_from_slice(&(a.len() as u16).to_be_bytes());
        avc2.extend_from_slice(&a);
        assert_eq!(nal_units(&avc2, Framing::Length(2)), [&a[..]]);
        // nothing framed at all
        assert!(nal_units(&[], Framing::ByteStream).is_empty());
        assert!(nal_units(&[1, 2, 3, 4, 5], Framing::ByteStream).is_empty());
        assert!(nal_units(&[0, 0, 0], Framing::Length(4)).is_empty());
    }

    const USUAL: [u32; 4] = [0, 220, 440, 660];

    fn settled() -> Layout {
        let mut l = Layout::default();
        for _ in 0..STABLE_FRAMES {
            assert!(l.push(&USUAL).is_empty());
        }
        l
    }

    #[test]
    fn a_missing_slice_of_a_steady_layout_is_lost() {
        let mut l = settled();
        // the second slice: up to the third start
        assert_eq!(
            l.push(&[0, 440, 660]),
            [LostRange {
                first: 220,
                end: Some(440)
            }]
        );
        // the last: to the end of the picture; order does not matter
        assert_eq!(
            l.push(&[440, 0, 220]),
            [LostRange {
                first: 660,
                end: None
            }]
        );
        // two in a row are one range; two apart are two
        assert_eq!(
            l.push(&[0, 660]),
            [LostRange {
                first: 220,
                end: Some(660)
            }]
        );
        assert_eq!(
            l.push(&[0, 440]),
            [
                LostRange {
                    first: 220,
                    end: Some(440)
                },
                LostRange {
                    first: 660,
                    end: None
                }
            ]
        );
        // the first slice: up to the first start there is
        assert_eq!(
            l.push(&[220, 440, 660]),
            [LostRange {
                first: 0,
                end: Some(220)
            }]
        );
        // the layout is kept through losses
        assert!(l.push(&USUAL).is_empty());
    }

    #[test]
    fn a_layout_needs_steady_frames_before_missing_slices_count() {
        let mut l = Layout::default();
        for _ in 0..STABLE_FRAMES - 1 {
            assert!(l.push(&USUAL).is_empty());
        }
        // too early: taken as a new layout
        assert!(l.push(&[0, 440, 660]).is_empty());
        // and the old one is forgotten
        assert!(l.push(&USUAL).is_empty());
    }

    #[test]
    fn slices_cut_by_size_are_never_loss() {
        let mut l = Layout::default();
        let mut x = 12345u32;
        for _ in 0..500 {
            let mut starts = vec![0];
            for _ in 0..4 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let next = starts.last().unwrap() + 1 + (x >> 16) % 300;
                starts.push(next);
            }
            // a frame of one slice now and then
            if x.is_multiple_of(7) {
                starts.truncate(1);
            }
            assert!(l.push(&starts).is_empty(), "{starts:?}");
        }
    }

    #[test]
    fn a_frame_not_starting_at_zero_lost_its_first_slice_whatever_the_layout() {
        let mut l = Layout::default();
        assert_eq!(
            l.push(&[300, 600]),
            [LostRange {
                first: 0,
                end: Some(300)
            }]
        );
        // the usual layout is not taken from such a frame
        for _ in 0..STABLE_FRAMES {
            assert!(l.push(&USUAL).is_empty());
        }
        // a new, steady layout with more slices is the encoder's
        let more = [0, 110, 220, 330, 440, 550, 660, 770];
        for _ in 0..STABLE_FRAMES + 1 {
            assert!(l.push(&more).is_empty());
        }
        assert_eq!(
            l.push(&[0, 110, 330, 440, 550, 660, 770]),
            [LostRange {
                first: 220,
                end: Some(330)
            }]
        );
        // after a reset nothing is known
        l.reset();
        assert!(l.push(&[0, 330]).is_empty());
    }

    #[test]
    fn field_pictures_repeat_their_starts() {
        // two fields in one buffer: each starts at 0
        let mut l = Layout::default();
        let both = [0, 0, 120, 120];
        for _ in 0..STABLE_FRAMES {
            assert!(l.push(&both).is_empty());
        }
        assert_eq!(
            l.push(&[0, 0, 120]),
            [LostRange {
                first: 120,
                end: None
            }]
        );
        assert!(l.push(&[]).is_empty());
    }
}
