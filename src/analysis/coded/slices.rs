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

/// Frames with the same slice starts a stream needs before a frame with some
/// of them missing counts as lost slices.
pub const STABLE_FRAMES: u32 = 4;

/// The most frames a loss in a reference picture taints when no key frame
/// comes (10 s at 30 frames a second).
pub const TAINT_FRAMES: u32 = 300;

/// How NAL units are framed in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Annex B start codes (`00 00 01`, `00 00 00 01`): `stream-format=byte-stream`.
    ByteStream,
    /// Each unit preceded by its size, big-endian, in 1 to 4 bytes:
    /// `stream-format=avc` (the size's length is in `codec_data`).
    Length(usize),
}

/// The NAL units of one buffer, without start codes or sizes. A unit cut
/// short by the end of the buffer is returned as far as it goes.
pub fn nal_units(data: &[u8], framing: Framing) -> Vec<&[u8]> {
    let mut out = Vec::new();
    match framing {
        Framing::ByteStream => {
            let mut start: Option<usize> = None;
            for i in memchr::memmem::find_iter(data, &[0, 0, 1]) {
                // (a unit's bytes never hold 00 00 01: emulation prevention)
                if let Some(s) = start {
                    if i < s {
                        continue;
                    }
                    out.push(trim_zeros(&data[s..i]));
                }
                start = Some(i + 3);
            }
            if let Some(s) = start {
                out.push(trim_zeros(&data[s..]));
            }
        }
        Framing::Length(n) => {
            let n = n.clamp(1, 4);
            let mut i = 0;
            while i + n <= data.len() {
                let len = data[i..i + n]
                    .iter()
                    .fold(0usize, |a, &b| (a << 8) | usize::from(b));
                i += n;
                let end = i.saturating_add(len).min(data.len());
                out.push(&data[i..end]);
                i = end;
            }
        }
    }
    out.retain(|u| !u.is_empty());
    out
}

/// A unit without the zero bytes before the next start code (a four-byte
/// start code's first byte, or trailing zeros).
fn trim_zeros(unit: &[u8]) -> &[u8] {
    let end = unit.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    &unit[..end]
}

/// What a slice header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// `first_mb_in_slice`: the macroblock address the slice starts at.
    pub first_mb: u32,
    /// An I or SI slice.
    pub intra: bool,
    /// Part of a reference picture (`nal_ref_idc` > 0).
    pub reference: bool,
    /// The slice's luma quantiser (`SliceQPY`, 8-bit scale), when its
    /// parameter sets are known (see [`SliceParser`]).
    pub qp: Option<i32>,
}

/// The start of an H.264 unit that is a coded slice (types 1, 2 and 5:
/// non-IDR, partition A, IDR), or `None` for any other unit or a header cut
/// short.
pub fn slice(unit: &[u8]) -> Option<Slice> {
    let (&header, rbsp) = unit.split_first()?;
    if header & 0x80 != 0 || !matches!(header & 0x1f, 1 | 2 | 5) {
        return None;
    }
    let mut bits = Bits::new(rbsp);
    let first_mb = bits.ue()?;
    let slice_type = bits.ue()?;
    if slice_type > 9 {
        return None;
    }
    Some(Slice {
        first_mb,
        intra: matches!(slice_type % 5, 2 | 4),
        reference: header & 0x60 != 0,
        qp: None,
    })
}

/// Reads HEVC slice segment headers as far as their address, with the
/// parameter sets a stream has sent (in band, or in `codec_data`).
///
/// A segment's `slice_segment_address` counts coding tree blocks (CTBs)
/// in raster order, so its size goes with each [`SliceLoss`] (`block`).
#[derive(Debug, Default)]
pub struct HevcParser {
    /// Per SPS id: the address's length in bits, and the CTB size.
    sps: std::collections::HashMap<u32, (u32, u32)>,
    /// Per PPS id: its SPS, and whether dependent slice segments are on.
    pps: std::collections::HashMap<u32, (u32, bool)>,
    /// The CTB size of the last slice read.
    ctb: Option<u32>,
}

/// The type of an HEVC unit.
fn hevc_type(unit: &[u8]) -> Option<u8> {
    unit.first().map(|h| (h >> 1) & 0x3f)
}

/// For an HEVC unit that is a slice segment: whether its picture is IRAP
/// (IDR, CRA, BLA: a key frame) and whether it is a reference (not a
/// sub-layer non-reference picture).
pub fn hevc_segment(unit: &[u8]) -> Option<(bool, bool)> {
    let t = hevc_type(unit)?;
    if unit[0] & 0x80 != 0 || t > 21 || (10..16).contains(&t) {
        return None;
    }
    Some(((16..=23).contains(&t), !(t <= 14 && t.is_multiple_of(2))))
}

