//! Which GOPs a decoder must decode whole when it otherwise decodes
//! keyframes only: the ones where the picture stands still.
//!
//! A picture that repeats the one before it (a freeze) or holds a flat
//! black coded picture after coded picture is nearly free to code: an
//! encoder codes its blocks as skipped, a fraction of a bit each, where
//! moving pictures take tens of bits a macroblock. So the coded size of the
//! pictures between keyframes says, before anything is decoded, where black
//! or a freeze may begin, go on or end. The gate holds each GOP's delta
//! pictures back from the decoder and lets the keyframe alone through,
//! until a picture of the GOP is still: then the keyframe is decoded again
//! with every picture held since, and the rest of the GOP follows. Black
//! and freeze are then timed to the picture, as with every picture decoded,
//! at about the cost of decoding keyframes alone while pictures move.
//!
//! A picture counts as still when it takes less than [`STILL_BITS_PER_MB`]
//! bits a macroblock or [`STILL_BYTES`] bytes, or less than an eighth ([`STILL_SHARE`]) of the
//! median of the last [`RECENT`] delta pictures (at low resolutions and
//! generous bitrates, x264 spends the first pictures of a freeze sharpening
//! it: smaller than moving pictures by ten times, but above the absolute
//! bound). Only the coded slices count ([`coded`]): a constant-bitrate
//! encoder pads a black picture's few bytes of slices to its share of the
//! bitrate with filler data, and each picture may carry parameter sets and
//! SEI.
//!
//! The pictures the decoder is not fed (B pictures, pictures nothing refers
//! to) are weighed too ([`StillGate::skipped`]): an encoder at an average
//! bitrate spends a freeze's P pictures sharpening it, as many bits as
//! moving ones take, while its B pictures, predicted from two sharpened
//! pictures that agree, fall to a few bytes. [`SKIPPED_RUN`] of them in a
//! row under [`STILL_SHARE`] of the median of the recent ones open the GOP
//! at its next picture. Only that relative bound counts for them: a still
//! camera's B pictures are tiny while people move before it.
//!
//! The gate never holds more than [`MAX_HELD`] pictures or
//! [`MAX_HELD_BYTES`]: a stream with keyframes further apart than that
//! (or none, with intra refresh) is decoded whole until its next keyframe.

use std::collections::VecDeque;

use super::h264;
use super::hevc::hevc_segment;
use super::nal::{nal_units, Framing};

/// A delta picture under this many bits a macroblock is still (a skipped
/// 1080p picture of x264 takes about 0.07, a 640x360 one 0.2).
pub const STILL_BITS_PER_MB: f64 = 0.5;
/// A delta picture under this many bytes is still at any size (its
/// slice headers and framing alone take some tens).
pub const STILL_BYTES: usize = 64;
/// A delta picture under this share of the median of the recent ones is
/// still.
pub const STILL_SHARE: f64 = 1.0 / 8.0;
/// How many recent moving delta pictures the median is taken over.
pub const RECENT: usize = 64;
/// How many pictures not fed to the decoder, in a row, under
/// [`STILL_SHARE`] of the median of the recent ones, open the GOP (with 3
/// B-frames, at least 5 pictures; 2 or 3 opened 8 of the 20 GOPs of the
/// cost table's H.264 1080p25 file, against 2 without them, and 4 the same
/// 2).
pub const SKIPPED_RUN: u32 = 4;
/// The most delta pictures held back for one GOP (12 s at 25 pictures a
/// second); past it the GOP is decoded whole.
pub const MAX_HELD: usize = 300;
/// The most bytes held back for one GOP; past it the GOP is decoded whole.
pub const MAX_HELD_BYTES: usize = 16 << 20;

