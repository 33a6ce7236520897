//! A read-only view of all three colour components of a picture (Y'CbCr,
//! R'G'B' or luma only), whatever the pixel format, for kernels that judge
//! colour as well as luma (levels, gamut, test patterns).
//!
//! Where [`super::frame::LumaPlane`] reads one component, this reads three:
//! each component is described by its plane, its byte offset and step, its
//! sample width and its subsampling, which covers the planar, semi-planar
//! and packed layouts; v210 has its own unpacking. Rows come out as `u16`
//! code values in caller-owned buffers, subsampled components at their own
//! resolution.

use super::frame::FrameError;

/// How the three components are coded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColourModel {
    /// Y'CbCr with the luma coefficients `kr` and `kb` of its matrix
    /// (BT.601: 0.299 and 0.114; BT.709: 0.2126 and 0.0722; BT.2020:
    /// 0.2627 and 0.0593).
    Yuv { kr: f64, kb: f64 },
    /// R'G'B', components in that order.
    Rgb,
    /// Luma only.
    Gray,
}

impl ColourModel {
    pub const BT601: ColourModel = ColourModel::Yuv {
        kr: 0.299,
        kb: 0.114,
    };
    pub const BT709: ColourModel = ColourModel::Yuv {
        kr: 0.2126,
        kb: 0.0722,
    };
    pub const BT2020: ColourModel = ColourModel::Yuv {
        kr: 0.2627,
        kb: 0.0593,
    };

    /// Components the model has.
    pub fn components(&self) -> usize {
        match self {
            ColourModel::Gray => 1,
            _ => 3,
        }
    }
}

/// Where the samples of one component are: sample `x` of component row
/// `y` starts at byte `y * stride + offset + x * step` of plane `plane`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub plane: usize,
    pub offset: usize,
    pub step: usize,
    /// Samples are 16-bit little-endian words (else single bytes).
    pub wide: bool,
    /// Right shift of a word to its value.
    pub shift: u32,
    /// Horizontal and vertical subsampling, as powers of two.
    pub w_sub: u32,
    pub h_sub: u32,
}

impl Component {
    /// Contiguous 8-bit samples of a full-resolution plane.
    #[cfg(any(test, feature = "internals"))]
    pub const fn plane8(plane: usize) -> Self {
        Component {
            plane,
            offset: 0,
            step: 1,
            wide: false,
            shift: 0,
            w_sub: 0,
            h_sub: 0,
        }
    }

    /// Samples across a picture `width` wide, rows down one `height` high.
    pub fn size(&self, width: usize, height: usize) -> (usize, usize) {
        (
            width.div_ceil(1 << self.w_sub),
            height.div_ceil(1 << self.h_sub),
        )
    }

    fn row_bytes(&self, samples: usize) -> usize {
        if samples == 0 {
            return 0;
        }
        self.offset + (samples - 1) * self.step + if self.wide { 2 } else { 1 }
    }
}

/// How the components of one format are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Each component where its [`Component`] says (unused ones ignored).
    Components([Component; 3]),
    /// 10-bit 4:2:2 packed as v210 (6 pixels in 16 bytes, plane 0).
    V210,
}

/// Everything needed to read a format's components and give them meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourFormat {
    pub model: ColourModel,
    pub packing: Packing,
    /// Bits of a code value.
    pub depth: u32,
    /// Full range (0 to 2^depth - 1) rather than limited ("studio") range.
    pub full_range: bool,
}

impl ColourFormat {
    /// 8-bit planar 4:2:0 (I420) of `model` and range: the usual decoder
    /// output. Handy in tests and benches.
    #[cfg(any(test, feature = "internals"))]
    pub const fn i420(model: ColourModel, full_range: bool) -> Self {
        let mut u = Component::plane8(1);
        u.w_sub = 1;
        u.h_sub = 1;
        let mut v = u;
        v.plane = 2;
        ColourFormat {
            model,
            packing: Packing::Components([Component::plane8(0), u, v]),
            depth: 8,
            full_range,
        }
    }

