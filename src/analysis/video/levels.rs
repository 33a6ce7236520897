//! Illegal video levels (EBU R103): the share of the picture whose luma or
//! whose R'G'B' (derived from Y'CbCr through the stream's matrix) lies
//! outside the permitted range, and the luma, chroma and R'G'B' extremes.
//!
//! Every value is a fraction of the nominal range, so limited and full
//! range, 8, 10 and 16 bit are judged alike: luma 0.0 is nominal black and
//! 1.0 nominal white (16 and 235 in limited 8-bit, 0 and 255 in full
//! range); Cb and Cr run from -0.5 to 0.5; R, G and B from 0.0 to 1.0. A
//! frame is illegal when more than `max_share` of its sampled pixels are
//! out of range in luma, or in R'G'B'; an event starts once frames have
//! been illegal for `min_duration`.
//!
//! The picture is read one row in `line_step` (the rows taken move down by
//! one each frame, so every row is read over `line_step` frames): an
//! out-of-range area `line_step` rows tall or more is always sampled, and
//! `max_share` of a 1080-row picture is 10.8 rows. R'G'B' is computed at
//! every chroma sample, with the mean of the luma samples that chroma
//! sample covers (2x2 in 4:2:0, so both luma rows under a chroma row are
//! read): the transform is linear, so an edge between two legal colours,
//! blurred alike in luma and chroma, stays legal. This is the spatial
//! filtering R103 asks for before gamut is judged, at chroma's own
//! resolution.

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::colour::{ColourModel, ColourPicture, Nominal, Rows};

/// The permitted range, each bound a fraction of the nominal range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub luma_min: f64,
    pub luma_max: f64,
    pub rgb_min: f64,
    pub rgb_max: f64,
}

impl Limits {
    /// EBU R103 as first issued (2000): luma -1% to 103%, R'G'B' -5% to
    /// 105% (8-bit limited range: luma 14 to 241).
    pub const EBU_R103: Limits = Limits {
        luma_min: -0.01,
        luma_max: 1.03,
        rgb_min: -0.05,
        rgb_max: 1.05,
    };
    /// EBU R103 v2.0 (2016) and v3.0 (2020): luma and R'G'B' alike within
    /// 5 to 246 in 8 bit, 20 to 984 in 10 bit (-11/219 to 230/219 of the
    /// nominal range).
    pub const EBU_R103_V3: Limits = Limits {
        luma_min: -11.0 / 219.0,
        luma_max: 230.0 / 219.0,
        rgb_min: -11.0 / 219.0,
        rgb_max: 230.0 / 219.0,
    };
    /// Nominal range only (a strict house rule): luma and R'G'B' within
    /// black and white, 16 to 235 in 8 bit.
    pub const NOMINAL: Limits = Limits {
        luma_min: 0.0,
        luma_max: 1.0,
        rgb_min: 0.0,
        rgb_max: 1.0,
    };
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelsConfig {
    pub limits: Limits,
    /// Share of the sampled pixels (luma, or R'G'B') allowed out of range
    /// before a frame is illegal.
    pub max_share: f64,
    /// Nanoseconds frames must stay illegal before an event starts.
    pub min_duration: u64,
    /// Read one picture row in this many (1: every row).
    pub line_step: u32,
    /// Nanoseconds between measurements (`Some(0)`: one per frame); `None`:
    /// none.
    pub measurements: Option<u64>,
}

impl Default for LevelsConfig {
    fn default() -> Self {
        LevelsConfig {
            limits: Limits::EBU_R103,
            max_share: 0.01,
            min_duration: 2_000_000_000,
            line_step: 8,
            measurements: Some(1_000_000_000),
        }
    }
}

/// Levels of one frame or of a stretch of frames: out-of-range shares and
/// extremes, each a fraction of the nominal range (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelsStats {
    /// Share of the sampled pixels whose luma is out of range.
    pub luma_share: f64,
    /// Share of the sampled pixels whose R, G or B is out of range.
    pub rgb_share: f64,
    pub luma_min: f64,
    pub luma_max: f64,
    pub cb_min: f64,
    pub cb_max: f64,
    pub cr_min: f64,
    pub cr_max: f64,
    /// The lowest and highest of R, G and B.
    pub rgb_min: f64,
    pub rgb_max: f64,
}

impl LevelsStats {
    /// Nothing seen yet: merging anything into it gives that.
    const EMPTY: LevelsStats = LevelsStats {
        luma_share: 0.0,
        rgb_share: 0.0,
        luma_min: f64::INFINITY,
        luma_max: f64::NEG_INFINITY,
        cb_min: f64::INFINITY,
        cb_max: f64::NEG_INFINITY,
        cr_min: f64::INFINITY,
        cr_max: f64::NEG_INFINITY,
        rgb_min: f64::INFINITY,
        rgb_max: f64::NEG_INFINITY,
    };

    /// The higher shares and the wider extremes of both.
    pub fn merge(&self, o: &LevelsStats) -> LevelsStats {
        LevelsStats {
            luma_share: self.luma_share.max(o.luma_share),
            rgb_share: self.rgb_share.max(o.rgb_share),
            luma_min: self.luma_min.min(o.luma_min),
            luma_max: self.luma_max.max(o.luma_max),
            cb_min: self.cb_min.min(o.cb_min),
            cb_max: self.cb_max.max(o.cb_max),
            cr_min: self.cr_min.min(o.cr_min),
            cr_max: self.cr_max.max(o.cr_max),
            rgb_min: self.rgb_min.min(o.rgb_min),
            rgb_max: self.rgb_max.max(o.rgb_max),
        }
    }