/// What an access unit's coded slices say, from one walk over its NAL
/// units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coded {
    /// The slices' bytes: what the picture's content took, without filler
    /// data, parameter sets, SEI or framing.
    pub slice_bytes: usize,
    /// Its first slice says no other picture refers to it (H.264
    /// `nal_ref_idc` 0; HEVC's sub-layer non-reference types, `TRAIL_N`,
    /// `RASL_N` and the like): a decoder skipping non-reference pictures
    /// (`AVDISCARD_NONREF`) skips exactly these.
    pub non_reference: bool,
}

/// The slices of an access unit (H.264, or `hevc`), framed as `framing`
/// says, read as [`h264::slice`] and [`hevc_segment`] read them.
pub fn coded(data: &[u8], framing: Framing, hevc: bool) -> Coded {
    let mut slice_bytes = 0;
    let mut reference = None;
    for unit in nal_units(data, framing) {
        let r = if hevc {
            hevc_segment(unit).map(|(_, r)| r)
        } else {
            h264::slice(unit).map(|s| s.reference)
        };
        if let Some(r) = r {
            slice_bytes += unit.len();
            reference.get_or_insert(r);
        }
    }
    Coded {
        slice_bytes,
        non_reference: reference == Some(false),
    }
}

/// What to do with a coded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it to the decoder.
    Pass,
    /// A keyframe that ends a GOP decoded whole: go back to decoding
    /// keyframes alone (each drained at once), then pass it.
    Close,
    /// Keep it back: a delta picture of a GOP not (yet) decoded whole.
    Hold,
    /// Decode this GOP whole from here: pass its keyframe again and every
    /// picture held since, then this one.
    Open,
    /// Drop it: a delta picture before any keyframe (nothing to decode it
    /// from).
    Drop,
}

/// The gate's state for one stream.
#[derive(Debug, Clone)]
pub struct StillGate {
    macroblocks: u64,
    /// Sizes of the recent moving delta pictures fed to the decoder, and of
    /// those not fed to it.
    recent: VecDeque<u32>,
    recent_skipped: VecDeque<u32>,
    /// Pictures not fed to the decoder still in a row: [`SKIPPED_RUN`] or
    /// more open the GOP at its next picture.
    skipped_still: u32,
    keyframe: bool,
    open: bool,
    held: usize,
    held_bytes: usize,
    opened: u64,
    gops: u64,
}

impl StillGate {
    /// A gate for pictures of `width` by `height`.
    pub fn new(width: u32, height: u32) -> Self {
        let mut g = Self {
            macroblocks: 1,
            recent: VecDeque::with_capacity(RECENT),
            recent_skipped: VecDeque::with_capacity(RECENT),
            skipped_still: 0,
            keyframe: false,
            open: false,
            held: 0,
            held_bytes: 0,
            opened: 0,
            gops: 0,
        };
        g.set_size(width, height);
        g
    }

    /// The picture size changed (caps).
    pub fn set_size(&mut self, width: u32, height: u32) {
        self.macroblocks = (u64::from(width).div_ceil(16) * u64::from(height).div_ceil(16)).max(1);
    }

    /// Forgets the stream (a flush): the next picture must be a keyframe.
    pub fn reset(&mut self) {
        self.keyframe = false;
        self.open = false;
        self.held = 0;
        self.held_bytes = 0;
        self.skipped_still = 0;
    }

    /// Whether the current GOP is decoded whole.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// (GOPs seen, GOPs decoded whole).
    pub fn counts(&self) -> (u64, u64) {
        (self.gops, self.opened)
    }

    /// Whether a delta picture of `bytes` is still.
    fn still(&self, bytes: usize) -> bool {
        let bits = bytes as f64 * 8.0;
        if bytes < STILL_BYTES || bits < STILL_BITS_PER_MB * self.macroblocks as f64 {
            return true;
        }
        under_share(bytes, &self.recent)
    }

    fn remember(&mut self, bytes: usize) {
        remember(&mut self.recent, bytes);
    }

