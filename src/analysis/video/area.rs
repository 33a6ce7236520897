//! The active picture area: the rectangle inside black borders (letterbox,
//! pillarbox, windowbox), and changes of it.
//!
//! Each side's border is measured on a sparse sample: [`LINES`] lines across
//! the side (columns for the top and bottom, rows for the left and right),
//! each followed from the picture's edge inwards to its first pixel brighter
//! than `pixel_threshold`. The border is the median of those depths, and it
//! counts only when at least half of the lines end within a tolerance of it:
//! a real border has a straight edge, while the dark edges of a night scene
//! or a fade end raggedly, and a subtitle or logo in a bar covers too few
//! lines to move the median. A side that does not count keeps its last
//! value (none until it is first measured), so a dark scene or a black
//! frame changes nothing.
//!
//! Each side's reference is no border, confirmed by the first frame that
//! measures it so; a side whose border the stream has held from its first
//! measured frame for `min_duration` takes that border as its reference
//! instead (a letterboxed film). A defect is an area with a side away from
//! its confirmed reference: it starts once the same area (within the
//! tolerance) has lasted `min_duration`, each side away measured in at
//! least half of its frames (a border measured once in a dark scene and
//! held since is no evidence), back-dated to the area's first frame; it
//! ends at the first frame back at the reference. Each area the stream
//! holds for `min_duration` is also reported as a measurement, once.

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::LumaPlane;

/// Lines sampled across each side.
pub const LINES: usize = 64;

/// Rows read first when following columns down from the top or up from the
/// bottom: one in this many.
const STEP: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaConfig {
    /// Fraction of the nominal luma range at or below which a pixel belongs
    /// to a border.
    pub pixel_threshold: f64,
    /// Borders narrower than this fraction of the picture's width (left and
    /// right) or height (top and bottom) count as none: the few black lines
    /// and columns at the edges of many sources are not a letterbox.
    pub min_border: f64,
    /// Nanoseconds a changed area must last to be reported (and an area to
    /// be held before it is measured).
    pub min_duration: u64,
}

impl Default for AreaConfig {
    fn default() -> Self {
        AreaConfig {
            pixel_threshold: 0.05,
            min_border: 0.02,
            min_duration: 2_000_000_000,
        }
    }
}

/// A rectangle of the picture, in pixels: the active area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// How an area differs from the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaChange {
    /// The reference filled the picture; the area has borders.
    Appeared,
    /// The reference had borders; the area fills the picture.
    Disappeared,
    /// Both have borders, of other sizes or on other sides.
    Changed,
}

impl AreaChange {
    pub fn as_str(&self) -> &'static str {
        match self {
            AreaChange::Appeared => "borders-appeared",
            AreaChange::Disappeared => "borders-disappeared",
            AreaChange::Changed => "borders-changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "borders-appeared" => AreaChange::Appeared,
            "borders-disappeared" => AreaChange::Disappeared,
            "borders-changed" => AreaChange::Changed,
            _ => return None,
        })
    }
}

/// What the detector reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AreaEvent {
    /// The start or end of an area away from the reference: `area` is the
    /// first frame's for a start, the last frame's away from the reference
    /// for an end.
    Change {
        transition: Transition,
        change: AreaChange,
        area: Area,
        reference: Area,
    },
    /// An area the stream has held for `min_duration`, from `timestamp` (ns,
    /// its first frame) on.
    Measurement { timestamp: u64, area: Area },
}

const TOP: usize = 0;
const BOTTOM: usize = 1;
const LEFT: usize = 2;
const RIGHT: usize = 3;

/// Border sizes in pixels: top, bottom, left, right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Borders([u32; 4]);

impl Borders {
    fn area(&self, width: usize, height: usize) -> Area {
        let [t, b, l, r] = self.0;
        Area {
            x: l,
            y: t,
            width: (width as u32).saturating_sub(l + r),
            height: (height as u32).saturating_sub(t + b),
        }
    }

