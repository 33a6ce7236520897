//! Black frame detection.
//!
//! A frame is black when at least `ratio` of the analysed pixels have luma at
//! or below `pixel_threshold` of the nominal luma range (so the absolute code
//! value follows the format: limited or full range, 8, 10 or 16 bit).

use super::event::{EndReason, EventTracker, Transition};
use super::frame::{LumaPlane, Rect, Region, Row};

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
}

impl Default for BlackConfig {
    fn default() -> Self {
        BlackConfig {
            pixel_threshold: 0.10,
            ratio: 0.98,
            min_duration: 2_000_000_000,
            region: Region::default(),
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

/// A start or end of a black stretch, with its measurements: for a start,
/// those of the first black frame; for an end, the means over the stretch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlackEvent {
    pub transition: Transition,
    pub stats: BlackStats,
}

/// Counts the pixels of `rect` at or below `threshold` and sums their luma.
/// Returns `(black pixels, luma sum, pixels)`.
pub fn measure(
    plane: &LumaPlane<'_>,
    rect: Rect,
    threshold: u32,
    scratch: &mut Vec<u16>,
) -> (u64, u64, u64) {
    let mut black = 0u64;
    let mut sum = 0u64;
    for y in rect.y0..rect.y1 {
        let (b, s) = match plane.row(y, rect.x0, rect.x1, scratch) {
            Row::U8(r) => count_row_u8(r, threshold.min(255) as u8),
            Row::U16(r) => count_row_u16(r, threshold.min(65535) as u16),
        };
        black += b;
        sum += s;
    }
    (black, sum, (rect.width() * rect.height()) as u64)
}

/// Black pixels and luma sum of one 8-bit row. Chunks keep the accumulators
/// in 32 bits so the loop vectorises.
#[inline]
fn count_row_u8(row: &[u8], t: u8) -> (u64, u64) {
    let mut black = 0u64;
    let mut sum = 0u64;
    for chunk in row.chunks(1 << 16) {
        let mut b = 0u32;
        let mut s = 0u32;
        for &v in chunk {
            b += u32::from(v <= t);
            s += u32::from(v);
        }
        black += u64::from(b);
        sum += u64::from(s);
    }
    (black, sum)
}

#[inline]
fn count_row_u16(row: &[u16], t: u16) -> (u64, u64) {
    let mut black = 0u64;
    let mut sum = 0u64;
    for chunk in row.chunks(1 << 15) {
        let mut b = 0u32;
        let mut s = 0u64;
        for &v in chunk {
            b += u32::from(v <= t);
            s += u64::from(v);
        }
        black += u64::from(b);
        sum += s;
    }
    (black, sum)
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
        }
    }

    pub fn config(&self) -> BlackConfig {
        self.config
    }

    /// Takes new settings; a black stretch in progress carries on under them.
    pub fn set_config(&mut self, config: BlackConfig) {
        self.config = config;
        self.tracker.set_min_duration(config.min_duration);
    }

    /// Measures one frame without touching the event state.
    pub fn measure(&mut self, plane: &LumaPlane<'_>) -> BlackStats {
        let rect = self.config.region.to_rect(plane.width(), plane.height());
        if rect.is_empty() {
            return BlackStats::default();
        }
        let threshold = plane.range().code_at(self.config.pixel_threshold);
        let (black, sum, n) = measure(plane, rect, threshold, &mut self.scratch);
        let n = n.max(1) as f64;
        BlackStats {
            black_ratio: black as f64 / n,
            mean_luma: plane.range().normalise(sum as f64 / n),
        }
    }

    /// Whether measured stats make a black frame under the current settings.
    pub fn is_black(&self, stats: &BlackStats) -> bool {
        stats.black_ratio >= self.config.ratio
    }

    /// One frame covering `pts..end` nanoseconds. An empty picture is never black.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Option<BlackEvent> {
        let empty = plane.width() == 0 || plane.height() == 0;
        let stats = self.measure(plane);
        self.push_stats(!empty && self.is_black(&stats), stats, pts, end)
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
        BlackEvent { transition, stats }
    }

    /// Ends a reported black stretch because the stream was interrupted.
    pub fn close(&mut self, reason: EndReason) -> Option<BlackEvent> {
        let t = self.tracker.close(reason)?;
        Some(self.event(t))
    }

    /// Forgets everything but the settings.
    pub fn reset(&mut self) {
        self.tracker.reset();
        self.frames = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::frame::{LumaLayout, LumaRange};

    const F: u64 = 40_000_000;

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

    #[test]
    fn ratio_decides() {
        let mut d = BlackDetector::new(BlackConfig::default());
        // 100 pixels, 2 white: 98% black is black, 3 white is not
        let mut f = frame(10, 10, 16);
        f[0] = 235;
        f[1] = 235;
        let s = d.measure(&LumaPlane::gray8(&f, 10, 10).unwrap());
        assert!((s.black_ratio - 0.98).abs() < 1e-12);
        assert!(d.is_black(&s));
        f[2] = 235;
        let s = d.measure(&LumaPlane::gray8(&f, 10, 10).unwrap());
        assert!(!d.is_black(&s));
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
        assert!(!d.is_black(&d.clone().measure(&LumaPlane::gray8(&f, 100, 100).unwrap())));
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
            if let Some(e) = d.push(&LumaPlane::gray8(f, 16, 16).unwrap(), i * F, (i + 1) * F) {
                events.push((i, e));
            }
        }
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, 4);
        assert_eq!(events[0].1.transition, Transition::Start { start: 3 * F });
        assert_eq!(events[0].1.stats.black_ratio, 1.0);
        assert_eq!(
            events[1].1.transition,
            Transition::End {
                start: 3 * F,
                end: 7 * F,
                reason: EndReason::Recovered
            }
        );
        assert!(events[1].1.stats.mean_luma.abs() < 1e-12);
    }

    #[test]
    fn empty_and_tiny_pictures() {
        let mut d = BlackDetector::new(BlackConfig {
            min_duration: 0,
            ..BlackConfig::default()
        });
        let empty = LumaPlane::gray8(&[], 0, 0).unwrap();
        assert_eq!(d.push(&empty, 0, F), None);
        let one = [16u8];
        let e = d.push(&LumaPlane::gray8(&one, 1, 1).unwrap(), F, 2 * F);
        assert_eq!(
            e.map(|e| e.transition),
            Some(Transition::Start { start: F })
        );
    }

    #[test]
    fn wide_rows_do_not_overflow() {
        let w = 300_000;
        let f = frame(w, 1, 255);
        let mut s = Vec::new();
        let p = LumaPlane::gray8(&f, w, 1).unwrap();
        let (b, sum, n) = measure(&p, Region::default().to_rect(w, 1), 37, &mut s);
        assert_eq!((b, sum, n), (0, 255 * w as u64, w as u64));
    }
}
