//! The verdict on each frame: broken grid segments, blocks turned to
//! decoder grey, macroblocks lost in the coded stream, and whether they start
//! or continue a corruption.

use super::grid::{BoundaryMap, Seg, MB, SCALE};
use super::{BlockDetector, BoxPx, Damage, Evidence};
use crate::analysis::video::frame::Rect;

/// The whole macroblocks inside the analysed region: columns `c0..c1`, rows
/// `r0..r1` of the grid, `cols` wide.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mbs {
    cols: usize,
    c0: usize,
    c1: usize,
    r0: usize,
    r1: usize,
}

impl Mbs {
    fn inside(rect: Rect, cols: usize, rows: usize) -> Self {
        Mbs {
            cols,
            c0: rect.x0.div_ceil(MB),
            c1: (rect.x1 / MB).min(cols),
            r0: rect.y0.div_ceil(MB),
            r1: (rect.y1 / MB).min(rows),
        }
    }

    /// Whether the region holds a whole macroblock.
    fn any(&self) -> bool {
        self.c1 > self.c0 && self.r1 > self.r0
    }

    fn count(&self) -> usize {
        self.c1.saturating_sub(self.c0) * self.r1.saturating_sub(self.r0)
    }
}

impl BlockDetector {
    /// Judges the grid segments and the lost macroblocks, and returns the
    /// damage of the frame, if it starts or continues a corruption, with
    /// `pixels` and `bitstream` evidence.
    pub(super) fn find_damage(&mut self, width: usize, height: usize, t: f64) -> Option<Damage> {
        let (cols, rows) = (self.map.cols, self.map.rows);
        let n = cols * rows;
        let mbs = Mbs::inside(self.config.region.to_rect(width, height), cols, rows);
        let inside = mbs.any();
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
        let novel = if fresh {
            self.judge_grid(mbs, t, prev.as_ref(), continuing)
        } else {
            0
        };
        let greyed = self.judge_grey(mbs, prev.as_ref(), continuing);
        // keep this frame's map for the next one, and reuse the old one
        let mut old = prev.unwrap_or_default();
        std::mem::swap(&mut old, &mut self.map);
        self.prev = inside.then_some(old);
        let grey_start = f64::from(greyed) >= (GREY_SHARE * mbs.count() as f64).max(GREY_BLOCKS);
        // a cut while a corruption is open (often the key frame that ends
        // it, or brings new damage): held over the cut with the damage of
        // the frame before, and judged again on the next frame
        if cut && continuing {
            self.damaged.clone_from(&self.was_damaged);
        }
        // sudden: well above what this picture usually has; how sure the
        // pixels are: broken segments by how far above that they are
        let sudden = f64::from(novel) >= self.config.sudden * self.novel_mean + 1.0;
        let pixel_confidence = (CONFIDENCE_PER_SUDDEN * f64::from(novel) / (self.novel_mean + 1.0))
            .clamp(PIXEL_CONFIDENCE.0, PIXEL_CONFIDENCE.1);
        if fresh {
            // a plain mean over the first frames, then a running one
            self.compared += 1;
            let weight = (1.0 / self.compared as f64).max(MEAN_WEIGHT);
            self.novel_mean += (f64::from(novel) - self.novel_mean) * weight;
        }
        // damage bunches where concealment went wrong; coding artefacts
        // break a segment here and there over the picture
        let from_breaks = fresh
            && sudden
            && novel >= self.config.min_breaks.max(1)
            && pixel_confidence >= self.config.min_confidence
            && self.largest_group() >= MIN_GROUP;
        let starts = from_breaks || grey_start;
        // an open corruption goes on where it was: segments broken far
        // from its blocks are the picture's usual artefacts
        let goes_on = continuing && !starts && self.keep_near() > 0;
        let (lost, tainted) = self.mark_lost(mbs, width, height);
        // decoder grey is plain
        let confidence = if grey_start {
            GREY_CONFIDENCE
        } else if from_breaks {
            pixel_confidence
        } else {
            0.0
        };
        let corrupted = starts || goes_on;
        if !corrupted && lost == 0 && !tainted {
            self.was_damaged.clear();
            return None;
        }
        if !continuing {
            // a new corruption: `self.map` holds the frame before's map now
            self.before = Some(self.map.steps());
        }
        self.was_damaged.clone_from(&self.damaged);
        let bitstream = lost > 0 || tainted;
        let confidence = if bitstream { 1.0 } else { confidence };
        Some(self.damage(mbs, corrupted, bitstream, confidence))
    }

