//! Frozen picture detection.
//!
//! The picture is reduced to 4x4-pixel cell means of luma (independent noise
//! such as film grain, sensor noise or the coding noise of a lossy re-encode
//! drops by a factor of 4). A frame is compared with the *reference* frame (the
//! first frame of the candidate freeze) tile by tile: a tile is 4x4 cells
//! (16x16 pixels) and its difference is the mean absolute difference of its
//! cells. A frame is frozen when no tile differs by more than `threshold` of
//! the nominal luma range. Averaging absolute differences over a tile keeps
//! noise far below the threshold, while anything that moves changes the cells
//! it crosses by a large share of its contrast, so even a small moving object
//! keeps the picture live. Judging against the reference rather than the
//! previous frame means that slow change (a 1-pixel-a-frame pan, a slow fade)
//! adds up until it exceeds the threshold, so it never counts as frozen.

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::{LumaPlane, Rect, Region, Row};

/// Cell size, in pixels (cells are CELL x CELL).
pub const CELL: usize = 4;
/// Tile size, in cells (tiles are TILE x TILE cells).
pub const TILE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreezeConfig {
    /// Largest tile difference from the reference, as a fraction of the
    /// nominal luma range, that still counts as the same picture.
    pub threshold: f64,
    /// Nanoseconds a frozen stretch must last to be reported.
    pub min_duration: u64,
    /// The analysed part of the picture.
    pub region: Region,
    /// Nanoseconds between difference measurements (`Some(0)`: one per
    /// frame); `None`: no measurements.
    pub measurements: Option<u64>,
    /// The element analyses one frame in this many (1: every frame); the
    /// detector sees only those.
    pub frame_step: u32,
}

impl Default for FreezeConfig {
    fn default() -> Self {
        FreezeConfig {
            threshold: 0.02,
            min_duration: 2_000_000_000,
            region: Region::default(),
            measurements: None,
            frame_step: 1,
        }
    }
}

/// What the detector reports: a start or end of a freeze, or a difference
/// measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FreezeEvent {
    /// A start or end of a freeze. `difference` is the largest tile
    /// difference from the reference seen so far in the freeze (for a
    /// start) or over the whole freeze (for an end), as a fraction of the
    /// nominal range.
    Freeze {
        transition: Transition,
        difference: f64,
    },
    /// The difference over one measurement interval.
    Measurement(DifferenceMeasurement),
}

/// How much the picture changed over one measurement interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DifferenceMeasurement {
    /// End of the interval (end of its last frame), ns.
    pub timestamp: u64,
    /// The largest tile difference of any frame of the interval from its
    /// reference, as a fraction of the nominal range: at most `threshold`
    /// when every frame of the interval repeated the picture before it.
    pub difference: f64,
    /// Frames compared (a frame with no reference before it, the first
    /// after a start, flush or region change, is not).
    pub frames: u64,
}

/// The difference measurement being gathered.
#[derive(Debug, Clone, Copy)]
struct DifferenceSums {
    start: u64,
    max: f64,
    frames: u64,
}

/// Cell sums of `rect`, row-major, `ceil(w/4) x ceil(h/4)` cells. Each cell
/// holds the sum of its 16 pixels scaled to 8 bits (a partial edge cell is
/// scaled up as if it had 16 pixels), so it fits in a `u16`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CellGrid {
    pub cols: usize,
    pub rows: usize,
    pub cells: Vec<u16>,
    acc: Vec<u32>,
    col_acc: Vec<u32>,
    scratch: Vec<u16>,
}

/// Adds the sum of each group of 4 bytes of `row` to `acc` (`row.len() == 4 * acc.len()`).
type QuadsFn = fn(&mut [u32], &[u8]);

fn add_quads_portable(acc: &mut [u32], row: &[u8]) {
    for (a, q) in acc.iter_mut().zip(row.chunks_exact(CELL)) {
        *a += u32::from(q[0]) + u32::from(q[1]) + u32::from(q[2]) + u32::from(q[3]);
    }
}

