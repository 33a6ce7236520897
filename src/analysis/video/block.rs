//! Block corruption detection (damage from lost or broken coded data) and a
//! compression blockiness score.
//!
//! Error concealment after packet loss or bit errors leaves blocks that do
//! not fit their neighbours: smeared or misplaced macroblocks, slices shifted
//! against the rows above, grey where a reference picture or a slice is
//! missing. The damage sits on the coding grid (16x16 macroblocks), so the
//! detector measures every 16-pixel *segment* of the grid lines: the excess
//! step across the line, `2|b - c| - |a - b| - |c - d|` over `a b | c d`
//! (large where the picture steps between two pixels and is smooth beside
//! them), on every other row or column along the segment. The same excess is
//! kept for every other line of the picture, so a grid segment can be
//! compared with what is around it. A segment is *broken* ([`Verdict`]) when
//! its mean excess
//!
//! - reaches `threshold` of the nominal luma range;
//! - is `masking` times the strongest across other lines of the same
//!   orientation within 12 pixels (content edges lie anywhere, damage on the
//!   grid);
//! - is `texture` times the mean gradient inside the blocks either side
//!   (coarsely coded texture or noise is blocky but busy);
//! - was not in the previous frame within 6 pixels with the same sign and
//!   half to twice the size (content that moved there);
//! - does not carry on a straight edge of one sign along three or more
//!   segments of the line (a graphic lying on the grid).
//!
//! A corruption starts when at least `min_breaks` segments break at once and
//! that is `sudden` times the stream's running mean (ordinary blocking is
//! there frame after frame), or when a tenth of the analysed macroblocks turn
//! flat mid-grey from another level (what decoders put where a reference or
//! slice is missing; an encoder short of bits flattens a block to its own
//! mean, so texture already averaging mid-grey turning flat is not
//! counted). It continues while the damaged blocks stay broken or grey (a
//! step the picture already had before the corruption, such as a graphic's
//! edge, does not keep it going). A frame where most macroblocks
//! changed texture (a scene cut) is not judged, except for grey; a
//! corruption open at such a frame (often the key frame that ends it, or
//! brings new damage) is held over it with the damage of the frame before,
//! and judged again on the next. A buffer the decoder flagged as corrupted
//! counts too, and so do frames missing from a steady frame rate
//! ([`Cadence`]) and frames that lost slices in the coded stream, or are
//! predicted from one that did ([`crate::analysis::coded::slices`], set before each frame
//! with [`BlockDetector::set_lost_slices`]); each event says which evidence
//! raised it.
//!
//! Separately, [`blockiness`] measures ordinary compression blocking: the
//! mean gradient across the 8-pixel grid over the mean gradient off it (1.0
//! = none, flat pictures included).

use crate::analysis::coded::slices::SliceLoss;
use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::{LumaPlane, Region, Row};

/// Macroblock size of the coding grid, in pixels.
pub const MB: usize = 16;

/// A luma sample, 8 or 16 bit.
trait Px: Copy {
    fn v(self) -> i32;
    /// `|a - b|` (samples have at most 12 bits, see [`depth_shift`]).
    fn diff(a: Self, b: Self) -> u16;
    /// `a - b` (at most 12 bits, so it fits).
    fn sdiff(a: Self, b: Self) -> i16;
    /// For macroblock column `c` of `row`: `Σ|p[x] - p[x-1]|` over each half
    /// of its 16 samples (`p[-1]` taken as `p[0]`).
    #[inline(always)]
    fn mb_halves(row: &[Self], c: usize) -> (u32, u32) {
        mb_halves_scalar(row, c)
    }
    /// Per 16-sample macroblock column: `Σ|a - b|` into `diffs`, `Σb` into `sums`.
    #[inline(always)]
    fn mb_sums(a: &[Self], b: &[Self], diffs: &mut [i32], sums: &mut [i32]) {
        for ((d, s), (a, b)) in diffs
            .iter_mut()
            .zip(sums.iter_mut())
            .zip(a.chunks_exact(MB).zip(b.chunks_exact(MB)))
        {
            let (mut dd, mut ss) = (0i32, 0i32);
            for (&a, &b) in a.iter().zip(b) {
                dd += i32::from(Self::diff(a, b));
                ss += b.v();
            }
            *d = dd;
            *s = ss;
        }
    }
}
/// [`Px::mb_halves`] one sample at a time (a row cut short counts what it
/// has).
#[inline(always)]
fn mb_halves_scalar<P: Px>(row: &[P], c: usize) -> (u32, u32) {
    let x0 = c * MB;
    let mut h = [0u32; 2];
    for (k, h) in h.iter_mut().enumerate() {
        for x in x0 + k * MB / 2..(x0 + (k + 1) * MB / 2).min(row.len()) {
            *h += (row[x].v() - row[x.max(1) - 1].v()).unsigned_abs();
        }
    }
    (h[0], h[1])
}

impl Px for u8 {
    #[inline(always)]
    fn v(self) -> i32 {
        i32::from(self)
    }
    #[inline(always)]
    fn diff(a: Self, b: Self) -> u16 {
        u16::from(a.abs_diff(b))
    }
    #[inline(always)]
    fn sdiff(a: Self, b: Self) -> i16 {
        i16::from(a) - i16::from(b)
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn mb_halves(row: &[Self], c: usize) -> (u32, u32) {
        use std::arch::x86_64::*;
        let x0 = c * MB;
        if x0 == 0 || row.len() < x0 + MB {
            // the first column has no sample before it
            return mb_halves_scalar(row, c);
        }
        // SAFETY: SSE2 is part of x86_64; x0 >= 1 and x0 + 16 <= row.len(),
        // so both 16-byte reads (from x0 and x0 - 1) are inside `row`.
        unsafe {
            let a = _mm_loadu_si128(row.as_ptr().add(x0).cast());
            let b = _mm_loadu_si128(row.as_ptr().add(x0 - 1).cast());
            let sad = _mm_sad_epu8(a, b);
            (
                _mm_cvtsi128_si32(sad) as u32,
                _mm_cvtsi128_si32(_mm_srli_si128(sad, 8)) as u32,
            )
        }
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn mb_sums(a: &[Self], b: &[Self], diffs: &mut [i32], sums: &mut [i32]) {
        use std::arch::x86_64::*;
        for ((d, s), (a, b)) in diffs
            .iter_mut()
            .zip(sums.iter_mut())
            .zip(a.chunks_exact(MB).zip(b.chunks_exact(MB)))
        {
            // SAFETY: SSE2 is part of x86_64; both chunks hold 16 bytes
            // (chunks_exact(MB) with MB == 16), read unaligned.
            unsafe {
                let va = _mm_loadu_si128(a.as_ptr().cast());
                let vb = _mm_loadu_si128(b.as_ptr().cast());
                let sad = _mm_sad_epu8(va, vb);
                let sum = _mm_sad_epu8(vb, _mm_setzero_si128());
                *d = _mm_cvtsi128_si32(_mm_add_epi64(sad, _mm_srli_si128(sad, 8)));
                *s = _mm_cvtsi128_si32(_mm_add_epi64(sum, _mm_srli_si128(sum, 8)));
            }
        }
    }
}
impl Px for u16 {
    #[inline(always)]
    fn v(self) -> i32 {
        i32::from(self)
    }
    #[inline(always)]
    fn diff(a: Self, b: Self) -> u16 {
        a.abs_diff(b)
    }
    #[inline(always)]
    fn sdiff(a: Self, b: Self) -> i16 {
        a as i16 - b as i16
    }
}

/// Sums over the measured positions of one grid segment (the step `b - c`
/// across it, `a b | c d`), for telling a straight edge along the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seg {
    /// Sum of `|b - c|`, the step across the line.
    pub step: u32,
    /// Sum of `b - c`.
    pub signed: i32,
    /// `step` and `signed` over the first half of the segment.
    pub step_a: u32,
    pub signed_a: i32,
}

impl Seg {
    #[inline(always)]
    fn add(&mut self, b: i32, c: i32, first_half: bool) {
        let step = (b - c).unsigned_abs();
        self.step += step;
        self.signed += b - c;
        if first_half {
            self.step_a += step;
            self.signed_a += b - c;
        }
    }
}

/// How far either side of a grid line (pixels) other lines are searched for
/// content stepping as much: the spatial control.
const REACH: usize = 12;
/// How far either side of a grid line (pixels) the previous frame is
/// searched for the same step: content that moved there.
const MOTION: usize = 6;

/// Excess steps across every vertical and horizontal line of the picture,
/// summed per macroblock band, plus the details of the grid segments.
///
/// The excess step across the line left of column `x` at one row is
/// `2|b - c| - |a - b| - |c - d|` (`a b | c d`): large where the picture
/// steps between two pixels and is smooth beside them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundaryMap {
    /// Whole macroblocks across and down, and the analysed size in pixels.
    pub cols: usize,
    pub rows: usize,
    pub width: usize,
    pub height: usize,
    /// Grid segments on vertical lines: index `r * cols + c` is the segment
    /// left of macroblock `(c, r)` (unused for `c == 0`).
    pub v: Vec<Seg>,
    /// Grid segments on horizontal lines: `r * cols + c` is the segment
    /// above macroblock `(c, r)` (unused for `r == 0`).
    pub h: Vec<Seg>,
    /// `ev[r * width + x]`: excess step across the vertical line left of
    /// column `x`, summed over the 16 rows of band `r`.
    pub ev: Vec<i32>,
    /// `eh[y * cols + c]`: excess step across the horizontal line above row
    /// `y`, summed over the 16 columns of macroblock column `c`.
    pub eh: Vec<i32>,
    /// The signed steps `b - c` summed like `ev` and `eh`.
    pub sv: Vec<i32>,
    pub sh: Vec<i32>,
    /// Per macroblock: mean `|p[x] - p[x-1]|` inside it (texture activity),
    /// over every fourth row.
    pub activity: Vec<f64>,
    /// Sum of `|p[x] - p[x-1]|` on the 8-pixel grid (x % 8 == 0) and off it
    /// (divided by 7, per position), over every fourth row.
    pub grid8: u64,
    pub off8: u64,
    /// Positions on the grid those sums cover, each weighted by one 8-bit
    /// code value in this picture's code values.
    pub grid_n: u64,
    act: Vec<u32>,
    luma: Vec<u32>,
    /// Per macroblock: flat and at mid-grey, the picture decoders put where
    /// a reference picture or a slice is missing.
    pub grey: Vec<bool>,
    /// One 8-bit code value in this picture's code values, and mid-grey.
    pub unit: f64,
    pub mid: f64,
    conv: Vec<u16>,
    scratch: Vec<u16>,
    /// Per column, over the sampled rows of the current band: sums of
    /// `|p[x-1] - p[x]|` and of `p[x-1] - p[x]` (8 rows of 12-bit samples
    /// fit 16 bits).
    dband: Vec<u16>,
    sband: Vec<i16>,
    /// Per row and macroblock column: sums of `|p(y-1) - p(y)|` and of `p(y)`
    /// over the macroblock's 16 columns.
    rdiff: Vec<i32>,
    rsum: Vec<i32>,
}