    fn near(&self, other: &Borders, tol: &[u32; 4]) -> bool {
        (0..4).all(|i| self.0[i].abs_diff(other.0[i]) <= tol[i])
    }

    fn any(&self) -> bool {
        self.0.iter().any(|&b| b > 0)
    }
}

/// The sampled positions across a side of `len` pixels.
fn positions(len: usize) -> impl Iterator<Item = usize> {
    let n = LINES.min(len);
    (0..n).map(move |i| (2 * i + 1) * len / (2 * n))
}

/// One side's border, or `None` when the lines do not agree on one.
/// `depths` is scratch.
fn side(
    plane: &LumaPlane<'_>,
    which: usize,
    threshold: u32,
    tol: u32,
    depths: &mut Vec<u32>,
) -> Option<u32> {
    let (w, h) = (plane.width(), plane.height());
    let (across, deep) = if which < LEFT { (w, h) } else { (h, w) };
    // deeper than 40% on one side would leave less than a fifth of the picture
    let limit = deep * 2 / 5;
    // on the stack: this runs four times a frame
    let mut at = [0usize; LINES];
    let n = LINES.min(across);
    for (slot, p) in at.iter_mut().zip(positions(across)) {
        *slot = p;
    }
    let lines = &at[..n];
    if n == 0 || limit == 0 {
        return None;
    }
    let half = n.div_ceil(2);
    depths.clear();
    if which < LEFT {
        // row by row from the edge, so memory is read in order, every
        // STEP-th row first and the rows skipped only where a line turned
        // bright (a dark border costs a quarter of the reads)
        depths.resize(n, u32::MAX);
        let row_at = |d: usize| if which == TOP { d } else { h - 1 - d };
        let bright = |x: usize, y: usize, row: Option<&[u8]>| {
            row.map_or_else(|| plane.at(x, y), |r| u32::from(r[x])) > threshold
        };
        let mut found = 0;
        let mut stop = limit;
        let mut d = 0;
        while d < stop {
            let y = row_at(d);
            let row = plane.row_u8(y, 0, w);
            for (i, &x) in lines.iter().enumerate() {
                if depths[i] != u32::MAX || !bright(x, y, row) {
                    continue;
                }
                // the first bright row of this line since the last one read
                let first = (d.saturating_sub(STEP - 1)..d)
                    .find(|&e| {
                        let y = row_at(e);
                        bright(x, y, plane.row_u8(y, 0, w))
                    })
                    .unwrap_or(d);
                depths[i] = first as u32;
                found += 1;
                if found == half {
                    // the median is about here: nothing deeper than it and
                    // the tolerance counts
                    stop = stop.min(d + tol as usize + 1);
                }
            }
            if found == n {
                break;
            }
            d += STEP;
        }
        depths.retain(|&d| d != u32::MAX);
    } else {
        for &y in lines {
            let found = match plane.row_u8(y, 0, w) {
                Some(row) if which == LEFT => {
                    row[..limit].iter().position(|&v| u32::from(v) > threshold)
                }
                Some(row) => row[w - limit..]
                    .iter()
                    .rev()
                    .position(|&v| u32::from(v) > threshold),
                None => (0..limit).find(|&d| {
                    let x = if which == LEFT { d } else { w - 1 - d };
                    plane.at(x, y) > threshold
                }),
            };
            if let Some(d) = found {
                depths.push(d as u32);
            }
        }
    }
    if depths.len() < half {
        return None;
    }
    depths.sort_unstable();
    let median = depths[half - 1];
    let agree = depths
        .iter()
        .filter(|&&d| d.abs_diff(median) <= tol)
        .count();
    (agree >= half).then_some(median)
}

/// The area of the latest frames (each side measured or held), where it
/// began, and how often each side was measured at it.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    borders: Borders,
    since: u64,
    frames: u32,
    /// Frames in which each side was measured (not held) at its value.
    seen: [u32; 4],
}