#[cfg(target_arch = "x86_64")]
fn add_quads_avx2(acc: &mut [u32], row: &[u8]) {
    // SAFETY: only handed out by quads_fn() after checking for AVX2.
    unsafe { add_quads_avx2_inner(acc, row) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_quads_avx2_inner(acc: &mut [u32], row: &[u8]) {
    use std::arch::x86_64::*;
    let n = acc.len().min(row.len() / CELL);
    let lanes = n / 8 * 8;
    let ones8 = _mm256_set1_epi8(1);
    let ones16 = _mm256_set1_epi16(1);
    let mut i = 0;
    while i < lanes {
        // SAFETY: i + 8 <= n, so bytes 4i..4i+32 of row and words i..i+8 of acc exist.
        unsafe {
            let v = _mm256_loadu_si256(row.as_ptr().add(i * CELL) as *const __m256i);
            // unsigned bytes times 1, adjacent pairs summed to i16 (at most 510)
            let pairs = _mm256_maddubs_epi16(v, ones8);
            // adjacent i16 pairs summed to i32: each lane is one group of 4 bytes
            let quads = _mm256_madd_epi16(pairs, ones16);
            let p = acc.as_mut_ptr().add(i) as *mut __m256i;
            _mm256_storeu_si256(p, _mm256_add_epi32(_mm256_loadu_si256(p), quads));
        }
        i += 8;
    }
    add_quads_portable(&mut acc[lanes..n], &row[lanes * CELL..n * CELL]);
}

/// Cell sums of one whole 4-row cell row of 8-bit luma: `out[i]` = sum of
/// bytes `4i..4i+4` of the four rows.
type CellRowFn = fn([&[u8]; CELL], &mut [u16]);

fn cell_row_portable(rows: [&[u8]; CELL], out: &mut [u16]) {
    for (i, c) in out.iter_mut().enumerate() {
        let x = i * CELL;
        *c = rows
            .iter()
            .map(|r| {
                u16::from(r[x]) + u16::from(r[x + 1]) + u16::from(r[x + 2]) + u16::from(r[x + 3])
            })
            .sum();
    }
}

#[cfg(target_arch = "x86_64")]
fn cell_row_avx2(rows: [&[u8]; CELL], out: &mut [u16]) {
    // SAFETY: only handed out by kernels() after checking for AVX2.
    unsafe { cell_row_avx2_inner(rows, out) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn cell_row_avx2_inner(rows: [&[u8]; CELL], out: &mut [u16]) {
    use std::arch::x86_64::*;
    let n = rows
        .iter()
        .map(|r| r.len() / CELL)
        .fold(out.len(), usize::min);
    // 16 cells (64 bytes of each row) per step
    let lanes = n / 16 * 16;
    let ones8 = _mm256_set1_epi8(1);
    let ones16 = _mm256_set1_epi16(1);
    let mut i = 0;
    while i < lanes {
        // SAFETY: i + 16 <= n: bytes 4i..4i+64 of every row and words i..i+16
        // of out exist.
        unsafe {
            let mut lo = _mm256_setzero_si256();
            let mut hi = _mm256_setzero_si256();
            for r in rows {
                let p = r.as_ptr().add(i * CELL);
                // unsigned bytes times 1, adjacent pairs summed to i16
                lo = _mm256_add_epi16(
                    lo,
                    _mm256_maddubs_epi16(_mm256_loadu_si256(p as *const __m256i), ones8),
                );
                hi = _mm256_add_epi16(
                    hi,
                    _mm256_maddubs_epi16(_mm256_loadu_si256(p.add(32) as *const __m256i), ones8),
                );
            }
            // pairs of pairs: one i32 per cell (at most 4080)
            let lo = _mm256_madd_epi16(lo, ones16);
            let hi = _mm256_madd_epi16(hi, ones16);
            // pack to u16; packus works per 128-bit lane, so restore the order
            let packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0b11_01_10_00);
            _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, packed);
        }
        i += 16;
    }
    cell_row_portable(
        [
            &rows[0][lanes * CELL..],
            &rows[1][lanes * CELL..],
            &rows[2][lanes * CELL..],
            &rows[3][lanes * CELL..],
        ],
        &mut out[lanes..n],
    );
}

/// The row kernels a grid computation uses.
#[derive(Clone, Copy)]
struct Kernels {
    add_quads: QuadsFn,
    cell_row: CellRowFn,
}

const PORTABLE: Kernels = Kernels {
    add_quads: add_quads_portable,
    cell_row: cell_row_portable,
};

fn kernels() -> Kernels {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            return Kernels {
                add_quads: add_quads_avx2,
                cell_row: cell_row_avx2,
            };
        }
    }
    PORTABLE
}

