//! Black frame detection.
//!
//! A frame is black when at least `ratio` of the analysed pixels have luma at
//! or below `pixel_threshold` of the nominal luma range (so the absolute code
//! value follows the format: limited or full range, 8, 10 or 16 bit).

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::{LumaPlane, Rect, Region, Row};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlackConfig {
    /// Fraction of the nominal luma range at or below which a pixel is black.
    pub pixel_threshold: f64,
    /// Fraction of analysed pixels that must be black.
    pub ratio: f64,
    /// Nanoseconds a black stretch must last to be reported.
    pub min_duration: u64,
    /// The analysed part of the picture.
    pub region: Region,
    /// Nanoseconds between luma measurements (`Some(0)`: one per frame);
    /// `None`: no measurements, and frames that cannot be black are only
    /// scanned until that is sure.
    pub measurements: Option<u64>,
    /// The element analyses one frame in this many (1: every frame); the
    /// detector sees only those.
    pub frame_step: u32,
}

impl Default for BlackConfig {
    fn default() -> Self {
        BlackConfig {
            pixel_threshold: 0.10,
            ratio: 0.98,
            min_duration: 2_000_000_000,
            region: Region::default(),
            measurements: None,
            frame_step: 1,
        }
    }
}

/// What one frame measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlackStats {
    /// Fraction of analysed pixels at or below the threshold.
    pub black_ratio: f64,
    /// Mean luma of the analysed pixels, 0.0 = nominal black, 1.0 = nominal white.
    pub mean_luma: f64,
}

/// What the detector reports: a start or end of a black stretch, or a luma
/// measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlackEvent {
    /// A start or end of a black stretch, with its measurements: for a
    /// start, those of the first black frame; for an end, the means over
    /// the stretch.
    Black {
        transition: Transition,
        stats: BlackStats,
    },
    /// Luma over one measurement interval.
    Measurement(LumaMeasurement),
}

/// Luma of the analysed pixels over one measurement interval, each value a
/// fraction of the nominal range (0.0 = nominal black, 1.0 = nominal white;
/// below 0 or above 1 for sub-black and super-white).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LumaMeasurement {
    /// End of the interval (end of its last frame), ns.
    pub timestamp: u64,
    /// The lowest pixel of any frame of the interval.
    pub min: f64,
    /// The mean over the interval's frames of each frame's mean.
    pub mean: f64,
    /// The highest pixel of any frame of the interval.
    pub max: f64,
    /// Frames measured.
    pub frames: u64,
}

/// The luma measurement being gathered, in code values.
#[derive(Debug, Clone, Copy)]
struct LumaSums {
    start: u64,
    min: u32,
    max: u32,
    mean_sum: f64,
    frames: u64,
}

/// The lowest and highest luma code value in `rect`.
fn extremes(plane: &LumaPlane<'_>, rect: Rect, scratch: &mut Vec<u16>) -> (u32, u32) {
    let mut lo = u32::MAX;
    let mut hi = 0u32;
    for y in rect.y0..rect.y1 {
        let (l, h) = match plane.row(y, rect.x0, rect.x1, scratch) {
            Row::U8(r) => min_max(r).map_or((u32::MAX, 0), |(l, h)| (l.into(), h.into())),
            Row::U16(r) => min_max(r).map_or((u32::MAX, 0), |(l, h)| (l.into(), h.into())),
        };
        lo = lo.min(l);
        hi = hi.max(h);
    }
    (lo, hi)
}

