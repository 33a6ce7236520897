//! A read-only view of a picture's luma, whatever the pixel format.
//!
//! The view knows where each luma sample sits in a row (planar, packed, 16-bit,
//! RGB, v210) and the nominal black and white code values, so detectors can
//! work in normalised luma without caring about the format. Rows are handed out
//! one at a time: as a borrowed `&[u8]` when luma is already one byte a pixel,
//! or converted into a caller-owned scratch row of `u16` otherwise.

/// Where the luma (or R, G, B) samples of one row are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LumaLayout {
    /// 8-bit luma: sample `i` at byte `offset + i * step`.
    U8 { offset: usize, step: usize },
    /// 16-bit little-endian words: sample `i` at byte `offset + i * step`,
    /// value `word >> shift`.
    U16 {
        offset: usize,
        step: usize,
        shift: u32,
    },
    /// Packed 8-bit RGB: byte offsets of R, G and B within a pixel of `step` bytes.
    Rgb8 {
        r: usize,
        g: usize,
        b: usize,
        step: usize,
    },
    /// 10-bit 4:2:2 packed as v210 (6 pixels in 16 bytes).
    V210,
}

impl LumaLayout {
    /// Bytes a row of `width` pixels needs at least.
    pub fn row_bytes(&self, width: usize) -> usize {
        if width == 0 {
            return 0;
        }
        match *self {
            LumaLayout::U8 { offset, step } => offset + (width - 1) * step + 1,
            LumaLayout::U16 { offset, step, .. } => offset + (width - 1) * step + 2,
            LumaLayout::Rgb8 { r, g, b, step } => (width - 1) * step + r.max(g).max(b) + 1,
            LumaLayout::V210 => width.div_ceil(6) * 16,
        }
    }
}

/// Nominal black and white luma code values of a picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LumaRange {
    pub black: u32,
    pub white: u32,
    /// Bits of a code value.
    pub depth: u32,
}

impl LumaRange {
    /// The nominal range for `depth` bits, limited ("studio", 16..235 at 8 bit)
    /// or full (0..2^depth-1).
    pub fn new(depth: u32, full_range: bool) -> Self {
        let depth = depth.clamp(1, 16);
        if full_range || depth < 8 {
            LumaRange {
                black: 0,
                white: (1u32 << depth) - 1,
                depth,
            }
        } else {
            let scale = 1u32 << (depth - 8);
            LumaRange {
                black: 16 * scale,
                white: 235 * scale,
                depth,
            }
        }
    }

    /// Code value at `fraction` (0.0 = black, 1.0 = white) of the nominal range,
    /// rounded down.
    pub fn code_at(&self, fraction: f64) -> u32 {
        let span = f64::from(self.white - self.black);
        let v = f64::from(self.black) + fraction.clamp(0.0, 1.0) * span;
        v.floor() as u32
    }

    /// Normalises a (mean) code value to the nominal range: 0.0 black, 1.0 white.
    pub fn normalise(&self, code: f64) -> f64 {
        let span = f64::from(self.white.saturating_sub(self.black).max(1));
        (code - f64::from(self.black)) / span
    }
}

/// A rectangle of the picture, in pixels, half open: `x0..x1`, `y0..y1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Rect {
    pub fn width(&self) -> usize {
        self.x1.saturating_sub(self.x0)
    }
    pub fn height(&self) -> usize {
        self.y1.saturating_sub(self.y0)
    }
    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
}

/// The analysed region as fractions of the picture (resolution independent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Default for Region {
    fn default() -> Self {
        Region {
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 1.0,
        }
    }
}