/// The largest cell: 16 pixels at 255. Samples above their depth (garbage
/// in the unused high bits of 10-bit words) saturate here, so four cells'
/// differences always fit the `u16` tile sums of
/// [`CellGrid::max_tile_difference`].
const MAX_CELL: u32 = (CELL * CELL) as u32 * 255;

/// A cell's sum of `n` pixels, scaled to 16 pixels and to 8 bits.
#[inline]
fn scale_cell(sum: u64, n: usize, shift: u32) -> u16 {
    let full = (sum * (CELL * CELL) as u64 / n.max(1) as u64) >> shift;
    full.min(u64::from(MAX_CELL)) as u16
}

impl CellGrid {
    /// Recomputes the grid from `plane` over `rect`; `depth` is the bit depth
    /// of the luma code values. 8-bit rows use AVX2 where the processor has
    /// it; results are identical to the portable path ([`CellGrid::compute_portable`]).
    pub fn compute(&mut self, plane: &LumaPlane<'_>, rect: Rect, depth: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2, checked just above.
                unsafe { self.compute_avx2(plane, rect, depth) };
                return;
            }
        }
        self.compute_with(plane, rect, depth, kernels());
    }

    /// The same code compiled for AVX2 (the 16-bit column sums vectorise wider).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn compute_avx2(&mut self, plane: &LumaPlane<'_>, rect: Rect, depth: u32) {
        self.compute_with(plane, rect, depth, kernels());
    }

    /// [`CellGrid::compute`] without SIMD, the reference the SIMD path is tested against.
    #[cfg(any(test, feature = "internals"))]
    pub fn compute_portable(&mut self, plane: &LumaPlane<'_>, rect: Rect, depth: u32) {
        self.compute_with(plane, rect, depth, PORTABLE);
    }

    /// The cell sums over `rect`, with `kernels` (SIMD or portable). One
    /// piece (about 90 lines) on purpose: it is the hot loop, specialised per
    /// sample width, and `benches/freeze.rs` measures it as it is.
    #[inline(always)]
    fn compute_with(&mut self, plane: &LumaPlane<'_>, rect: Rect, depth: u32, kernels: Kernels) {
        let Kernels {
            add_quads,
            cell_row,
        } = kernels;
        let (w, h) = (rect.width(), rect.height());
        self.cols = w.div_ceil(CELL);
        self.rows = h.div_ceil(CELL);
        self.cells.clear();
        self.cells.resize(self.cols * self.rows, 0);
        self.acc.clear();
        self.acc.resize(self.cols, 0);
        self.col_acc.clear();
        self.col_acc.resize(w, 0);
        let whole = w / CELL;
        let shift = depth.saturating_sub(8);
        let mut scratch = std::mem::take(&mut self.scratch);
        for cy in 0..self.rows {
            let y0 = rect.y0 + cy * CELL;
            let y1 = (y0 + CELL).min(rect.y1);
            if y1 - y0 == CELL {
                let row = |i: usize| plane.row_u8(y0 + i, rect.x0, rect.x1);
                if let (Some(r0), Some(r1), Some(r2), Some(r3)) = (row(0), row(1), row(2), row(3)) {
                    // 8-bit luma, a whole cell row: one pass over its four rows
                    let rows = [r0, r1, r2, r3];
                    let out = &mut self.cells[cy * self.cols..(cy + 1) * self.cols];
                    cell_row(rows, &mut out[..whole]);
                    if whole < self.cols {
                        let sum: u64 = rows
                            .iter()
                            .flat_map(|r| r[whole * CELL..].iter())
                            .map(|&v| u64::from(v))
                            .sum();
                        out[whole] = scale_cell(sum, (w - whole * CELL) * CELL, 0);
                    }
                    continue;
                }
            }
            let mut wide = false;
            for y in y0..y1 {
                if let Some((bytes, shift)) = plane.row_u16le(y, rect.x0, rect.x1) {
                    // 16-bit words read in place (no scratch row)
                    wide = true;
                    for (a, c) in self.col_acc.iter_mut().zip(bytes.chunks_exact(2)) {
                        *a += u32::from(u16::from_le_bytes([c[0], c[1]]) >> shift);
                    }
                    continue;
                }
                match plane.row(y, rect.x0, rect.x1, &mut scratch) {
                    Row::U8(r) => {
                        add_quads(&mut self.acc[..whole], &r[..whole * CELL]);
                        if whole < self.cols {
                            self.acc[whole] +=
                                r[whole * CELL..].iter().map(|&v| u32::from(v)).sum::<u32>();
                        }
                    }
                    Row::U16(r) => {
                        // column sums first (vectorises), cells after the rows
                        wide = true;
                        for (a, &v) in self.col_acc.iter_mut().zip(r) {
                            *a += u32::from(v);
                        }
                    }
                }
            }
            if wide {
                for (a, c) in self.acc.iter_mut().zip(self.col_acc.chunks(CELL)) {
                    *a = c.iter().sum();
                }
                self.col_acc.iter_mut().for_each(|a| *a = 0);
            }
            let ch = y1 - y0;
            let out = &mut self.cells[cy * self.cols..(cy + 1) * self.cols];
            if ch == CELL {
                // whole cells: no scaling for size, only for depth (no division)
                for (c, a) in out[..whole].iter_mut().zip(&self.acc) {
                    *c = (*a >> shift).min(MAX_CELL) as u16;
                }
            } else {
                for (c, a) in out[..whole].iter_mut().zip(&self.acc) {
                    *c = scale_cell(u64::from(*a), CELL * ch, shift);
                }
            }
            if whole < self.cols {
                out[whole] = scale_cell(u64::from(self.acc[whole]), (w - whole * CELL) * ch, shift);
            }
            self.acc.iter_mut().for_each(|a| *a = 0);
        }
        self.scratch = scratch;
    }

    /// Largest tile difference: the mean absolute cell difference over each
    /// 4x4-cell tile, in 8-bit code values. `None` when the grids differ in
    /// shape. Uses AVX2 where the processor has it (the same result).
    pub fn max_tile_difference(&self, other: &CellGrid) -> Option<f64> {
        if self.cols != other.cols || self.rows != other.rows {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2, checked just above.
                return Some(unsafe { self.max_tile_difference_avx2(other) });
            }
        }
        Some(self.tile_difference_with(other))
    }

    /// The same code compiled for AVX2 (16 cells a step, and `u16`
    /// minimum and maximum, which SSE2 lacks).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn max_tile_difference_avx2(&self, other: &CellGrid) -> f64 {
        self.tile_difference_with(other)
    }

    /// [`CellGrid::max_tile_difference`] without SIMD dispatch, the
    /// reference the AVX2 build is tested against.
    #[cfg(test)]
    fn max_tile_difference_portable(&self, other: &CellGrid) -> f64 {
        self.tile_difference_with(other)
    }

    /// [`CellGrid::max_tile_difference`] of grids of one shape.
    #[inline(always)]
    fn tile_difference_with(&self, other: &CellGrid) -> f64 {
        let cols = self.cols;
        // per column, the absolute differences summed over the tile's cell rows
        // (at most 4 x 4080: fits in u16)
        let mut col_sum = vec![0u16; cols];
        let mut worst = 0.0f64;
        for ty in 0..self.rows.div_ceil(TILE) {
            let r0 = ty * TILE;
            let r1 = (r0 + TILE).min(self.rows);
            col_sum.iter_mut().for_each(|s| *s = 0);
            for r in r0..r1 {
                let a = &self.cells[r * cols..(r + 1) * cols];
                let b = &other.cells[r * cols..(r + 1) * cols];
                for ((s, x), y) in col_sum.iter_mut().zip(a).zip(b) {
                    *s += x.abs_diff(*y);
                }
            }
            let n_rows = (r1 - r0) as f64;
            // whole tiles share one pixel count: compare integer sums
            let mut whole = col_sum.chunks_exact(TILE);
            let best = (&mut whole)
                .map(|t| u32::from(t[0]) + u32::from(t[1]) + u32::from(t[2]) + u32::from(t[3]))
                .max();
            if let Some(best) = best {
                worst = worst.max(f64::from(best) / (n_rows * TILE as f64));
            }
            let rest = whole.remainder();
            if !rest.is_empty() {
                let sum: u32 = rest.iter().map(|&v| u32::from(v)).sum();
                worst = worst.max(f64::from(sum) / (n_rows * rest.len() as f64));
            }
        }
        // cells hold sums of 16 pixels
        worst / (CELL * CELL) as f64
    }
}