/// The smallest and largest of `row` (folded in 32 lanes, so it vectorises).
fn min_max<T: Copy + Ord>(row: &[T]) -> Option<(T, T)> {
    let first = *row.first()?;
    let mut lo = [first; LANES];
    let mut hi = [first; LANES];
    let mut it = row.chunks_exact(LANES);
    for c in &mut it {
        for i in 0..LANES {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let lo = it.remainder().iter().chain(&lo).copied().min()?;
    let hi = it.remainder().iter().chain(&hi).copied().max()?;
    Some((lo, hi))
}

/// What a scan of the analysed rectangle found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Pixels at or below the threshold among those scanned.
    pub black: u64,
    /// Luma sum of the pixels scanned.
    pub sum: u64,
    /// Pixels scanned: all of the rectangle unless the scan stopped early.
    pub scanned: u64,
    /// Pixels in the rectangle.
    pub total: u64,
}

impl Scan {
    pub fn complete(&self) -> bool {
        self.scanned == self.total
    }
}

/// Counts the pixels of `rect` at or below `threshold` and sums their luma.
/// The scan stops after the first row at which more than `max_bright` pixels
/// were above the threshold (the frame cannot be black any more); pass
/// `u64::MAX` to scan everything. Uses AVX2 where the processor has it (the
/// same code, compiled for it; results are identical).
pub fn scan(
    plane: &LumaPlane<'_>,
    rect: Rect,
    threshold: u32,
    max_bright: u64,
    scratch: &mut Vec<u16>,
) -> Scan {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { scan_avx2(plane, rect, threshold, max_bright, scratch) };
        }
    }
    scan_generic(plane, rect, threshold, max_bright, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_avx2(
    plane: &LumaPlane<'_>,
    rect: Rect,
    threshold: u32,
    max_bright: u64,
    scratch: &mut Vec<u16>,
) -> Scan {
    scan_generic(plane, rect, threshold, max_bright, scratch)
}

/// The portable scan; [`scan`] runs this same code compiled for AVX2 where it can.
#[inline(always)]
pub fn scan_generic(
    plane: &LumaPlane<'_>,
    rect: Rect,
    threshold: u32,
    max_bright: u64,
    scratch: &mut Vec<u16>,
) -> Scan {
    let mut out = Scan {
        black: 0,
        sum: 0,
        scanned: 0,
        total: (rect.width() * rect.height()) as u64,
    };
    let w = rect.width() as u64;
    for y in rect.y0..rect.y1 {
        let (b, s) = match plane.row(y, rect.x0, rect.x1, scratch) {
            Row::U8(r) => count_row_u8(r, threshold.min(255) as u8),
            Row::U16(r) => count_row_u16(r, threshold.min(65535) as u16),
        };
        out.black += b;
        out.sum += s;
        out.scanned += w;
        if out.scanned - out.black > max_bright {
            break;
        }
    }
    out
}

const LANES: usize = 32;

/// Black pixels and luma sum of one 8-bit row. Per-lane 8-bit counters and
/// 16-bit sums over blocks of 255 steps keep the loop in narrow vector lanes.
#[inline(always)]
fn count_row_u8(row: &[u8], t: u8) -> (u64, u64) {
    let mut black = 0u64;
    let mut sum = 0u64;
    for block in row.chunks(LANES * 255) {
        let mut cnt = [0u8; LANES];
        let mut acc = [0u16; LANES];
        let mut it = block.chunks_exact(LANES);
        for c in &mut it {
            for i in 0..LANES {
                cnt[i] += u8::from(c[i] <= t);
                acc[i] += u16::from(c[i]);
            }
        }
        black += cnt.iter().map(|&v| u64::from(v)).sum::<u64>();
        sum += acc.iter().map(|&v| u64::from(v)).sum::<u64>();
        for &v in it.remainder() {
            black += u64::from(v <= t);
            sum += u64::from(v);
        }
    }
    (black, sum)
}

#[inline(always)]
fn count_row_u16(row: &[u16], t: u16) -> (u64, u64) {
    let mut black = 0u64;
    let mut sum = 0u64;
    for block in row.chunks(1 << 15) {
        let mut b = 0u32;
        let mut s = 0u64;
        for &v in block {
            b += u32::from(v <= t);
            s += u64::from(v);
        }
        black += u64::from(b);
        sum += s;
    }
    (black, sum)
}

/// Black pixels needed among `n` for `ratio`: ceil(ratio * n), at least 1
/// (computed so that 0.98 of 100 is exactly 98).
fn min_black(ratio: f64, n: u64) -> u64 {
    let r = ratio.clamp(0.0, 1.0);
    let need = (r * n as f64 - 1e-9 * n as f64).ceil().max(0.0) as u64;
    need.clamp(1, n.max(1))
}

/// Frame-by-frame black detection with start/end events.
#[derive(Debug, Clone)]
pub struct BlackDetector {
    config: BlackConfig,
    tracker: EventTracker,
    scratch: Vec<u16>,
    first: BlackStats,
    ratio_sum: f64,
    luma_sum: f64,
    frames: u64,
    luma: Option<LumaSums>,
}

impl BlackDetector {
    pub fn new(config: BlackConfig) -> Self {
        BlackDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            scratch: Vec::new(),
            first: BlackStats::default(),
            ratio_sum: 0.0,
            luma_sum: 0.0,
            frames: 0,
            luma: None,
        }
    }

    pub fn config(&self) -> BlackConfig {
        self.config
    }

    /// Takes new settings; a black stretch in progress carries on under
    /// them (a measurement in progress too, unless measurements stop).
    pub fn set_config(&mut self, config: BlackConfig) {
        if config.measurements.is_none() {
            self.luma = None;
        }
        self.config = config;
        self.tracker.set_min_duration(config.min_duration);
    }

    /// Measures one whole frame without touching the event state.
    #[cfg(any(test, feature = "internals"))]
    pub fn measure(&mut self, plane: &LumaPlane<'_>) -> BlackStats {
        self.scan(plane, false).0
    }

    /// Scans the region; with `early`, stops as soon as the frame cannot be
    /// black. Returns the stats of what was scanned and whether it is black.
    fn scan(&mut self, plane: &LumaPlane<'_>, early: bool) -> (BlackStats, bool) {
        let rect = self.config.region.to_rect(plane.width(), plane.height());
        if rect.is_empty() {
            return (BlackStats::default(), false);
        }
        let n = (rect.width() * rect.height()) as u64;
        let threshold = plane.range().code_at(self.config.pixel_threshold);
        let max_bright = if early {
            // bright pixels allowed in a black frame: n - ceil(ratio * n)
            n - min_black(self.config.ratio, n)
        } else {
            u64::MAX
        };
        let sc = scan(plane, rect, threshold, max_bright, &mut self.scratch);
        let seen = sc.scanned.max(1) as f64;
        let stats = BlackStats {
            black_ratio: sc.black as f64 / seen,
            mean_luma: plane.range().normalise(sc.sum as f64 / seen),
        };
        let black = sc.complete() && sc.black >= min_black(self.config.ratio, n);
        (stats, black)
    }

    /// One frame covering `pts..end` nanoseconds; events go to `out`. An
    /// empty picture is never black. Without measurements, a frame that
    /// cannot be black is only scanned until that is sure.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<BlackEvent>) {
        let Some(interval) = self.config.measurements else {
            let (stats, black) = self.scan(plane, true);
            out.extend(self.push_stats(black, stats, pts, end));
            return;
        };
        let (stats, black) = self.scan(plane, false);
        out.extend(self.push_stats(black, stats, pts, end));
        let rect = self.config.region.to_rect(plane.width(), plane.height());
        if rect.is_empty() {
            return;
        }
        let (lo, hi) = extremes(plane, rect, &mut self.scratch);
        let sums = self.luma.get_or_insert(LumaSums {
            start: pts,
            min: u32::MAX,
            max: 0,
            mean_sum: 0.0,
            frames: 0,
        });
        sums.min = sums.min.min(lo);
        sums.max = sums.max.max(hi);
        sums.mean_sum += stats.mean_luma;
        sums.frames += 1;
        if end.saturating_sub(sums.start) >= interval {
            let range = plane.range();
            let n = sums.frames as f64;
            out.push(BlackEvent::Measurement(LumaMeasurement {
                timestamp: end,
                min: range.normalise(f64::from(sums.min)),
                mean: sums.mean_sum / n,
                max: range.normalise(f64::from(sums.max)),
                frames: sums.frames,
            }));
            self.luma = None;
        }
    }

    fn push_stats(
        &mut self,
        black: bool,
        stats: BlackStats,
        pts: u64,
        end: u64,
    ) -> Option<BlackEvent> {
        if black {
            if !self.tracker.in_defect() {
                self.first = stats;
                self.ratio_sum = 0.0;
                self.luma_sum = 0.0;
                self.frames = 0;
            }
            self.ratio_sum += stats.black_ratio;
            self.luma_sum += stats.mean_luma;
            self.frames += 1;
        }
        let t = self.tracker.push(black, pts, end)?;
        Some(self.event(t))
    }

    fn event(&self, transition: Transition) -> BlackEvent {
        let stats = match transition {
            Transition::Start { .. } => self.first,
            Transition::End { .. } => {
                let n = self.frames.max(1) as f64;
                BlackStats {
                    black_ratio: self.ratio_sum / n,
                    mean_luma: self.luma_sum / n,
                }
            }
        };
        BlackEvent::Black { transition, stats }
    }

    /// Ends a reported black stretch because the stream was interrupted;
    /// a partial measurement interval is dropped.
    pub fn close(&mut self, reason: EndReason) -> Option<BlackEvent> {
        self.luma = None;
        let t = self.tracker.close(reason)?;
        Some(self.event(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::video::frame::{LumaLayout, LumaRange};

    const F: u64 = 40_000_000;

    /// Pushes one frame of a detector without measurements: its black
    /// start or end, if any.
    fn push(
        d: &mut BlackDetector,
        plane: &LumaPlane<'_>,
        pts: u64,
        end: u64,
    ) -> Option<(Transition, BlackStats)> {
        let mut out = Vec::new();
        d.push(plane, pts, end, &mut out);
        assert!(out.len() <= 1, "{out:?}");
        out.pop().map(|e| match e {
            BlackEvent::Black { transition, stats } => (transition, stats),
            BlackEvent::Measurement(m) => panic!("measurement {m:?}"),
        })
    }

    fn frame(w: usize, h: usize, luma: u8) -> Vec<u8> {
        vec![luma; w * h]
    }

    #[test]
    fn threshold_is_inclusive_and_follows_range() {
        let mut d = BlackDetector::new(BlackConfig::default());
        // limited 8 bit: 10% is code 37
        let at = frame(64, 36, 37);
        let s = d.measure(&LumaPlane::gray8(&at, 64, 36).unwrap());
        assert_eq!(s.black_ratio, 1.0);
        let above = frame(64, 36, 38);
        assert_eq!(
            d.measure(&LumaPlane::gray8(&above, 64, 36).unwrap())
                .black_ratio,
            0.0
        );
        // full range: 10% is code 25
        let full = LumaPlane::new(
            &above,
            64,
            64,
            36,
            LumaLayout::U8 { offset: 0, step: 1 },
            LumaRange::new(8, true),
        )
        .unwrap();
        assert_eq!(d.measure(&full).black_ratio, 0.0);
        let s = d.measure(&LumaPlane::gray8(&frame(8, 8, 16), 8, 8).unwrap());
        assert!(s.mean_luma.abs() < 1e-12);
    }

    /// Whether `push` takes the frame for black (a fresh detector reporting at once).
    fn black(config: BlackConfig, plane: &LumaPlane<'_>) -> bool {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 0,
            ..config
        });
        push(&mut d, plane, 0, F).is_some()
    }

    #[test]
    fn ratio_decides() {
        let mut d = BlackDetector::new(BlackConfig::default());
        // 100 pixels, 2 white: 98% black is black, 3 white is not
        let mut f = frame(10, 10, 16);
        f[0] = 235;
        f[1] = 235;
        let s = d.measure(&LumaPlane::gray8(&f, 10, 10).unwrap());
        assert!((s.black_ratio - 0.98).abs() < 1e-12);
        assert!(black(d.config(), &LumaPlane::gray8(&f, 10, 10).unwrap()));
        f[2] = 235;
        assert!(!black(d.config(), &LumaPlane::gray8(&f, 10, 10).unwrap()));
    }

    #[test]
    fn region_leaves_out_a_logo() {
        let mut f = frame(100, 100, 16);
        // bright logo in the top right 20x20
        for y in 0..20 {
            for x in 80..100 {
                f[y * 100 + x] = 235;
            }
        }
        let mut d = BlackDetector::new(BlackConfig::default());
        assert!(!black(d.config(), &LumaPlane::gray8(&f, 100, 100).unwrap()));
        d.set_config(BlackConfig {
            region: Region {
                x: 0.0,
                y: 0.2,
                width: 1.0,
                height: 0.8,
            },
            ..BlackConfig::default()
        });
        let s = d.measure(&LumaPlane::gray8(&f, 100, 100).unwrap());
        assert_eq!(s.black_ratio, 1.0);
    }

    #[test]
    fn events_with_exact_times_and_stats() {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 2 * F,
            ..BlackConfig::default()
        });
        let black = frame(16, 16, 16);
        let grey = frame(16, 16, 126);
        let mut events = Vec::new();
        for i in 0..10u64 {
            let f = if (3..7).contains(&i) { &black } else { &grey };
            if let Some(e) = push(
                &mut d,
                &LumaPlane::gray8(f, 16, 16).unwrap(),
                i * F,
                (i + 1) * F,
            ) {
                events.push((i, e));
            }
        }
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, 4);
        assert_eq!(events[0].1 .0, Transition::Start { start: 3 * F });
        assert_eq!(events[0].1 .1.black_ratio, 1.0);
        assert_eq!(
            events[1].1 .0,
            Transition::End {
                start: 3 * F,
                end: 7 * F,
                reason: EndReason::Recovered
            }
        );
        assert!(events[1].1 .1.mean_luma.abs() < 1e-12);
    }

    #[test]
    fn simd_scan_equals_portable_scan() {
        // odd widths exercise the remainders; values cover the threshold edges
        let mut s1 = Vec::new();
        let mut s2 = Vec::new();
        for (w, h) in [(1, 1), (31, 3), (33, 7), (1921, 5), (8161, 2)] {
            let f: Vec<u8> = (0..w * h)
                .map(|i| ((i * 131 + i / 7) % 256) as u8)
                .collect();
            let p = LumaPlane::gray8(&f, w, h).unwrap();
            let rect = Region::default().to_rect(w, h);
            for t in [0, 36, 37, 38, 255] {
                for max_bright in [u64::MAX, 0, 40] {
                    let a = scan(&p, rect, t, max_bright, &mut s1);
                    let b = scan_generic(&p, rect, t, max_bright, &mut s2);
                    assert_eq!(a, b);
                    let expect = f.iter().filter(|&&v| u32::from(v) <= t).count() as u64;
                    if max_bright == u64::MAX {
                        assert_eq!(a.black, expect);
                        assert_eq!(a.sum, f.iter().map(|&v| u64::from(v)).sum::<u64>());
                    }
                }
            }
        }
    }

    #[test]
    fn early_exit_gives_the_same_decision() {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 0,
            ..BlackConfig::default()
        });
        // black except a bright last row: the scan must reach the last row
        let (w, h) = (50, 50);
        let mut f = frame(w, h, 16);
        for v in &mut f[w * (h - 1)..] {
            *v = 200;
        }
        // 50 of 2500 bright = exactly 98% black: black
        assert!(push(&mut d, &LumaPlane::gray8(&f, w, h).unwrap(), 0, F).is_some());
        f[0] = 200; // one more: not black
        assert!(push(&mut d, &LumaPlane::gray8(&f, w, h).unwrap(), F, 2 * F).is_some());
        assert!(!d.tracker.in_defect());
    }

    #[test]
    fn empty_and_tiny_pictures() {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 0,
            ..BlackConfig::default()
        });
        let empty = LumaPlane::gray8(&[], 0, 0).unwrap();
        assert_eq!(push(&mut d, &empty, 0, F), None);
        let one = [16u8];
        let e = push(&mut d, &LumaPlane::gray8(&one, 1, 1).unwrap(), F, 2 * F);
        assert_eq!(e.map(|e| e.0), Some(Transition::Start { start: F }));
    }

    #[test]
    fn wide_rows_do_not_overflow() {
        let w = 300_000;
        let f = frame(w, 1, 255);
        let mut s = Vec::new();
        let p = LumaPlane::gray8(&f, w, 1).unwrap();
        let sc = scan(&p, Region::default().to_rect(w, 1), 37, u64::MAX, &mut s);
        assert_eq!(
            (sc.black, sc.sum, sc.scanned),
            (0, 255 * w as u64, w as u64)
        );
    }

    #[test]
    fn luma_measurements_every_interval_with_exact_times() {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 2 * F,
            measurements: Some(3 * F),
            ..BlackConfig::default()
        });
        // frame i: code 16 + 10 i everywhere but one pixel at 16 + 10 i + 5
        // and one at 16 (so min 16, max 16 + 10 i + 5, mean just above 16 + 10 i)
        let mut out = Vec::new();
        let mut at = Vec::new();
        for i in 0..7u64 {
            let v = 16 + 10 * i as u8;
            let mut f = frame(10, 10, v);
            f[3] = v + 5;
            f[7] = 16;
            let n = out.len();
            d.push(
                &LumaPlane::gray8(&f, 10, 10).unwrap(),
                i * F,
                (i + 1) * F,
                &mut out,
            );
            at.extend(std::iter::repeat_n(i, out.len() - n));
        }
        let m: Vec<(u64, LumaMeasurement)> = at
            .iter()
            .zip(&out)
            .filter_map(|(&i, e)| match e {
                BlackEvent::Measurement(m) => Some((i, *m)),
                BlackEvent::Black { .. } => None,
            })
            .collect();
        // frames 0-2 end at 3F (measured as frame 2 ends), 3-5 at 6F; frame 6 pending
        assert_eq!(m.len(), 2, "{out:?}");
        assert_eq!((m[0].0, m[0].1.timestamp, m[0].1.frames), (2, 3 * F, 3));
        assert_eq!((m[1].0, m[1].1.timestamp, m[1].1.frames), (5, 6 * F, 3));
        let code = |c: f64| (c - 16.0) / 219.0;
        assert!((m[0].1.min - code(16.0)).abs() < 1e-12);
        assert!((m[0].1.max - code(41.0)).abs() < 1e-12);
        let mean = |v: f64| code((98.0 * v + v + 5.0 + 16.0) / 100.0);
        let expect = (mean(16.0) + mean(26.0) + mean(36.0)) / 3.0;
        assert!((m[0].1.mean - expect).abs() < 1e-12, "{}", m[0].1.mean);
        assert!((m[1].1.max - code(71.0)).abs() < 1e-12);
        // the black frames 0 and 1 (16 and 26 are under the 10% threshold
        // of 37) still make their event: measuring leaves decisions alone
        assert!(out.iter().any(|e| matches!(e, BlackEvent::Black { .. })));
        // a flush drops the partial interval: the next one starts afresh
        assert_eq!(d.close(EndReason::Flush), None);
        out.clear();
        let f = frame(10, 10, 235);
        d.push(
            &LumaPlane::gray8(&f, 10, 10).unwrap(),
            20 * F,
            21 * F,
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn one_measurement_per_frame_and_10_bit_extremes() {
        let mut d = BlackDetector::new(BlackConfig {
            measurements: Some(0),
            ..BlackConfig::default()
        });
        // 10-bit limited range: 64 is black, 940 white, 4 and 1019 beyond
        let px: Vec<u16> = [64u16, 940, 4, 1019, 502, 502].repeat(4);
        let bytes: Vec<u8> = px.iter().flat_map(|v| v.to_le_bytes()).collect();
        let plane = LumaPlane::new(
            &bytes,
            12,
            6,
            4,
            LumaLayout::U16 {
                offset: 0,
                step: 2,
                shift: 0,
            },
            LumaRange::new(10, false),
        )
        .unwrap();
        let mut out = Vec::new();
        d.push(&plane, 0, F, &mut out);
        d.push(&plane, F, 2 * F, &mut out);
        assert_eq!(out.len(), 2);
        let BlackEvent::Measurement(m) = out[1] else {
            panic!("{out:?}")
        };
        assert_eq!((m.timestamp, m.frames), (2 * F, 1));
        assert!((m.min - (4.0 - 64.0) / 876.0).abs() < 1e-12);
        assert!((m.max - (1019.0 - 64.0) / 876.0).abs() < 1e-12);
    }

    #[test]
    fn min_max_handles_remainders() {
        for n in [1usize, 31, 32, 33, 100] {
            let v: Vec<u8> = (0..n).map(|i| ((i * 37 + 11) % 251) as u8).collect();
            let expect = (*v.iter().min().unwrap(), *v.iter().max().unwrap());
            assert_eq!(min_max(&v), Some(expect));
        }
        assert_eq!(min_max::<u8>(&[]), None);
    }
}