    /// Extremes of components a picture lacks (chroma of a grey picture)
    /// read as 0.
    fn finite(mut self) -> Self {
        for v in [
            &mut self.luma_min,
            &mut self.luma_max,
            &mut self.cb_min,
            &mut self.cb_max,
            &mut self.cr_min,
            &mut self.cr_max,
            &mut self.rgb_min,
            &mut self.rgb_max,
        ] {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        self
    }
}

/// Levels over one measurement interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelsMeasurement {
    /// End of the interval (end of its last frame), ns.
    pub timestamp: u64,
    /// The highest shares and the extremes of any frame of the interval.
    pub stats: LevelsStats,
    /// Frames measured, and of them the illegal ones.
    pub frames: u64,
    pub illegal_frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelsEvent {
    /// Illegal levels began or ended. A start carries the stats of the
    /// frames from the first illegal one until the start was reported; an
    /// end those of the whole stretch.
    Illegal {
        transition: Transition,
        stats: LevelsStats,
    },
    Measurement(LevelsMeasurement),
}

/// Counts and extremes of one frame's sampled rows, in code values and
/// normalised units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tally {
    luma_out: u64,
    luma_n: u64,
    rgb_out: u64,
    rgb_n: u64,
    stats: LevelsStats,
}

/// The detector.
#[derive(Debug, Clone)]
pub struct LevelsDetector {
    config: LevelsConfig,
    tracker: EventTracker,
    /// Stats of the illegal stretch under way.
    stretch: Option<LevelsStats>,
    /// The measurement under way: its start and what it gathered.
    measuring: Option<(u64, LevelsMeasurement)>,
    /// Frames seen, for the rotating row offset.
    frames: u64,
    /// Scratch: the rows read, the luma rows below them that the same
    /// chroma row covers, and their luma averaged over each chroma
    /// sample's footprint.
    rows: Rows,
    below: Rows,
    sums: Vec<i32>,
}

impl LevelsDetector {
    pub fn new(config: LevelsConfig) -> Self {
        LevelsDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            stretch: None,
            measuring: None,
            frames: 0,
            rows: Rows::default(),
            below: Rows::default(),
            sums: Vec::new(),
        }
    }

    pub fn config(&self) -> LevelsConfig {
        self.config
    }

    pub fn set_config(&mut self, config: LevelsConfig) {
        self.tracker.set_min_duration(config.min_duration);
        if config.measurements.is_none() {
            self.measuring = None;
        }
        self.config = config;
    }

    /// The levels of one frame (the sampled rows of it).
    pub fn measure(&mut self, picture: &ColourPicture<'_>) -> LevelsStats {
        let t = self.tally(picture);
        let share = |out: u64, n: u64| if n == 0 { 0.0 } else { out as f64 / n as f64 };
        LevelsStats {
            luma_share: share(t.luma_out, t.luma_n),
            rgb_share: share(t.rgb_out, t.rgb_n),
            ..t.stats
        }
        .finite()
    }

    /// Counts and extremes of the rows this frame samples. Uses AVX2 where
    /// the processor has it (the same code, compiled for it; results are
    /// identical).
    fn tally(&mut self, picture: &ColourPicture<'_>) -> Tally {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2, checked just above.
                return unsafe { self.tally_avx2(picture) };
            }
        }
        self.tally_generic(picture, false)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn tally_avx2(&mut self, picture: &ColourPicture<'_>) -> Tally {
        self.tally_generic(picture, true)
    }

    /// The portable tally; [`LevelsDetector::tally`] runs this same code
    /// compiled for AVX2 where it can, and then (`avx2`) judges 8-bit 4:2:0
    /// row pairs with [`x86::pair_420`]. Elsewhere `avx2` is always false.
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn tally_generic(&mut self, picture: &ColourPicture<'_>, avx2: bool) -> Tally {
        let step = self.config.line_step.max(1) as usize;
        let h = picture.height();
        let first = if h == 0 {
            0
        } else {
            (self.frames % step as u64) as usize % h.min(step)
        };
        self.frames += 1;
        let f = *picture.format();
        let scale = f.nominal();
        let lim = self.config.limits;
        let mut t = Tally {
            luma_out: 0,
            luma_n: 0,
            rgb_out: 0,
            rgb_n: 0,
            stats: LevelsStats::EMPTY,
        };
        let luma_bounds = luma_bounds(&scale, &lim);
        // the bounds as bytes, when 8-bit samples are judged right by them
        let bounds8 = u8::try_from(luma_bounds.0)
            .ok()
            .map(|lo| (lo, luma_bounds.1.min(255) as u8));
        let mut rows = std::mem::take(&mut self.rows);
        let mut below = std::mem::take(&mut self.below);
        let (w_sub, h_sub) = f.chroma_sub();
        // the formats read subsample by at most two rows
        let full_rows = if h_sub > 0 { 2 } else { 1 };
        let gamut = match f.model {
            ColourModel::Yuv { kr, kb } => Some(Gamut::new(
                kr,
                kb,
                (1usize << w_sub) * full_rows,
                &scale,
                &lim,
            )),
            _ => None,
        };
        let mut last = None;
        for y in (first..h).step_by(step) {
            match (f.model, gamut) {
                (ColourModel::Yuv { .. }, Some(g)) => {
                    // the luma rows one chroma row covers, all of them
                    let y0 = (y >> h_sub) << h_sub;
                    if last == Some(y0) {
                        continue;
                    }
                    last = Some(y0);
                    let two = full_rows == 2 && y0 + 1 < h;
                    let yuv = Yuv {
                        w_sub,
                        full_rows,
                        gamut: &g,
                        scale: &scale,
                    };
                    // 8-bit planar components are read where they lie
                    let direct = match (
                        picture.row_u8(0, y0),
                        picture.row_u8(1, y0),
                        picture.row_u8(2, y0),
                        bounds8,
                    ) {
                        (Some(a), Some(cb), Some(cr), Some(b8)) => {
                            let b = if two { picture.row_u8(0, y0 + 1) } else { None };
                            #[cfg(target_arch = "x86_64")]
                            if let (true, Some(b), (1, 1)) = (avx2, b, (w_sub, h_sub)) {
                                // SAFETY: `avx2` is true only where the
                                // processor has AVX2 (`tally` checks).
                                unsafe {
                                    x86::pair_420(
                                        &yuv,
                                        [a, b],
                                        [cb, cr],
                                        b8,
                                        &mut self.sums,
                                        &mut t,
                                    )
                                };
                                continue;
                            }
                            let lumas = [a, b.unwrap_or_default()];
                            let lumas = &lumas[..1 + usize::from(b.is_some())];
                            yuv.rows(lumas, cb, cr, b8, &mut self.sums, &mut t);
                            true
                        }
                        _ => false,
                    };
                    if !direct {
                        picture.read_row(y0, &mut rows);
                        if two {
                            picture.read_row(y0 + 1, &mut below);
                        }
                        let lumas = [rows.c[0].as_slice(), below.c[0].as_slice()];
                        let lumas = &lumas[..1 + usize::from(two)];
                        let [_, cb, cr] = &rows.c;
                        yuv.rows(lumas, cb, cr, luma_bounds, &mut self.sums, &mut t);
                    }
                }
                (ColourModel::Rgb, _) => {
                    picture.read_row(y, &mut rows);
                    rgb_row(&rows, &scale, &lim, &mut t);
                }
                _ => {
                    picture.read_row(y, &mut rows);
                    luma_row(&rows.c[0], luma_bounds, &scale, &mut t);
                }
            }
        }
        self.rows = rows;
        self.below = below;
        t
    }

    /// One frame covering `pts..end`; events go to `out`.
    pub fn push(
        &mut self,
        picture: &ColourPicture<'_>,
        pts: u64,
        end: u64,
        out: &mut Vec<LevelsEvent>,
    ) {
        let stats = self.measure(picture);
        self.push_stats(&stats, pts, end, out);
    }

    /// One frame's levels, measured already (see [`LevelsDetector::measure`]).
    pub fn push_stats(
        &mut self,
        stats: &LevelsStats,
        pts: u64,
        end: u64,
        out: &mut Vec<LevelsEvent>,
    ) {
        let max = self.config.max_share;
        let illegal = stats.luma_share > max || stats.rgb_share > max;
        if illegal {
            self.stretch = Some(self.stretch.map_or(*stats, |s| s.merge(stats)));
        }
        if let Some(transition) = self.tracker.push(illegal, pts, end) {
            let stats = self.stretch.unwrap_or(*stats);
            out.push(LevelsEvent::Illegal { transition, stats });
        }
        if !self.tracker.in_defect() {
            self.stretch = None;
        }
        self.gather(stats, illegal, pts, end, out);
    }

    fn gather(
        &mut self,
        stats: &LevelsStats,
        illegal: bool,
        pts: u64,
        end: u64,
        out: &mut Vec<LevelsEvent>,
    ) {
        let Some(interval) = self.config.measurements else {
            return;
        };
        let (start, m) = self.measuring.get_or_insert((
            pts,
            LevelsMeasurement {
                timestamp: end,
                stats: LevelsStats::EMPTY,
                frames: 0,
                illegal_frames: 0,
            },
        ));
        m.stats = m.stats.merge(stats);
        m.frames += 1;
        m.illegal_frames += u64::from(illegal);
        m.timestamp = end;
        if end.saturating_sub(*start) >= interval {
            let m = LevelsMeasurement {
                stats: m.stats.finite(),
                ..*m
            };
            out.push(LevelsEvent::Measurement(m));
            self.measuring = None;
        }
    }

    /// The stream was interrupted: an illegal stretch ends with `reason`,
    /// a measurement under way is dropped.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<LevelsEvent>) {
        if let Some(transition) = self.tracker.close(reason) {
            let stats = self.stretch.unwrap_or(LevelsStats::EMPTY).finite();
            out.push(LevelsEvent::Illegal { transition, stats });
        }
        self.stretch = None;
        self.measuring = None;
    }
}