/// Frame-by-frame freeze detection with start/end events.
#[derive(Debug, Clone)]
pub struct FreezeDetector {
    config: FreezeConfig,
    tracker: EventTracker,
    current: CellGrid,
    reference: CellGrid,
    has_reference: bool,
    ref_pts: u64,
    ref_end: u64,
    /// Largest difference within the current candidate freeze.
    max_diff: f64,
    last_diff: f64,
    measured: Option<DifferenceSums>,
}

impl FreezeDetector {
    pub fn new(config: FreezeConfig) -> Self {
        FreezeDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            current: CellGrid::default(),
            reference: CellGrid::default(),
            has_reference: false,
            ref_pts: 0,
            ref_end: 0,
            max_diff: 0.0,
            last_diff: 0.0,
            measured: None,
        }
    }

    pub fn config(&self) -> FreezeConfig {
        self.config
    }

    /// Takes new settings. A new region makes the next frame a new reference.
    pub fn set_config(&mut self, config: FreezeConfig) {
        if config.region != self.config.region {
            self.has_reference = false;
        }
        if config.measurements.is_none() {
            self.measured = None;
        }
        self.config = config;
        self.tracker.set_min_duration(config.min_duration);
    }

    /// Difference of the last frame from its reference (0 for a new reference).
    #[cfg(any(test, feature = "internals"))]
    pub fn last_difference(&self) -> f64 {
        self.last_diff
    }

    /// One frame covering `pts..end` nanoseconds; events go to `out`.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<FreezeEvent>) {
        let (event, diff) = self.compare(plane, pts, end);
        out.extend(event);
        let Some(interval) = self.config.measurements else {
            return;
        };
        let m = self.measured.get_or_insert(DifferenceSums {
            start: pts,
            max: 0.0,
            frames: 0,
        });
        if let Some(d) = diff {
            m.max = m.max.max(d);
            m.frames += 1;
        }
        if end.saturating_sub(m.start) >= interval {
            if m.frames > 0 {
                out.push(FreezeEvent::Measurement(DifferenceMeasurement {
                    timestamp: end,
                    difference: m.max,
                    frames: m.frames,
                }));
            }
            self.measured = None;
        }
    }

    /// Compares one frame with the reference: the freeze start or end it
    /// makes, and its difference (`None` when there was no reference).
    fn compare(
        &mut self,
        plane: &LumaPlane<'_>,
        pts: u64,
        end: u64,
    ) -> (Option<FreezeEvent>, Option<f64>) {
        let rect = self.config.region.to_rect(plane.width(), plane.height());
        if rect.is_empty() {
            // Nothing to compare: never frozen, and the next picture is a new reference.
            self.has_reference = false;
            self.last_diff = 0.0;
            let t = self.tracker.push(false, pts, end);
            return (t.map(|t| self.event(t)), None);
        }
        let range = plane.range();
        let depth = range.depth;
        self.current.compute(plane, rect, depth);
        // the grid is in 8-bit code values
        let span = f64::from(range.white.saturating_sub(range.black).max(1))
            / f64::from(1u32 << depth.saturating_sub(8));
        let diff = if self.has_reference {
            self.current
                .max_tile_difference(&self.reference)
                .map(|d| d / span)
        } else {
            None
        };
        match diff {
            Some(d) if d <= self.config.threshold => {
                self.last_diff = d;
                let t = if self.tracker.in_defect() {
                    self.max_diff = self.max_diff.max(d);
                    self.tracker.push(true, pts, end)
                } else {
                    // The freeze began with the reference frame.
                    self.max_diff = d;
                    let a = self.tracker.push(true, self.ref_pts, self.ref_end);
                    let b = self.tracker.push(true, pts, end);
                    a.or(b)
                };
                (t.map(|t| self.event(t)), diff)
            }
            _ => {
                self.last_diff = diff.unwrap_or(0.0);
                let t = self.tracker.push(false, pts, end);
                let ev = t.map(|t| self.event(t));
                std::mem::swap(&mut self.current, &mut self.reference);
                self.has_reference = true;
                self.ref_pts = pts;
                self.ref_end = end;
                self.max_diff = 0.0;
                (ev, diff)
            }
        }
    }

    fn event(&self, transition: Transition) -> FreezeEvent {
        FreezeEvent::Freeze {
            transition,
            difference: self.max_diff,
        }
    }

    /// Ends a reported freeze because the stream was interrupted, and forgets
    /// the reference and a partial measurement interval.
    pub fn close(&mut self, reason: EndReason) -> Option<FreezeEvent> {
        self.has_reference = false;
        self.measured = None;
        let t = self.tracker.close(reason)?;
        Some(self.event(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u64 = 40_000_000;
    const W: usize = 64;
    const H: usize = 48;

    /// A smooth textured picture shifted `dx` pixels to the left.
    fn texture(dx: usize) -> Vec<u8> {
        use std::f64::consts::TAU;
        let mut f = vec![0u8; W * H];
        for y in 0..H {
            for x in 0..W {
                let u = (x + dx) as f64;
                let v = y as f64;
                let l = 120.0
                    + 60.0 * (TAU * u / 23.0).sin() * (TAU * v / 31.0).cos()
                    + 30.0 * (TAU * (u + v) / 57.0).sin();
                f[y * W + x] = l as u8;
            }
        }
        f
    }

    /// Deterministic noise of amplitude +-`a` (a small LCG).
    fn grain(f: &[u8], seed: u32, a: i32) -> Vec<u8> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        f.iter()
            .map(|&v| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = ((s >> 16) % (2 * a as u32 + 1)) as i32 - a;
                (i32::from(v) + n).clamp(0, 255) as u8
            })
            .collect()
    }

    /// A freeze start or end, as the tests read it.
    #[derive(Debug, PartialEq)]
    struct Ev {
        transition: Transition,
        difference: f64,
    }

    fn ev(e: FreezeEvent) -> Ev {
        match e {
            FreezeEvent::Freeze {
                transition,
                difference,
            } => Ev {
                transition,
                difference,
            },
            FreezeEvent::Measurement(m) => panic!("measurement {m:?}"),
        }
    }

    /// One frame of a detector without measurements: its freeze start or end.
    fn push(d: &mut FreezeDetector, p: &LumaPlane<'_>, pts: u64, end: u64) -> Option<Ev> {
        let mut out = Vec::new();
        d.push(p, pts, end, &mut out);
        assert!(out.len() <= 1, "{out:?}");
        out.pop().map(ev)
    }

    fn run(d: &mut FreezeDetector, frames: &[Vec<u8>]) -> Vec<(usize, Ev)> {
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let p = LumaPlane::gray8(f, W, H).unwrap();
            let pts = i as u64 * F;
            if let Some(e) = push(d, &p, pts, pts + F) {
                out.push((i, e));
            }
        }
        out
    }

    fn det(min_frames: u64) -> FreezeDetector {
        FreezeDetector::new(FreezeConfig {
            min_duration: min_frames * F,
            ..FreezeConfig::default()
        })
    }

    #[test]
    fn exact_repeat_is_frozen_from_the_reference_frame() {
        // frames 0..3 move, 3..9 repeat frame 3, 9.. move again
        let frames: Vec<_> = (0..12)
            .map(|i| texture(if (3..9).contains(&i) { 3 * 4 } else { i * 4 }))
            .collect();
        let ev = run(&mut det(3), &frames);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].0, 5);
        assert_eq!(ev[0].1.transition, Transition::Start { start: 3 * F });
        assert_eq!(ev[0].1.difference, 0.0);
        assert_eq!(ev[1].0, 9);
        assert_eq!(
            ev[1].1.transition,
            Transition::End {
                start: 3 * F,
                end: 9 * F,
                reason: EndReason::Recovered
            }
        );
    }

    #[test]
    fn grain_on_a_repeat_is_still_frozen() {
        let base = texture(0);
        let frames: Vec<_> = (0..10).map(|i| grain(&base, i, 6)).collect();
        let ev = run(&mut det(5), &frames);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].1.transition, Transition::Start { start: 0 });
        assert!(ev[0].1.difference > 0.0 && ev[0].1.difference < 0.02);
    }

    #[test]
    fn slow_pan_is_not_frozen() {
        let frames: Vec<_> = (0..40).map(texture).collect();
        assert!(run(&mut det(5), &frames).is_empty());
    }

    #[test]
    fn small_moving_object_is_not_frozen() {
        let bg = vec![60u8; W * H];
        let frames: Vec<_> = (0..30)
            .map(|i| {
                let mut f = bg.clone();
                let x0 = (i * 2) % (W - 6);
                for y in 20..26 {
                    for x in x0..x0 + 6 {
                        f[y * W + x] = 200;
                    }
                }
                f
            })
            .collect();
        assert!(run(&mut det(5), &frames).is_empty());
    }

    #[test]
    fn fade_is_not_frozen() {
        // a 4 s fade to 15% of the picture's level, judged at the default 2 s
        let base = texture(0);
        let frames: Vec<_> = (0..100u32)
            .map(|i| {
                let k = 1.0 - 0.85 * f64::from(i) / 100.0;
                base.iter().map(|&v| (f64::from(v) * k) as u8).collect()
            })
            .collect();
        assert!(run(&mut det(50), &frames).is_empty());
    }

    #[test]
    fn close_and_size_change() {
        let f = texture(0);
        let frames = vec![f.clone(); 6];
        let mut d = det(2);
        assert_eq!(run(&mut d, &frames).len(), 1);
        let e = ev(d.close(EndReason::Eos).unwrap());
        assert_eq!(
            e.transition,
            Transition::End {
                start: 0,
                end: 6 * F,
                reason: EndReason::Eos
            }
        );
        // a different size is a new reference, never compared
        let small = vec![16u8; 8 * 8];
        let p = LumaPlane::gray8(&small, 8, 8).unwrap();
        assert_eq!(push(&mut d, &p, 10 * F, 11 * F), None);
        assert_eq!(d.last_difference(), 0.0);
        let empty = LumaPlane::gray8(&[], 0, 0).unwrap();
        assert_eq!(push(&mut d, &empty, 11 * F, 12 * F), None);
    }

    #[test]
    fn difference_measurements_with_exact_times() {
        let mut d = FreezeDetector::new(FreezeConfig {
            measurements: Some(2 * F),
            min_duration: 2 * F,
            ..FreezeConfig::default()
        });
        // frames 0-3 move (texture shifted 8 px a frame), 4-7 repeat frame 3
        let frames: Vec<Vec<u8>> = (0..8).map(|i| texture(8 * i.min(3))).collect();
        let mut out = Vec::new();
        let mut at = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let n = out.len();
            let pts = i as u64 * F;
            d.push(&LumaPlane::gray8(f, W, H).unwrap(), pts, pts + F, &mut out);
            at.extend(std::iter::repeat_n(i, out.len() - n));
        }
        let m: Vec<(usize, DifferenceMeasurement)> = at
            .iter()
            .zip(&out)
            .filter_map(|(&i, e)| match e {
                FreezeEvent::Measurement(m) => Some((i, *m)),
                FreezeEvent::Freeze { .. } => None,
            })
            .collect();
        // intervals end with frames 1, 3, 5, 7; frame 0 had no reference
        let times: Vec<(usize, u64, u64)> =
            m.iter().map(|(i, m)| (*i, m.timestamp, m.frames)).collect();
        assert_eq!(
            times,
            [(1, 2 * F, 1), (3, 4 * F, 2), (5, 6 * F, 2), (7, 8 * F, 2)]
        );
        assert!(m[0].1.difference > 0.1 && m[1].1.difference > 0.1, "{m:?}");
        // frame 4 repeats frame 3: the interval of frames 4-5 is still
        assert_eq!(m[2].1.difference, 0.0);
        assert_eq!(m[3].1.difference, 0.0);
        // measuring leaves the freeze decision alone: it began with frame 3
        assert!(out.iter().any(|e| matches!(
            e,
            FreezeEvent::Freeze {
                transition: Transition::Start { start },
                ..
            } if *start == 3 * F
        )));
    }

    #[test]
    fn simd_grid_equals_portable_grid() {
        for (w, h) in [
            (1, 1),
            (5, 3),
            (17, 9),
            (1921, 13),
            (64, 48),
            (130, 8),
            (3840, 4),
        ] {
            let f: Vec<u8> = (0..w * h)
                .map(|i| ((i * 131 + i / 7) % 256) as u8)
                .collect();
            let p = LumaPlane::gray8(&f, w, h).unwrap();
            let rect = Region::default().to_rect(w, h);
            let mut a = CellGrid::default();
            let mut b = CellGrid::default();
            a.compute(&p, rect, 8);
            b.compute_portable(&p, rect, 8);
            assert_eq!(a.cells, b.cells);
            // 10-bit words, read in place, and P010-style shifted ones
            for shift in [0, 6] {
                let words: Vec<u8> = f
                    .iter()
                    .flat_map(|&v| ((u16::from(v) << 2) << shift).to_le_bytes())
                    .collect();
                let p16 = LumaPlane::new(
                    &words,
                    2 * w,
                    w,
                    h,
                    crate::analysis::video::frame::LumaLayout::U16 {
                        offset: 0,
                        step: 2,
                        shift,
                    },
                    crate::analysis::video::frame::LumaRange::new(10, false),
                )
                .unwrap();
                let mut c = CellGrid::default();
                let mut d = CellGrid::default();
                c.compute(&p16, rect, 10);
                d.compute_portable(&p16, rect, 10);
                assert_eq!(c.cells, d.cells);
                // 10-bit values scaled back to 8 bits give the 8-bit cells
                assert_eq!(c.cells, a.cells, "{w}x{h} shift {shift}");
            }
            // the tile difference against a shifted picture, both ways
            let g: Vec<u8> = (0..w * h)
                .map(|i| ((i * 37 + i / 5 + 11) % 256) as u8)
                .collect();
            let mut e = CellGrid::default();
            e.compute(&LumaPlane::gray8(&g, w, h).unwrap(), rect, 8);
            assert_eq!(
                a.max_tile_difference(&e).map(f64::to_bits),
                Some(a.max_tile_difference_portable(&e).to_bits())
            );
            // and the cells are the scaled means, computed the slow way
            for cy in 0..a.rows {
                for cx in 0..a.cols {
                    let (mut sum, mut n) = (0u64, 0u64);
                    for y in cy * CELL..((cy + 1) * CELL).min(h) {
                        for x in cx * CELL..((cx + 1) * CELL).min(w) {
                            sum += u64::from(f[y * w + x]);
                            n += 1;
                        }
                    }
                    assert_eq!(u64::from(a.cells[cy * a.cols + cx]), sum * 16 / n);
                }
            }
        }
    }

    #[test]
    fn grid_handles_partial_cells() {
        let w = 5;
        let h = 3;
        let mut f = vec![10u8; w * h];
        f[4] = 100; // the 5th column is a cell of its own, 1x3 pixels
        let p = LumaPlane::gray8(&f, w, h).unwrap();
        let mut g = CellGrid::default();
        g.compute(&p, Region::default().to_rect(w, h), 8);
        assert_eq!((g.cols, g.rows), (2, 1));
        assert_eq!(g.cells, vec![160, 640]);
        // 10-bit values are scaled to 8 bits
        let f16: Vec<u16> = vec![400; 16];
        let bytes: Vec<u8> = f16.iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = LumaPlane::new(
            &bytes,
            8,
            4,
            4,
            crate::analysis::video::frame::LumaLayout::U16 {
                offset: 0,
                step: 2,
                shift: 0,
            },
            crate::analysis::video::frame::LumaRange::new(10, false),
        )
        .unwrap();
        g.compute(&p, Region::default().to_rect(4, 4), 10);
        assert_eq!(g.cells, vec![1600]);
        // one cell off by 16 per pixel in a one-tile grid: mean over 1 cell
        let mut h2 = g.clone();
        h2.cells[0] += 256;
        assert_eq!(g.max_tile_difference(&h2), Some(16.0));
    }

    #[test]
    fn garbage_in_the_high_bits_of_10_bit_words_saturates() {
        use crate::analysis::video::frame::{LumaLayout, LumaRange};
        // 10-bit words with every bit set (a random or corrupted buffer):
        // cells saturate at 16 x 255, and tile sums cannot overflow
        let (w, h) = (64, 32);
        let ones = vec![0xffu8; w * h * 2];
        let zeros = vec![0u8; w * h * 2];
        let layout = LumaLayout::U16 {
            offset: 0,
            step: 2,
            shift: 0,
        };
        let range = LumaRange::new(10, false);
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: w,
            y1: h,
        };
        let mut a = CellGrid::default();
        let mut b = CellGrid::default();
        a.compute(
            &LumaPlane::new(&ones, w * 2, w, h, layout, range).unwrap(),
            rect,
            10,
        );
        b.compute(
            &LumaPlane::new(&zeros, w * 2, w, h, layout, range).unwrap(),
            rect,
            10,
        );
        assert!(a.cells.iter().all(|&c| u32::from(c) == MAX_CELL));
        assert_eq!(a.max_tile_difference(&b), Some(255.0));
    }
}