impl HevcParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes an SPS (33) or PPS (34); any other unit, or one that does not
    /// parse, is ignored.
    pub fn parameter_set(&mut self, unit: &[u8]) {
        let Some(rbsp) = unit.get(2..) else {
            return;
        };
        let mut b = Bits::new(rbsp);
        match hevc_type(unit) {
            Some(33) => {
                if let Some((id, v)) = hevc_sps(&mut b) {
                    self.sps.insert(id, v);
                }
            }
            Some(34) => {
                let pps = (|| {
                    let id = b.ue()?;
                    let sps = b.ue()?;
                    let dependent = b.bit()? == 1;
                    Some((id, (sps, dependent)))
                })();
                if let Some((id, v)) = pps {
                    self.pps.insert(id, v);
                }
            }
            _ => {}
        }
    }

    /// The parameter sets of an `HEVCDecoderConfigurationRecord`
    /// (`codec_data` of `stream-format=hvc1` or `hev1`).
    pub fn codec_data(&mut self, data: &[u8]) {
        let Some(&arrays) = data.get(22) else {
            return;
        };
        let mut i = 23;
        for _ in 0..arrays {
            let Some(n) = data.get(i + 1..i + 3) else {
                return;
            };
            let n = u16::from_be_bytes([n[0], n[1]]);
            i += 3;
            for _ in 0..n {
                let Some(len) = data.get(i..i + 2) else {
                    return;
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                i += 2;
                let Some(unit) = data.get(i..i + len) else {
                    return;
                };
                self.parameter_set(unit);
                i += len;
            }
        }
    }

    /// The CTB size of the last slice read (16 before any).
    pub fn block(&self) -> u32 {
        self.ctb.unwrap_or(16)
    }

    /// A unit's slice segment, its address in CTBs as `first_mb`, when the
    /// parameter sets it needs are known (the first segment of a picture
    /// needs none); parameter sets are taken in passing. `intra`: an IRAP
    /// picture (IDR, CRA, BLA); `reference`: not a sub-layer non-reference
    /// picture.
    pub fn unit(&mut self, unit: &[u8]) -> Option<Slice> {
        self.parameter_set(unit);
        let (irap, reference) = hevc_segment(unit)?;
        let mut b = Bits::new(unit.get(2..)?);
        let first = b.bit()? == 1;
        if irap {
            b.bit()?;
        }
        let pps = b.ue()?;
        let parsed = self
            .pps
            .get(&pps)
            .and_then(|&(sps, dep)| self.sps.get(&sps).map(|&(bits, ctb)| (dep, bits, ctb)));
        if let Some((_, _, ctb)) = parsed {
            self.ctb = Some(ctb);
        }
        let address = if first {
            0
        } else {
            let (dependent, bits, _) = parsed?;
            if dependent {
                b.bit()?;
            }
            b.bits(bits)?
        };
        Some(Slice {
            first_mb: address,
            intra: irap,
            reference,
            qp: None,
        })
    }
}

/// An HEVC SPS's id, with the length of a slice segment address in bits
/// and the CTB size.
fn hevc_sps(b: &mut Bits<'_>) -> Option<(u32, (u32, u32))> {
    b.skip(4)?;
    let max_sub = b.bits(3)?;
    b.skip(1)?;
    // profile_tier_level: the general profile (88 bits) and level (8)
    b.skip(96)?;
    let mut present = Vec::new();
    for _ in 0..max_sub {
        present.push((b.bit()?, b.bit()?));
    }
    if max_sub > 0 {
        b.skip(2 * (8 - max_sub))?;
    }
    for (profile, level) in present {
        b.skip(88 * profile + 8 * level)?;
    }
    let id = b.ue()?;
    if b.ue()? == 3 {
        b.skip(1)?;
    }
    let (w, h) = (b.ue()?, b.ue()?);
    if b.bit()? == 1 {
        for _ in 0..4 {
            b.ue()?;
        }
    }
    b.ue()?;
    b.ue()?;
    b.ue()?;
    let all = b.bit()? == 1;
    for _ in (if all { 0 } else { max_sub })..=max_sub {
        b.ue()?;
        b.ue()?;
        b.ue()?;
    }
    let min_cb = b.ue()?.checked_add(3)?;
    let ctb_log2 = min_cb.checked_add(b.ue()?)?;
    if !(4..=6).contains(&ctb_log2) || w == 0 || h == 0 {
        return None;
    }
    let ctb = 1u32 << ctb_log2;
    let ctbs = u64::from(w.div_ceil(ctb)) * u64::from(h.div_ceil(ctb));
    // Ceil(Log2(PicSizeInCtbsY))
    let bits = 64 - (ctbs.max(1) - 1).leading_zeros();
    Some((id, (bits, ctb)))
}