impl BoundaryMap {
    /// Measures `plane`. Uses
    /// AVX2 where the processor has it; the result is identical to
    /// [`BoundaryMap::compute_portable`].
    pub fn compute(&mut self, plane: &LumaPlane<'_>) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2, checked just above.
                unsafe { self.compute_avx2(plane) };
                return;
            }
        }
        self.compute_with(plane);
    }

    /// The same code compiled for AVX2 (the row loops vectorise wider).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn compute_avx2(&mut self, plane: &LumaPlane<'_>) {
        self.compute_with(plane);
    }

    /// [`BoundaryMap::compute`] without SIMD, the reference the AVX2 build is
    /// tested against.
    #[cfg(any(test, feature = "internals"))]
    pub fn compute_portable(&mut self, plane: &LumaPlane<'_>) {
        self.compute_with(plane);
    }

    #[inline(always)]
    fn compute_with(&mut self, plane: &LumaPlane<'_>) {
        let cols = plane.width() / MB;
        let rows = plane.height() / MB;
        let (w, h) = (cols * MB, rows * MB);
        self.cols = cols;
        self.rows = rows;
        self.width = w;
        self.height = h;
        let n = cols * rows;
        for v in [&mut self.v, &mut self.h] {
            v.clear();
            v.resize(n, Seg::default());
        }
        // every entry of these is written by the pass except the picture's
        // edges, which stay 0: clear them only when the size changes
        for v in [&mut self.ev, &mut self.sv] {
            fit(v, rows * w);
        }
        for v in [&mut self.eh, &mut self.sh] {
            fit(v, h * cols);
        }
        self.act.clear();
        self.act.resize(n, 0);
        self.luma.clear();
        self.luma.resize(n, 0);
        self.grey.clear();
        self.activity.clear();
        self.grid8 = 0;
        self.off8 = 0;
        self.grid_n = 0;
        if n == 0 {
            return;
        }
        // deeper than 12 bits is measured at 12, so band sums fit 16 bits
        let shift = depth_shift(plane.range().depth);
        if plane.row_u8(0, 0, w).is_some() {
            self.pass(|y| plane.row_u8(y, 0, w).unwrap_or(&[]));
        } else {
            let mut conv = std::mem::take(&mut self.conv);
            conv.clear();
            for y in 0..h {
                match plane.row(y, 0, w, &mut self.scratch) {
                    Row::U8(r) => conv.extend(r.iter().map(|&p| u16::from(p))),
                    Row::U16(r) => conv.extend(r.iter().map(|&p| p >> shift)),
                }
            }
            self.pass(|y| &conv[y * w..(y + 1) * w]);
            self.conv = conv;
        }
        // 4 sampled rows of 15 differences
        self.activity.extend(
            self.act
                .iter()
                .map(|&a| f64::from(a) / (4 * (MB - 1)) as f64),
        );
        // mid-grey within a code value and a half at 8 bits, flat to within
        // half a code value on average
        let depth = (plane.range().depth - shift).clamp(8, 16);
        let unit = f64::from(1u32 << (depth - 8));
        self.unit = unit;
        self.grid_n <<= depth - 8;
        let mid = f64::from(1u32 << (depth - 1));
        self.mid = mid;
        self.grey
            .extend(self.luma.iter().zip(&self.activity).map(|(&l, &a)| {
                let mean = f64::from(l) / (4 * MB) as f64;
                (mean - mid).abs() <= 1.5 * unit && a <= 0.5 * unit
            }));
    }

    /// One pass over the rows. The excess sums are linear in the per-row
    /// absolute differences, so only those are summed, per band (vertical
    /// lines) or per macroblock column (horizontal lines), and the excess is
    /// formed once from the sums: `Σ(2|b| - |a| - |c|) = 2Σ|b| - Σ|a| - Σ|c|`.
    #[inline(always)]
    fn pass<'a, P: Px + 'a>(&mut self, row: impl Fn(usize) -> &'a [P]) {
        let (w, h, cols) = (self.width, self.height, self.cols);
        let mut dband = std::mem::take(&mut self.dband);
        let mut sband = std::mem::take(&mut self.sband);
        dband.clear();
        dband.resize(w, 0);
        sband.clear();
        sband.resize(w, 0);
        let mut rdiff = std::mem::take(&mut self.rdiff);
        let mut rsum = std::mem::take(&mut self.rsum);
        fit(&mut rdiff, h * cols);
        fit(&mut rsum, h * cols);
        let mut above: &[P] = &[];
        for y in 0..h {
            let p = row(y);
            if p.len() < w {
                break;
            }
            let p = &p[..w];
            let r = y / MB;
            // vertical lines, from every other row
            if y % 2 == 0 {
                for ((dd, ss), (&a, &b)) in dband[1..]
                    .iter_mut()
                    .zip(sband[1..].iter_mut())
                    .zip(p.iter().zip(&p[1..]))
                {
                    *dd += P::diff(a, b);
                    *ss += P::sdiff(a, b);
                }
            }
            // the grid segments on vertical lines are the band sums at the
            // grid columns, their first halves the sums half way down
            let half_way = y % MB == MB / 2 - 1;
            if half_way || y % MB == MB - 1 {
                for (c, seg) in self.v[r * cols..(r + 1) * cols]
                    .iter_mut()
                    .enumerate()
                    .skip(1)
                {
                    let (step, signed) = (u32::from(dband[c * MB]), i32::from(sband[c * MB]));
                    if half_way {
                        (seg.step_a, seg.signed_a) = (step, signed);
                    } else {
                        (seg.step, seg.signed) = (step, signed);
                    }
                }
            }
            if y % MB == MB - 1 {
                // the band is complete: excess from the sums
                let band = &mut self.ev[r * w..(r + 1) * w];
                for (o, ((&l, &c), &rr)) in band[2..w - 1].iter_mut().zip(
                    dband[1..w - 2]
                        .iter()
                        .zip(&dband[2..w - 1])
                        .zip(&dband[3..]),
                ) {
                    *o = 2 * i32::from(c) - i32::from(l) - i32::from(rr);
                }
                for (o, &v) in self.sv[r * w..(r + 1) * w].iter_mut().zip(&sband) {
                    *o = i32::from(v);
                }
                dband.fill(0);
                sband.fill(0);
            }
            // horizontal lines: per macroblock column, the row's sum and its
            // absolute difference from the row above
            let (diffs, sums) = (
                &mut rdiff[y * cols..(y + 1) * cols],
                &mut rsum[y * cols..(y + 1) * cols],
            );
            P::mb_sums(if y >= 1 { above } else { p }, p, diffs, sums);
            if y % 4 == 1 {
                self.sample_row(p, r, sums);
            }
            let line = y.wrapping_sub(1);
            if y >= 3 && line % MB == 0 {
                let (rb, rc) = (row(line - 1), row(line));
                let base = (line / MB) * cols;
                for cc in 0..cols {
                    let mut seg = Seg::default();
                    for x in (cc * MB..(cc + 1) * MB).step_by(2) {
                        seg.add(rb[x].v(), rc[x].v(), x % MB < MB / 2);
                    }
                    self.h[base + cc] = seg;
                }
            }
            above = p;
        }
        // horizontal lines from the row sums, halved to the scale of
        // SAMPLES positions (all 16 columns were summed)
        for line in 2..h.saturating_sub(1) {
            let (up, here, down) = (
                &rdiff[(line - 1) * cols..line * cols],
                &rdiff[line * cols..(line + 1) * cols],
                &rdiff[(line + 1) * cols..(line + 2) * cols],
            );
            for (o, ((&u, &m), &d)) in self.eh[line * cols..(line + 1) * cols]
                .iter_mut()
                .zip(up.iter().zip(here).zip(down))
            {
                *o = (2 * m - u - d) / 2;
            }
            let (above, below) = (
                &rsum[(line - 1) * cols..line * cols],
                &rsum[line * cols..(line + 1) * cols],
            );
            for (o, (&a, &b)) in self.sh[line * cols..(line + 1) * cols]
                .iter_mut()
                .zip(above.iter().zip(below))
            {
                *o = (a - b) / 2;
            }
        }
        self.dband = dband;
        self.sband = sband;
        self.rdiff = rdiff;
        self.rsum = rsum;
    }

    /// Texture activity, luma and blockiness sums from one row of band `r`
    /// whose per-macroblock sums are `sums`.
    #[inline(always)]
    fn sample_row<P: Px>(&mut self, row: &[P], r: usize, sums: &[i32]) {
        let cols = self.cols;
        let (mut g, mut o) = (0u64, 0u64);
        for (c, ((act, luma), &sum)) in self.act[r * cols..(r + 1) * cols]
            .iter_mut()
            .zip(&mut self.luma[r * cols..(r + 1) * cols])
            .zip(sums)
            .enumerate()
        {
            *luma += sum as u32;
            let x = c * MB;
            // steps on the 8-pixel grid: at the macroblock's left edge (none
            // at the picture's) and between its halves
            let g0 = if c == 0 {
                0
            } else {
                (row[x].v() - row[x - 1].v()).unsigned_abs()
            };
            let g1 = (row[x + MB / 2].v() - row[x + MB / 2 - 1].v()).unsigned_abs();
            let (h0, h1) = P::mb_halves(row, c);
            let inside = h0 + h1 - g0 - g1;
            g += u64::from(g0 + g1);
            // the step between the halves is inside the block too
            *act += inside + g1;
            o += u64::from(inside);
        }
        self.grid8 += g;
        self.off8 += o / 7;
        // weighted by one 8-bit code value once the depth is known
        self.grid_n += (2 * cols - 1) as u64;
    }

    /// For grid segment `k` (vertical lines when `vertical`), if its mean
    /// excess step reaches `t`: that step in code values, the strongest
    /// across other lines of the same orientation within [`REACH`], and
    /// whether `prev` (a previous frame's map) had a step like it (same
    /// sign, half to twice the size) within [`MOTION`]; that last is only
    /// looked at (else false) when the step is `masking` times the strongest.
    fn context(
        &self,
        vertical: bool,
        k: usize,
        prev: Option<&BoundaryMap>,
        t: f64,
        masking: f64,
    ) -> Option<(f64, f64, bool)> {
        let line = self.line(vertical, k);
        let (at, index) = (line.at, line.index);
        let e = if vertical { &self.ev } else { &self.eh };
        let excess = e[index(at)];
        if f64::from(excess) / SCALE < t {
            return None;
        }
        let control = line
            .within(REACH)
            .filter(|&i| i != at)
            .map(|i| e[index(i)])
            .max()
            .unwrap_or(0);
        let masked = f64::from(excess) < masking * f64::from(control);
        let moved = prev.is_some_and(|p| !masked && self.step_near(p, vertical, k));
        Some((f64::from(excess) / SCALE, f64::from(control) / SCALE, moved))
    }
}

