//! Frame cadence: repeated frames (a regular pattern, judder, from a bad
//! frame-rate conversion; irregular ones, stutter), frames dropped, and
//! timestamps that go wrong.
//!
//! **Repeats.** Each frame is compared with the one before it on freeze's
//! grid of 4x4-pixel means ([`CellGrid`]): the largest 16x16 tile
//! difference. A repeat is a frame at most `repeat_threshold` from the one
//! before it, in a run of at most [`MAX_RUN`] such frames with motion on
//! both sides ([`MOTION`] times the run's own largest difference, which is
//! the coding noise, and at least the threshold): a picture held
//! longer is a still picture (or a freeze, freezedetect's), and a scene
//! with no motion at all repeats nothing. A repeat whose run starts the same number of frames
//! (within one) after the previous run as that one did after the run before
//! is *judder*; three runs without such a pattern, each within twice `hold`
//! of the first, are *stutter*; either is back-dated to its first run. A
//! lone repeat or two is counted and raises nothing. Runs are judged when
//! they end, so repeats are reported up to [`MAX_RUN`] frames late.
//!
//! **Timestamps.** Each frame's PTS is compared with where the previous
//! frame ended: up to a second later by half a frame or more is frames
//! dropped (as many as fit); later still, a jump; earlier, or off by more
//! than [`JITTER`] of a frame either way, a fault, as are a repeated PTS and
//! one that goes backwards. A stream whose durations follow its variable
//! frame rate is never faulted.
//!
//! Each kind raises its own event: it starts once occurrences no further
//! apart than `hold` have spanned `min_duration`, back-dated to the first,
//! and ends once `hold` passes without one, at the frame after the last.

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::{LumaPlane, Rect};
use crate::analysis::video::freeze::CellGrid;

/// Longest run of repeated frames counted as repeats.
pub const MAX_RUN: usize = 4;
/// Motion around a run of repeats: this many times the run's own largest
/// difference.
pub const MOTION: f64 = 4.0;
/// Timestamp deviation, as a fraction of the frame duration, that is a fault.
pub const JITTER: f64 = 0.1;
/// Gaps longer than this are a jump in time rather than frames dropped.
pub const MAX_DROP: u64 = 1_000_000_000;
/// Judder: runs of repeats at most this many frames apart.
pub const MAX_PERIOD: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CadenceConfig {
    /// Largest tile difference from the previous frame, as a fraction of the
    /// nominal luma range, for a frame to be a repeat of it.
    pub repeat_threshold: f64,
    /// Nanoseconds occurrences of a kind must span to be reported.
    pub min_duration: u64,
    /// Nanoseconds without an occurrence that end a fault (and the most
    /// apart occurrences may be to make one).
    pub hold: u64,
    /// Nanoseconds between measurements; `None`: none.
    pub measurements: Option<u64>,
}

impl Default for CadenceConfig {
    fn default() -> Self {
        CadenceConfig {
            repeat_threshold: 0.015,
            min_duration: 2_000_000_000,
            hold: 1_500_000_000,
            measurements: Some(1_000_000_000),
        }
    }
}

/// What goes wrong with the cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadenceKind {
    /// Frames repeated in a regular pattern.
    Judder,
    /// Frames repeated irregularly.
    Stutter,
    /// Frames missing between timestamps.
    Dropped,
    /// Timestamps repeated, backwards, jumping or jittering.
    Timestamps,
}

pub const KINDS: [CadenceKind; 4] = [
    CadenceKind::Judder,
    CadenceKind::Stutter,
    CadenceKind::Dropped,
    CadenceKind::Timestamps,
];

impl CadenceKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            CadenceKind::Judder => "judder",
            CadenceKind::Stutter => "stutter",
            CadenceKind::Dropped => "dropped",
            CadenceKind::Timestamps => "timestamps",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        KINDS.into_iter().find(|k| k.as_str() == s)
    }
}