    /// Horizontal and vertical subsampling of the second and third components.
    pub fn chroma_sub(&self) -> (u32, u32) {
        match self.packing {
            Packing::Components(c) if self.model.components() > 1 => (c[1].w_sub, c[1].h_sub),
            Packing::Components(_) => (0, 0),
            Packing::V210 => (1, 0),
        }
    }
}

/// The constants that turn a format's code values into fractions of the
/// nominal range: luma 0 at black and 1 at white, chroma (and R'G'B' for
/// an RGB model, which share luma's range) -0.5 to 0.5 about `mid`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nominal {
    pub black: f32,
    /// 1 / (white - black).
    pub luma: f32,
    pub mid: f32,
    /// 1 / the chroma span (224 steps in limited 8 bit).
    pub chroma: f32,
}

impl ColourFormat {
    /// The nominal range of the format's code values: limited ("studio",
    /// 16 to 235 and 16 to 240 in 8 bit, scaled for more bits) or full.
    pub fn nominal(&self) -> Nominal {
        let depth = self.depth.clamp(1, 16);
        let max = ((1u32 << depth) - 1) as f32;
        let mid = (1u32 << (depth - 1)) as f32;
        if self.full_range || depth < 8 {
            Nominal {
                black: 0.0,
                luma: 1.0 / max,
                mid,
                chroma: 1.0 / max,
            }
        } else {
            let k = (1u32 << (depth - 8)) as f32;
            Nominal {
                black: 16.0 * k,
                luma: 1.0 / (219.0 * k),
                mid,
                chroma: 1.0 / (224.0 * k),
            }
        }
    }
}

/// One plane: its bytes and the distance between rows.
#[derive(Debug, Clone, Copy)]
pub struct PlaneData<'a> {
    pub data: &'a [u8],
    pub stride: usize,
}

/// A view of a picture's components.
#[derive(Debug, Clone, Copy)]
pub struct ColourPicture<'a> {
    format: ColourFormat,
    planes: [PlaneData<'a>; 4],
    width: usize,
    height: usize,
}

/// One row of each component, as code values (rows of subsampled
/// components at their own width).
#[derive(Debug, Default, Clone)]
pub struct Rows {
    pub c: [Vec<u16>; 3],
}

