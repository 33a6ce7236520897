//! NAL units out of a buffer (start codes or length prefixes), and a bit
//! reader for their payloads.

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

/// Reads bits of an RBSP, skipping emulation-prevention bytes (`00 00 03`).
pub(super) struct Bits<'a> {
    data: &'a [u8],
    byte: usize,
    bit: u32,
    zeros: u32,
    current: u8,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            byte: 0,
            bit: 8,
            zeros: 0,
            current: 0,
        }
    }

    pub(super) fn bit(&mut self) -> Option<u32> {
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
    pub(super) fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// Skips `n` bits.
    pub(super) fn skip(&mut self, n: u32) -> Option<()> {
        for _ in 0..n {
            self.bit()?;
        }
        Some(())
    }

    /// An Exp-Golomb code, `ue(v)`, of at most 32 bits' value.
    pub(super) fn ue(&mut self) -> Option<u32> {
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