impl BoundaryMap {
    /// A copy with only what [`BoundaryMap::step_near`] reads.
    fn steps(&self) -> BoundaryMap {
        BoundaryMap {
            cols: self.cols,
            rows: self.rows,
            width: self.width,
            height: self.height,
            ev: self.ev.clone(),
            eh: self.eh.clone(),
            sv: self.sv.clone(),
            sh: self.sh.clone(),
            ..BoundaryMap::default()
        }
    }

    /// Whether `other` (another frame's map of the same size) steps like grid
    /// segment `k` does (same sign, half to twice the excess) across a line
    /// within [`MOTION`] of it.
    fn step_near(&self, other: &BoundaryMap, vertical: bool, k: usize) -> bool {
        if other.width != self.width || other.height != self.height || self.cols == 0 {
            return false;
        }
        let line = self.line(vertical, k);
        let (at, index) = (line.at, line.index);
        let (e, sg, oe, os) = if vertical {
            (&self.ev, &self.sv, &other.ev, &other.sv)
        } else {
            (&self.eh, &self.sh, &other.eh, &other.sh)
        };
        let (excess, signed) = (e[index(at)], sg[index(at)]);
        line.within(MOTION).any(|i| {
            let (e2, s2) = (oe[index(i)], os[index(i)]);
            2 * e2 >= excess
                && e2 <= 2 * excess
                && (s2 > 0) == (signed > 0)
                && 2 * s2.abs() >= signed.abs()
        })
    }

    /// The lines of grid segment `k`'s orientation, as the step arrays hold
    /// them (see [`Line`]).
    fn line(&self, vertical: bool, k: usize) -> Line<impl Fn(usize) -> usize + Copy> {
        let (w, cols) = (self.width, self.cols);
        let (r, c) = (k / cols, k % cols);
        let (at, len) = if vertical {
            (c * MB, w)
        } else {
            (r * MB, self.height)
        };
        Line {
            at,
            len,
            index: move |i: usize| if vertical { r * w + i } else { i * cols + c },
        }
    }

    /// How much of the picture changed texture from `prev`'s: the share of
    /// macroblocks whose mean gradient changed by more than half (and more
    /// than two 8-bit code values). 0 the same, 1 everywhere (a scene cut);
    /// a small object moving over a flat background changes little.
    fn change(&self, prev: &BoundaryMap) -> f64 {
        if prev.activity.len() != self.activity.len() {
            return 1.0;
        }
        if self.activity.is_empty() {
            return 0.0;
        }
        let floor = 2.0 * self.unit;
        let changed = self
            .activity
            .iter()
            .zip(&prev.activity)
            .filter(|&(&a, &b)| (a - b).abs() > floor.max(0.5 * a.max(b)))
            .count();
        changed as f64 / self.activity.len() as f64
    }
}

/// The lines crossing one grid segment's position along it: columns for a
/// segment on a vertical line, rows for one on a horizontal line.
struct Line<F> {
    /// The segment's own line.
    at: usize,
    /// How many lines there are.
    len: usize,
    /// Where line `i`'s step is in the step arrays (`ev`/`sv` or `eh`/`sh`).
    index: F,
}

impl<F> Line<F> {
    /// The lines within `reach` of the segment's, away from the picture's
    /// edges (whose steps are not measured).
    fn within(&self, reach: usize) -> std::ops::RangeInclusive<usize> {
        self.at.saturating_sub(reach).max(2)..=(self.at + reach).min(self.len.saturating_sub(2))
    }
}

/// Makes `v` hold `n` zeros, unless it holds `n` values already (which the
/// caller overwrites).
fn fit(v: &mut Vec<i32>, n: usize) {
    if v.len() != n {
        v.clear();
        v.resize(n, 0);
    }
}

/// Bits a sample is shifted right by so that it has at most 12: the sums of
/// differences over a band then fit 16 bits.
pub fn depth_shift(depth: u32) -> u32 {
    depth.saturating_sub(12)
}

/// Positions of a segment that are measured: every other row (vertical
/// lines) or column (horizontal lines), which halves the work and sees
/// block-sized damage as well.
const SAMPLES: usize = MB / 2;

/// From a sum of `2|b - c| - |a - b| - |c - d|` over a segment to the mean
/// excess step in code values.
const SCALE: f64 = (2 * SAMPLES) as f64;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockConfig {
    /// Smallest excess step across a grid segment that can be damage, as a
    /// fraction of the nominal luma range.
    pub threshold: f64,
    /// How many times the strongest step across other lines of the same
    /// orientation within 12 pixels a step must exceed (content masking).
    pub masking: f64,
    /// How many times the mean gradient inside the blocks beside it a step
    /// must exceed (texture masking).
    pub texture: f64,
    /// Newly broken segments a frame needs to start a corruption.
    pub min_breaks: u32,
    /// How many times its running mean of newly broken segments a frame must
    /// have (plus one) to start a corruption.
    pub sudden: f64,
    /// Whether frames missing from a steady frame rate are evidence of
    /// corruption (see [`Cadence`]).
    pub missing_frames: bool,
    /// For frames whose quantiser is known (the H.264 slice QP that
    /// `slicecheck` reads): how many quantiser steps ([`qstep`]) the excess
    /// step across a segment must reach (0: off). A step the quantiser
    /// alone could leave between two blocks is no evidence of damage.
    pub qp_masking: f64,
    /// Nanoseconds a corruption must last to be reported (0: one frame).
    pub min_duration: u64,
    /// Nanoseconds between blockiness measurements (0: none).
    pub interval: u64,
    /// The analysed part of the picture (whole macroblocks inside it).
    pub region: Region,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            threshold: 0.075,
            masking: 1.5,
            texture: 1.0,
            min_breaks: 2,
            sudden: 3.0,
            missing_frames: true,
            qp_masking: 1.0,
            min_duration: 0,
            interval: 1_000_000_000,
            region: Region::default(),
        }
    }
}

/// What raised a corruption: any of four kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Broken or grey blocks seen in the pixels.
    pub pixels: bool,
    /// The decoder flagged the buffer as corrupted.
    pub decoder: bool,
    /// Frames missing just before this one in a stream that kept a steady
    /// frame rate (decoders drop a frame they cannot decode, such as one
    /// whose data was lost).
    pub missing_frames: bool,
    /// The coded frame lost slices, as `slicecheck` found before the
    /// decoder (see [`crate::analysis::coded::slices`]).
    pub bitstream: bool,
}

/// Evidence names, in the order of [`Evidence::as_str`].
const EVIDENCE_NAMES: [&str; 4] = ["pixels", "decoder", "missing-frames", "bitstream"];

/// Every combination of [`EVIDENCE_NAMES`], indexed by their bits (bit 0
/// pixels).
const EVIDENCE_JOINED: [&str; 16] = [
    "",
    "pixels",
    "decoder",
    "pixels+decoder",
    "missing-frames",
    "pixels+missing-frames",
    "decoder+missing-frames",
    "pixels+decoder+missing-frames",
    "bitstream",
    "pixels+bitstream",
    "decoder+bitstream",
    "pixels+decoder+bitstream",
    "missing-frames+bitstream",
    "pixels+missing-frames+bitstream",
    "decoder+missing-frames+bitstream",
    "pixels+decoder+missing-frames+bitstream",
];