/// Counts over one measurement interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CadenceMeasurement {
    /// End of the interval's last frame, ns.
    pub timestamp: u64,
    pub frames: u64,
    /// Frames that repeated the one before (judder and stutter).
    pub repeated: u64,
    pub dropped: u64,
    pub timestamp_faults: u64,
}

/// What the detector reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CadenceEvent {
    /// A start or end of a cadence fault.
    Fault {
        transition: Transition,
        kind: CadenceKind,
        /// Occurrences (repeated or dropped frames, timestamp faults) so far
        /// for a start, over the fault for an end.
        count: u64,
        /// Judder: frames from one repeat to the next; 0 for other kinds.
        period: u64,
    },
    Measurement(CadenceMeasurement),
}

/// One frame waiting in a run of candidate repeats.
#[derive(Debug, Clone, Copy)]
struct Held {
    pts: u64,
    end: u64,
}

/// Finds repeats, drops and timestamp faults frame by frame.
#[derive(Debug, Clone)]
pub struct CadenceDetector {
    config: CadenceConfig,
    trackers: [EventTracker; 4],
    counts: [u64; 4],
    grids: [CellGrid; 2],
    /// Which of `grids` holds the previous frame, if any.
    previous: Option<usize>,
    /// The difference of the frame before the current run from its own
    /// predecessor.
    before: Option<f64>,
    /// The largest difference within the current run.
    run_max: f64,
    /// Frames of the current run of near-identical frames.
    run: Vec<Held>,
    /// A still picture: a run longer than MAX_RUN, until motion.
    still: bool,
    /// Frames received since the stream began (the run start index).
    index: u64,
    /// The last two runs of repeats: where they began (frame index, PTS)
    /// and their length.
    last_runs: [Option<(u64, u64, u64)>; 2],
    /// Runs of repeats not yet judder or stutter: their PTS and length.
    unassigned: Vec<(u64, u64)>,
    period: u64,
    /// The previous frame's PTS and end.
    last: Option<(u64, u64)>,
    /// Where the interval under way began, and its counts.
    measuring: Option<(u64, CadenceMeasurement)>,
}

impl CadenceDetector {
    pub fn new(config: CadenceConfig) -> Self {
        let tracker = EventTracker::with_hold(config.min_duration, config.hold);
        CadenceDetector {
            config,
            trackers: [tracker.clone(), tracker.clone(), tracker.clone(), tracker],
            counts: [0; 4],
            grids: [CellGrid::default(), CellGrid::default()],
            previous: None,
            before: None,
            run_max: 0.0,
            run: Vec::with_capacity(MAX_RUN + 1),
            still: false,
            index: 0,
            last_runs: [None; 2],
            unassigned: Vec::new(),
            period: 0,
            last: None,
            measuring: None,
        }
    }

    pub fn config(&self) -> CadenceConfig {
        self.config
    }

    pub fn set_config(&mut self, config: CadenceConfig) {
        for t in &mut self.trackers {
            t.set_min_duration(config.min_duration);
            t.set_hold(config.hold);
        }
        if config.measurements.is_none() {
            self.measuring = None;
        }
        self.config = config;
    }

    /// The difference of `plane` from the previous frame, as a fraction of
    /// the nominal range; `None` for the first frame.
    fn difference(&mut self, plane: &LumaPlane<'_>) -> Option<f64> {
        let range = plane.range();
        let rect = Rect {
            x0: 0,
            y0: 0,
            x1: plane.width(),
            y1: plane.height(),
        };
        let cur = self.previous.map_or(0, |p| 1 - p);
        self.grids[cur].compute(plane, rect, range.depth);
        let diff = self.previous.and_then(|p| {
            let span = f64::from(range.white.saturating_sub(range.black).max(1))
                / f64::from(1u32 << range.depth.saturating_sub(8));
            self.grids[cur]
                .max_tile_difference(&self.grids[p])
                .map(|d| d / span)
        });
        self.previous = Some(cur);
        diff
    }

