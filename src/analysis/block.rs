//! Block corruption detection (damage from lost or broken coded data) and a
//! compression blockiness score.
//!
//! Error concealment after packet loss or bit errors leaves blocks that do
//! not fit their neighbours: smeared, grey or misplaced macroblocks, and
//! slices shifted against the rows above. The damage sits on the coding grid
//! (16x16 macroblocks), so the detector measures every 16-pixel *segment* of
//! the grid lines: the step across the line against the gradients beside it
//! (`a b | c d`: `|b - c|` against `(|a - b| + |c - d|) / 2`). A segment
//! is *broken* when
//!
//! - its excess step is at least `threshold` of the nominal luma range;
//! - it is at least `masking` times the texture activity (mean absolute
//!   horizontal gradient) inside the macroblocks on either side, so the
//!   blocking of coarsely coded texture or noise does not count;
//! - it is not part of a straight content edge: a step of one sign along the
//!   whole line that carries on through the macroblock corner into the next
//!   segment (a graphic or a picture edge that happens to lie on the grid).
//!
//! A frame is corrupted when breaks that the previous frame did not have
//! touch at least `min_blocks` macroblocks: damage appears suddenly, while
//! blocking from ordinary compression is there frame after frame and spread
//! evenly. A buffer the decoder flagged as corrupted counts too; each event
//! says which evidence raised it.
//!
//! Separately, [`blockiness`](BlockMeasurement::blockiness) measures ordinary
//! compression blocking: the mean gradient across the 8-pixel grid over the
//! mean gradient off it (1.0 = none, flat pictures included).

use super::event::{EndReason, EventTracker, Transition};
use super::frame::{LumaPlane, Region, Row};

/// Macroblock size of the coding grid, in pixels.
pub const MB: usize = 16;

/// A luma sample, 8 or 16 bit.
trait Px: Copy {
    fn v(self) -> i32;
}
impl Px for u8 {
    #[inline(always)]
    fn v(self) -> i32 {
        i32::from(self)
    }
}
impl Px for u16 {
    #[inline(always)]
    fn v(self) -> i32 {
        i32::from(self)
    }
}

/// Step across and beside every boundary segment of the macroblock grid.
///
/// A segment is the 16-pixel piece of a grid line between two neighbouring
/// macroblocks. For each, `step` sums `|b - c|` across the line and `inner`
/// sums `|a - b| + |c - d|` beside it, over its 16 positions (`a b | c d` are
/// the two pixels either side of the line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundaryMap {
    /// Whole macroblocks across and down.
    pub cols: usize,
    pub rows: usize,
    /// Vertical lines: index `r * cols + i` is the line left of macroblock
    /// `(i, r)` (`i >= 1`; `i == 0` unused).
    pub v_step: Vec<u32>,
    pub v_inner: Vec<u32>,
    /// Horizontal lines: index `j * cols + c` is the line above macroblock
    /// `(c, j)` (`j >= 1`; row 0 unused).
    pub h_step: Vec<u32>,
    pub h_inner: Vec<u32>,
    /// Signed sums of `b - c`, and how many positions step by at least
    /// `min_step` more than beside the line.
    pub v_signed: Vec<i32>,
    pub h_signed: Vec<i32>,
    pub v_cover: Vec<u8>,
    pub h_cover: Vec<u8>,
    /// Per macroblock: sum of `|p[x] - p[x-1]|` inside it (not across its
    /// left edge), over rows 1, 5, 9 and 13: 60 differences.
    pub activity: Vec<u32>,
    min_step: i32,
    /// Sum of `|p[x] - p[x-1]|` on the 8-pixel grid (x % 8 == 0) and off it
    /// (per off-grid position, i.e. divided by 7), over sampled rows.
    pub grid8: u64,
    pub off8: u64,
    saved: [Vec<u16>; 3],
    scratch: Vec<u16>,
}