impl Evidence {
    pub const PIXELS: Evidence = Evidence {
        pixels: true,
        decoder: false,
        missing_frames: false,
        bitstream: false,
    };
    pub const DECODER: Evidence = Evidence {
        pixels: false,
        decoder: true,
        missing_frames: false,
        bitstream: false,
    };
    pub const MISSING_FRAMES: Evidence = Evidence {
        pixels: false,
        decoder: false,
        missing_frames: true,
        bitstream: false,
    };
    pub const BITSTREAM: Evidence = Evidence {
        pixels: false,
        decoder: false,
        missing_frames: false,
        bitstream: true,
    };

    fn flags(&self) -> [bool; 4] {
        [
            self.pixels,
            self.decoder,
            self.missing_frames,
            self.bitstream,
        ]
    }

    /// The names of the kinds present joined by `+`, in the order pixels,
    /// decoder, missing-frames, bitstream (`""` for none).
    pub fn as_str(&self) -> &'static str {
        let bits = self
            .flags()
            .iter()
            .enumerate()
            .fold(0, |a, (i, &f)| a | (usize::from(f) << i));
        EVIDENCE_JOINED[bits]
    }

    /// Reads [`Evidence::as_str`]'s form (names in any order, at least one).
    pub fn parse(s: &str) -> Option<Self> {
        let mut e = Evidence::default();
        for name in s.split('+') {
            let flag = match EVIDENCE_NAMES.iter().position(|&n| n == name)? {
                0 => &mut e.pixels,
                1 => &mut e.decoder,
                2 => &mut e.missing_frames,
                _ => &mut e.bitstream,
            };
            *flag = true;
        }
        Some(e)
    }

    /// Any evidence at all.
    pub fn any(&self) -> bool {
        self.flags().iter().any(|&f| f)
    }

    pub fn union(self, o: Evidence) -> Evidence {
        Evidence {
            pixels: self.pixels || o.pixels,
            decoder: self.decoder || o.decoder,
            missing_frames: self.missing_frames || o.missing_frames,
            bitstream: self.bitstream || o.bitstream,
        }
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoxPx {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl BoxPx {
    fn union(self, o: BoxPx) -> BoxPx {
        if self.width == 0 || self.height == 0 {
            return o;
        }
        if o.width == 0 || o.height == 0 {
            return self;
        }
        let x0 = self.x.min(o.x);
        let y0 = self.y.min(o.y);
        let x1 = (self.x + self.width).max(o.x + o.width);
        let y1 = (self.y + self.height).max(o.y + o.height);
        BoxPx {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        }
    }
}

/// The damage of a frame or of a whole corruption.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Damage {
    /// Damaged macroblocks (most in one frame, for a whole corruption).
    pub blocks: u32,
    /// `blocks` as a fraction of the analysed macroblocks.
    pub fraction: f64,
    /// Bounding box of the damaged macroblocks (union over the corruption).
    pub area: BoxPx,
    pub evidence: Evidence,
}

/// A blockiness measurement over one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMeasurement {
    /// End of the interval, ns.
    pub timestamp: u64,
    /// Mean gradient across the 8-pixel grid over the mean gradient off it
    /// (1.0: no blocking; ordinary H.264 at good quality stays near 1).
    pub blockiness: f64,
    /// Frames measured, and of them frames judged corrupted.
    pub frames: u64,
    pub corrupted_frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlockEvent {
    /// Start or end of a corruption, with its damage so far: the most
    /// damaged blocks of one frame, and the union of the areas (for the
    /// default `min_duration` of 0, a start has its first frame's damage).
    Corruption {
        transition: Transition,
        damage: Damage,
    },
    Measurement(BlockMeasurement),
}

/// Finds block corruption frame by frame; see the module documentation.
#[derive(Debug, Clone)]
pub struct BlockDetector {
    config: BlockConfig,
    tracker: EventTracker,
    map: BoundaryMap,
    /// The previous frame's map, when there is one to compare with.
    prev: Option<BoundaryMap>,
    breaks: Vec<Break>,
    damaged: Vec<bool>,
    flagged: bool,
    /// What the next frame lost in the coded stream.
    lost: SliceLoss,
    cadence: Cadence,
    /// Running mean of newly broken segments per frame, and how many frames
    /// it has seen.
    novel_mean: f64,
    compared: u64,
    /// How much the last frame changed from the one before (see
    /// `BoundaryMap::change`).
    change: f64,
    /// Macroblocks damaged in the previous frame, while in a corruption.
    was_damaged: Vec<bool>,
    /// The steps of the last frame before the current corruption: a step
    /// it already had is content, not damage persisting.
    before: Option<BoundaryMap>,
    /// The damage of the current corruption so far.
    worst: Option<Damage>,
    /// Blockiness sums of the current interval.
    interval_start: Option<u64>,
    grid_sum: u64,
    off_sum: u64,
    grid_n_sum: u64,
    frames: u64,
    corrupted_frames: u64,
    last_damage: Option<Damage>,
}

impl BlockDetector {
    pub fn new(config: BlockConfig) -> Self {
        BlockDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            map: BoundaryMap::default(),
            prev: None,
            breaks: Vec::new(),
            damaged: Vec::new(),
            flagged: false,
            lost: SliceLoss::default(),
            cadence: Cadence::default(),
            novel_mean: 0.0,
            compared: 0,
            change: 0.0,
            was_damaged: Vec::new(),
            before: None,
            worst: None,
            interval_start: None,
            grid_sum: 0,
            off_sum: 0,
            grid_n_sum: 0,
            frames: 0,
            corrupted_frames: 0,
            last_damage: None,
        }
    }

    pub fn config(&self) -> BlockConfig {
        self.config
    }

    pub fn set_config(&mut self, config: BlockConfig) {
        if config.region != self.config.region {
            self.prev = None;
        }
        self.config = config;
        self.tracker.set_min_duration(config.min_duration);
    }

    /// The decoder flagged the next frame as corrupted (or not).
    pub fn set_decoder_flag(&mut self, corrupted: bool) {
        self.flagged = corrupted;
    }

    /// What the next frame lost in the coded stream (slices that never
    /// reached the decoder, by macroblock address in the coded picture, rows
    /// of `ceil(width / 16)` macroblocks; or prediction from a picture that
    /// lost some: see [`crate::analysis::coded::slices`]).
    pub fn set_lost_slices(&mut self, loss: &SliceLoss) {
        self.lost.clone_from(loss);
    }

    /// The grid segments of the last frame that stepped by at least the
    /// threshold, with what they were judged to be. For diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_breaks(&self) -> &[Break] {
        &self.breaks
    }

    /// How much the last frame's texture changed from the one before: 0 the
    /// same, 1 entirely new. For diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_change(&self) -> f64 {
        self.change
    }

    /// Macroblocks of the last frame that were flat decoder grey. For
    /// diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_grey_blocks(&self) -> usize {
        self.prev
            .as_ref()
            .map_or(0, |p| p.grey.iter().filter(|&&g| g).count())
    }

    /// The damage found in the last frame, if it was corrupted.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_damage(&self) -> Option<Damage> {
        self.last_damage
    }

    /// One frame covering `pts..end` nanoseconds.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Vec<BlockEvent> {
        let mut out = Vec::new();
        let range = plane.range();
        // in code values as the map measures them (at most 12 bits)
        let span = f64::from(range.white.saturating_sub(range.black).max(1))
            / f64::from(1u32 << depth_shift(range.depth));
        let mut t = (self.config.threshold * span).max(1.0);
        if let Some(qp) = self.lost.qp {
            // a step the quantiser alone could leave is no evidence
            t = t.max(self.config.qp_masking * qstep(qp) * span / NOMINAL_8BIT);
        }
        self.map.compute(plane);
        // blockiness over the interval (before find_damage keeps the map)
        let start = *self.interval_start.get_or_insert(pts);
        self.grid_sum += self.map.grid8;
        self.off_sum += self.map.off8;
        self.grid_n_sum += self.map.grid_n;
        let seen = self.find_damage(plane.width(), plane.height(), t);
        let gap_start = self.cadence.last_end();
        let missing = self.cadence.push(pts, end);
        let evidence = Evidence {
            pixels: seen.is_some_and(|d| d.evidence.pixels),
            decoder: std::mem::take(&mut self.flagged),
            missing_frames: self.config.missing_frames && missing > 0,
            bitstream: seen.is_some_and(|d| d.evidence.bitstream),
        };
        let damage = evidence.any().then(|| Damage {
            evidence,
            ..seen.unwrap_or(Damage {
                blocks: 0,
                fraction: 0.0,
                area: BoxPx::default(),
                evidence,
            })
        });
        self.last_damage = damage;

        self.frames += 1;
        self.corrupted_frames += u64::from(damage.is_some());

        // a corruption shown by missing frames began with the first of them
        let from = match gap_start {
            Some(g) if evidence.missing_frames => g.min(pts),
            _ => pts,
        };
        let tr = self.tracker.push(damage.is_some(), from, end);
        if let Some(d) = damage {
            // `worst` holds only while a corruption is open
            self.worst = Some(match self.worst {
                Some(w) => Damage {
                    blocks: w.blocks.max(d.blocks),
                    fraction: w.fraction.max(d.fraction),
                    area: w.area.union(d.area),
                    evidence: w.evidence.union(d.evidence),
                },
                _ => d,
            });
        }
        if let Some(tr) = tr {
            out.push(self.corruption(tr));
        }
        if !self.tracker.in_defect() {
            self.worst = None;
            self.before = None;
        }
        if self.config.interval > 0 && end.saturating_sub(start) >= self.config.interval {
            out.push(self.measurement(end));
        }
        out
    }

    fn corruption(&self, transition: Transition) -> BlockEvent {
        BlockEvent::Corruption {
            transition,
            damage: self.worst.unwrap_or(Damage {
                blocks: 0,
                fraction: 0.0,
                area: BoxPx::default(),
                evidence: Evidence::PIXELS,
            }),
        }
    }

    fn measurement(&mut self, end: u64) -> BlockEvent {
        let m = BlockMeasurement {
            timestamp: end,
            blockiness: blockiness(self.grid_sum, self.off_sum, self.grid_n_sum),
            frames: self.frames,
            corrupted_frames: self.corrupted_frames,
        };
        self.interval_start = None;
        self.grid_sum = 0;
        self.off_sum = 0;
        self.grid_n_sum = 0;
        self.frames = 0;
        self.corrupted_frames = 0;
        BlockEvent::Measurement(m)
    }

    /// Forgets the frame times that tell missing frames (a new segment).
    pub fn forget_cadence(&mut self) {
        self.cadence = Cadence::default();
    }

    /// Ends a reported corruption because the stream was interrupted, and
    /// forgets the previous frame.
    pub fn close(&mut self, reason: EndReason) -> Vec<BlockEvent> {
        self.prev = None;
        self.cadence = Cadence::default();
        let out = self
            .tracker
            .close(reason)
            .map(|t| self.corruption(t))
            .into_iter()
            .collect();
        self.worst = None;
        self.before = None;
        out
    }

    /// Judges the grid segments and the lost macroblocks, and returns the
    /// damage of the frame, if it starts or continues a corruption, with
    /// `pixels` and `bitstream` evidence.
    fn find_damage(&mut self, width: usize, height: usize, t: f64) -> Option<Damage> {
        let (cols, rows) = (self.map.cols, self.map.rows);
        let n = cols * rows;
        let rect = self.config.region.to_rect(width, height);
        // whole macroblocks inside the region
        let (c0, c1) = (rect.x0.div_ceil(MB), (rect.x1 / MB).min(cols));
        let (r0, r1) = (rect.y0.div_ceil(MB), (rect.y1 / MB).min(rows));
        let inside = c1 > c0 && r1 > r0;
        self.breaks.clear();
        self.damaged.clear();
        self.damaged.resize(n, false);
        let prev = self.prev.take();
        // a picture that changed everywhere (a scene cut) has nothing to be
        // compared with
        self.change = prev.as_ref().map_or(1.0, |p| self.map.change(p));
        let fresh = prev.is_some() && inside && self.change <= CUT;
        let cut = prev.is_some() && inside && !fresh;
        let continuing = self.tracker.in_defect() && self.was_damaged.len() == n;
        let mut novel = 0u32;
        let mut persisting = 0u32;
        if fresh {
            for r in r0..r1 {
                for c in c0..c1 {
                    let k = r * cols + c;
                    let v = (c > c0)
                        .then(|| self.is_break(true, k, t, prev.as_ref()))
                        .flatten();
                    let h = (r > r0)
                        .then(|| self.is_break(false, k, t, prev.as_ref()))
                        .flatten();
                    for (found, other) in [(v, k.wrapping_sub(1)), (h, k.wrapping_sub(cols))] {
                        let Some(b) = found else {
                            continue;
                        };
                        self.breaks.push(b);
                        let counts = match b.verdict {
                            Verdict::Broken => {
                                novel += 1;
                                true
                            }
                            // damage still there from the frame before
                            // (not a step the picture had before the corruption)
                            Verdict::Moved
                                if continuing
                                    && (self.was_damaged[k] || self.was_damaged[other])
                                    && !self
                                        .before
                                        .as_ref()
                                        .is_some_and(|p| self.map.step_near(p, b.vertical, k)) =>
                            {
                                persisting += 1;
                                true
                            }
                            _ => false,
                        };
                        if counts {
                            self.damaged[k] = true;
                            self.damaged[other] = true;
                        }
                    }
                }
            }
        }
        // macroblocks that turned to decoder grey (a missing reference or
        // slice), which a cut to new content does not do
        let mut greyed = 0u32;
        if let Some(p) = prev.as_ref().filter(|p| p.grey.len() == n && inside) {
            let prev_content = p.activity.iter().any(|&a| a >= GREY_TEXTURE * p.unit);
            for r in r0..r1 {
                for c in c0..c1 {
                    let k = r * cols + c;
                    let kept = continuing && self.was_damaged[k];
                    // grey where the previous frame had another level, in a
                    // picture with content somewhere (a cut from black or a
                    // flat slate to grey is no damage; texture averaging
                    // mid-grey flattened to its mean is an encoder's doing)
                    let mean = f64::from(p.luma[k]) / (4 * MB) as f64;
                    let other_level = (mean - p.mid).abs() >= GREY_LEVEL * p.unit;
                    let fresh_grey = !p.grey[k] && other_level && prev_content;
                    if self.map.grey[k] && (fresh_grey || kept) {
                        greyed += u32::from(fresh_grey);
                        self.damaged[k] = true;
                        persisting += u32::from(kept);
                    }
                }
            }
        }
        // keep this frame's map for the next one, and reuse the old one
        let mut old = prev.unwrap_or_default();
        std::mem::swap(&mut old, &mut self.map);
        self.prev = inside.then_some(old);
        // macroblocks lost in the coded stream (whatever the pixels show:
        // concealment can look clean)
        // (addresses count blocks of `loss.block` pixels in raster order:
        // macroblocks in H.264, coding tree blocks in HEVC)
        let mut lost = 0u32;
        let loss = std::mem::take(&mut self.lost);
        let tainted = loss.tainted && inside;
        let block = if loss.block == 0 {
            MB
        } else {
            loss.block as usize
        };
        let (coded_cols, coded_rows) = (width.div_ceil(block), height.div_ceil(block));
        for l in loss.lost {
            let end = l.end.map_or(usize::MAX, |e| e as usize);
            let (from, to) = (l.first as usize, end.min(coded_cols * coded_rows));
            for a in from..to {
                let (bc, br) = (a % coded_cols, a / coded_cols);
                // the macroblocks of the grid inside that block
                let (mc0, mc1) = (bc * block / MB, ((bc + 1) * block).div_ceil(MB));
                let (mr0, mr1) = (br * block / MB, ((br + 1) * block).div_ceil(MB));
                for r in mr0.max(r0)..mr1.min(r1) {
                    for c in mc0.max(c0)..mc1.min(c1) {
                        lost += 1;
                        self.damaged[r * cols + c] = true;
                    }
                }
            }
        }
        let analysed = ((c1.saturating_sub(c0)) * (r1.saturating_sub(r0))) as f64;
        let grey_start = f64::from(greyed) >= (GREY_SHARE * analysed).max(GREY_BLOCKS);
        // a cut while a corruption is open (often the key frame that ends
        // it, or brings new damage): held over the cut with the damage of
        // the frame before, and judged again on the next frame
        if cut && continuing {
            self.damaged.clone_from(&self.was_damaged);
            persisting += 1;
        }
        if !fresh && !grey_start && persisting == 0 && lost == 0 && !tainted {
            self.was_damaged.clear();
            return None;
        }
        // sudden: well above what this picture usually has
        let sudden = f64::from(novel) >= self.config.sudden * self.novel_mean + 1.0;
        if fresh {
            // a plain mean over the first frames, then a running one
            self.compared += 1;
            let weight = (1.0 / self.compared as f64).max(MEAN_WEIGHT);
            self.novel_mean += (f64::from(novel) - self.novel_mean) * weight;
        }
        let starts = (fresh && sudden && novel >= self.config.min_breaks.max(1)) || grey_start;
        let corrupted = starts || (continuing && novel + persisting > 0);
        if !corrupted && lost == 0 && !tainted {
            self.was_damaged.clear();
            return None;
        }
        if !continuing {
            // a new corruption: `self.map` holds the frame before's map now
            self.before = Some(self.map.steps());
        }
        let (mut count, mut bx0, mut by0, mut bx1, mut by1) = (0u32, usize::MAX, usize::MAX, 0, 0);
        for (b, _) in self.damaged.iter().enumerate().filter(|(_, &d)| d) {
            count += 1;
            let (bc, br) = (b % cols, b / cols);
            bx0 = bx0.min(bc);
            by0 = by0.min(br);
            bx1 = bx1.max(bc + 1);
            by1 = by1.max(br + 1);
        }
        self.was_damaged.clone_from(&self.damaged);
        let total = ((c1 - c0) * (r1 - r0)) as f64;
        // (a tainted frame may show no damaged block)
        let area = if count == 0 {
            BoxPx::default()
        } else {
            BoxPx {
                x: (bx0 * MB) as u32,
                y: (by0 * MB) as u32,
                width: ((bx1 - bx0) * MB) as u32,
                height: ((by1 - by0) * MB) as u32,
            }
        };
        Some(Damage {
            blocks: count,
            fraction: f64::from(count) / total,
            area,
            evidence: Evidence {
                pixels: corrupted,
                bitstream: lost > 0 || tainted,
                ..Evidence::default()
            },
        })
    }

    /// Grid segment `k` with what was weighed, if it steps by at least `t`,
    /// given the previous frame's map.
    /// `vertical`: the segment left of macroblock `k`, else the one above it.
    fn is_break(
        &self,
        vertical: bool,
        k: usize,
        t: f64,
        prev: Option<&BoundaryMap>,
    ) -> Option<Break> {
        let m = &self.map;
        let cols = m.cols;
        let segs = if vertical { &m.v } else { &m.h };
        let c = &self.config;
        let (excess, control, moved) = m.context(vertical, k, prev, t, c.masking)?;
        let other = if vertical { k - 1 } else { k - cols };
        let activity = m.activity[k].max(m.activity[other]);
        let seg = segs[k];
        // only looked at where it decides the verdict
        let straight = excess >= c.masking * control
            && excess >= c.texture * activity
            && !moved
            && straight_edge(m, vertical, k);
        let mut b = Break {
            vertical,
            col: k % cols,
            row: k / cols,
            excess,
            control,
            activity,
            moved,
            straight,
            coherence: f64::from(seg.signed) / f64::from(seg.step.max(1)),
            verdict: Verdict::Broken,
        };
        // content stepping as much across other lines nearby, texture, a
        // step the previous frame had here or close by (content moving), a
        // straight content edge
        b.verdict = if excess < c.masking * control {
            Verdict::Control
        } else if excess < c.texture * activity {
            Verdict::Texture
        } else if moved {
            Verdict::Moved
        } else if straight {
            Verdict::ContentEdge
        } else {
            Verdict::Broken
        };
        Some(b)
    }
}

