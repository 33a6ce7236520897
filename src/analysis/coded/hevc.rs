//! HEVC slice segment headers: where each segment starts (in coding tree
//! blocks) and whether it begins a picture, read with the SPS and PPS.

use super::h264::Slice;
use super::nal::Bits;

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
pub(super) fn hevc_type(unit: &[u8]) -> Option<u8> {
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
            frame_num: None,
        })
    }
}

/// An HEVC SPS's id, with the length of a slice segment address in bits
/// and the CTB size.
pub(super) fn hevc_sps(b: &mut Bits<'_>) -> Option<(u32, (u32, u32))> {
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