    /// Pushes one occurrence (or a frame without one) of `kind`.
    fn note(
        &mut self,
        kind: CadenceKind,
        times: u64,
        pts: u64,
        end: u64,
        out: &mut Vec<CadenceEvent>,
    ) {
        let k = kind as usize;
        if !self.trackers[k].in_defect() && times == 0 {
            self.counts[k] = 0;
        }
        self.counts[k] += times;
        if let Some(t) = self.trackers[k].push(times > 0, pts, end) {
            self.emit(kind, t, out);
        }
    }

    fn emit(&self, kind: CadenceKind, transition: Transition, out: &mut Vec<CadenceEvent>) {
        out.push(CadenceEvent::Fault {
            transition,
            kind,
            count: self.counts[kind as usize],
            period: if kind == CadenceKind::Judder {
                self.period
            } else {
                0
            },
        });
    }

    /// The frames of the run just ended: repeats or not.
    fn flush_run(&mut self, repeats: bool, out: &mut Vec<CadenceEvent>) {
        let run = std::mem::take(&mut self.run);
        // which kind the run's repeats are, where the fault they make began
        // (the first unassigned run before them) and how many repeats that
        // is: the first two runs wait for a third to tell a pattern from
        // none
        let mut verdict: Option<(CadenceKind, u64, u64)> = None;
        if let (true, Some(h)) = (repeats, run.first()) {
            let first = self.index - run.len() as u64;
            let len = run.len() as u64;
            let regular = match self.last_runs {
                [Some((a, _, _)), Some((b, _, _))] => {
                    let (s1, s2) = (b - a, first - b);
                    s2 <= MAX_PERIOD && s1.abs_diff(s2) <= 1
                }
                _ => false,
            };
            if let Some((b, _, _)) = self.last_runs[1] {
                self.period = first - b;
            }
            self.last_runs = [self.last_runs[1], Some((first, h.pts, len))];
            // unassigned runs too old to belong with this one are isolated
            // repeats (counted, never an event)
            let window = 2 * self.config.hold;
            self.unassigned
                .retain(|&(pts, _)| h.pts.saturating_sub(pts) <= window);
            let from = self.unassigned.first().map_or(h.pts, |u| u.0);
            let earlier: u64 = self.unassigned.iter().map(|u| u.1).sum();
            if regular {
                verdict = Some((CadenceKind::Judder, from, earlier));
                self.unassigned.clear();
            } else if self.unassigned.len() >= 2
                || self.trackers[CadenceKind::Stutter as usize].in_defect()
            {
                // a third irregular run, or more of a stutter under way
                verdict = Some((CadenceKind::Stutter, from, earlier));
                self.unassigned.clear();
            } else {
                self.unassigned.push((h.pts, len));
            }
            if let Some(m) = self.sums(h.pts) {
                m.repeated += len;
            }
        }
        for h in &run {
            for kind in [CadenceKind::Judder, CadenceKind::Stutter] {
                let k = kind as usize;
                let (times, from) = match verdict {
                    Some((v, from, earlier)) if v == kind => {
                        if self.trackers[k].in_defect() {
                            (1, h.pts)
                        } else {
                            // a fault found now began with the first run
                            self.counts[k] = earlier;
                            (1, from)
                        }
                    }
                    _ => (0, h.pts),
                };
                self.note(kind, times, from, h.end, out);
            }
        }
        self.run = run;
        self.run.clear();
    }

    /// The timestamp faults and dropped frames of a frame at `pts..end`.
    fn timing(&mut self, pts: u64, end: u64) -> (u64, u64) {
        let Some((last_pts, last_end)) = self.last.replace((pts, end)) else {
            return (0, 0);
        };
        let dur = end
            .saturating_sub(pts)
            .max(last_end.saturating_sub(last_pts));
        if dur == 0 {
            return (0, u64::from(pts <= last_pts));
        }
        if pts <= last_pts {
            return (0, 1);
        }
        if pts >= last_end {
            let gap = pts - last_end;
            if gap > MAX_DROP {
                return (0, 1);
            }
            if 2 * gap >= dur {
                return (((gap as f64) / dur as f64).round().max(1.0) as u64, 0);
            }
        }
        let off = pts.abs_diff(last_end) as f64;
        (0, u64::from(off > JITTER * dur as f64))
    }