impl<'a> ColourPicture<'a> {
    /// Builds a view, checking that the planes hold every row of every
    /// component (`planes` holds at least the planes the format names).
    pub fn new(
        format: ColourFormat,
        planes: &[PlaneData<'a>],
        width: usize,
        height: usize,
    ) -> Result<Self, FrameError> {
        let empty = PlaneData {
            data: &[],
            stride: 0,
        };
        let mut all = [empty; 4];
        for (d, s) in all.iter_mut().zip(planes) {
            *d = *s;
        }
        let check = |p: &PlaneData<'_>, row: usize, rows: usize| -> Result<(), FrameError> {
            if row == 0 || rows == 0 {
                return Ok(());
            }
            if rows > 1 && p.stride < row {
                return Err(FrameError::StrideTooSmall {
                    stride: p.stride,
                    row,
                });
            }
            let needed = p.stride * (rows - 1) + row;
            if p.data.len() < needed {
                return Err(FrameError::TooShort {
                    needed,
                    got: p.data.len(),
                });
            }
            Ok(())
        };
        match format.packing {
            Packing::V210 => check(&all[0], width.div_ceil(6) * 16, height)?,
            Packing::Components(comps) => {
                for c in &comps[..format.model.components()] {
                    let (w, h) = c.size(width, height);
                    let p = all
                        .get(c.plane)
                        .ok_or(FrameError::TooShort { needed: 1, got: 0 })?;
                    check(p, c.row_bytes(w), h)?;
                }
            }
        }
        Ok(ColourPicture {
            format,
            planes: all,
            width,
            height,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn format(&self) -> &ColourFormat {
        &self.format
    }

    /// Component `c` of picture row `y` (its row `y >> h_sub`) as the
    /// bytes it lies in, when its samples are single bytes side by side
    /// (the planar 8-bit formats); else `None`.
    #[inline]
    pub fn row_u8(&self, c: usize, y: usize) -> Option<&'a [u8]> {
        let Packing::Components(comps) = self.format.packing else {
            return None;
        };
        let comp = comps
            .get(c)
            .filter(|_| c < self.format.model.components())?;
        if comp.wide || comp.step != 1 || y >= self.height {
            return None;
        }
        let (w, _) = comp.size(self.width, self.height);
        let p = &self.planes[comp.plane];
        let start = (y >> comp.h_sub) * p.stride + comp.offset;
        p.data.get(start..start + w)
    }

    /// The components of picture row `y` (`y < height`) into `rows`: each
    /// component's row that covers it (row `y >> h_sub`), every sample of
    /// it. Components the model lacks come out empty.
    #[inline]
    pub fn read_row(&self, y: usize, rows: &mut Rows) {
        for r in &mut rows.c {
            r.clear();
        }
        match self.format.packing {
            Packing::V210 => {
                let p = &self.planes[0];
                v210_row(&p.data[y * p.stride..], self.width, rows);
            }
            Packing::Components(comps) => {
                let n = self.format.model.components();
                for (c, out) in comps[..n].iter().zip(&mut rows.c) {
                    let (w, _) = c.size(self.width, self.height);
                    let p = &self.planes[c.plane];
                    let line = &p.data[(y >> c.h_sub) * p.stride + c.offset..];
                    read_samples(line, c, w, out);
                }
            }
        }
    }
}

/// `n` samples of `c` from `line` (which starts at its first sample).
#[inline]
fn read_samples(line: &[u8], c: &Component, n: usize, out: &mut Vec<u16>) {
    match (c.wide, c.step) {
        (false, 1) => out.extend(line[..n].iter().map(|&v| u16::from(v))),
        (false, step) => out.extend((0..n).map(|i| u16::from(line[i * step]))),
        (true, 2) => out.extend(
            line[..2 * n]
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) >> c.shift),
        ),
        (true, step) => out.extend((0..n).map(|i| {
            let j = i * step;
            u16::from_le_bytes([line[j], line[j + 1]]) >> c.shift
        })),
    }
}