/// Code values below `lo` or above `hi` are out of a luma range.
fn luma_bounds(scale: &Nominal, lim: &Limits) -> (u16, u16) {
    let span = 1.0 / f64::from(scale.luma);
    let black = f64::from(scale.black);
    let lo = (black + lim.luma_min * span - 1e-6)
        .ceil()
        .clamp(0.0, 65535.0);
    let hi = (black + lim.luma_max * span + 1e-6)
        .floor()
        .clamp(0.0, 65535.0);
    (lo as u16, hi as u16)
}

/// A code value as rows hold it: a byte where 8-bit samples lie
/// contiguous in the buffer, else a 16-bit value read out of it.
trait Sample: Copy + Ord + Into<i32> + Into<u16> {
    /// A counter as wide as the sample (so a count vectorises in as many
    /// lanes as the samples do), and how many samples, a multiple of the
    /// vector width, it counts without overflowing.
    type Count: Copy + Default + From<bool> + Into<u64> + std::ops::Add<Output = Self::Count>;
    const CHUNK: usize;
}
impl Sample for u8 {
    type Count = u8;
    const CHUNK: usize = 192;
}
impl Sample for u16 {
    type Count = u16;
    const CHUNK: usize = 65472;
}

/// The lowest and highest of `v`, and how many are below `lo` or above
/// `hi`; `None` when `v` is empty. Plain reductions, which the compiler's
/// loop vectoriser handles (per-lane arrays it does not always).
#[inline(always)]
fn scan<S: Sample>(v: &[S], lo: S, hi: S) -> Option<(S, S, u64)> {
    let first = *v.first()?;
    let (mut mn, mut mx, mut out) = (first, first, 0u64);
    // one pass; counts in lanes as wide as the samples, over blocks too
    // short to overflow them
    for c in v.chunks(S::CHUNK) {
        let mut n = S::Count::default();
        for &x in c {
            mn = mn.min(x);
            mx = mx.max(x);
            n = n + S::Count::from((x < lo) | (x > hi));
        }
        out += n.into();
    }
    Some((mn, mx, out))
}

#[inline(always)]
fn min_max<S: Sample>(v: &[S]) -> Option<(S, S)> {
    let first = *v.first()?;
    let (mut mn, mut mx) = (first, first);
    for &x in v {
        mn = mn.min(x);
        mx = mx.max(x);
    }
    Some((mn, mx))
}