/// Reads slice headers in full, with the parameter sets a stream has sent
/// (in band, or in `codec_data`), for the slice quantiser.
#[derive(Default)]
pub struct SliceParser {
    ctx: h264_reader::Context,
}

impl std::fmt::Debug for SliceParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SliceParser")
    }
}

fn bit_reader(unit: &[u8]) -> h264_reader::rbsp::BitReader<h264_reader::rbsp::ByteReader<&[u8]>> {
    h264_reader::rbsp::BitReader::new(h264_reader::rbsp::ByteReader::skipping_h264_header(unit))
}

impl SliceParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes an SPS or PPS unit; any other unit, or one that does not
    /// parse, is ignored.
    pub fn parameter_set(&mut self, unit: &[u8]) {
        use h264_reader::nal::{pps::PicParameterSet, sps::SeqParameterSet};
        match unit.first().map(|h| h & 0x1f) {
            Some(7) => {
                if let Ok(sps) = SeqParameterSet::from_bits(bit_reader(unit)) {
                    self.ctx.put_seq_param_set(sps);
                }
            }
            Some(8) => {
                if let Ok(pps) = PicParameterSet::from_bits(&self.ctx, bit_reader(unit)) {
                    self.ctx.put_pic_param_set(pps);
                }
            }
            _ => {}
        }
    }

    /// The parameter sets of an `AVCDecoderConfigurationRecord`
    /// (`codec_data` of `stream-format=avc`); ignores what does not parse.
    pub fn codec_data(&mut self, data: &[u8]) {
        let mut units = Vec::new();
        let mut i = 5;
        for mask in [0x1f, 0xff] {
            let Some(&n) = data.get(i) else {
                return;
            };
            i += 1;
            for _ in 0..(n & mask) {
                let Some(len) = data
                    .get(i..i + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                else {
                    return;
                };
                i += 2;
                let Some(unit) = data.get(i..i + len) else {
                    return;
                };
                units.push(unit);
                i += len;
            }
        }
        for u in units {
            self.parameter_set(u);
        }
    }

    /// A unit's slice header, with its quantiser when the header parses
    /// with the parameter sets known; parameter sets are taken in passing.
    pub fn unit(&mut self, unit: &[u8]) -> Option<Slice> {
        self.parameter_set(unit);
        let mut s = slice(unit)?;
        let header = h264_reader::nal::NalHeader::new(unit[0]).ok()?;
        let mut r = bit_reader(unit);
        if let Ok((sh, _, pps)) =
            h264_reader::nal::slice::SliceHeader::from_bits(&self.ctx, &mut r, header, None)
        {
            s.qp = Some(26 + pps.pic_init_qp_minus26 + sh.slice_qp_delta);
        }
        Some(s)
    }
}

/// Whether an H.264 unit is an SEI message carrying a recovery point (the
/// mark of a key frame in streams without IDR pictures).
pub fn is_recovery_point(unit: &[u8]) -> bool {
    // the first message's payload type; a recovery point is type 6
    unit.first().is_some_and(|&h| h & 0x1f == 6) && unit.get(1) == Some(&6)
}

/// Reads bits of an RBSP, skipping emulation-prevention bytes (`00 00 03`).
struct Bits<'a> {
    data: &'a [u8],
    byte: usize,
    bit: u32,
    zeros: u32,
    current: u8,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            byte: 0,
            bit: 8,
            zeros: 0,
            current: 0,
        }
    }

    fn bit(&mut self) -> Option<u32> {
        if self.bit == 8 {
            let mut b = *self.data.get(self.byte)?;
            self.byte += 1;
            if self.zeros >= 2 && b == 3 {
                b = *self.data.get(self.byte)?;
                self.byte += 1;
                self.zeros = 0;
            }
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
            self.current = b;
            self.bit = 0;
        }
        let v = (self.current >> (7 - self.bit)) & 1;
        self.bit += 1;
        Some(u32::from(v))
    }

    /// `n` bits (at most 32), most significant first.
    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// Skips `n` bits.
    fn skip(&mut self, n: u32) -> Option<()> {
        for _ in 0..n {
            self.bit()?;
        }
        Some(())
    }

    /// An Exp-Golomb code, `ue(v)`, of at most 32 bits' value.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let mut v: u64 = 1;
        for _ in 0..zeros {
            v = (v << 1) | u64::from(self.bit()?);
        }
        u32::try_from(v - 1).ok()
    }
}

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
        }
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
