//! The coding grid: the excess step across every 16-pixel segment of the
//! macroblock grid lines and of every other line, the texture inside each
//! block, and the compression blockiness score.

use crate::analysis::video::frame::{LumaPlane, Row};

/// Macroblock size of the coding grid, in pixels.
pub const MB: usize = 16;

/// A luma sample, 8 or 16 bit.
pub(super) trait Px: Copy {
    fn v(self) -> i32;
    /// `|a - b|` (samples have at most 12 bits, see [`depth_shift`]).
    fn diff(a: Self, b: Self) -> u16;
    /// `a - b` (at most 12 bits, so it fits).
    fn sdiff(a: Self, b: Self) -> i16;
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
    /// [`Px::mb_sums`] in AVX2, the same sums.
    ///
    /// # Safety
    /// Only where the processor has AVX2.
    #[inline(always)]
    unsafe fn mb_sums_avx2(a: &[Self], b: &[Self], diffs: &mut [i32], sums: &mut [i32]) {
        Self::mb_sums(a, b, diffs, sums)
    }
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
    /// Four macroblock columns (64 bytes of each row) a step: four sums of
    /// absolute differences and four of the samples, packed into two
    /// stores; the columns left over as [`Px::mb_sums`] does them.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn mb_sums_avx2(a: &[Self], b: &[Self], diffs: &mut [i32], sums: &mut [i32]) {
        use std::arch::x86_64::*;
        let n = diffs
            .len()
            .min(sums.len())
            .min(a.len() / MB)
            .min(b.len() / MB);
        let quads = n / 4 * 4;
        let zero = _mm256_setzero_si256();
        // from [c0 c2 s0 s2 | c1 c3 s1 s3] to [c0 c1 c2 c3 | s0 s1 s2 s3]
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for c in (0..quads).step_by(4) {
            // SAFETY: c + 4 <= n, so the 64 bytes from c * 16 are inside `a`
            // and `b` and the four values from c inside `diffs` and `sums`
            // (unaligned reads and writes).
            unsafe {
                let (pa, pb) = (a.as_ptr().add(c * MB), b.as_ptr().add(c * MB));
                let (a0, a1) = (
                    _mm256_loadu_si256(pa.cast()),
                    _mm256_loadu_si256(pa.add(32).cast()),
                );
                let (b0, b1) = (
                    _mm256_loadu_si256(pb.cast()),
                    _mm256_loadu_si256(pb.add(32).cast()),
                );
                // 64-bit sums of 8 bytes, each under 2^11: their low halves
                let d = _mm256_hadd_epi32(_mm256_sad_epu8(a0, b0), _mm256_sad_epu8(a1, b1));
                let s = _mm256_hadd_epi32(_mm256_sad_epu8(b0, zero), _mm256_sad_epu8(b1, zero));
                let both = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(d, s), order);
                _mm_storeu_si128(
                    diffs.as_mut_ptr().add(c).cast(),
                    _mm256_castsi256_si128(both),
                );
                _mm_storeu_si128(
                    sums.as_mut_ptr().add(c).cast(),
                    _mm256_extracti128_si256(both, 1),
                );
            }
        }
        Self::mb_sums(
            &a[quads * MB..],
            &b[quads * MB..],
            &mut diffs[quads..],
            &mut sums[quads..],
        );
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
    pub(super) fn add(&mut self, b: i32, c: i32, first_half: bool) {
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
pub(super) const REACH: usize = 12;
/// How far either side of a grid line (pixels) the previous frame is
/// searched for the same step: content that moved there.
pub(super) const MOTION: usize = 6;

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
    pub(super) act: Vec<u32>,
    pub(super) luma: Vec<u32>,
    /// Per macroblock: flat and at mid-grey, the picture decoders put where
    /// a reference picture or a slice is missing.
    pub grey: Vec<bool>,
    /// One 8-bit code value in this picture's code values, and mid-grey.
    pub unit: f64,
    pub mid: f64,
    pub(super) conv: Vec<u16>,
    pub(super) scratch: Vec<u16>,
    /// One sampled row's `|p[x] - p[x-1]|`.
    pub(super) rowd: Vec<u16>,
    /// Per column, over the sampled rows of the current band: sums of
    /// `|p[x-1] - p[x]|` and of `p[x-1] - p[x]` (8 rows of 12-bit samples
    /// fit 16 bits).
    pub(super) dband: Vec<u16>,
    pub(super) sband: Vec<i16>,
    /// Per macroblock column, for the last three rows (row `y` at `y % 3`):
    /// sums of `|p(y-1) - p(y)|` and of `p(y)` over the macroblock's 16
    /// columns.
    pub(super) rdiff: Vec<i32>,
    pub(super) rsum: Vec<i32>,
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
        self.compute_with::<false>(plane);
    }

    /// The same code compiled for AVX2 (the row loops vectorise wider).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn compute_avx2(&mut self, plane: &LumaPlane<'_>) {
        self.compute_with::<true>(plane);
    }

    /// [`BoundaryMap::compute`] without SIMD, the reference the AVX2 build is
    /// tested against.
    #[cfg(any(test, feature = "internals"))]
    pub fn compute_portable(&mut self, plane: &LumaPlane<'_>) {
        self.compute_with::<false>(plane);
    }

    /// The measurement; `AVX2`: only where the processor has it (the row
    /// sums in AVX2 intrinsics).
    #[inline(always)]
    pub(super) fn compute_with<const AVX2: bool>(&mut self, plane: &LumaPlane<'_>) {
        let cols = plane.width() / MB;
        let rows = plane.height() / MB;
        let (w, h) = (cols * MB, rows * MB);
        self.cols = cols;
        self.rows = rows;
        self.width = w;
        self.height = h;
        let n = cols * rows;
        // every segment but the unused ones (column 0 of `v`, row 0 of `h`)
        // is written by the pass
        fit(&mut self.v, n);
        fit(&mut self.h, n);
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
        // samples above their depth (garbage in the unused high bits of
        // 10-bit words) are clamped, so the sums cannot overflow either
        let top = ((1u32 << plane.range().depth.saturating_sub(shift).min(12)) - 1) as u16;
        if plane.row_u8(0, 0, w).is_some() {
            self.pass::<AVX2, _>(|y| plane.row_u8(y, 0, w).unwrap_or(&[]));
        } else {
            let mut conv = std::mem::take(&mut self.conv);
            conv.clear();
            for y in 0..h {
                match plane.row(y, 0, w, &mut self.scratch) {
                    Row::U8(r) => conv.extend(r.iter().map(|&p| u16::from(p))),
                    Row::U16(r) => conv.extend(r.iter().map(|&p| (p >> shift).min(top))),
                }
            }
            self.pass::<AVX2, _>(|y| &conv[y * w..(y + 1) * w]);
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
    ///
    /// One piece (about 120 lines) on purpose: it is the kernel's hot loop,
    /// its band buffers live across the rows, and the criterion bench
    /// (`benches/block.rs`) is what a split into helpers would have to keep.
    #[inline(always)]
    pub(super) fn pass<'a, const AVX2: bool, P: Px + 'a>(
        &mut self,
        row: impl Fn(usize) -> &'a [P],
    ) {
        let (w, h, cols) = (self.width, self.height, self.cols);
        let mut dband = std::mem::take(&mut self.dband);
        let mut sband = std::mem::take(&mut self.sband);
        dband.clear();
        dband.resize(w, 0);
        sband.clear();
        sband.resize(w, 0);
        // the last three rows' sums (row `y` at `y % 3`)
        let mut rdiff = std::mem::take(&mut self.rdiff);
        let mut rsum = std::mem::take(&mut self.rsum);
        fit(&mut rdiff, 3 * cols);
        fit(&mut rsum, 3 * cols);
        let ring = |y: usize| (y % 3) * cols..(y % 3 + 1) * cols;
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
                let sums = dband[1..].iter_mut().zip(sband[1..].iter_mut());
                let pairs = p.iter().zip(&p[1..]);
                if y % MB == 0 {
                    // the band's first sampled row starts its sums
                    for ((dd, ss), (&a, &b)) in sums.zip(pairs) {
                        *dd = P::diff(a, b);
                        *ss = P::sdiff(a, b);
                    }
                } else {
                    for ((dd, ss), (&a, &b)) in sums.zip(pairs) {
                        *dd += P::diff(a, b);
                        *ss += P::sdiff(a, b);
                    }
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
            }
            // horizontal lines: per macroblock column, the row's sum and its
            // absolute difference from the row above
            let (diffs, sums) = (&mut rdiff[ring(y)], &mut rsum[ring(y)]);
            let a = if y >= 1 { above } else { p };
            if AVX2 {
                // SAFETY: `AVX2` is set only where the processor has it
                // (`compute_avx2`).
                unsafe { P::mb_sums_avx2(a, p, diffs, sums) };
            } else {
                P::mb_sums(a, p, diffs, sums);
            }
            if y % 4 == 1 {
                self.sample_row(p, r, &rsum[ring(y)]);
            }
            // the horizontal line above the row before is complete: its
            // excess from the three rows' sums, halved to the scale of
            // SAMPLES positions (all 16 columns were summed)
            let line = y.wrapping_sub(1);
            if (2..h.saturating_sub(1)).contains(&line) {
                let (up, here, down) =
                    (&rdiff[ring(line - 1)], &rdiff[ring(line)], &rdiff[ring(y)]);
                for (o, ((&u, &m), &d)) in self.eh[line * cols..(line + 1) * cols]
                    .iter_mut()
                    .zip(up.iter().zip(here).zip(down))
                {
                    *o = (2 * m - u - d) / 2;
                }
                let (above, below) = (&rsum[ring(line - 1)], &rsum[ring(line)]);
                for (o, (&a, &b)) in self.sh[line * cols..(line + 1) * cols]
                    .iter_mut()
                    .zip(above.iter().zip(below))
                {
                    *o = (a - b) / 2;
                }
            }
            if y >= 3 && line % MB == 0 {
                let (rb, rc) = (&row(line - 1)[..w], &row(line)[..w]);
                let base = (line / MB) * cols;
                for (seg, (b, c)) in self.h[base..base + cols]
                    .iter_mut()
                    .zip(rb.chunks_exact(MB).zip(rc.chunks_exact(MB)))
                {
                    let mut s = Seg::default();
                    for x in (0..MB).step_by(2) {
                        s.add(b[x].v(), c[x].v(), x < MB / 2);
                    }
                    *seg = s;
                }
            }
            above = p;
        }
        self.dband = dband;
        self.sband = sband;
        self.rdiff = rdiff;
        self.rsum = rsum;
    }

    /// Texture activity, luma and blockiness sums from one row of band `r`
    /// whose per-macroblock sums are `sums`.
    #[inline(always)]
    pub(super) fn sample_row<P: Px>(&mut self, row: &[P], r: usize, sums: &[i32]) {
        let cols = self.cols;
        // `|p[x] - p[x-1]|`, 0 at the picture's left edge
        let mut d = std::mem::take(&mut self.rowd);
        // every entry but the first (0) is written below
        fit(&mut d, cols * MB);
        for (o, (&a, &b)) in d[1..].iter_mut().zip(row.iter().zip(&row[1..])) {
            *o = P::diff(a, b);
        }
        let (mut g, mut o) = (0u64, 0u64);
        for ((act, luma), (&sum, d)) in self.act[r * cols..(r + 1) * cols]
            .iter_mut()
            .zip(&mut self.luma[r * cols..(r + 1) * cols])
            .zip(sums.iter().zip(d.chunks_exact(MB)))
        {
            *luma += sum as u32;
            // 16 differences of at most 12 bits fit 16 bits
            let all = u32::from(d.iter().fold(0u16, |s, &v| s.wrapping_add(v)));
            // steps on the 8-pixel grid: at the macroblock's left edge (none
            // at the picture's) and between its halves
            let (g0, g1) = (u32::from(d[0]), u32::from(d[MB / 2]));
            let inside = all - g0 - g1;
            g += u64::from(g0 + g1);
            // the step between the halves is inside the block too
            *act += inside + g1;
            o += u64::from(inside);
        }
        self.rowd = d;
        self.grid8 += g;
        self.off8 += o / 7;
        // weighted by one 8-bit code value once the depth is known
        self.grid_n += (2 * cols - 1) as u64;
    }

    /// For the grid segment of macroblock `(c, r)` (vertical lines when
    /// `vertical`), if its mean
    /// excess step reaches `t`: that step in code values, the strongest
    /// across other lines of the same orientation within [`REACH`], and
    /// whether `prev` (a previous frame's map) had a step like it (same
    /// sign, half to twice the size) within [`MOTION`]; that last is only
    /// looked at (else false) when the step is `masking` times the strongest.
    pub(super) fn context(
        &self,
        vertical: bool,
        (r, c): (usize, usize),
        prev: Option<&BoundaryMap>,
        t: f64,
        masking: f64,
    ) -> Option<(f64, f64, bool)> {
        let line = self.line(vertical, (r, c));
        let (at, index) = (line.at, line.index);
        let e = if vertical { &self.ev } else { &self.eh };
        let excess = e[index(at)];
        if f64::from(excess) / SCALE < t {
            return None;
        }
        let near = line.within(REACH);
        let control = if vertical {
            // the columns of one band lie side by side
            let s = &e[index(*near.start())..=index(*near.end())];
            let (before, after) = s.split_at(at - near.start());
            let max = |s: &[i32]| s.iter().copied().max().unwrap_or(0);
            max(before).max(max(&after[1..]))
        } else {
            near.filter(|&i| i != at)
                .map(|i| e[index(i)])
                .max()
                .unwrap_or(0)
        };
        let masked = f64::from(excess) < masking * f64::from(control);
        let moved = prev.is_some_and(|p| !masked && self.step_near(p, vertical, (r, c)));
        Some((f64::from(excess) / SCALE, f64::from(control) / SCALE, moved))
    }
}