impl Region {
    /// The region in pixels of a `width` x `height` picture, clamped to it.
    /// A region that would cover no pixel (it lies outside the picture, or
    /// rounds to nothing on a tiny picture) grows to at least one pixel inside
    /// the picture, so every non-empty picture has something to analyse.
    pub fn to_rect(self, width: usize, height: usize) -> Rect {
        fn span(start: f64, len: f64, size: usize) -> (usize, usize) {
            if size == 0 {
                return (0, 0);
            }
            let s = start.clamp(0.0, 1.0);
            let e = (start + len).clamp(0.0, 1.0);
            let mut a = (s * size as f64).round() as usize;
            let mut b = (e * size as f64).round() as usize;
            a = a.min(size - 1);
            b = b.min(size);
            if b <= a {
                b = a + 1;
            }
            (a, b)
        }
        let (x0, x1) = span(self.x, self.width, width);
        let (y0, y1) = span(self.y, self.height, height);
        Rect { x0, y0, x1, y1 }
    }
}

/// Why a plane view could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The buffer is shorter than `stride * (height - 1) + row bytes`.
    TooShort { needed: usize, got: usize },
    /// The stride is smaller than one row.
    StrideTooSmall { stride: usize, row: usize },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooShort { needed, got } => {
                write!(f, "plane needs {needed} bytes but has {got}")
            }
            FrameError::StrideTooSmall { stride, row } => {
                write!(f, "stride {stride} is smaller than a row of {row} bytes")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// A luma plane view: the data, the geometry and how to read a luma sample.
#[derive(Debug, Clone, Copy)]
pub struct LumaPlane<'a> {
    data: &'a [u8],
    stride: usize,
    width: usize,
    height: usize,
    layout: LumaLayout,
    range: LumaRange,
}