    /// A delta picture the decoder is not fed (a B picture dropped, or one
    /// nothing refers to), of `bytes`, in decoding order: [`SKIPPED_RUN`]
    /// of them in a row under [`STILL_SHARE`] of the median of the recent
    /// ones open the GOP at its next picture; a moving one before it
    /// cancels that.
    pub fn skipped(&mut self, bytes: usize) {
        // (counted while a GOP is open too: a run that goes on past the
        // keyframe opens the next GOP at its first delta picture)
        if under_share(bytes, &self.recent_skipped) {
            self.skipped_still = self.skipped_still.saturating_add(1);
        } else {
            self.skipped_still = 0;
            remember(&mut self.recent_skipped, bytes);
        }
    }

    /// The verdict on the next coded picture, in decoding order: a keyframe
    /// (`key`) or a delta picture, of `bytes`.
    pub fn picture(&mut self, key: bool, bytes: usize) -> Verdict {
        if key {
            self.gops += 1;
            self.keyframe = true;
            self.held = 0;
            self.held_bytes = 0;
            if self.open {
                self.open = false;
                return Verdict::Close;
            }
            return Verdict::Pass;
        }
        if !self.keyframe {
            return Verdict::Drop;
        }
        if self.open {
            if !self.still(bytes) {
                self.remember(bytes);
            }
            return Verdict::Pass;
        }
        let still = self.still(bytes);
        if !still {
            self.remember(bytes);
        }
        if still
            || self.skipped_still >= SKIPPED_RUN
            || self.held + 1 > MAX_HELD
            || self.held_bytes + bytes > MAX_HELD_BYTES
        {
            self.open = true;
            self.opened += 1;
            self.held = 0;
            self.held_bytes = 0;
            return Verdict::Open;
        }
        self.held += 1;
        self.held_bytes += bytes;
        Verdict::Hold
    }
}

/// Whether `bytes` is under [`STILL_SHARE`] of the median of `recent`
/// (false with fewer than a quarter of [`RECENT`] sizes known).
fn under_share(bytes: usize, recent: &VecDeque<u32>) -> bool {
    if recent.len() < RECENT / 4 {
        return false;
    }
    let mut sorted: Vec<u32> = recent.iter().copied().collect();
    let mid = sorted.len() / 2;
    let (_, median, _) = sorted.select_nth_unstable(mid);
    (bytes as f64) < f64::from(*median) * STILL_SHARE
}