/// The nominal luma range of 8-bit video (16 to 235).
const NOMINAL_8BIT: f64 = 219.0;

/// H.264's quantiser step size for `qp` (0.625 at 0, doubling every 6, so
/// about 22 at QP 31 and 113 at QP 45), in 8-bit code values.
pub fn qstep(qp: i32) -> f64 {
    0.625 * 2f64.powf(f64::from(qp.clamp(0, 51)) / 6.0)
}

/// Frames in a row at a steady rate a stream needs before a gap in it counts
/// as missing frames.
const STEADY_FRAMES: u32 = 8;
/// The most frames a gap may miss to count: longer is an outage (left to the
/// stream's liveness), not data lost within the stream.
const MAX_MISSING: u64 = 5;

/// Follows a stream's frame times to tell frames missing from it: a decoder
/// drops a frame it cannot decode (one whose data was lost, or that lost its
/// reference), and the frames after it are often damaged in ways the pixels
/// alone do not show (content a frame behind where it should be).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cadence {
    /// The previous frame's time and duration.
    prev: Option<(u64, u64)>,
    /// Frames in a row that followed the one before at its duration.
    steady: u32,
}

impl Cadence {
    /// Where the previous frame ended, if it had a duration.
    pub fn last_end(&self) -> Option<u64> {
        self.prev.map(|(pts, dur)| pts + dur)
    }