impl BoundaryMap {
    /// Measures `plane`.
    pub fn compute(&mut self, plane: &LumaPlane<'_>, min_step: u32) {
        self.min_step = min_step as i32;
        let cols = plane.width() / MB;
        let rows = plane.height() / MB;
        self.cols = cols;
        self.rows = rows;
        let n = cols * rows;
        for v in [
            &mut self.v_step,
            &mut self.v_inner,
            &mut self.h_step,
            &mut self.h_inner,
        ] {
            v.clear();
            v.resize(n, 0);
        }
        self.activity.clear();
        self.activity.resize(n, 0);
        for v in [&mut self.v_signed, &mut self.h_signed] {
            v.clear();
            v.resize(n, 0);
        }
        for v in [&mut self.v_cover, &mut self.h_cover] {
            v.clear();
            v.resize(n, 0);
        }
        self.grid8 = 0;
        self.off8 = 0;
        if cols == 0 || rows == 0 {
            return;
        }
        let w = cols * MB;
        let mut scratch = std::mem::take(&mut self.scratch);
        for y in 0..rows * MB {
            match plane.row(y, 0, w, &mut scratch) {
                Row::U8(r) => self.row(r, y),
                Row::U16(r) => self.row(r, y),
            }
        }
        self.scratch = scratch;
    }

    fn row<P: Px>(&mut self, row: &[P], y: usize) {
        let cols = self.cols;
        let r = y / MB;
        let base = r * cols;
        for i in 1..cols {
            let x = i * MB;
            let (a, b, c, d) = (row[x - 2].v(), row[x - 1].v(), row[x].v(), row[x + 1].v());
            let (st, inn) = ((b - c).abs(), (a - b).abs() + (c - d).abs());
            self.v_step[base + i] += st as u32;
            self.v_inner[base + i] += inn as u32;
            self.v_signed[base + i] += b - c;
            self.v_cover[base + i] += u8::from(2 * st - inn >= 2 * self.min_step);
        }
        if y % 4 == 1 {
            for (c, mb) in row.chunks_exact(MB).enumerate() {
                let mut s = 0u32;
                for k in 1..MB {
                    s += (mb[k].v() - mb[k - 1].v()).unsigned_abs();
                }
                self.activity[base + c] += s;
            }
        }
        if y % 4 == 2 {
            let (mut g, mut o) = (0u64, 0u64);
            let mut prev = row[0].v();
            for chunk in row.chunks_exact(8) {
                g += u64::from((chunk[0].v() - prev).unsigned_abs());
                let mut s = 0u32;
                for k in 1..8 {
                    s += (chunk[k].v() - chunk[k - 1].v()).unsigned_abs();
                }
                o += u64::from(s);
                prev = chunk[7].v();
            }
            self.grid8 += g;
            self.off8 += o / 7;
        }
        let phase = y % MB;
        match phase {
            14 | 15 | 0 => {
                let slot = if phase == 0 { 2 } else { phase - 14 };
                let s = &mut self.saved[slot];
                s.clear();
                s.extend(row.iter().map(|p| p.v() as u16));
            }
            1 if r >= 1 => {
                let base = r * cols;
                let [a, b, c] = &self.saved;
                for (ci, (((a, b), c), d)) in a
                    .chunks_exact(MB)
                    .zip(b.chunks_exact(MB))
                    .zip(c.chunks_exact(MB))
                    .zip(row.chunks_exact(MB))
                    .enumerate()
                {
                    let (mut st, mut inn, mut sg, mut cov) = (0i32, 0i32, 0i32, 0u8);
                    for k in 0..MB {
                        let (a, b, c, d) = (i32::from(a[k]), i32::from(b[k]), i32::from(c[k]), d[k].v());
                        let (s1, i1) = ((b - c).abs(), (a - b).abs() + (c - d).abs());
                        st += s1;
                        inn += i1;
                        sg += b - c;
                        cov += u8::from(2 * s1 - i1 >= 2 * self.min_step);
                    }
                    self.h_step[base + ci] += st as u32;
                    self.h_inner[base + ci] += inn as u32;
                    self.h_signed[base + ci] += sg;
                    self.h_cover[base + ci] += cov;
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockConfig {
    /// Smallest excess step across a grid segment that can be damage, as a
    /// fraction of the nominal luma range.
    pub threshold: f64,
    /// How many times the texture activity beside it a step must exceed.
    pub masking: f64,
    /// Macroblocks that newly broken segments must touch for a frame to be
    /// corrupted.
    pub min_blocks: u32,
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
            threshold: 0.05,
            masking: 2.0,
            min_blocks: 2,
            min_duration: 0,
            interval: 1_000_000_000,
            region: Region::default(),
        }
    }
}

/// What raised a corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Broken blocks seen in the pixels.
    Pixels,
    /// The decoder flagged the buffer as corrupted.
    Decoder,
    /// Both.
    Both,
}

impl Evidence {
    pub fn as_str(&self) -> &'static str {
        match self {
            Evidence::Pixels => "pixels",
            Evidence::Decoder => "decoder",
            Evidence::Both => "pixels+decoder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pixels" => Evidence::Pixels,
            "decoder" => Evidence::Decoder,
            "pixels+decoder" => Evidence::Both,
            _ => return None,
        })
    }