impl Candidate {
    /// Whether side `s` was measured in at least half of the frames: a
    /// border measured once in a dark scene and held since is no evidence
    /// of a change.
    fn evident(&self, s: usize) -> bool {
        2 * self.seen[s] >= self.frames
    }
}

/// Finds the active area of each frame and reports when it leaves the
/// reference.
#[derive(Debug, Clone)]
pub struct AreaDetector {
    config: AreaConfig,
    tracker: EventTracker,
    size: (usize, usize),
    /// Each side's last measured border.
    held: [Option<u32>; 4],
    /// Which sides this frame measured.
    measured: [bool; 4],
    reference: Borders,
    /// Which sides of the reference a frame has shown (or the stream held
    /// for `min_duration` before any frame showed the whole picture's).
    confirmed: [bool; 4],
    candidate: Option<Candidate>,
    /// The first frame with a side measured.
    first: Option<u64>,
    /// The last area posted as a measurement.
    posted: Option<Borders>,
    /// The first and the latest frame's area of the defect.
    first_away: Borders,
    last_away: Borders,
    /// Whether the defect under way has been reported (its start posted).
    reported: bool,
    depths: Vec<u32>,
}

impl AreaDetector {
    pub fn new(config: AreaConfig) -> Self {
        AreaDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            size: (0, 0),
            held: [None; 4],
            measured: [false; 4],
            reference: Borders::default(),
            confirmed: [false; 4],
            candidate: None,
            first: None,
            posted: None,
            first_away: Borders::default(),
            last_away: Borders::default(),
            reported: false,
            depths: Vec::with_capacity(LINES),
        }
    }

    pub fn config(&self) -> AreaConfig {
        self.config
    }

    pub fn set_config(&mut self, config: AreaConfig) {
        self.tracker.set_min_duration(config.min_duration);
        self.config = config;
    }

    /// The tolerance of each side: a 64th of the picture, at least 2 pixels.
    fn tolerance(&self) -> [u32; 4] {
        let (w, h) = (self.size.0 as u32, self.size.1 as u32);
        let (v, hz) = ((h / 64).max(2), (w / 64).max(2));
        [v, v, hz, hz]
    }

    /// The borders of one frame, each side measured or held (a side never
    /// measured has none: a dark film's edges may never show); `None` until
    /// a side has been measured.
    fn borders(&mut self, plane: &LumaPlane<'_>) -> Option<Borders> {
        let threshold = plane.range().code_at(self.config.pixel_threshold);
        let tol = self.tolerance();
        let (w, h) = self.size;
        let min = [h, h, w, w].map(|d| (self.config.min_border * d as f64).ceil() as u32);
        let mut b = [0u32; 4];
        for s in [TOP, BOTTOM, LEFT, RIGHT] {
            let d = side(plane, s, threshold, tol[s], &mut self.depths);
            self.measured[s] = d.is_some();
            if let Some(d) = d {
                self.held[s] = Some(if d < min[s] { 0 } else { d });
            }
            b[s] = self.held[s].unwrap_or(0);
        }
        self.held.iter().any(Option::is_some).then_some(Borders(b))
    }

    /// One frame covering `pts..end`; events go to `out`.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<AreaEvent>) {
        let size = (plane.width(), plane.height());
        if size != self.size {
            // the glue starts a new detector on a caps change; this is a guard
            *self = AreaDetector::new(self.config);
            self.size = size;
        }
        let Some(b) = self.borders(plane) else {
            let t = self.tracker.push(false, pts, end);
            self.emit(t, out);
            return;
        };
        let tol = self.tolerance();
        self.first.get_or_insert(pts);
        let c = match self.candidate {
            Some(c) if c.borders.near(&b, &tol) => c,
            _ => {
                if self.tracker.in_defect() && !self.reported {
                    // an area that keeps moving is no change of area (a
                    // dark scene's edges): the pending one is dropped, and
                    // the new area must last min-duration itself
                    self.tracker.close(EndReason::Recovered);
                }
                Candidate {
                    borders: b,
                    since: pts,
                    frames: 0,
                    seen: [0; 4],
                }
            }
        };
        let mut c = Candidate {
            frames: c.frames + 1,
            ..c
        };
        for s in 0..4 {
            c.seen[s] += u32::from(self.measured[s]);
        }
        self.candidate = Some(c);
        let held = end.saturating_sub(c.since) >= self.config.min_duration;
        if held {
            // a new area, each side that moved measured in most frames
            let moved = |s: usize| {
                self.posted
                    .is_none_or(|p| c.borders.0[s].abs_diff(p.0[s]) > tol[s])
            };
            let new = (0..4).any(moved);
            if new && (0..4).all(|s| !moved(s) || c.evident(s)) {
                self.posted = Some(b);
                out.push(AreaEvent::Measurement {
                    timestamp: c.since,
                    area: b.area(size.0, size.1),
                });
            }
        }
        let mut away = false;
        for (s, tol) in tol.into_iter().enumerate() {
            let at_reference = b.0[s].abs_diff(self.reference.0[s]) <= tol;
            if self.measured[s] && at_reference {
                self.confirmed[s] = true;
            } else if !self.confirmed[s] && held && c.evident(s) && Some(c.since) == self.first {
                // the stream has held this side's border from its first
                // measured frame, before any frame showed it at the edge:
                // that is the reference (a letterboxed film). A side never
                // confirmed either way (too dark to measure when the stream
                // began) is not judged: it may be bars that were always
                // there
                self.reference.0[s] = b.0[s];
                self.confirmed[s] = true;
            } else if self.confirmed[s] && !at_reference && c.evident(s) {
                // a border measured once in a dark scene and held since is
                // no evidence of a change
                away = true;
            }
        }
        if !away {
            let t = self.tracker.push(false, pts, end);
            self.emit(t, out);
            return;
        }
        self.last_away = b;
        // a defect begins where its area did, even if the evidence for it
        // took some frames to come
        let from = if self.tracker.in_defect() {
            pts
        } else {
            self.first_away = c.borders;
            c.since
        };
        let t = self.tracker.push(true, from, end);
        self.emit(t, out);
    }

    fn emit(&mut self, t: Option<Transition>, out: &mut Vec<AreaEvent>) {
        let Some(transition) = t else { return };
        self.reported = matches!(transition, Transition::Start { .. });
        let b = match transition {
            Transition::Start { .. } => self.first_away,
            Transition::End { .. } => self.last_away,
        };
        let change = match (self.reference.any(), b.any()) {
            (false, true) => AreaChange::Appeared,
            (true, false) => AreaChange::Disappeared,
            _ => AreaChange::Changed,
        };
        let (w, h) = self.size;
        out.push(AreaEvent::Change {
            transition,
            change,
            area: b.area(w, h),
            reference: self.reference.area(w, h),
        });
    }

    /// The stream was interrupted: an area away from the reference ends with
    /// `reason`; the reference is kept.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<AreaEvent>) {
        self.candidate = None;
        let t = self.tracker.close(reason);
        self.emit(t, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u64 = 40_000_000;
    const W: usize = 192;
    const H: usize = 108;

    /// A frame of textured content inside borders `[top, bottom, left,
    /// right]`, limited-range 8-bit; `seed` varies the texture.
    fn picture(b: [usize; 4], seed: usize) -> Vec<u8> {
        let mut p = vec![16u8; W * H];
        for y in b[0]..H - b[1] {
            for x in b[2]..W - b[3] {
                p[y * W + x] = 60 + ((x * 7 + y * 13 + seed * 5) % 150) as u8;
            }
        }
        p
    }

    fn run(d: &mut AreaDetector, frames: &[Vec<u8>], first: usize) -> Vec<(usize, AreaEvent)> {
        let mut out = Vec::new();
        for (k, f) in frames.iter().enumerate() {
            let i = first + k;
            let plane = LumaPlane::gray8(f, W, H).unwrap();
            let mut evs = Vec::new();
            d.push(&plane, i as u64 * F, (i as u64 + 1) * F, &mut evs);
            out.extend(evs.into_iter().map(|e| (i, e)));
        }
        out
    }

    fn config() -> AreaConfig {
        AreaConfig {
            min_duration: 10 * F,
            ..AreaConfig::default()
        }
    }

    fn changes(evs: &[(usize, AreaEvent)]) -> Vec<(usize, AreaEvent)> {
        evs.iter()
            .filter(|(_, e)| matches!(e, AreaEvent::Change { .. }))
            .copied()
            .collect()
    }

    #[test]
    fn measures_each_side() {
        let mut d = AreaDetector::new(config());
        d.size = (W, H);
        let f = picture([14, 10, 24, 30], 0);
        let plane = LumaPlane::gray8(&f, W, H).unwrap();
        assert_eq!(d.borders(&plane), Some(Borders([14, 10, 24, 30])));
        // a border under 2% of the picture is none
        let f = picture([2, 0, 3, 0], 0);
        let plane = LumaPlane::gray8(&f, W, H).unwrap();
        assert_eq!(d.borders(&plane), Some(Borders([0, 0, 0, 0])));
    }

    #[test]
    fn letterbox_appears_and_goes() {
        let mut d = AreaDetector::new(config());
        let full: Vec<_> = (0..5).map(|i| picture([0; 4], i)).collect();
        let boxed: Vec<_> = (5..25).map(|i| picture([14, 14, 0, 0], i)).collect();
        let back: Vec<_> = (25..30).map(|i| picture([0; 4], i)).collect();
        let mut evs = run(&mut d, &full, 0);
        evs.extend(run(&mut d, &boxed, 5));
        evs.extend(run(&mut d, &back, 25));
        let c = changes(&evs);
        assert_eq!(c.len(), 2, "{c:?}");
        let boxed_area = Area {
            x: 0,
            y: 14,
            width: W as u32,
            height: (H - 28) as u32,
        };
        let whole = Area {
            x: 0,
            y: 0,
            width: W as u32,
            height: H as u32,
        };
        assert_eq!(
            c[0],
            (
                14,
                AreaEvent::Change {
                    transition: Transition::Start { start: 5 * F },
                    change: AreaChange::Appeared,
                    area: boxed_area,
                    reference: whole,
                }
            )
        );
        assert_eq!(
            c[1],
            (
                25,
                AreaEvent::Change {
                    transition: Transition::End {
                        start: 5 * F,
                        end: 25 * F,
                        reason: EndReason::Recovered
                    },
                    change: AreaChange::Appeared,
                    area: boxed_area,
                    reference: whole,
                }
            )
        );
        // the letterbox held 20 frames: measured once, from its first frame
        let m: Vec<_> = evs
            .iter()
            .filter_map(|(i, e)| match e {
                AreaEvent::Measurement { timestamp, area } => Some((*i, *timestamp, *area)),
                _ => None,
            })
            .collect();
        assert_eq!(m, vec![(14, 5 * F, boxed_area)]);
    }

    #[test]
    fn bars_from_the_start_are_the_reference() {
        let mut d = AreaDetector::new(config());
        let frames: Vec<_> = (0..60).map(|i| picture([0, 0, 24, 24], i)).collect();
        let evs = run(&mut d, &frames, 0);
        assert!(changes(&evs).is_empty(), "{evs:?}");
        // then the pillarbox goes: reported as disappeared
        let full: Vec<_> = (60..80).map(|i| picture([0; 4], i)).collect();
        let c = changes(&run(&mut d, &full, 60));
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(matches!(
            c[0],
            (
                69,
                AreaEvent::Change {
                    transition: Transition::Start { start },
                    change: AreaChange::Disappeared,
                    ..
                }
            ) if start == 60 * F
        ));
    }

    #[test]
    fn dark_and_black_frames_hold_the_area() {
        let mut d = AreaDetector::new(config());
        let mut frames: Vec<_> = (0..5).map(|i| picture([0; 4], i)).collect();
        // 30 frames of black: no side can be measured
        frames.extend((0..30).map(|_| vec![16u8; W * H]));
        // 30 frames of a dark scene: bright only in a ragged blob in the middle
        frames.extend((0..30).map(|i| {
            let mut p = vec![20u8; W * H];
            for y in 20 + i % 7..H - 30 + i % 5 {
                let x0 = 30 + (y * 7 + i) % 40;
                for x in x0..W - 40 + (y % 9) {
                    p[y * W + x] = 50;
                }
            }
            p
        }));
        // a fade: the same texture dimming to black
        frames.extend((0..25).map(|k| {
            picture([0; 4], k)
                .into_iter()
                .map(|v| 16 + ((v - 16) as usize * (25 - k) / 25) as u8)
                .collect()
        }));
        let evs = run(&mut d, &frames, 0);
        assert!(changes(&evs).is_empty(), "{evs:?}");
    }

    #[test]
    fn a_border_seen_once_is_no_change() {
        let mut d = AreaDetector::new(config());
        let mut frames: Vec<_> = (0..5).map(|i| picture([0; 4], i)).collect();
        // one frame shows a pillarbox, then the sides go too dark to measure
        // (a ragged dark margin) for 40 frames
        frames.push(picture([0, 0, 30, 30], 5));
        frames.extend((6..46).map(|i| {
            let mut p = picture([0; 4], i);
            for y in 0..H {
                let m = 20 + (y * 7) % 25;
                p[y * W..y * W + m].fill(20);
                p[(y + 1) * W - m..(y + 1) * W].fill(20);
            }
            p
        }));
        let evs = run(&mut d, &frames, 0);
        assert!(changes(&evs).is_empty(), "{evs:?}");
    }

    #[test]
    fn subtitle_in_the_bar_changes_nothing() {
        let mut d = AreaDetector::new(config());
        let frames: Vec<_> = (0..60)
            .map(|i| {
                let mut p = picture([14, 14, 0, 0], i);
                if i >= 20 {
                    // a line of white text in the bottom bar, a third of the width
                    for y in H - 10..H - 4 {
                        for x in 64..128 {
                            p[y * W + x] = if x % 3 == 0 { 235 } else { 16 };
                        }
                    }
                }
                p
            })
            .collect();
        assert!(changes(&run(&mut d, &frames, 0)).is_empty());
    }

    #[test]
    fn interrupted_change_ends_with_the_reason() {
        let mut d = AreaDetector::new(config());
        let mut frames: Vec<_> = (0..2).map(|i| picture([0; 4], i)).collect();
        frames.extend((2..14).map(|i| picture([0, 0, 30, 30], i)));
        let c = changes(&run(&mut d, &frames, 0));
        assert_eq!(c.len(), 1);
        let mut out = Vec::new();
        d.close(EndReason::Eos, &mut out);
        assert!(matches!(
            out[..],
            [AreaEvent::Change {
                transition: Transition::End {
                    start,
                    end,
                    reason: EndReason::Eos
                },
                ..
            }] if start == 2 * F && end == 14 * F
        ));
    }

    #[test]
    fn tiny_pictures_change_nothing() {
        for (w, h) in [(1, 1), (2, 2), (3, 5)] {
            let mut d = AreaDetector::new(config());
            let f = vec![200u8; w * h];
            let plane = LumaPlane::gray8(&f, w, h).unwrap();
            let mut out = Vec::new();
            for i in 0..30 {
                d.push(&plane, i * F, (i + 1) * F, &mut out);
            }
            assert!(
                !out.iter().any(|e| matches!(e, AreaEvent::Change { .. })),
                "{w}x{h}: {out:?}"
            );
        }
    }
}