/// Luma counts and extremes of one row of code values, out of range below
/// `lo` or above `hi`.
#[inline(always)]
fn luma_row<S: Sample>(y: &[S], (lo, hi): (S, S), scale: &Nominal, t: &mut Tally) {
    if let Some((min, max, out)) = scan(y, lo, hi) {
        t.add_luma((min, max), out, y.len(), scale);
    }
}

impl Tally {
    /// Luma extremes (code values) and counts of `n` samples.
    fn add_luma<S: Sample>(&mut self, (min, max): (S, S), out: u64, n: usize, scale: &Nominal) {
        self.luma_out += out;
        self.luma_n += n as u64;
        let n = |v: S| f64::from((f32::from(Into::<u16>::into(v)) - scale.black) * scale.luma);
        self.stats.luma_min = self.stats.luma_min.min(n(min));
        self.stats.luma_max = self.stats.luma_max.max(n(max));
    }

    /// R'G'B' extremes (in [`Gamut`] units) and counts of `n` chroma
    /// samples, and their Cb (`u`) and Cr (`v`) extremes (code values).
    fn add_gamut<S: Sample>(
        &mut self,
        (u, v): ((S, S), (S, S)),
        (lo, hi): (i32, i32),
        out: u64,
        n: usize,
        g: &Gamut,
    ) {
        self.rgb_out += out;
        self.rgb_n += n as u64;
        let s = &mut self.stats;
        let chroma = |x: S| f64::from(Into::<i32>::into(x) - g.mid) * g.chroma;
        s.cb_min = s.cb_min.min(chroma(u.0));
        s.cb_max = s.cb_max.max(chroma(u.1));
        s.cr_min = s.cr_min.min(chroma(v.0));
        s.cr_max = s.cr_max.max(chroma(v.1));
        s.rgb_min = s.rgb_min.min(f64::from(lo) * g.to_norm);
        s.rgb_max = s.rgb_max.max(f64::from(hi) * g.to_norm);
    }
}

/// What judging the rows under one chroma row of a Y'CbCr picture needs.
struct Yuv<'g> {
    w_sub: u32,
    full_rows: usize,
    gamut: &'g Gamut,
    scale: &'g Nominal,
}

impl Yuv<'_> {
    /// The luma rows one chroma row covers (`lumas`), and that chroma row.
    #[inline(always)]
    fn rows<S: Sample>(
        &self,
        lumas: &[&[S]],
        cb: &[S],
        cr: &[S],
        bounds: (S, S),
        sums: &mut Vec<i32>,
        t: &mut Tally,
    ) {
        for l in lumas {
            luma_row(l, bounds, self.scale, t);
        }
        footprint_sum(lumas, 1 << self.w_sub, self.full_rows, sums);
        gamut_row(sums, cb, cr, self.gamut, t);
    }
}

/// The sum of the luma code values each chroma sample covers (`k` across
/// from each of `rows`), scaled as if every footprint held `k` samples
/// from each of `full_rows` rows (at the right and bottom edges of odd
/// sizes it does not), into `out`.
#[inline(always)]
fn footprint_sum<S: Sample>(rows: &[&[S]], k: usize, full_rows: usize, out: &mut Vec<i32>) {
    out.clear();
    let Some(first) = rows.first() else { return };
    let w = first.len();
    let n = w.div_ceil(k);
    out.resize(n, 0);
    let rem = w % k;
    for r in rows {
        let r = &r[..w.min(r.len())];
        match k {
            1 => out
                .iter_mut()
                .zip(r)
                .for_each(|(o, &v)| *o += Into::<i32>::into(v)),
            2 => out
                .iter_mut()
                .zip(r.chunks_exact(2))
                .for_each(|(o, c)| *o += Into::<i32>::into(c[0]) + Into::<i32>::into(c[1])),
            _ => out
                .iter_mut()
                .zip(r.chunks_exact(k))
                .for_each(|(o, c)| *o += c.iter().map(|&v| Into::<i32>::into(v)).sum::<i32>()),
        }
        if rem != 0 && r.len() == w {
            let tail: i32 = r[w - rem..].iter().map(|&v| Into::<i32>::into(v)).sum();
            out[n - 1] += tail * k as i32 / rem as i32;
        }
    }
    if rows.len() < full_rows {
        let m = (full_rows / rows.len().max(1)) as i32;
        out.iter_mut().for_each(|o| *o *= m);
    }
}

/// Y'CbCr to R'G'B' for one format, in fixed point: R'G'B' in units of
/// 1/256 of a luma code step, times the `m` luma samples a footprint sums.
#[derive(Debug, Clone, Copy)]
struct Gamut {
    /// `m` times nominal black, in those units.
    black: i32,
    mid: i32,
    /// Units per chroma code step in R' (from Cr), G' (from Cb and Cr) and
    /// B' (from Cb).
    r_v: i32,
    g_u: i32,
    g_v: i32,
    b_u: i32,
    /// R', G' or B' below `lo` or above `hi` is out of range.
    lo: i32,
    hi: i32,
    /// Units to fractions of the nominal range.
    to_norm: f64,
    /// Chroma code steps to fractions of the nominal range.
    chroma: f64,
}

impl Gamut {
    fn new(kr: f64, kb: f64, m: usize, scale: &Nominal, lim: &Limits) -> Self {
        let unit = m as f64 * 256.0;
        let ly = f64::from(scale.luma);
        let chroma = |k: f64| (k * f64::from(scale.chroma) / ly * unit).round() as i32;
        let kg = 1.0 - kr - kb;
        let (r_cr, b_cb) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb));
        let bound = |v: f64| v.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
        Gamut {
            black: (f64::from(scale.black) * unit).round() as i32,
            mid: scale.mid as i32,
            r_v: chroma(r_cr),
            g_u: chroma(b_cb * kb / kg),
            g_v: chroma(r_cr * kr / kg),
            b_u: chroma(b_cb),
            lo: bound((lim.rgb_min / ly * unit - 1e-6).ceil()),
            hi: bound((lim.rgb_max / ly * unit + 1e-6).floor()),
            to_norm: ly / unit,
            chroma: f64::from(scale.chroma),
        }
    }
}