    fn from_flags(pixels: bool, decoder: bool) -> Option<Self> {
        match (pixels, decoder) {
            (true, true) => Some(Evidence::Both),
            (true, false) => Some(Evidence::Pixels),
            (false, true) => Some(Evidence::Decoder),
            (false, false) => None,
        }
    }

    fn union(self, other: Evidence) -> Evidence {
        if self == other {
            self
        } else {
            Evidence::Both
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
    /// Start or end of a corruption: for a start the damage of its first
    /// frame, for an end the worst frame and the union of the areas.
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
    /// Broken segments of the previous frame (vertical then horizontal),
    /// `None` when there is no previous frame to compare with.
    prev: Option<Vec<bool>>,
    prev_dims: (usize, usize),
    breaks: Vec<bool>,
    damaged: Vec<bool>,
    flagged: bool,
    /// The damage of the current corruption so far.
    worst: Option<Damage>,
    /// Blockiness sums of the current interval.
    interval_start: Option<u64>,
    grid_sum: u64,
    off_sum: u64,
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
            prev_dims: (0, 0),
            breaks: Vec::new(),
            damaged: Vec::new(),
            flagged: false,
            worst: None,
            interval_start: None,
            grid_sum: 0,
            off_sum: 0,
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

    /// The damage found in the last frame, if it was corrupted.
    pub fn last_damage(&self) -> Option<Damage> {
        self.last_damage
    }

    /// One frame covering `pts..end` nanoseconds.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Vec<BlockEvent> {
        let mut out = Vec::new();
        let range = plane.range();
        let span = f64::from(range.white.saturating_sub(range.black).max(1));
        let t = (self.config.threshold * span).max(1.0);
        self.map.compute(plane, (t / 2.0).ceil() as u32);
        let pixels = self.find_damage(plane.width(), plane.height(), t);
        let flagged = std::mem::take(&mut self.flagged);
        let damage = Evidence::from_flags(pixels.is_some(), flagged).map(|evidence| {
            let d = pixels.unwrap_or(Damage {
                blocks: 0,
                fraction: 0.0,
                area: BoxPx::default(),
                evidence,
            });
            Damage { evidence, ..d }
        });
        self.last_damage = damage;

        // blockiness over the interval
        let start = *self.interval_start.get_or_insert(pts);
        self.grid_sum += self.map.grid8;
        self.off_sum += self.map.off8;
        self.frames += 1;
        self.corrupted_frames += u64::from(damage.is_some());

        let was_active = self.tracker.is_active();
        let tr = self.tracker.push(damage.is_some(), pts, end);
        if let Some(d) = damage {
            self.worst = Some(match self.worst {
                Some(w) if was_active || self.tracker.in_defect() => Damage {
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
                evidence: Evidence::Pixels,
            }),
        }
    }

    fn measurement(&mut self, end: u64) -> BlockEvent {
        let m = BlockMeasurement {
            timestamp: end,
            blockiness: blockiness(self.grid_sum, self.off_sum),
            frames: self.frames,
            corrupted_frames: self.corrupted_frames,
        };
        self.interval_start = None;
        self.grid_sum = 0;
        self.off_sum = 0;
        self.frames = 0;
        self.corrupted_frames = 0;
        BlockEvent::Measurement(m)
    }

    /// Ends a reported corruption because the stream was interrupted, and
    /// forgets the previous frame.
    pub fn close(&mut self, reason: EndReason) -> Vec<BlockEvent> {
        self.prev = None;
        let out = self
            .tracker
            .close(reason)
            .map(|t| self.corruption(t))
            .into_iter()
            .collect();
        self.worst = None;
        out
    }

    /// Marks broken segments and returns the damage of newly broken ones.
    fn find_damage(&mut self, width: usize, height: usize, t: f64) -> Option<Damage> {
        let m = &self.map;
        let (cols, rows) = (m.cols, m.rows);
        let n = cols * rows;
        let rect = self.config.region.to_rect(width, height);
        // whole macroblocks inside the region
        let (c0, c1) = (rect.x0.div_ceil(MB), (rect.x1 / MB).min(cols));
        let (r0, r1) = (rect.y0.div_ceil(MB), (rect.y1 / MB).min(rows));
        self.breaks.clear();
        self.breaks.resize(2 * n, false);
        self.damaged.clear();
        self.damaged.resize(n, false);
        if c1 <= c0 || r1 <= r0 {
            self.prev = None;
            return None;
        }
        let masking = self.config.masking;
        for r in r0..r1 {
            for c in c0..c1 {
                let k = r * cols + c;
                if c > c0 {
                    self.breaks[k] = is_break(m, Dir::V, k, t, masking);
                }
                if r > r0 {
                    self.breaks[n + k] = is_break(m, Dir::H, k, t, masking);
                }
            }
        }
        let fresh = self.prev.is_some() && self.prev_dims == (cols, rows);
        let mut count = 0u32;
        let (mut bx0, mut by0, mut bx1, mut by1) = (usize::MAX, usize::MAX, 0, 0);
        if fresh {
            let prev = self.prev.as_deref().unwrap_or(&[]);
            for (i, (&now, &before)) in self.breaks.iter().zip(prev).enumerate() {
                if !now || before {
                    continue;
                }
                let k = i % n;
                let other = if i < n { k - 1 } else { k - cols };
                for b in [k, other] {
                    if !self.damaged[b] {
                        self.damaged[b] = true;
                        count += 1;
                        let (c, r) = (b % cols, b / cols);
                        bx0 = bx0.min(c);
                        by0 = by0.min(r);
                        bx1 = bx1.max(c + 1);
                        by1 = by1.max(r + 1);
                    }
                }
            }
        }
        match self.prev.as_mut() {
            Some(p) => {
                p.clear();
                p.extend_from_slice(&self.breaks);
            }
            None => self.prev = Some(self.breaks.clone()),
        }
        self.prev_dims = (cols, rows);
        let total = ((c1 - c0) * (r1 - r0)) as f64;
        (fresh && count >= self.config.min_blocks.max(1)).then(|| Damage {
            blocks: count,
            fraction: f64::from(count) / total,
            area: BoxPx {
                x: (bx0 * MB) as u32,
                y: (by0 * MB) as u32,
                width: ((bx1 - bx0) * MB) as u32,
                height: ((by1 - by0) * MB) as u32,
            },
            evidence: Evidence::Pixels,
        })
    }
}

/// Mean gradient across the 8-pixel grid over the mean gradient off it;
/// 1.0 when there is no gradient at all.
pub fn blockiness(grid: u64, off: u64) -> f64 {
    (grid as f64 + 1.0) / (off as f64 + 1.0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    V,
    H,
}

/// Is segment `k` (see [`BoundaryMap`]) broken?
fn is_break(m: &BoundaryMap, dir: Dir, k: usize, t: f64, masking: f64) -> bool {
    let cols = m.cols;
    let (st, inn, sg, cov) = match dir {
        Dir::V => (&m.v_step, &m.v_inner, &m.v_signed, &m.v_cover),
        Dir::H => (&m.h_step, &m.h_inner, &m.h_signed, &m.h_cover),
    };
    let excess = (f64::from(st[k]) - f64::from(inn[k]) / 2.0) / MB as f64;
    if excess < t {
        return false;
    }
    let other = match dir {
        Dir::V => k - 1,
        Dir::H => k - cols,
    };
    let activity = f64::from(m.activity[k].max(m.activity[other])) / ACTIVITY_SAMPLES;
    if excess < masking * activity {
        return false;
    }
    // a straight content edge: one sign along the segment, carrying on
    // through a corner into the next segment of the same line
    let coherent = |k: usize| st[k] > 0 && f64::from(sg[k].unsigned_abs()) >= 0.7 * f64::from(st[k]);
    if !coherent(k) {
        return true;
    }
    let (r, c) = (k / cols, k % cols);
    let along = match dir {
        Dir::V => [
            r.checked_sub(1).map(|r| r * cols + c),
            (r + 1 < m.rows).then(|| (r + 1) * cols + c),
        ],
        Dir::H => [
            c.checked_sub(1).map(|c| r * cols + c),
            (c + 1 < cols).then(|| r * cols + c + 1),
        ],
    };
    let straight = |k: usize| usize::from(cov[k]) >= MB * 3 / 4;
    !along.into_iter().flatten().any(|j| {
        coherent(j) && (sg[j] > 0) == (sg[k] > 0) && (straight(k) || straight(j))
    })
}

/// Horizontal differences summed into each macroblock's activity.
const ACTIVITY_SAMPLES: f64 = 60.0;