    /// How many frames are missing just before the frame at `pts` lasting
    /// until `end`: the whole number of the previous frame's durations the
    /// gap spans, when it spans 1 to [`MAX_MISSING`] within a quarter
    /// duration and the stream kept that duration for [`STEADY_FRAMES`]
    /// frames before. 0 otherwise (variable rates, frames without a
    /// duration, time going backwards, long gaps).
    pub fn push(&mut self, pts: u64, end: u64) -> u64 {
        let dur = end.saturating_sub(pts);
        let mut missing = 0;
        let mut steady = 0;
        if let Some((prev, prev_dur)) = self.prev {
            let tolerance = prev_dur / 4;
            let period = pts.saturating_sub(prev);
            let frames = (period + prev_dur / 2).checked_div(prev_dur).unwrap_or(0);
            let on_beat = pts > prev
                && frames >= 1
                && period.abs_diff(frames * prev_dur) <= tolerance
                && dur.abs_diff(prev_dur) <= tolerance;
            if on_beat && frames == 1 {
                steady = self.steady.saturating_add(1);
            } else if on_beat && frames <= MAX_MISSING + 1 && self.steady >= STEADY_FRAMES {
                missing = frames - 1;
                // still the same rate
                steady = self.steady;
            }
        }
        self.prev = (dur > 0).then_some((pts, dur));
        self.steady = if dur > 0 { steady } else { 0 };
        missing
    }
}

/// Is grid segment `k` part of a straight content edge lying on the line:
/// a step of one sign that carries on through the macroblock corners for at
/// least [`STRAIGHT_RUN`] segments of the same line? (A misplaced block or
/// two also steps along straight grid lines, but stops at its corners.)
fn straight_edge(m: &BoundaryMap, vertical: bool, k: usize) -> bool {
    let cols = m.cols;
    let segs = if vertical { &m.v } else { &m.h };
    let coherent = |step: u32, signed: i32| {
        step > 0 && f64::from(signed.unsigned_abs()) >= 0.7 * f64::from(step)
    };
    // (step, signed) of the first or second half of a segment
    let half = |s: &Seg, first: bool| {
        if first {
            (s.step_a, s.signed_a)
        } else {
            (s.step - s.step_a, s.signed - s.signed_a)
        }
    };
    // does segment `a` join segment `b`, the next one along the line?
    let joins = |a: usize, b: usize| {
        let (s1, g1) = half(&segs[a], false);
        let (s2, g2) = half(&segs[b], true);
        coherent(s1, g1)
            && coherent(s2, g2)
            && (g1 > 0) == (g2 > 0)
            && 4 * g1.unsigned_abs() >= g2.unsigned_abs()
            && 4 * g2.unsigned_abs() >= g1.unsigned_abs()
    };
    let (r, c) = (k / cols, k % cols);
    // segment `i` positions along the line
    let (pos, len) = if vertical { (r, m.rows) } else { (c, cols) };
    let at = |i: usize| if vertical { i * cols + c } else { r * cols + i };
    let mut run = 1;
    let mut i = pos;
    while i > 0 && joins(at(i - 1), at(i)) {
        run += 1;
        i -= 1;
    }
    let mut i = pos;
    while i + 1 < len && joins(at(i), at(i + 1)) {
        run += 1;
        i += 1;
    }
    run >= STRAIGHT_RUN
}

/// Segments a straight content edge runs along (see `straight_edge`).
const STRAIGHT_RUN: usize = 3;

/// A broken grid segment and what was weighed: the segment is left of
/// (vertical) or above macroblock (`col`, `row`); values in code values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Break {
    pub vertical: bool,
    pub col: usize,
    pub row: usize,
    pub excess: f64,
    /// The strongest step across other lines nearby.
    pub control: f64,
    /// Mean gradient inside the blocks either side.
    pub activity: f64,
    /// The previous frame had a step like it close by (only looked at when
    /// the step is not masked by other lines nearby).
    pub moved: bool,
    /// It carries on a straight content edge along the line (only looked at
    /// when no earlier test decided the verdict).
    pub straight: bool,
    /// Signed over absolute step along the segment (-1..1).
    pub coherence: f64,
    pub verdict: Verdict,
}

/// What a grid segment stepping by at least the threshold was judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Damage.
    Broken,
    /// Content: lines nearby step as much.
    Control,
    /// Texture: the blocks either side are busy.
    Texture,
    /// The previous frame had the step here or close by.
    Moved,
    /// A straight content edge carrying on into the next segment.
    ContentEdge,
}

/// Mean gradient across the 8-pixel grid over the mean gradient off it,
/// each plus one 8-bit code value (`n`: the positions summed, so weighted):
/// 1.0 when there is no gradient at all, 256 at most (flat 8x8 blocks of
/// full contrast).
pub fn blockiness(grid: u64, off: u64, n: u64) -> f64 {
    let n = n.max(1) as f64;
    (grid as f64 + n) / (off as f64 + n)
}

/// Texture change (see `BoundaryMap::change`) above which a frame is a
/// scene cut.
const CUT: f64 = 0.3;

/// Share of the analysed macroblocks, and least number, that must turn to
/// decoder grey at once to start a corruption (a lost slice greys a band).
const GREY_SHARE: f64 = 0.1;
const GREY_BLOCKS: f64 = 4.0;
/// Texture (mean gradient, 8-bit code values) some macroblock of the frame
/// before must have had for grey to count: a cut from black or a flat
/// picture is not damage.
const GREY_TEXTURE: f64 = 2.0;
/// How far from mid-grey a macroblock's level must have been (8-bit code
/// values) to count as turning grey.
const GREY_LEVEL: f64 = 8.0;