    /// Judges the grid segments of the macroblocks `mbs` against the
    /// previous frame's map: marks the damaged blocks (newly broken
    /// segments, and those still broken in a corruption's blocks), and
    /// returns how many segments broke newly.
    fn judge_grid(
        &mut self,
        mbs: Mbs,
        t: f64,
        prev: Option<&BoundaryMap>,
        continuing: bool,
    ) -> u32 {
        let (cols, w) = (self.map.cols, self.map.width);
        // the threshold on the summed excess (SCALE is a power of two, so
        // this is `is_break`'s own test, made before calling it)
        let floor = t * SCALE;
        let mut novel = 0u32;
        for r in mbs.r0..mbs.r1 {
            for c in mbs.c0..mbs.c1 {
                let k = r * cols + c;
                // the segment left of the block and the one above it, each
                // with the block on its other side, if it steps enough
                let v = c > mbs.c0 && f64::from(self.map.ev[r * w + c * MB]) >= floor;
                let h = r > mbs.r0 && f64::from(self.map.eh[r * MB * cols + c]) >= floor;
                for (vertical, other) in [(true, k.wrapping_sub(1)), (false, k.wrapping_sub(cols))]
                    .into_iter()
                    .filter(|&(vertical, _)| if vertical { v } else { h })
                {
                    let Some(b) = self.is_break(vertical, (r, c), t, prev) else {
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
                                    .is_some_and(|p| self.map.step_near(p, b.vertical, (r, c))) =>
                        {
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
        novel
    }

    /// Macroblocks of `mbs` that turned to decoder grey (a missing reference
    /// or slice), which a cut to new content does not do: marks them (and a
    /// corruption's blocks that stayed grey), and returns how many turned
    /// grey now.
    fn judge_grey(&mut self, mbs: Mbs, prev: Option<&BoundaryMap>, continuing: bool) -> u32 {
        let cols = self.map.cols;
        let n = cols * self.map.rows;
        let mut greyed = 0u32;
        let Some(p) = prev.filter(|p| p.grey.len() == n && mbs.any()) else {
            return 0;
        };
        let prev_content = p.activity.iter().any(|&a| a >= GREY_TEXTURE * p.unit);
        for r in mbs.r0..mbs.r1 {
            for c in mbs.c0..mbs.c1 {
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
                }
            }
        }
        greyed
    }

    /// Marks the macroblocks of `mbs` lost in the coded stream (whatever the
    /// pixels show: concealment can look clean), as `slicecheck` found them
    /// for this frame; returns how many, and whether the frame is predicted
    /// from one that lost some.
    fn mark_lost(&mut self, mbs: Mbs, width: usize, height: usize) -> (u32, bool) {
        let cols = mbs.cols;
        let loss = std::mem::take(&mut self.lost);
        let tainted = loss.tainted && mbs.any();
        // addresses count blocks of `loss.block` pixels in raster order:
        // macroblocks in H.264, coding tree blocks in HEVC
        let block = if loss.block == 0 {
            MB
        } else {
            loss.block as usize
        };
        let (coded_cols, coded_rows) = (width.div_ceil(block), height.div_ceil(block));
        let mut lost = 0u32;
        for l in loss.lost {
            let end = l.end.map_or(usize::MAX, |e| e as usize);
            let (from, to) = (l.first as usize, end.min(coded_cols * coded_rows));
            for a in from..to {
                let (bc, br) = (a % coded_cols, a / coded_cols);
                // the macroblocks of the grid inside that block
                let (mc0, mc1) = (bc * block / MB, ((bc + 1) * block).div_ceil(MB));
                let (mr0, mr1) = (br * block / MB, ((br + 1) * block).div_ceil(MB));
                for r in mr0.max(mbs.r0)..mr1.min(mbs.r1) {
                    for c in mc0.max(mbs.c0)..mc1.min(mbs.c1) {
                        lost += 1;
                        self.damaged[r * cols + c] = true;
                    }
                }
            }
        }
        (lost, tainted)
    }

    /// Keeps the damaged macroblocks within `NEAR` blocks of the frame
    /// before's damage, and returns how many.
    fn keep_near(&mut self) -> usize {
        let cols = self.map.cols;
        let n = self.damaged.len();
        if cols == 0 || self.was_damaged.len() != n {
            return 0;
        }
        let rows = n / cols;
        let mut kept = 0;
        for k in 0..n {
            if !self.damaged[k] {
                continue;
            }
            let (r, c) = (k / cols, k % cols);
            let near = (r.saturating_sub(NEAR)..(r + NEAR + 1).min(rows)).any(|rr| {
                (c.saturating_sub(NEAR)..(c + NEAR + 1).min(cols))
                    .any(|cc| self.was_damaged[rr * cols + cc])
            });
            self.damaged[k] = near;
            kept += usize::from(near);
        }
        kept
    }

    /// The most damaged macroblocks marked so far that touch one another
    /// side by side.
    fn largest_group(&self) -> usize {
        let cols = self.map.cols;
        let n = self.damaged.len();
        let mut seen = vec![false; n];
        let mut stack = Vec::new();
        let mut best = 0;
        for first in 0..n {
            if !self.damaged[first] || seen[first] {
                continue;
            }
            seen[first] = true;
            stack.push(first);
            let mut size = 0;
            while let Some(k) = stack.pop() {
                size += 1;
                let (r, c) = (k / cols, k % cols);
                let left = (c > 0).then(|| k - 1);
                let right = (c + 1 < cols).then(|| k + 1);
                let up = (r > 0).then(|| k - cols);
                let down = (k + cols < n).then(|| k + cols);
                for q in [left, right, up, down].into_iter().flatten() {
                    if self.damaged[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
            best = best.max(size);
        }
        best
    }

    /// The frame's damage: its marked blocks, their share of `mbs`, and the
    /// box around them (empty for a tainted frame that shows none).
    fn damage(&self, mbs: Mbs, pixels: bool, bitstream: bool, confidence: f64) -> Damage {
        let cols = mbs.cols;
        let (mut count, mut bx0, mut by0, mut bx1, mut by1) = (0u32, usize::MAX, usize::MAX, 0, 0);
        for (b, _) in self.damaged.iter().enumerate().filter(|(_, &d)| d) {
            count += 1;
            let (bc, br) = (b % cols, b / cols);
            bx0 = bx0.min(bc);
            by0 = by0.min(br);
            bx1 = bx1.max(bc + 1);
            by1 = by1.max(br + 1);
        }
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
        Damage {
            blocks: count,
            fraction: f64::from(count) / mbs.count() as f64,
            area,
            confidence,
            evidence: Evidence {
                pixels,
                bitstream,
                ..Evidence::default()
            },
        }
    }

    /// A grid segment with what was weighed, if it steps by at least `t`,
    /// given the previous frame's map.
    /// `vertical`: the segment left of macroblock `(col, row)`, else the one
    /// above it.
    pub(super) fn is_break(
        &self,
        vertical: bool,
        (row, col): (usize, usize),
        t: f64,
        prev: Option<&BoundaryMap>,
    ) -> Option<Break> {
        let m = &self.map;
        let cols = m.cols;
        let k = row * cols + col;
        let segs = if vertical { &m.v } else { &m.h };
        let c = &self.config;
        let (excess, control, moved) = m.context(vertical, (row, col), prev, t, c.masking)?;
        let other = if vertical { k - 1 } else { k - cols };
        let activity = m.activity[k].max(m.activity[other]);
        let seg = segs[k];
        // only looked at where it decides the verdict
        let straight = excess >= c.masking * control
            && excess >= c.texture * activity
            && !moved
            && straight_edge(m, vertical, (row, col));
        let mut b = Break {
            vertical,
            col,
            row,
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
pub(super) const NOMINAL_8BIT: f64 = 219.0;

/// H.264's quantiser step size for `qp` (0.625 at 0, doubling every 6, so
/// about 22 at QP 31 and 113 at QP 45), in 8-bit code values.
pub fn qstep(qp: i32) -> f64 {
    0.625 * 2f64.powf(f64::from(qp.clamp(0, 51)) / 6.0)
}

/// Is the grid segment of macroblock `(c, r)` part of a straight content
/// edge lying on the line:
/// a step of one sign that carries on through the macroblock corners for at
/// least [`STRAIGHT_RUN`] segments of the same line? (A misplaced block or
/// two also steps along straight grid lines, but stops at its corners.)
pub(super) fn straight_edge(m: &BoundaryMap, vertical: bool, (r, c): (usize, usize)) -> bool {
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
pub(super) const STRAIGHT_RUN: usize = 3;

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

/// Texture change (see `BoundaryMap::change`) above which a frame is a
/// scene cut.
pub(super) const CUT: f64 = 0.3;

/// Share of the analysed macroblocks, and least number, that must turn to
/// decoder grey at once to start a corruption (a lost slice greys a band).
pub(super) const GREY_SHARE: f64 = 0.1;
pub(super) const GREY_BLOCKS: f64 = 4.0;
/// Texture (mean gradient, 8-bit code values) some macroblock of the frame
/// before must have had for grey to count: a cut from black or a flat
/// picture is not damage.
pub(super) const GREY_TEXTURE: f64 = 2.0;
/// How far from mid-grey a macroblock's level must have been (8-bit code
/// values) to count as turning grey.
pub(super) const GREY_LEVEL: f64 = 8.0;

/// Macroblocks side by side that a corruption from broken segments needs
/// damaged (two either side of one broken segment do not do).
pub(super) const MIN_GROUP: usize = 5;

/// How far (in macroblocks) an open corruption's damage may move or spread
/// from one frame to the next.
pub(super) const NEAR: usize = 2;

/// The confidence of a corruption started by decoder grey, and of one
/// shown by frames missing from a steady rate (lost data, or a variable
/// rate that looked steady).
pub(super) const GREY_CONFIDENCE: f64 = 0.9;
pub(super) const MISSING_CONFIDENCE: f64 = 0.9;
/// The confidence of a corruption started by broken segments alone: this
/// much for each time the picture's usual count (plus one) the frame's new
/// breaks are, within these bounds. On the real-footage corpus clean
/// pictures that broke enough segments to start one stayed under 2.5 times
/// (0.25), and concealed damage reached 3 to 10 times.
pub(super) const CONFIDENCE_PER_SUDDEN: f64 = 0.1;
pub(super) const PIXEL_CONFIDENCE: (f64, f64) = (0.2, 0.8);

/// The weight of each frame in the running mean of newly broken segments.
pub(super) const MEAN_WEIGHT: f64 = 0.1;