/// R'G'B' of every chroma sample of one row, from the luma its footprint
/// sums (`sums`: so an edge that chroma subsampling blurred is judged as
/// the blurred colour it is, not as out of gamut), and the chroma
/// extremes.
#[inline(always)]
fn gamut_row<S: Sample>(sums: &[i32], cb: &[S], cr: &[S], g: &Gamut, t: &mut Tally) {
    let n = sums.len().min(cb.len()).min(cr.len());
    let (sums, cb, cr) = (&sums[..n], &cb[..n], &cr[..n]);
    let (Some(u), Some(v)) = (min_max(cb), min_max(cr)) else {
        return;
    };
    let (mut lo, mut hi, mut out) = (i32::MAX, i32::MIN, 0u32);
    for i in 0..n {
        let y = sums[i] * 256 - g.black;
        let u = Into::<i32>::into(cb[i]) - g.mid;
        let v = Into::<i32>::into(cr[i]) - g.mid;
        let r = y + g.r_v * v;
        let gr = y - g.g_u * u - g.g_v * v;
        let b = y + g.b_u * u;
        let l3 = r.min(gr).min(b);
        let h3 = r.max(gr).max(b);
        lo = lo.min(l3);
        hi = hi.max(h3);
        out += u32::from(l3 < g.lo) | u32::from(h3 > g.hi);
    }
    t.add_gamut((u, v), (lo, hi), u64::from(out), n, g);
}

/// The common case by hand: two rows of 8-bit luma and the row of 8-bit
/// 4:2:0 chroma under them, in one pass with AVX2. The same integer
/// arithmetic as [`Yuv::rows`], so the same counts and extremes (a test
/// compares them).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Tally, Yuv};
    use std::arch::x86_64::*;

    /// Chroma samples a block takes (and twice as many luma in each row).
    const BLOCK: usize = 16;

    /// # Safety
    /// The processor must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn pair_420(
        yuv: &Yuv<'_>,
        [a, b]: [&[u8]; 2],
        [cb, cr]: [&[u8]; 2],
        (lo8, hi8): (u8, u8),
        sums: &mut Vec<i32>,
        t: &mut Tally,
    ) {
        let g = yuv.gamut;
        let n = cb.len().min(cr.len()).min(a.len() / 2).min(b.len() / 2);
        let blocks = n / BLOCK;
        // the factors as 16-bit pairs for madd: (u, v) times (cu, cv)
        let fit = |v: i32| i16::try_from(v).ok();
        let factors = (fit(g.r_v), fit(-g.g_u), fit(-g.g_v), fit(g.b_u), fit(g.mid));
        let (Some(rv), Some(gu), Some(gv), Some(bu), Some(mid)) = factors else {
            return yuv.rows(&[a, b], cb, cr, (lo8, hi8), sums, t);
        };
        if blocks == 0 {
            return yuv.rows(&[a, b], cb, cr, (lo8, hi8), sums, t);
        }
        let pair = |u: i16, v: i16| _mm256_set1_epi32(((v as u16 as i32) << 16) | u as u16 as i32);
        let (f_r, f_g, f_b) = (pair(0, rv), pair(gu, gv), pair(bu, 0));
        let (black, glo, ghi) = (
            _mm256_set1_epi32(g.black),
            _mm256_set1_epi32(g.lo),
            _mm256_set1_epi32(g.hi),
        );
        let mid = _mm256_set1_epi16(mid);
        let ones = _mm256_set1_epi8(1);
        let zero = _mm256_setzero_si256();
        let (lo, hi) = (_mm256_set1_epi8(lo8 as i8), _mm256_set1_epi8(hi8 as i8));
        let (mut ymin, mut ymax) = (_mm256_set1_epi8(-1), zero);
        let (mut umin, mut umax) = (_mm256_set1_epi16(i16::MAX), _mm256_set1_epi16(i16::MIN));
        let (mut vmin, mut vmax) = (umin, umax);
        let (mut rmin, mut rmax) = (_mm256_set1_epi32(i32::MAX), _mm256_set1_epi32(i32::MIN));
        let (mut rgb_bad, mut luma_in) = (zero, zero);
        // a luma row's 32 bytes, judged: extremes, and in-range counts in
        // byte lanes (at most two a block)
        let luma = |x: __m256i, mn: &mut __m256i, mx: &mut __m256i, count: &mut __m256i| {
            *mn = _mm256_min_epu8(*mn, x);
            *mx = _mm256_max_epu8(*mx, x);
            let ok = _mm256_and_si256(
                _mm256_cmpeq_epi8(_mm256_max_epu8(x, lo), x),
                _mm256_cmpeq_epi8(_mm256_min_epu8(x, hi), x),
            );
            *count = _mm256_sub_epi8(*count, ok);
        };
        // eight chroma samples' R'G'B' from luma sums `y` and (u, v) pairs
        let gamut =
            |y: __m256i, uv: __m256i, mn: &mut __m256i, mx: &mut __m256i, bad: &mut __m256i| {
                let y = _mm256_sub_epi32(_mm256_slli_epi32(y, 8), black);
                let r = _mm256_add_epi32(y, _mm256_madd_epi16(uv, f_r));
                let gr = _mm256_add_epi32(y, _mm256_madd_epi16(uv, f_g));
                let b = _mm256_add_epi32(y, _mm256_madd_epi16(uv, f_b));
                let l3 = _mm256_min_epi32(_mm256_min_epi32(r, gr), b);
                let h3 = _mm256_max_epi32(_mm256_max_epi32(r, gr), b);
                *mn = _mm256_min_epi32(*mn, l3);
                *mx = _mm256_max_epi32(*mx, h3);
                let out = _mm256_or_si256(_mm256_cmpgt_epi32(glo, l3), _mm256_cmpgt_epi32(h3, ghi));
                *bad = _mm256_sub_epi32(*bad, out);
            };
        let mut done = 0;
        while done < blocks {
            // byte counters take 127 blocks of two rows
            let run = (blocks - done).min(127);
            let mut count = zero;
            for k in done..done + run {
                let (l, c) = (2 * BLOCK * k, BLOCK * k);
                let xa = _mm256_loadu_si256(a.as_ptr().add(l).cast());
                let xb = _mm256_loadu_si256(b.as_ptr().add(l).cast());
                luma(xa, &mut ymin, &mut ymax, &mut count);
                luma(xb, &mut ymin, &mut ymax, &mut count);
                // the four luma samples under each chroma sample, summed
                let s = _mm256_add_epi16(
                    _mm256_maddubs_epi16(xa, ones),
                    _mm256_maddubs_epi16(xb, ones),
                );
                let u = _mm256_cvtepu8_epi16(_mm_loadu_si128(cb.as_ptr().add(c).cast()));
                let v = _mm256_cvtepu8_epi16(_mm_loadu_si128(cr.as_ptr().add(c).cast()));
                umin = _mm256_min_epi16(umin, u);
                umax = _mm256_max_epi16(umax, u);
                vmin = _mm256_min_epi16(vmin, v);
                vmax = _mm256_max_epi16(vmax, v);
                let (u, v) = (_mm256_sub_epi16(u, mid), _mm256_sub_epi16(v, mid));
                // lanes in the order unpack gives (the same for all)
                for (y, uv) in [
                    (_mm256_unpacklo_epi16(s, zero), _mm256_unpacklo_epi16(u, v)),
                    (_mm256_unpackhi_epi16(s, zero), _mm256_unpackhi_epi16(u, v)),
                ] {
                    gamut(y, uv, &mut rmin, &mut rmax, &mut rgb_bad);
                }
            }
            luma_in = _mm256_add_epi64(luma_in, _mm256_sad_epu8(count, zero));
            done += run;
        }
        let lanes = |x: __m256i| std::mem::transmute::<__m256i, [u8; 32]>(x);
        let words = |x: __m256i| std::mem::transmute::<__m256i, [i16; 16]>(x);
        let dwords = |x: __m256i| std::mem::transmute::<__m256i, [i32; 8]>(x);
        let quads = |x: __m256i| std::mem::transmute::<__m256i, [u64; 4]>(x);
        let m = blocks * BLOCK;
        let luma_in: u64 = quads(luma_in).iter().sum();
        let ymin = lanes(ymin).into_iter().min().unwrap_or(0);
        let ymax = lanes(ymax).into_iter().max().unwrap_or(0);
        t.add_luma((ymin, ymax), (4 * m) as u64 - luma_in, 4 * m, yuv.scale);
        let code = |x: i16| x as u8;
        let u = (
            code(words(umin).into_iter().min().unwrap_or(0)),
            code(words(umax).into_iter().max().unwrap_or(0)),
        );
        let v = (
            code(words(vmin).into_iter().min().unwrap_or(0)),
            code(words(vmax).into_iter().max().unwrap_or(0)),
        );
        let rgb = (
            dwords(rmin).into_iter().min().unwrap_or(0),
            dwords(rmax).into_iter().max().unwrap_or(0),
        );
        let bad: u64 = dwords(rgb_bad).iter().map(|&c| c as u64).sum();
        t.add_gamut((u, v), rgb, bad, m, g);
        // the rest as usual (a whole number of footprints is done, so the
        // rest's footprints line up)
        let (a, b) = (&a[2 * m..], &b[2 * m..]);
        yuv.rows(&[a, b], &cb[m..], &cr[m..], (lo8, hi8), sums, t);
    }
}