impl BoundaryMap {
    /// A copy with only what [`BoundaryMap::step_near`] reads.
    pub(super) fn steps(&self) -> BoundaryMap {
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

    /// Whether `other` (another frame's map of the same size) steps like the
    /// grid segment of macroblock `(c, r)` does (same sign, half to twice
    /// the excess) across a line within [`MOTION`] of it.
    pub(super) fn step_near(
        &self,
        other: &BoundaryMap,
        vertical: bool,
        (r, c): (usize, usize),
    ) -> bool {
        if other.width != self.width || other.height != self.height || self.cols == 0 {
            return false;
        }
        let line = self.line(vertical, (r, c));
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

    /// The lines of the orientation of the grid segment of macroblock
    /// `(c, r)`, as the step arrays hold them (see [`Line`]).
    pub(super) fn line(
        &self,
        vertical: bool,
        (r, c): (usize, usize),
    ) -> Line<impl Fn(usize) -> usize + Copy> {
        let (w, cols) = (self.width, self.cols);
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
    pub(super) fn change(&self, prev: &BoundaryMap) -> f64 {
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
pub(super) struct Line<F> {
    /// The segment's own line.
    pub(super) at: usize,
    /// How many lines there are.
    pub(super) len: usize,
    /// Where line `i`'s step is in the step arrays (`ev`/`sv` or `eh`/`sh`).
    pub(super) index: F,
}

impl<F> Line<F> {
    /// The lines within `reach` of the segment's, away from the picture's
    /// edges (whose steps are not measured).
    pub(super) fn within(&self, reach: usize) -> std::ops::RangeInclusive<usize> {
        self.at.saturating_sub(reach).max(2)..=(self.at + reach).min(self.len.saturating_sub(2))
    }
}

/// Makes `v` hold `n` zeros, unless it holds `n` values already (which the
/// caller overwrites).
pub(super) fn fit<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() != n {
        v.clear();
        v.resize(n, T::default());
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
pub(super) const SAMPLES: usize = MB / 2;

/// From a sum of `2|b - c| - |a - b| - |c - d|` over a segment to the mean
/// excess step in code values.
pub(super) const SCALE: f64 = (2 * SAMPLES) as f64;

/// Mean gradient across the 8-pixel grid over the mean gradient off it,
/// each plus one 8-bit code value (`n`: the positions summed, so weighted):
/// 1.0 when there is no gradient at all, 256 at most (flat 8x8 blocks of
/// full contrast).
pub fn blockiness(grid: u64, off: u64, n: u64) -> f64 {
    let n = n.max(1) as f64;
    (grid as f64 + n) / (off as f64 + n)
}
