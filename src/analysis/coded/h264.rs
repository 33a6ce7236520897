//! H.264 slice headers: where each slice starts, its type, and its
//! quantiser (with the stream's parameter sets, through `h264-reader`).

use super::nal::Bits;

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
    /// Where reference pictures are counted, when the parameter sets are
    /// known and forbid gaps (see [`FrameNum`]).
    pub frame_num: Option<FrameNum>,
}

/// A slice's `frame_num`, which counts reference pictures in decode order:
/// a picture's is its previous reference picture's, or one more (modulo
/// `max`), unless pictures were lost; IDR pictures restart at 0, and so
/// does the picture after one marked `reset` (MMCO 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameNum {
    pub value: u32,
    pub max: u32,
    pub idr: bool,
    pub reset: bool,
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
        frame_num: None,
    })
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

pub(super) fn bit_reader(
    unit: &[u8],
) -> h264_reader::rbsp::BitReader<h264_reader::rbsp::ByteReader<&[u8]>> {
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

    /// Reads a slice unit's header in full with the parameter sets known
    /// (taking a parameter set in passing) and hands it to `f`; `None` for
    /// any other unit, or a header that does not parse.
    pub(super) fn with_header<T>(
        &mut self,
        unit: &[u8],
        f: impl FnOnce(
            &h264_reader::nal::slice::SliceHeader,
            &h264_reader::nal::sps::SeqParameterSet,
            &h264_reader::nal::pps::PicParameterSet,
        ) -> T,
    ) -> Option<T> {
        self.parameter_set(unit);
        slice(unit)?;
        let header = h264_reader::nal::NalHeader::new(unit[0]).ok()?;
        let mut r = bit_reader(unit);
        let (sh, sps, pps) =
            h264_reader::nal::slice::SliceHeader::from_bits(&self.ctx, &mut r, header, None)
                .ok()?;
        Some(f(&sh, sps, pps))
    }

    /// A unit's slice header, with its quantiser when the header parses
    /// with the parameter sets known; parameter sets are taken in passing.
    pub fn unit(&mut self, unit: &[u8]) -> Option<Slice> {
        use h264_reader::nal::slice::{DecRefPicMarking, MemoryManagementControlOperation};
        let idr = unit.first().is_some_and(|h| h & 0x1f == 5);
        let read = self.with_header(unit, |sh, sps, pps| {
            let qp = 26 + pps.pic_init_qp_minus26 + sh.slice_qp_delta;
            let frame_num = (!sps.gaps_in_frame_num_value_allowed_flag).then(|| FrameNum {
                value: u32::from(sh.frame_num),
                max: 1 << sps.log2_max_frame_num(),
                idr,
                reset: matches!(&sh.dec_ref_pic_marking, Some(DecRefPicMarking::Adaptive(ops))
                    if ops.iter().any(|o| matches!(o, MemoryManagementControlOperation::AllRefPicturesUnused))),
            });
            (qp, frame_num)
        });
        let mut s = slice(unit)?;
        if let Some((qp, frame_num)) = read {
            s.qp = Some(qp);
            s.frame_num = frame_num;
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