    /// One frame covering `pts..end`; events go to `out`.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<CadenceEvent>) {
        let (dropped, faults) = self.timing(pts, end);
        self.note(CadenceKind::Dropped, dropped, pts, end, out);
        self.note(CadenceKind::Timestamps, faults, pts, end, out);
        let diff = self.difference(plane);
        self.index += 1;
        let rep = self.config.repeat_threshold;
        let mut this_frame = true;
        match diff {
            Some(d) if d <= rep => {
                if self.still {
                    // part of a still picture: no repeat
                } else {
                    if self.run.is_empty() {
                        self.run_max = 0.0;
                    }
                    self.run_max = self.run_max.max(d);
                    self.run.push(Held { pts, end });
                    this_frame = false;
                    if self.run.len() > MAX_RUN {
                        self.still = true;
                        self.flush_run(false, out);
                    }
                }
            }
            _ => {
                // motion around a run: well above the run's own difference
                // (coding noise), and above the threshold
                let bar = (MOTION * self.run_max).max(rep);
                let moved = |d: Option<f64>| d.is_some_and(|d| d >= bar);
                if !self.run.is_empty() {
                    let repeats = moved(self.before) && moved(diff);
                    self.flush_run(repeats, out);
                }
                self.still = false;
                self.before = diff;
            }
        }
        if this_frame {
            self.note(CadenceKind::Judder, 0, pts, end, out);
            self.note(CadenceKind::Stutter, 0, pts, end, out);
        }
        self.measure(pts, end, dropped, faults, out);
    }

    /// The counts of the interval under way (begun at `pts` if none is),
    /// `None` when measurements are off.
    fn sums(&mut self, pts: u64) -> Option<&mut CadenceMeasurement> {
        self.config.measurements?;
        Some(
            &mut self
                .measuring
                .get_or_insert((pts, CadenceMeasurement::default()))
                .1,
        )
    }

    fn measure(
        &mut self,
        pts: u64,
        end: u64,
        dropped: u64,
        faults: u64,
        out: &mut Vec<CadenceEvent>,
    ) {
        let Some(interval) = self.config.measurements else {
            return;
        };
        let Some(m) = self.sums(pts) else { return };
        m.frames += 1;
        m.dropped += dropped;
        m.timestamp_faults += faults;
        let Some((start, m)) = self.measuring else {
            return;
        };
        if end.saturating_sub(start) >= interval {
            out.push(CadenceEvent::Measurement(CadenceMeasurement {
                timestamp: end,
                ..m
            }));
            self.measuring = None;
        }
    }

    /// The stream was interrupted: a run in progress is not judged, open
    /// faults end with `reason`. Times backwards (`discont`) are a fault of
    /// their own and keep the timing; anything else forgets it.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<CadenceEvent>) {
        self.run.clear();
        self.still = false;
        self.before = None;
        self.previous = None;
        self.last_runs = [None; 2];
        self.unassigned.clear();
        if reason != EndReason::Discont {
            self.last = None;
            self.measuring = None;
        }
        for kind in KINDS {
            if reason == EndReason::Discont && kind == CadenceKind::Timestamps {
                // time going back is this kind's own fault, not an end of it
                continue;
            }
            if let Some(t) = self.trackers[kind as usize].close(reason) {
                self.emit(kind, t, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u64 = 40_000_000;
    const W: usize = 128;
    const H: usize = 72;

    /// Picture `c` of moving content: a texture panned 3 pixels a picture.
    fn content(c: usize) -> Vec<u8> {
        let mut p = vec![0u8; W * H];
        for y in 0..H {
            for x in 0..W {
                let u = x + 3 * c;
                p[y * W + x] = (60 + (u * 7 + y * 13) % 150 + (u / 9 % 3) * 10) as u8;
            }
        }
        p
    }

    fn config() -> CadenceConfig {
        CadenceConfig {
            min_duration: 10 * F,
            hold: 8 * F,
            measurements: None,
            ..CadenceConfig::default()
        }
    }

    /// Plays pictures `pictures[i]` at `times[i]` (pts, end); returns the
    /// faults as (frame index, kind, start or end, timestamp, count, period).
    fn play(
        d: &mut CadenceDetector,
        pictures: &[usize],
        times: &[(u64, u64)],
    ) -> Vec<(usize, &'static str, &'static str, u64, u64, u64)> {
        let mut out = Vec::new();
        for (i, (&c, &(pts, end))) in pictures.iter().zip(times).enumerate() {
            let data = content(c);
            let plane = LumaPlane::gray8(&data, W, H).unwrap();
            let mut evs = Vec::new();
            d.push(&plane, pts, end, &mut evs);
            for e in evs {
                if let CadenceEvent::Fault {
                    transition,
                    kind,
                    count,
                    period,
                } = e
                {
                    let se = match transition {
                        Transition::Start { .. } => "start",
                        Transition::End { .. } => "end",
                    };
                    out.push((i, kind.as_str(), se, transition.timestamp(), count, period));
                }
            }
        }
        out
    }

    fn regular(n: usize) -> Vec<(u64, u64)> {
        (0..n as u64).map(|i| (i * F, (i + 1) * F)).collect()
    }

    #[test]
    fn one_repeat_in_five_is_judder() {
        let mut d = CadenceDetector::new(config());
        // frames 4, 9, 14, ... 49 repeat the one before; then moving content
        let mut pictures: Vec<usize> = (0..50).map(|i| i - (i + 1) / 5).collect();
        pictures.extend(50..80);
        let got = play(&mut d, &pictures, &regular(80));
        // the third repeat (14, judged when frame 15 arrives) makes the
        // pattern, which began with the first (4): it has spanned 10 frames
        // already; 8 frames after the last repeat (49) the judder ends, at
        // frame 50
        assert_eq!(
            got,
            vec![
                (15, "judder", "start", 4 * F, 3, 5),
                (57, "judder", "end", 50 * F, 10, 5),
            ]
        );
    }

    #[test]
    fn irregular_repeats_are_stutter() {
        let mut d = CadenceDetector::new(config());
        let repeats = [3usize, 7, 13, 16, 24, 27, 35];
        let mut c = 0;
        let pictures: Vec<usize> = (0..50)
            .map(|i| {
                if !repeats.contains(&i) {
                    c += 1;
                }
                c
            })
            .collect();
        let got = play(&mut d, &pictures, &regular(50));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].1, got[0].2, got[0].3), ("stutter", "start", 3 * F));
        assert_eq!((got[1].1, got[1].2, got[1].3), ("stutter", "end", 36 * F));
    }

    #[test]
    fn a_lone_repeat_or_two_raises_nothing() {
        let mut d = CadenceDetector::new(config());
        let mut c = 0;
        let pictures: Vec<usize> = (0..80)
            .map(|i| {
                if i != 10 && i != 14 && i != 60 {
                    c += 1;
                }
                c
            })
            .collect();
        assert!(play(&mut d, &pictures, &regular(80)).is_empty());
    }

    #[test]
    fn a_still_picture_or_a_freeze_is_no_repeat() {
        let mut d = CadenceDetector::new(config());
        // moving, 20 frames of one picture, moving, a still from the start
        let mut pictures: Vec<usize> = (0..10).collect();
        pictures.extend([10; 20]);
        pictures.extend(11..30);
        let got = play(&mut d, &pictures, &regular(pictures.len()));
        assert!(got.is_empty(), "{got:?}");
        let mut d = CadenceDetector::new(config());
        let got = play(&mut d, &[7; 60], &regular(60));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn frames_missing_between_timestamps_are_dropped() {
        let mut d = CadenceDetector::new(config());
        // every third frame missing from frame 10 to 40
        let times: Vec<(u64, u64)> = (0..60u64)
            .filter(|i| !(10..40).contains(i) || i % 3 != 0)
            .map(|i| (i * F, (i + 1) * F))
            .collect();
        let pictures: Vec<usize> = (0..times.len()).collect();
        let got = play(&mut d, &pictures, &times);
        assert_eq!(got.len(), 2, "{got:?}");
        // the first gap is seen at frame 13 (after 11): the start is back-dated there
        assert_eq!((got[0].1, got[0].2, got[0].3), ("dropped", "start", 13 * F));
        assert_eq!(
            (got[1].1, got[1].2, got[1].3, got[1].4),
            ("dropped", "end", 41 * F, 10)
        );
    }

    #[test]
    fn timestamps_that_jitter_or_go_back_are_faults() {
        let mut d = CadenceDetector::new(config());
        // from frame 10 to 30, every other frame 8 ms late
        let times: Vec<(u64, u64)> = (0..50u64)
            .map(|i| {
                let late = if (10..30).contains(&i) && i % 2 == 1 {
                    8_000_000
                } else {
                    0
                };
                (i * F + late, (i + 1) * F)
            })
            .collect();
        let pictures: Vec<usize> = (0..50).collect();
        let got = play(&mut d, &pictures, &times);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            (got[0].1, got[0].2, got[0].3),
            ("timestamps", "start", 11 * F + 8_000_000)
        );
        // a repeated PTS and one going back are faults too
        let mut d = CadenceDetector::new(config());
        let (a, b) = (d.timing(0, F), d.timing(0, F));
        assert_eq!((a, b), ((0, 0), (0, 1)));
        assert_eq!(d.timing(F / 2, F), (0, 1));
    }

    #[test]
    fn honest_variable_frame_rates_and_film_speed_up_are_quiet() {
        // durations that vary, each frame starting where the last ended
        let mut d = CadenceDetector::new(config());
        let mut t = 0;
        let times: Vec<(u64, u64)> = (0..80u64)
            .map(|i| {
                let dur = [30, 50, 40, 45][i as usize % 4] * 1_000_000;
                let r = (t, t + dur);
                t += dur;
                r
            })
            .collect();
        let pictures: Vec<usize> = (0..80).collect();
        assert!(play(&mut d, &pictures, &times).is_empty());
        // 24 fps pictures played at 25: every picture once, no repeat
        let mut d = CadenceDetector::new(config());
        assert!(play(&mut d, &pictures, &regular(80)).is_empty());
    }

    #[test]
    fn measurements_count_per_interval() {
        let mut d = CadenceDetector::new(CadenceConfig {
            measurements: Some(25 * F),
            ..config()
        });
        let pictures: Vec<usize> = (0..50).map(|i| i - (i + 1) / 5).collect();
        let mut out = Vec::new();
        for (i, &c) in pictures.iter().enumerate() {
            let data = content(c);
            let plane = LumaPlane::gray8(&data, W, H).unwrap();
            d.push(&plane, i as u64 * F, (i as u64 + 1) * F, &mut out);
        }
        let m: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                CadenceEvent::Measurement(m) => Some(*m),
                _ => None,
            })
            .collect();
        assert_eq!(m.len(), 2, "{m:?}");
        // repeats at 4, 9, ... 24: the one at 24 is judged when frame 25
        // comes, and counts in the next interval, which begins with it
        assert_eq!(
            (m[0].timestamp, m[0].frames, m[0].repeated),
            (25 * F, 25, 4)
        );
        assert_eq!(
            (m[1].timestamp, m[1].frames, m[1].repeated, m[1].dropped),
            (49 * F, 24, 5, 0)
        );
    }
}