/// `bytes` kept as the newest of at most [`RECENT`] sizes.
fn remember(recent: &mut VecDeque<u32>, bytes: usize) {
    if recent.len() == RECENT {
        recent.pop_front();
    }
    recent.push_back(bytes.min(u32::MAX as usize) as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1920x1080: 8160 macroblocks, still under 510 bytes.
    fn hd() -> StillGate {
        StillGate::new(1920, 1080)
    }

    #[test]
    fn only_slices_count_not_filler_sei_nor_framing() {
        // an H.264 access unit as a CBR x264 codes a black picture: an
        // access unit delimiter, SEI, an 18-byte P slice, 60 bytes of filler
        let unit = |t: u8, len: usize| {
            let mut u = (len as u32).to_be_bytes().to_vec();
            u.push(t);
            u.extend(std::iter::repeat_n(0xff, len - 1));
            u
        };
        let au: Vec<u8> = [unit(9, 2), unit(6, 7), unit(0x41, 18), unit(12, 60)].concat();
        assert_eq!(coded(&au, Framing::Length(4), false).slice_bytes, 18);
        let mut bs = vec![0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21];
        bs.extend([0, 0, 1, 0x0c, 0xff, 0xff, 0x80]);
        assert_eq!(coded(&bs, Framing::ByteStream, false).slice_bytes, 4);
        // HEVC: a TRAIL_R slice (type 1) counts, an AUD (35) and filler (38) not
        let hevc: Vec<u8> = [unit(1 << 1, 30), unit(35 << 1, 3), unit(38 << 1, 40)].concat();
        assert_eq!(coded(&hevc, Framing::Length(4), true).slice_bytes, 30);
    }

    #[test]
    fn non_reference_pictures_by_their_first_slice() {
        // an access unit delimiter (H.264 type 9, or HEVC's 35) first
        let au = |header: &[u8]| {
            let hevc = header.len() == 2;
            let aud: &[u8] = if hevc {
                &[35 << 1, 1, 0x50]
            } else {
                &[0x09, 0xf0]
            };
            let mut u = vec![0, 0, 0, 1];
            u.extend(aud);
            u.extend([0, 0, 0, 1]);
            u.extend(header);
            u.extend([0x88, 0x84]);
            u
        };
        // H.264: a P slice with nal_ref_idc 2, a B slice with 0, an IDR
        assert!(!coded(&au(&[0x41]), Framing::ByteStream, false).non_reference);
        assert!(coded(&au(&[0x01]), Framing::ByteStream, false).non_reference);
        assert!(!coded(&au(&[0x65]), Framing::ByteStream, false).non_reference);
        // no slice at all: not said to be non-reference
        assert!(!coded(&[0, 0, 1, 0x09, 0xf0], Framing::ByteStream, false).non_reference);
        // HEVC: TRAIL_N (0) and RASL_N (8) are, TRAIL_R (1) and IDR_W_RADL (19) not
        for (t, non) in [(0u8, true), (8, true), (1, false), (19, false)] {
            assert_eq!(
                coded(&au(&[t << 1, 1]), Framing::ByteStream, true).non_reference,
                non,
                "type {t}"
            );
        }
    }

    #[test]
    fn moving_gops_pass_their_keyframes_alone() {
        let mut g = hd();
        assert_eq!(g.picture(true, 200_000), Verdict::Pass);
        for _ in 0..49 {
            assert_eq!(g.picture(false, 30_000), Verdict::Hold);
        }
        assert_eq!(g.picture(true, 200_000), Verdict::Pass);
        assert_eq!(g.counts(), (2, 0));
    }

    #[test]
    fn a_still_picture_opens_its_gop_until_the_next_keyframe() {
        let mut g = hd();
        g.picture(true, 200_000);
        for _ in 0..10 {
            assert_eq!(g.picture(false, 30_000), Verdict::Hold);
        }
        // 509 bytes: under half a bit a macroblock
        assert_eq!(g.picture(false, 509), Verdict::Open);
        assert!(g.is_open());
        // moving again: still decoded, to the GOP's end
        assert_eq!(g.picture(false, 30_000), Verdict::Pass);
        assert_eq!(g.picture(true, 200_000), Verdict::Close);
        assert!(!g.is_open());
        assert_eq!(g.picture(false, 30_000), Verdict::Hold);
        assert_eq!(g.counts(), (2, 1));
    }

    #[test]
    fn a_small_picture_is_still_under_64_bytes() {
        // 320x240: 300 macroblocks, half a bit each is 18 bytes
        let mut g = StillGate::new(320, 240);
        g.picture(true, 20_000);
        assert_eq!(g.picture(false, 64), Verdict::Hold);
        assert_eq!(g.picture(false, 63), Verdict::Open);
    }

    #[test]
    fn a_picture_an_eighth_of_the_recent_median_is_still() {
        let mut g = hd();
        g.picture(true, 200_000);
        // fewer than RECENT / 4 known: only the absolute bound counts
        for _ in 0..(RECENT / 4 - 1) {
            assert_eq!(g.picture(false, 40_000), Verdict::Hold);
        }
        assert_eq!(g.picture(false, 4_000), Verdict::Hold);
        // now 16 known, median 40 000: 4 999 bytes is under an eighth
        assert_eq!(g.picture(false, 5_001), Verdict::Hold);
        assert_eq!(g.picture(false, 4_999), Verdict::Open);
    }

    /// A GOP as x264 at an average bitrate codes a freeze: P pictures
    /// sharpening it (as large as moving ones), B pictures between them
    /// nearly free.
    #[test]
    fn skipped_pictures_still_in_a_run_open_the_gop_at_its_next_picture() {
        let mut g = hd();
        g.picture(true, 200_000);
        // moving: a P picture, then two B pictures of 4 000 bytes
        for _ in 0..(RECENT / 8) {
            assert_eq!(g.picture(false, 40_000), Verdict::Hold);
            g.skipped(4_000);
            g.skipped(4_000);
        }
        // 16 B pictures known, median 4 000: 499 bytes is under an eighth
        assert_eq!(g.picture(false, 40_000), Verdict::Hold);
        for _ in 1..SKIPPED_RUN {
            g.skipped(499);
        }
        g.skipped(501);
        assert_eq!(
            g.picture(false, 40_000),
            Verdict::Hold,
            "one too few opens nothing"
        );
        // a run, across P pictures (two B pictures between them)
        for i in 0..SKIPPED_RUN {
            g.skipped(100);
            if i % 2 == 1 && i + 1 < SKIPPED_RUN {
                assert_eq!(g.picture(false, 40_000), Verdict::Hold);
            }
        }
        assert_eq!(g.picture(false, 40_000), Verdict::Open, "a run");
        assert_eq!(g.picture(false, 40_000), Verdict::Pass);
        // the run goes on past the keyframe: the next GOP opens too
        g.skipped(100);
        assert_eq!(g.picture(true, 200_000), Verdict::Close);
        assert_eq!(g.picture(false, 40_000), Verdict::Open);
        assert_eq!(g.counts(), (2, 2));
        // a moving one after a run cancels it
        g.picture(true, 200_000);
        g.skipped(100);
        g.skipped(4_000);
        assert_eq!(g.picture(false, 40_000), Verdict::Hold);
    }

    /// A fixed camera with people walking: its B pictures are tiny all
    /// along, and no smaller in a freeze. Nothing opens (no absolute bound
    /// for them), and the P pictures still decide.
    #[test]
    fn skipped_pictures_always_tiny_open_nothing() {
        let mut g = hd();
        g.picture(true, 200_000);
        for _ in 0..RECENT {
            assert_eq!(g.picture(false, 40_000), Verdict::Hold);
            g.skipped(30);
            g.skipped(20);
        }
        assert_eq!(g.picture(false, 400), Verdict::Open);
    }

    #[test]
    fn a_reset_forgets_a_run_of_still_skipped_pictures() {
        let mut g = hd();
        g.picture(true, 200_000);
        for _ in 0..(RECENT / 4) {
            g.skipped(4_000);
        }
        for _ in 0..SKIPPED_RUN {
            g.skipped(10);
        }
        g.reset();
        g.picture(true, 200_000);
        assert_eq!(g.picture(false, 40_000), Verdict::Hold);
    }

    #[test]
    fn deltas_before_any_keyframe_are_dropped_and_so_after_a_reset() {
        let mut g = hd();
        assert_eq!(g.picture(false, 10), Verdict::Drop);
        g.picture(true, 1_000);
        assert_eq!(g.picture(false, 30_000), Verdict::Hold);
        g.reset();
        assert_eq!(g.picture(false, 10), Verdict::Drop);
    }

    #[test]
    fn a_gop_too_long_to_hold_is_decoded_whole() {
        let mut g = hd();
        g.picture(true, 200_000);
        for _ in 0..MAX_HELD {
            assert_eq!(g.picture(false, 1_000), Verdict::Hold);
        }
        assert_eq!(g.picture(false, 1_000), Verdict::Open);
        let mut g = hd();
        g.picture(true, 200_000);
        assert_eq!(g.picture(false, MAX_HELD_BYTES / 2), Verdict::Hold);
        assert_eq!(g.picture(false, MAX_HELD_BYTES / 2 + 1), Verdict::Open);
    }
}