/// One row of R'G'B' samples: R'G'B' counts and extremes, and the BT.709
/// luma and chroma made from them.
fn rgb_row(rows: &Rows, scale: &Nominal, lim: &Limits, t: &mut Tally) {
    let [r, g, b] = &rows.c;
    let n = r.len().min(g.len()).min(b.len());
    if n == 0 {
        return;
    }
    let (kr, kb) = (0.2126f32, 0.0722f32);
    let kg = 1.0 - kr - kb;
    let (lo, hi) = (lim.rgb_min as f32, lim.rgb_max as f32);
    let (ylo, yhi) = (lim.luma_min as f32, lim.luma_max as f32);
    // lowest and highest of: luma, Cb, Cr, R'G'B'
    let (mut lo4, mut hi4) = ([f32::INFINITY; 4], [f32::NEG_INFINITY; 4]);
    let (mut rgb_out, mut luma_out) = (0u32, 0u32);
    for i in 0..n {
        let c = |v: u16| (f32::from(v) - scale.black) * scale.luma;
        let (rn, gn, bn) = (c(r[i]), c(g[i]), c(b[i]));
        let yn = kr * rn + kg * gn + kb * bn;
        let u = (bn - yn) / (2.0 * (1.0 - kb));
        let v = (rn - yn) / (2.0 * (1.0 - kr));
        let lo3 = rn.min(gn).min(bn);
        let hi3 = rn.max(gn).max(bn);
        rgb_out += u32::from(lo3 < lo || hi3 > hi);
        luma_out += u32::from(yn < ylo || yn > yhi);
        for (k, (l, h)) in [(yn, yn), (u, u), (v, v), (lo3, hi3)]
            .into_iter()
            .enumerate()
        {
            lo4[k] = lo4[k].min(l);
            hi4[k] = hi4[k].max(h);
        }
    }
    t.rgb_out += u64::from(rgb_out);
    t.luma_out += u64::from(luma_out);
    t.rgb_n += n as u64;
    t.luma_n += n as u64;
    let f = f64::from;
    let s = LevelsStats {
        luma_share: 0.0,
        rgb_share: 0.0,
        luma_min: f(lo4[0]),
        luma_max: f(hi4[0]),
        cb_min: f(lo4[1]),
        cb_max: f(hi4[1]),
        cr_min: f(lo4[2]),
        cr_max: f(hi4[2]),
        rgb_min: f(lo4[3]),
        rgb_max: f(hi4[3]),
    };
    t.stats = t.stats.merge(&s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::video::colour::{ColourFormat, PlaneData};

    const F: u64 = 40_000_000;

    /// A 64x32 I420 picture: luma `y`, chroma `u`, `v` everywhere, except
    /// the top `rows` rows of luma, which are `y_top`.
    struct Pic {
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
    }

    impl Pic {
        fn new(y: u8, u: u8, v: u8) -> Self {
            Pic {
                y: vec![y; 64 * 32],
                u: vec![u; 32 * 16],
                v: vec![v; 32 * 16],
            }
        }
        fn top(mut self, rows: usize, y: u8) -> Self {
            self.y[..rows * 64].fill(y);
            self
        }
        fn view(&self, full: bool) -> ColourPicture<'_> {
            let planes = [
                PlaneData {
                    data: &self.y,
                    stride: 64,
                },
                PlaneData {
                    data: &self.u,
                    stride: 32,
                },
                PlaneData {
                    data: &self.v,
                    stride: 32,
                },
            ];
            ColourPicture::new(
                ColourFormat::i420(ColourModel::BT709, full),
                &planes,
                64,
                32,
            )
            .unwrap()
        }
    }

    /// The AVX2 row pairs and the portable code agree exactly, on every
    /// width (whole blocks, a rest, odd, narrower than a block) and height,
    /// matrix, range and limit, with samples all over the code range.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_row_pairs_agree_with_the_portable_code() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: nothing to compare");
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut byte = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        };
        let mut compared = 0;
        for (w, h) in [
            (64usize, 32usize),
            (1920, 6),
            (1922, 5),
            (97, 7),
            (31, 4),
            (33, 3),
            (2, 2),
            (1, 1),
        ] {
            let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
            // mostly legal, some of everything
            let mut sample = |base: u8| match byte() % 8 {
                0 => byte(),
                _ => base.wrapping_add(byte() % 32),
            };
            let y: Vec<u8> = (0..w * h).map(|_| sample(100)).collect();
            let u: Vec<u8> = (0..cw * ch).map(|_| sample(112)).collect();
            let v: Vec<u8> = (0..cw * ch).map(|_| sample(112)).collect();
            let planes = [
                PlaneData {
                    data: &y,
                    stride: w,
                },
                PlaneData {
                    data: &u,
                    stride: cw,
                },
                PlaneData {
                    data: &v,
                    stride: cw,
                },
            ];
            for (model, full, limits, step) in [
                (ColourModel::BT709, false, Limits::EBU_R103, 1),
                (ColourModel::BT601, true, Limits::NOMINAL, 1),
                (ColourModel::BT2020, false, Limits::EBU_R103_V3, 3),
            ] {
                let f = ColourFormat::i420(model, full);
                let pic = ColourPicture::new(f, &planes, w, h).unwrap();
                let config = LevelsConfig {
                    line_step: step,
                    limits,
                    ..LevelsConfig::default()
                };
                let (mut fast, mut plain) =
                    (LevelsDetector::new(config), LevelsDetector::new(config));
                for _ in 0..3 {
                    // SAFETY: AVX2 was checked above.
                    let a = unsafe { fast.tally_avx2(&pic) };
                    let b = plain.tally_generic(&pic, false);
                    assert_eq!(a, b, "{w}x{h} {model:?} full {full}");
                    assert!(b.luma_n > 0 && b.rgb_n > 0);
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, 8 * 3 * 3);
    }

    fn every_row() -> LevelsConfig {
        LevelsConfig {
            line_step: 1,
            measurements: None,
            ..LevelsConfig::default()
        }
    }

    #[test]
    fn nominal_grey_is_legal_and_measured_exactly() {
        let mut d = LevelsDetector::new(every_row());
        let s = d.measure(&Pic::new(126, 128, 128).view(false));
        assert_eq!((s.luma_share, s.rgb_share), (0.0, 0.0));
        assert!((s.luma_min - 110.0 / 219.0).abs() < 1e-6);
        assert_eq!((s.cb_min, s.cr_max), (0.0, 0.0));
        assert!((s.rgb_min - 110.0 / 219.0).abs() < 1e-6);
    }

    #[test]
    fn luma_bounds_follow_r103_in_code_values() {
        let lim8 = ColourFormat::i420(ColourModel::BT709, false).nominal();
        assert_eq!(luma_bounds(&lim8, &Limits::EBU_R103), (14, 241));
        assert_eq!(luma_bounds(&lim8, &Limits::EBU_R103_V3), (5, 246));
        assert_eq!(luma_bounds(&lim8, &Limits::NOMINAL), (16, 235));
        let lim10 = ColourFormat {
            depth: 10,
            ..ColourFormat::i420(ColourModel::BT709, false)
        }
        .nominal();
        assert_eq!(luma_bounds(&lim10, &Limits::EBU_R103_V3), (20, 984));
        // full range: nothing a code value can reach is out of R103's luma range
        let full = ColourFormat::i420(ColourModel::BT709, true).nominal();
        assert_eq!(luma_bounds(&full, &Limits::EBU_R103), (0, 262));
    }

    #[test]
    fn superwhite_share_counts_rows() {
        let mut d = LevelsDetector::new(every_row());
        // 4 of 32 rows at 250 (super-white above 241): 1/8 of luma; R'G'B'
        // of the chroma samples over them too (luma 250 is R=G=B=1.07)
        let s = d.measure(&Pic::new(126, 128, 128).top(4, 250).view(false));
        assert!((s.luma_share - 0.125).abs() < 1e-9, "{s:?}");
        assert!((s.rgb_share - 0.125).abs() < 1e-9, "{s:?}");
        assert!((s.luma_max - 234.0 / 219.0).abs() < 1e-6);
        // full range: 250 is 98% and legal
        let s = d.measure(&Pic::new(126, 128, 128).top(4, 250).view(true));
        assert_eq!((s.luma_share, s.rgb_share), (0.0, 0.0));
    }

    #[test]
    fn saturated_chroma_is_out_of_rgb_gamut_with_legal_luma() {
        let mut d = LevelsDetector::new(every_row());
        // luma mid-grey, Cr at its limited-range maximum: R = 0.5 + 1.5748 * 0.5
        let s = d.measure(&Pic::new(126, 128, 240).view(false));
        assert_eq!(s.luma_share, 0.0);
        assert_eq!(s.rgb_share, 1.0);
        assert!((s.cr_max - 0.5).abs() < 1e-6);
        assert!(
            s.rgb_max > 1.28 && (s.rgb_min - 0.268).abs() < 0.001,
            "{s:?}"
        );
        // 75% colour bars are legal: 75% red is Y 0.1595, Cb -0.0859, Cr 0.375
        let y = (16.0 + 0.1595 * 219.0f64).round() as u8;
        let u = (128.0 - 0.0859 * 224.0f64).round() as u8;
        let v = (128.0 + 0.375 * 224.0f64).round() as u8;
        let s = d.measure(&Pic::new(y, u, v).view(false));
        assert_eq!(s.rgb_share, 0.0, "{s:?}");
        assert!((s.rgb_max - 0.75).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn sampling_every_eighth_row_rotates_and_estimates_the_share() {
        let mut d = LevelsDetector::new(LevelsConfig {
            measurements: None,
            ..LevelsConfig::default()
        });
        // a band of 8 rows (a quarter) is always hit once in 4 sampled rows
        let pic = Pic::new(126, 128, 128).top(8, 250);
        for _ in 0..8 {
            let s = d.measure(&pic.view(false));
            assert!((s.luma_share - 0.25).abs() < 1e-9, "{s:?}");
        }
        // one row of 32 is seen in two frames of 8 (4:2:0 is read in the
        // pairs of rows one chroma row covers)
        let pic = Pic::new(126, 128, 128).top(1, 250);
        let seen = (0..8)
            .filter(|_| d.measure(&pic.view(false)).luma_share > 0.0)
            .count();
        assert_eq!(seen, 2);
    }

    #[test]
    fn events_start_at_the_first_illegal_frame_and_end_at_the_first_legal_one() {
        let mut d = LevelsDetector::new(LevelsConfig {
            min_duration: 10 * F,
            ..every_row()
        });
        let good = Pic::new(126, 128, 128);
        let bad = Pic::new(126, 128, 128).top(8, 250);
        let mut out = Vec::new();
        for i in 0..40u64 {
            let p = if (10..30).contains(&i) { &bad } else { &good };
            d.push(&p.view(false), i * F, (i + 1) * F, &mut out);
        }
        let t: Vec<_> = out
            .iter()
            .map(|e| match e {
                LevelsEvent::Illegal { transition, stats } => (*transition, stats.luma_share),
                LevelsEvent::Measurement(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            t,
            [
                (Transition::Start { start: 10 * F }, 0.25),
                (
                    Transition::End {
                        start: 10 * F,
                        end: 30 * F,
                        reason: EndReason::Recovered
                    },
                    0.25
                )
            ]
        );
        // shorter than min-duration: nothing
        out.clear();
        for i in 40..60u64 {
            let p = if (45..54).contains(&i) { &bad } else { &good };
            d.push(&p.view(false), i * F, (i + 1) * F, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_small_share_within_the_limit_is_legal() {
        // 1 illegal row of 128 (0.8%) stays under the 1% share
        let mut d = LevelsDetector::new(every_row());
        let y: Vec<u8> = (0..128 * 64)
            .map(|i| if i < 64 { 250 } else { 126 })
            .collect();
        let c = vec![128u8; 32 * 64];
        let planes = [
            PlaneData {
                data: &y,
                stride: 64,
            },
            PlaneData {
                data: &c,
                stride: 32,
            },
            PlaneData {
                data: &c,
                stride: 32,
            },
        ];
        let pic = ColourPicture::new(
            ColourFormat::i420(ColourModel::BT709, false),
            &planes,
            64,
            128,
        )
        .unwrap();
        let mut out = Vec::new();
        for i in 0..100 {
            d.push(&pic, i * F, (i + 1) * F, &mut out);
        }
        assert!(out.is_empty());
    }

    #[test]
    fn measurements_gather_extremes_and_illegal_frames() {
        let mut d = LevelsDetector::new(LevelsConfig {
            measurements: Some(25 * F),
            ..every_row()
        });
        let good = Pic::new(126, 128, 128);
        let bad = Pic::new(126, 128, 128).top(8, 250);
        let mut out = Vec::new();
        for i in 0..25u64 {
            let p = if i == 3 { &bad } else { &good };
            d.push(&p.view(false), i * F, (i + 1) * F, &mut out);
        }
        let [LevelsEvent::Measurement(m)] = out[..] else {
            panic!("{out:?}")
        };
        assert_eq!((m.timestamp, m.frames, m.illegal_frames), (25 * F, 25, 1));
        assert!((m.stats.luma_share - 0.25).abs() < 1e-9);
        assert!((m.stats.luma_max - 234.0 / 219.0).abs() < 1e-6);
    }

    #[test]
    fn close_ends_an_event_and_empty_pictures_are_legal() {
        let mut d = LevelsDetector::new(LevelsConfig {
            min_duration: 0,
            ..every_row()
        });
        let bad = Pic::new(126, 128, 128).top(8, 250);
        let mut out = Vec::new();
        d.push(&bad.view(false), 0, F, &mut out);
        assert!(matches!(out[..], [LevelsEvent::Illegal { .. }]));
        d.close(EndReason::Eos, &mut out);
        assert!(matches!(
            out[1],
            LevelsEvent::Illegal {
                transition: Transition::End {
                    reason: EndReason::Eos,
                    end: F,
                    ..
                },
                ..
            }
        ));
        let empty = ColourPicture::new(
            ColourFormat::i420(ColourModel::BT709, false),
            &[PlaneData {
                data: &[],
                stride: 0,
            }; 3],
            0,
            0,
        )
        .unwrap();
        let s = d.measure(&empty);
        assert_eq!((s.luma_share, s.rgb_share, s.luma_min), (0.0, 0.0, 0.0));
    }
}