/// The weight of each frame in the running mean of newly broken segments.
const MEAN_WEIGHT: f64 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::video::frame::{LumaLayout, LumaRange};

    const F: u64 = 40_000_000;
    const W: usize = 160;
    const H: usize = 128;

    /// A smooth texture shifted `dx` pixels.
    fn texture(dx: usize) -> Vec<u8> {
        use std::f64::consts::TAU;
        let mut out = vec![0u8; W * H];
        for y in 0..H {
            for x in 0..W {
                let (u, v) = ((x + dx) as f64, y as f64);
                let l = 120.0
                    + 50.0 * (TAU * u / 41.0).sin() * (TAU * v / 29.0).cos()
                    + 20.0 * (TAU * (u + v) / 67.0).sin();
                out[y * W + x] = l as u8;
            }
        }
        out
    }

    /// The texture with the 32x32 block at (48, 48) taken from elsewhere.
    fn damaged(dx: usize) -> Vec<u8> {
        let mut out = texture(dx);
        let other = texture(dx + 57);
        for y in 48..80 {
            for x in 48..80 {
                out[y * W + x] = other[(y + 20) % H * W + x];
            }
        }
        out
    }

    fn push(d: &mut BlockDetector, luma: &[u8], i: u64) -> Vec<BlockEvent> {
        d.push(&LumaPlane::gray8(luma, W, H).unwrap(), i * F, (i + 1) * F)
    }

    /// The corruption transitions of a fresh detector (no measurements) fed
    /// `frames` pictures made by `picture`, one 25 fps frame each.
    fn transitions(frames: usize, picture: impl Fn(usize) -> Vec<u8>) -> Vec<Transition> {
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            ..BlockConfig::default()
        });
        let mut got = Vec::new();
        for i in 0..frames {
            for e in push(&mut d, &picture(i), i as u64) {
                if let BlockEvent::Corruption { transition, .. } = e {
                    got.push(transition);
                }
            }
        }
        got
    }

    #[test]
    fn misplaced_block_starts_and_ends() {
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            ..BlockConfig::default()
        });
        let mut got = Vec::new();
        for i in 0..8u64 {
            let luma = if i == 4 {
                damaged(i as usize)
            } else {
                texture(i as usize)
            };
            for e in push(&mut d, &luma, i) {
                if let BlockEvent::Corruption { transition, damage } = e {
                    got.push((i, transition, damage.evidence));
                }
            }
        }
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, Transition::Start { start: 4 * F });
        assert_eq!(got[0].2, Evidence::PIXELS);
        assert_eq!(
            got[1].1,
            Transition::End {
                start: 4 * F,
                end: 5 * F,
                reason: EndReason::Recovered
            }
        );
    }

    /// A corruption does not live on in a step the picture had before it: a
    /// bright 16x16 square on the grid, next to where the damage was.
    #[test]
    fn corruption_does_not_persist_in_content_from_before() {
        let square = |mut luma: Vec<u8>| -> Vec<u8> {
            for y in 48..64 {
                luma[y * W + 80..y * W + 96].fill(230);
            }
            luma
        };
        let got = transitions(10, |i| square(if i == 4 { damaged(i) } else { texture(i) }));
        assert_eq!(
            got,
            [
                Transition::Start { start: 4 * F },
                Transition::End {
                    start: 4 * F,
                    end: 5 * F,
                    reason: EndReason::Recovered
                }
            ]
        );
    }

    /// A cut (a key frame changing most of the picture) in the middle of a
    /// corruption does not end it when the damage is still there after it.
    #[test]
    fn corruption_held_over_a_cut() {
        // the texture three times as strong: every block's activity changes
        let strong = |luma: Vec<u8>| -> Vec<u8> {
            luma.iter()
                .map(|&l| (120.0 + 3.0 * (f64::from(l) - 120.0)).clamp(0.0, 255.0) as u8)
                .collect()
        };
        let picture = |i| match i {
            0..=3 => texture(i),
            4 | 5 => damaged(i),
            6 | 7 => strong(damaged(i)),
            _ => strong(texture(i)),
        };
        assert_eq!(
            transitions(10, picture),
            [
                Transition::Start { start: 4 * F },
                Transition::End {
                    start: 4 * F,
                    end: 8 * F,
                    reason: EndReason::Recovered
                }
            ]
        );
        // frame 6 is the cut the test means it to be
        let mut d = BlockDetector::new(BlockConfig::default());
        push(&mut d, &picture(5), 5);
        push(&mut d, &picture(6), 6);
        assert!(d.last_change() > CUT, "{}", d.last_change());
    }

    /// `picture` with macroblock rows 2 and 3 (a lost slice's band) flat
    /// decoder grey.
    fn greyed(mut picture: Vec<u8>) -> Vec<u8> {
        picture[2 * MB * W..4 * MB * W].fill(128);
        picture
    }

    /// A band turning to decoder grey where the picture had content is a
    /// corruption; noise averaged away to its own mid-grey level (an encoder
    /// starved of bits) keeps its blocks' means, and is not.
    #[test]
    fn grey_band_is_damage_only_where_the_level_changed() {
        let bright = |i: usize| -> Vec<u8> { texture(i).iter().map(|&l| l + 60).collect() };
        let picture = |i| match i {
            5 => greyed(bright(i)),
            _ => bright(i),
        };
        assert_eq!(
            transitions(8, picture),
            [
                Transition::Start { start: 5 * F },
                Transition::End {
                    start: 5 * F,
                    end: 6 * F,
                    reason: EndReason::Recovered
                }
            ]
        );
        // noise of +-40 around mid-grey, new every frame
        let noise = |i: usize| -> Vec<u8> {
            (0..W * H)
                .map(|p| {
                    let h = (p as u64 ^ (i as u64) << 32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    (88 + (h >> 57) * 80 / 128) as u8
                })
                .collect()
        };
        let starved = |i| match i {
            5.. => greyed(noise(i)),
            _ => noise(i),
        };
        assert_eq!(transitions(8, starved), []);
    }

    #[test]
    fn first_frame_and_flat_frames_are_quiet() {
        let mut d = BlockDetector::new(BlockConfig {
            interval: F,
            ..BlockConfig::default()
        });
        // damage in the very first frame cannot be told from content
        assert!(push(&mut d, &damaged(0), 0)
            .iter()
            .all(|e| matches!(e, BlockEvent::Measurement(_))));
        for (i, v) in [0u8, 16, 128, 235, 255].into_iter().enumerate() {
            for e in push(&mut d, &vec![v; W * H], i as u64 + 1) {
                match e {
                    BlockEvent::Measurement(m) => {
                        assert_eq!(m.blockiness, 1.0);
                        assert_eq!(m.corrupted_frames, 0);
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn decoder_flag_alone_is_evidence() {
        let mut d = BlockDetector::new(BlockConfig::default());
        push(&mut d, &texture(0), 0);
        d.set_decoder_flag(true);
        push(&mut d, &texture(1), 1);
        assert_eq!(d.last_damage().map(|d| d.evidence), Some(Evidence::DECODER));
        // the flag is for one frame
        push(&mut d, &texture(2), 2);
        assert_eq!(d.last_damage(), None);
    }

    #[test]
    fn lost_slices_are_evidence_up_to_the_first_untainted_frame() {
        use crate::analysis::coded::slices::{LostRange, SliceLoss};
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            ..BlockConfig::default()
        });
        let mut got = Vec::new();
        for i in 0..8u64 {
            // rows of 10 macroblocks: 23..27 is row 2, columns 3 to 6
            let loss = match i {
                3 => SliceLoss {
                    lost: vec![LostRange {
                        first: 23,
                        end: Some(27),
                    }],
                    tainted: false,
                    qp: None,
                    block: 16,
                },
                4 | 5 => SliceLoss {
                    lost: Vec::new(),
                    tainted: true,
                    qp: None,
                    block: 16,
                },
                _ => SliceLoss::default(),
            };
            d.set_lost_slices(&loss);
            for e in push(&mut d, &texture(i as usize), i) {
                if let BlockEvent::Corruption { transition, damage } = e {
                    got.push((transition, damage));
                }
            }
            if i == 3 {
                let dmg = d.last_damage().unwrap();
                assert_eq!(dmg.evidence, Evidence::BITSTREAM);
                assert_eq!(dmg.blocks, 4);
                assert_eq!(
                    dmg.area,
                    BoxPx {
                        x: 48,
                        y: 32,
                        width: 64,
                        height: 16
                    }
                );
            }
            if i == 4 {
                // tainted: evidence without a damaged block of its own
                let dmg = d.last_damage().unwrap();
                assert_eq!((dmg.evidence, dmg.blocks), (Evidence::BITSTREAM, 0));
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, Transition::Start { start: 3 * F });
        assert_eq!(
            got[1].0,
            Transition::End {
                start: 3 * F,
                end: 6 * F,
                reason: EndReason::Recovered
            }
        );
        // the end has the area of the whole corruption
        assert_eq!(got[1].1.area.width, 64);
        assert_eq!(got[1].1.blocks, 4);

        // a run to the end of the picture; and one outside the region
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            region: Region {
                y: 0.5,
                height: 0.5,
                ..Region::default()
            },
            ..BlockConfig::default()
        });
        push(&mut d, &texture(0), 0);
        d.set_lost_slices(&SliceLoss {
            lost: vec![LostRange {
                first: 5,
                end: Some(10),
            }],
            tainted: false,
            qp: None,
            block: 16,
        });
        push(&mut d, &texture(1), 1);
        assert_eq!(d.last_damage(), None, "outside the region");
        d.set_lost_slices(&SliceLoss {
            lost: vec![LostRange {
                first: 75,
                end: None,
            }],
            tainted: false,
            qp: None,
            block: 16,
        });
        push(&mut d, &texture(2), 2);
        assert_eq!(d.last_damage().map(|d| d.blocks), Some(5));
    }

    /// A 16x16 macroblock lifted by 40 code values in frame 4: a step of
    /// 40 all round it, as a coarse quantiser leaves one. Raises a
    /// corruption when the frame's quantiser is unknown or fine, and none
    /// when a quantiser step of the frame's QP could make it.
    #[test]
    fn steps_the_quantiser_could_leave_are_masked() {
        use crate::analysis::coded::slices::SliceLoss;
        let lifted = |i: usize| {
            let mut p = texture(i);
            if i == 4 {
                for y in 48..64 {
                    for x in 64..80 {
                        p[y * W + x] += 40;
                    }
                }
            }
            p
        };
        // an excess of 16.4 to 35 (the step less the texture's gradients):
        // over the default threshold's 16.4 and qstep 6.3 at QP 20, 11 at 25;
        // under qstep 35 at QP 35, 113 at 45
        for (qp, starts) in [
            (None, true),
            (Some(20), true),
            (Some(25), true),
            (Some(35), false),
            (Some(45), false),
        ] {
            for masking in [1.0, 0.0] {
                let mut d = BlockDetector::new(BlockConfig {
                    interval: 0,
                    qp_masking: masking,
                    ..BlockConfig::default()
                });
                let mut got = Vec::new();
                for i in 0..8 {
                    d.set_lost_slices(&SliceLoss {
                        qp,
                        ..SliceLoss::default()
                    });
                    for e in push(&mut d, &lifted(i), i as u64) {
                        if let BlockEvent::Corruption { transition, .. } = e {
                            got.push(transition);
                        }
                    }
                }
                let want = if starts || masking == 0.0 {
                    vec![
                        Transition::Start { start: 4 * F },
                        Transition::End {
                            start: 4 * F,
                            end: 5 * F,
                            reason: EndReason::Recovered,
                        },
                    ]
                } else {
                    vec![]
                };
                assert_eq!(got, want, "qp {qp:?} masking {masking}");
            }
        }
        assert!((qstep(0) - 0.625).abs() < 1e-9);
        assert!((qstep(24) - 10.0).abs() < 1e-9);
        assert_eq!(qstep(60), qstep(51));
    }

    /// Frame starts (in frame durations of `dur` ns) through a fresh
    /// cadence; the missing count of each frame.
    fn cadence(times: &[u64], dur: u64) -> Vec<u64> {
        let mut c = Cadence::default();
        times
            .iter()
            .map(|&t| c.push(t * dur, (t + 1) * dur))
            .collect()
    }

    #[test]
    fn cadence_counts_frames_missing_from_a_steady_rate() {
        // 8 steady frames, then one missing, then three missing
        let mut t: Vec<u64> = (0..9).collect();
        t.extend([10, 11, 15, 16]);
        assert_eq!(cadence(&t, F), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0]);
        // not yet steady: the gap is not judged, and steadiness starts over
        assert_eq!(cadence(&[0, 1, 2, 4, 5], F), [0; 5]);
        // longer than MAX_MISSING: an outage, not lost frames
        let mut t: Vec<u64> = (0..9).collect();
        t.extend([8 + MAX_MISSING + 2, 8 + MAX_MISSING + 3]);
        assert_eq!(cadence(&t, F).iter().sum::<u64>(), 0);
        t.truncate(9);
        t.push(8 + MAX_MISSING + 1);
        assert_eq!(cadence(&t, F)[9], MAX_MISSING);
    }

    #[test]
    fn cadence_follows_ntsc_rounding_and_ignores_irregular_times() {
        // 29.97 fps: durations of 33366666 and 33366667 ns alternate
        let mut c = Cadence::default();
        let at = |i: u64| i * 1_001_000_000 / 30;
        let got: Vec<u64> = [0u64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
            .iter()
            .map(|&i| c.push(at(i), at(i + 1)))
            .collect();
        assert_eq!(got, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        // a variable rate never counts: intervals wander by half a frame
        let mut c = Cadence::default();
        let mut pts = 0;
        for i in 0..40u64 {
            let step = if i % 3 == 0 { F + F / 2 } else { F };
            assert_eq!(c.push(pts, pts + F), 0, "frame {i}");
            pts += step;
        }
        // time going backwards, or frames without a duration, start over
        let mut c = Cadence::default();
        for i in 0..9 {
            c.push(i * F, (i + 1) * F);
        }
        assert_eq!(c.push(3 * F, 4 * F), 0);
        assert_eq!(c.push(5 * F, 6 * F), 0, "not steady again yet");
        let mut c = Cadence::default();
        for i in 0..9 {
            c.push(i * F, i * F);
        }
        assert_eq!(c.push(10 * F, 11 * F), 0);
    }

    #[test]
    fn missing_frames_are_evidence_unless_turned_off() {
        for on in [true, false] {
            let mut d = BlockDetector::new(BlockConfig {
                interval: 0,
                missing_frames: on,
                ..BlockConfig::default()
            });
            let mut got = Vec::new();
            for i in (0..10).chain(11..13) {
                for e in push(&mut d, &texture(i as usize), i) {
                    if let BlockEvent::Corruption { transition, damage } = e {
                        let at = match transition {
                            Transition::Start { start } => start,
                            Transition::End { end, .. } => end,
                        };
                        got.push((i, at, damage.evidence, damage.blocks));
                    }
                }
            }
            if on {
                assert_eq!(
                    got,
                    [
                        // posted with frame 11, back-dated to the missing frame
                        (11, 10 * F, Evidence::MISSING_FRAMES, 0),
                        (12, 12 * F, Evidence::MISSING_FRAMES, 0)
                    ]
                );
            } else {
                assert!(got.is_empty(), "{got:?}");
            }
        }
        // and close() forgets the cadence (a flush, a caps change)
        let mut d = BlockDetector::new(BlockConfig::default());
        for i in 0..10 {
            push(&mut d, &texture(i), i as u64);
        }
        d.close(EndReason::Flush);
        push(&mut d, &texture(12), 12);
        assert_eq!(d.last_damage(), None);
    }

    #[test]
    fn evidence_names_round_trip() {
        for bits in 1..16u8 {
            let e = Evidence {
                pixels: bits & 1 != 0,
                decoder: bits & 2 != 0,
                missing_frames: bits & 4 != 0,
                bitstream: bits & 8 != 0,
            };
            assert_eq!(Evidence::parse(e.as_str()), Some(e), "{}", e.as_str());
            // each name once, in the documented order
            let names: Vec<&str> = e.as_str().split('+').collect();
            let want: Vec<&str> = EVIDENCE_NAMES
                .iter()
                .zip(e.flags())
                .filter(|(_, f)| *f)
                .map(|(n, _)| *n)
                .collect();
            assert_eq!(names, want);
        }
        assert_eq!(Evidence::parse(""), None);
        assert_eq!(Evidence::parse("pixels+gap"), None);
    }

    #[test]
    fn avx2_build_equals_portable() {
        for luma in [texture(3), damaged(5)] {
            let p = LumaPlane::gray8(&luma, W, H).unwrap();
            let (mut a, mut b) = (BoundaryMap::default(), BoundaryMap::default());
            a.compute(&p);
            b.compute_portable(&p);
            assert_eq!(a, b);
        }
    }

    /// An 8-bit picture as 10-bit little-endian words.
    fn words10(luma: &[u8]) -> Vec<u8> {
        luma.iter()
            .flat_map(|&v| (u16::from(v) << 2).to_le_bytes())
            .collect()
    }

    fn plane10(words: &[u8], full_range: bool) -> LumaPlane<'_> {
        let layout = LumaLayout::U16 {
            offset: 0,
            step: 2,
            shift: 0,
        };
        LumaPlane::new(words, W * 2, W, H, layout, LumaRange::new(10, full_range)).unwrap()
    }

    #[test]
    fn sixteen_bit_reads_like_eight_bit() {
        let luma = damaged(2);
        let words = words10(&luma);
        let p10 = plane10(&words, false);
        let p8 = LumaPlane::gray8(&luma, W, H).unwrap();
        let (mut a, mut b) = (BoundaryMap::default(), BoundaryMap::default());
        a.compute(&p8);
        b.compute(&p10);
        let scaled: Vec<i32> = a.ev.iter().map(|v| v * 4).collect();
        assert_eq!(scaled, b.ev);
        assert_eq!(a.grey, b.grey);
    }

    /// A row cut short inside a macroblock gives the gradients it has, the
    /// same in the vector path's fallback as in the scalar one, and no panic.
    #[test]
    fn macroblock_halves_of_a_short_row() {
        let row: Vec<u8> = (0..20u8).map(|x| x * 3).collect();
        // column 1 covers samples 16..32; only 16..20 exist, 3 apart
        assert_eq!(<u8 as Px>::mb_halves(&row, 1), (12, 0));
        assert_eq!(mb_halves_scalar(&row, 1), (12, 0));
        let words: Vec<u16> = row.iter().map(|&v| u16::from(v)).collect();
        assert_eq!(<u16 as Px>::mb_halves(&words, 1), (12, 0));
    }

    #[test]
    fn tiny_and_empty_pictures() {
        let mut d = BlockDetector::new(BlockConfig::default());
        for (w, h) in [(0, 0), (1, 1), (15, 15), (16, 16), (17, 40)] {
            let luma = vec![100u8; w * h];
            let p = LumaPlane::gray8(&luma, w, h).unwrap();
            for i in 0..3 {
                d.push(&p, i * F, (i + 1) * F);
                assert_eq!(d.last_damage(), None);
            }
        }
    }

    #[test]
    fn blockiness_of_a_blocky_picture() {
        // flat 8x8 blocks of different levels: every step on the grid
        let luma: Vec<u8> = (0..W * H)
            .map(|i| (40 + ((i % W) / 8 * 7 + (i / W) / 8 * 13) % 150) as u8)
            .collect();
        let mut m = BoundaryMap::default();
        m.compute(&LumaPlane::gray8(&luma, W, H).unwrap());
        assert!(blockiness(m.grid8, m.off8, m.grid_n) > 10.0);
        let smooth = texture(0);
        m.compute(&LumaPlane::gray8(&smooth, W, H).unwrap());
        let b = blockiness(m.grid8, m.off8, m.grid_n);
        assert!(b > 0.7 && b < 1.3, "{b}");
    }

    /// Checkers of 8x8 squares, black and white: every step on the grid,
    /// none off it, the most blocking there is. At most 256, at any depth.
    #[test]
    fn blockiness_is_bounded() {
        let luma: Vec<u8> = (0..W * H)
            .map(|i| {
                if ((i % W) / 8 + (i / W) / 8).is_multiple_of(2) {
                    0
                } else {
                    255
                }
            })
            .collect();
        let words = words10(&luma);
        let p10 = plane10(&words, true);
        let mut m = BoundaryMap::default();
        for p in [LumaPlane::gray8(&luma, W, H).unwrap(), p10] {
            m.compute(&p);
            assert_eq!(blockiness(m.grid8, m.off8, m.grid_n), 256.0);
        }
        m.compute(&LumaPlane::gray8(&[7; 16 * 16], 16, 16).unwrap());
        assert_eq!(blockiness(m.grid8, m.off8, m.grid_n), 1.0);
    }
}