/// One v210 row of `width` pixels: 6 pixels per 16 bytes, in four
/// little-endian words holding (Cb0 Y0 Cr0) (Y1 Cb1 Y2) (Cr1 Y3 Cb2)
/// (Y4 Cr2 Y5), 10 bits each from bit 0 up.
fn v210_row(line: &[u8], width: usize, rows: &mut Rows) {
    let [y, cb, cr] = &mut rows.c;
    let chroma = width.div_ceil(2);
    for block in line[..width.div_ceil(6) * 16].chunks_exact(16) {
        let w = |i: usize| {
            u32::from_le_bytes([
                block[4 * i],
                block[4 * i + 1],
                block[4 * i + 2],
                block[4 * i + 3],
            ])
        };
        let s = |word: u32, k: u32| ((word >> (10 * k)) & 0x3ff) as u16;
        let (w0, w1, w2, w3) = (w(0), w(1), w(2), w(3));
        y.extend([s(w0, 1), s(w1, 0), s(w1, 2), s(w2, 1), s(w3, 0), s(w3, 2)]);
        cb.extend([s(w0, 0), s(w1, 1), s(w2, 2)]);
        cr.extend([s(w0, 2), s(w2, 0), s(w3, 1)]);
    }
    y.truncate(width);
    cb.truncate(chroma);
    cr.truncate(chroma);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_planar_420_rows_at_their_resolution() {
        // 4x2 picture: Y 0..8, U 100,101, V 200,201 (one chroma row)
        let y: Vec<u8> = (0..8).collect();
        let u = [100u8, 101];
        let v = [200u8, 201];
        let f = ColourFormat::i420(ColourModel::BT709, false);
        let planes = [
            PlaneData {
                data: &y,
                stride: 4,
            },
            PlaneData {
                data: &u,
                stride: 2,
            },
            PlaneData {
                data: &v,
                stride: 2,
            },
        ];
        let pic = ColourPicture::new(f, &planes, 4, 2).unwrap();
        let mut rows = Rows::default();
        pic.read_row(1, &mut rows);
        assert_eq!(rows.c[0], [4, 5, 6, 7]);
        assert_eq!(rows.c[1], [100, 101]);
        assert_eq!(rows.c[2], [200, 201]);
    }

    #[test]
    fn reads_packed_422_and_wide_samples() {
        // YUY2: Y0 U Y1 V per two pixels
        let data = [10u8, 20, 11, 30, 12, 21, 13, 31];
        let comp = |offset, step, w_sub| Component {
            plane: 0,
            offset,
            step,
            wide: false,
            shift: 0,
            w_sub,
            h_sub: 0,
        };
        let f = ColourFormat {
            model: ColourModel::BT601,
            packing: Packing::Components([comp(0, 2, 0), comp(1, 4, 1), comp(3, 4, 1)]),
            depth: 8,
            full_range: false,
        };
        let pic = ColourPicture::new(
            f,
            &[PlaneData {
                data: &data,
                stride: 8,
            }],
            4,
            1,
        )
        .unwrap();
        let mut rows = Rows::default();
        pic.read_row(0, &mut rows);
        assert_eq!(rows.c, [vec![10, 11, 12, 13], vec![20, 21], vec![30, 31]]);

        // P010: 10-bit values in the high bits of 16-bit words
        let w = |v: u16| (v << 6).to_le_bytes();
        let y: Vec<u8> = [64u16, 940].iter().flat_map(|&v| w(v)).collect();
        let uv: Vec<u8> = [512u16, 960].iter().flat_map(|&v| w(v)).collect();
        let wide = |plane, offset, step, w_sub, h_sub| Component {
            plane,
            offset,
            step,
            wide: true,
            shift: 6,
            w_sub,
            h_sub,
        };
        let f = ColourFormat {
            model: ColourModel::BT709,
            packing: Packing::Components([
                wide(0, 0, 2, 0, 0),
                wide(1, 0, 4, 1, 1),
                wide(1, 2, 4, 1, 1),
            ]),
            depth: 10,
            full_range: false,
        };
        let planes = [
            PlaneData {
                data: &y,
                stride: 4,
            },
            PlaneData {
                data: &uv,
                stride: 4,
            },
        ];
        let pic = ColourPicture::new(f, &planes, 2, 1).unwrap();
        pic.read_row(0, &mut rows);
        assert_eq!(rows.c, [vec![64, 940], vec![512], vec![960]]);
    }

    #[test]
    fn unpacks_v210() {
        // one block: Cb0 Y0 Cr0 | Y1 Cb1 Y2 | Cr1 Y3 Cb2 | Y4 Cr2 Y5
        let word = |a: u32, b: u32, c: u32| (a | (b << 10) | (c << 20)).to_le_bytes();
        let mut line = Vec::new();
        line.extend(word(500, 64, 510));
        line.extend(word(100, 501, 200));
        line.extend(word(511, 300, 502));
        line.extend(word(400, 512, 940));
        let f = ColourFormat {
            model: ColourModel::BT709,
            packing: Packing::V210,
            depth: 10,
            full_range: false,
        };
        let pic = ColourPicture::new(
            f,
            &[PlaneData {
                data: &line,
                stride: 16,
            }],
            5,
            1,
        )
        .unwrap();
        let mut rows = Rows::default();
        pic.read_row(0, &mut rows);
        assert_eq!(rows.c[0], [64, 100, 200, 300, 400]);
        assert_eq!(rows.c[1], [500, 501, 502]);
        assert_eq!(rows.c[2], [510, 511, 512]);
    }

    #[test]
    fn refuses_short_planes() {
        let y = [0u8; 8];
        let u = [0u8; 1];
        let f = ColourFormat::i420(ColourModel::BT709, false);
        let planes = [
            PlaneData {
                data: &y,
                stride: 4,
            },
            PlaneData {
                data: &u,
                stride: 2,
            },
            PlaneData {
                data: &u,
                stride: 2,
            },
        ];
        assert_eq!(
            ColourPicture::new(f, &planes, 4, 2).unwrap_err(),
            FrameError::TooShort { needed: 2, got: 1 }
        );
        assert!(ColourPicture::new(f, &planes[..1], 4, 2).is_err());
    }
}