/// One row of luma samples, borrowed or converted.
pub enum Row<'r> {
    U8(&'r [u8]),
    U16(&'r [u16]),
}

impl<'a> LumaPlane<'a> {
    /// Builds a view, checking that `data` holds every row.
    pub fn new(
        data: &'a [u8],
        stride: usize,
        width: usize,
        height: usize,
        layout: LumaLayout,
        range: LumaRange,
    ) -> Result<Self, FrameError> {
        let row = layout.row_bytes(width);
        if height > 0 && width > 0 {
            if height > 1 && stride < row {
                return Err(FrameError::StrideTooSmall { stride, row });
            }
            let needed = stride * (height - 1) + row;
            if data.len() < needed {
                return Err(FrameError::TooShort {
                    needed,
                    got: data.len(),
                });
            }
        }
        Ok(LumaPlane {
            data,
            stride,
            width,
            height,
            layout,
            range,
        })
    }

    /// A tightly packed 8-bit plane (stride = width), limited range. Handy in tests.
    #[cfg(any(test, feature = "internals"))]
    pub fn gray8(data: &'a [u8], width: usize, height: usize) -> Result<Self, FrameError> {
        Self::new(
            data,
            width,
            width,
            height,
            LumaLayout::U8 { offset: 0, step: 1 },
            LumaRange::new(8, false),
        )
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn range(&self) -> LumaRange {
        self.range
    }

    /// Samples `x0..x1` of row `y` when the layout is contiguous 8-bit luma
    /// (no conversion needed), else `None`.
    #[inline]
    pub fn row_u8(&self, y: usize, x0: usize, x1: usize) -> Option<&'a [u8]> {
        match self.layout {
            LumaLayout::U8 { offset, step: 1 } => {
                let start = y * self.stride + offset;
                Some(&self.data[start + x0..start + x1])
            }
            _ => None,
        }
    }

    /// Bytes of samples `x0..x1` of row `y` and the shift to apply, when the
    /// layout is contiguous 16-bit little-endian luma, else `None`.
    #[inline]
    pub fn row_u16le(&self, y: usize, x0: usize, x1: usize) -> Option<(&'a [u8], u32)> {
        match self.layout {
            LumaLayout::U16 {
                offset,
                step: 2,
                shift,
            } => {
                let start = y * self.stride + offset;
                Some((&self.data[start + 2 * x0..start + 2 * x1], shift))
            }
            _ => None,
        }
    }

    /// The luma code value of one pixel (`x < width`, `y < height`), for
    /// kernels that read a sparse sample rather than whole rows.
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> u32 {
        let line = &self.data[y * self.stride..];
        match self.layout {
            LumaLayout::U8 { offset, step } => u32::from(line[offset + x * step]),
            LumaLayout::U16 {
                offset,
                step,
                shift,
            } => {
                let i = offset + x * step;
                u32::from(u16::from_le_bytes([line[i], line[i + 1]]) >> shift)
            }
            LumaLayout::Rgb8 { r, g, b, step } => {
                let p = x * step;
                u32::from(rgb_to_luma(line[p + r], line[p + g], line[p + b]))
            }
            LumaLayout::V210 => u32::from(v210_luma(line, x)),
        }
    }

    /// Luma samples `x0..x1` of row `y`: borrowed when the layout is contiguous
    /// 8-bit, otherwise converted into `scratch`. Callers keep `rect` inside
    /// the picture (see [`Region::to_rect`]).
    #[inline]
    pub fn row<'r>(&'r self, y: usize, x0: usize, x1: usize, scratch: &'r mut Vec<u16>) -> Row<'r> {
        let line = &self.data[y * self.stride..];
        match self.layout {
            LumaLayout::U8 { offset, step: 1 } => Row::U8(&line[offset + x0..offset + x1]),
            LumaLayout::U8 { offset, step } => {
                scratch.clear();
                scratch.extend((x0..x1).map(|x| u16::from(line[offset + x * step])));
                Row::U16(scratch)
            }
            LumaLayout::U16 {
                offset,
                step,
                shift,
            } => {
                scratch.clear();
                let bytes = &line[offset + x0 * step..];
                if step == 2 {
                    scratch.extend(
                        bytes[..(x1 - x0) * 2]
                            .chunks_exact(2)
                            .map(|c| u16::from_le_bytes([c[0], c[1]]) >> shift),
                    );
                } else {
                    scratch.extend((0..x1 - x0).map(|i| {
                        u16::from_le_bytes([bytes[i * step], bytes[i * step + 1]]) >> shift
                    }));
                }
                Row::U16(scratch)
            }
            LumaLayout::Rgb8 { r, g, b, step } => {
                scratch.clear();
                scratch.extend((x0..x1).map(|x| {
                    let p = x * step;
                    rgb_to_luma(line[p + r], line[p + g], line[p + b])
                }));
                Row::U16(scratch)
            }
            LumaLayout::V210 => {
                scratch.clear();
                scratch.extend((x0..x1).map(|x| v210_luma(line, x)));
                Row::U16(scratch)
            }
        }
    }
}

/// BT.709 luma of full-range 8-bit RGB, in 8.8 fixed point, rounded.
#[inline]
pub fn rgb_to_luma(r: u8, g: u8, b: u8) -> u16 {
    ((54 * u32::from(r) + 183 * u32::from(g) + 19 * u32::from(b) + 128) >> 8) as u16
}

/// Luma of pixel `x` in a v210 row: each group of 16 bytes holds 6 pixels in
/// four little-endian 32-bit words, luma at word 0 bits 10..20, word 1 bits
/// 0..10 and 20..30, word 2 bits 10..20, word 3 bits 0..10 and 20..30.
#[inline]
fn v210_luma(line: &[u8], x: usize) -> u16 {
    const POS: [(usize, u32); 6] = [(0, 10), (1, 0), (1, 20), (2, 10), (3, 0), (3, 20)];
    let (word, shift) = POS[x % 6];
    let i = (x / 6) * 16 + word * 4;
    let w = u32::from_le_bytes([line[i], line[i + 1], line[i + 2], line[i + 3]]);
    ((w >> shift) & 0x3ff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |d, f| {
            let r = LumaRange::new(d, f);
            (r.black, r.white, r.depth)
        };
        assert_eq!(r(8, false), (16, 235, 8));
        assert_eq!(r(8, true), (0, 255, 8));
        assert_eq!(r(10, false), (64, 940, 10));
        assert_eq!(r(10, true), (0, 1023, 10));
        assert_eq!(LumaRange::new(16, true).white, 65535);
        // 10% of the limited 8-bit range: 16 + 21.9
        assert_eq!(LumaRange::new(8, false).code_at(0.10), 37);
        assert_eq!(LumaRange::new(8, true).code_at(0.10), 25);
        assert_eq!(LumaRange::new(10, false).code_at(0.10), 151);
        assert!((LumaRange::new(8, false).normalise(235.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn region_clamps_and_never_empties() {
        let r = Region::default().to_rect(1920, 1080);
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (0, 0, 1920, 1080));
        let r = Region {
            x: 0.0,
            y: 0.0,
            width: 1.0,
            height: 0.85,
        }
        .to_rect(1920, 1080);
        assert_eq!(r.y1, 918);
        let r = Region {
            x: 2.0,
            y: -1.0,
            width: 0.5,
            height: 0.1,
        }
        .to_rect(1, 1);
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (0, 0, 1, 1));
        assert!(Region::default().to_rect(0, 0).is_empty());
    }

    #[test]
    fn rejects_short_buffers() {
        let data = [0u8; 10];
        assert!(LumaPlane::gray8(&data, 4, 3).is_err());
        assert!(LumaPlane::gray8(&data, 5, 2).is_ok());
        assert!(LumaPlane::new(
            &data,
            2,
            4,
            2,
            LumaLayout::U8 { offset: 0, step: 1 },
            LumaRange::new(8, false)
        )
        .is_err());
    }

    #[test]
    fn reads_every_layout() {
        let mut s = Vec::new();
        // YUY2: Y0 U Y1 V
        let yuy2 = [10u8, 128, 20, 128, 30, 128, 40, 128];
        let p = LumaPlane::new(
            &yuy2,
            8,
            4,
            1,
            LumaLayout::U8 { offset: 0, step: 2 },
            LumaRange::new(8, false),
        )
        .unwrap();
        match p.row(0, 1, 4, &mut s) {
            Row::U16(r) => assert_eq!(r, &[20, 30, 40]),
            Row::U8(_) => panic!("packed rows are converted"),
        }
        assert_eq!((p.at(0, 0), p.at(3, 0)), (10, 40));
        // P010: 10 bits in the high bits of each word
        let p010: Vec<u8> = [64u16 << 6, 940 << 6]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let p = LumaPlane::new(
            &p010,
            4,
            2,
            1,
            LumaLayout::U16 {
                offset: 0,
                step: 2,
                shift: 6,
            },
            LumaRange::new(10, false),
        )
        .unwrap();
        match p.row(0, 0, 2, &mut s) {
            Row::U16(r) => assert_eq!(r, &[64, 940]),
            Row::U8(_) => panic!(),
        }
        assert_eq!((p.at(0, 0), p.at(1, 0)), (64, 940));
        // BGRx white and black
        let bgrx = [255u8, 255, 255, 0, 0, 0, 0, 0];
        let p = LumaPlane::new(
            &bgrx,
            8,
            2,
            1,
            LumaLayout::Rgb8 {
                r: 2,
                g: 1,
                b: 0,
                step: 4,
            },
            LumaRange::new(8, true),
        )
        .unwrap();
        match p.row(0, 0, 2, &mut s) {
            Row::U16(r) => assert_eq!(r, &[255, 0]),
            Row::U8(_) => panic!(),
        }
        assert_eq!((p.at(0, 0), p.at(1, 0)), (255, 0));
        // v210: one group, luma 1..6 * 100
        let y = [100u32, 200, 300, 400, 500, 600];
        let words = [
            512 | (y[0] << 10) | (512 << 20),
            y[1] | (512 << 10) | (y[2] << 20),
            512 | (y[3] << 10) | (512 << 20),
            y[4] | (512 << 10) | (y[5] << 20),
        ];
        let v210: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let p =
            LumaPlane::new(&v210, 16, 6, 1, LumaLayout::V210, LumaRange::new(10, false)).unwrap();
        match p.row(0, 0, 6, &mut s) {
            Row::U16(r) => assert_eq!(r, &[100, 200, 300, 400, 500, 600]),
            Row::U8(_) => panic!(),
        }
        assert_eq!((0..6).map(|x| p.at(x, 0)).collect::<Vec<_>>(), y);
    }
}
