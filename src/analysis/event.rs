//! The defect-event logic every event detector shares.
//!
//! A detector decides, frame by frame (or buffer by buffer), whether the media
//! is defective. [`EventTracker`] turns those decisions into events:
//! - a defect becomes an event once it has lasted `min_duration`; the start is
//!   back-dated to the first defective frame;
//! - it ends at the first good frame (reason [`EndReason::Recovered`]) or when
//!   the stream is interrupted ([`EventTracker::close`]: EOS, flush, caps
//!   change, discontinuity), where it ends at the end of the last defective frame.
//!
//! Times are plain nanoseconds.

/// Why a defect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The media is good again.
    Recovered,
    /// End of stream while the defect lasted.
    Eos,
    /// A flushing seek while the defect lasted.
    Flush,
    /// The format changed while the defect lasted.
    CapsChange,
    /// Timestamps jumped backwards, or a buffer was flagged discontinuous.
    Discont,
}

impl EndReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::Recovered => "recovered",
            EndReason::Eos => "eos",
            EndReason::Flush => "flush",
            EndReason::CapsChange => "caps-change",
            EndReason::Discont => "discont",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "recovered" => EndReason::Recovered,
            "eos" => EndReason::Eos,
            "flush" => EndReason::Flush,
            "caps-change" => EndReason::CapsChange,
            "discont" => EndReason::Discont,
            _ => return None,
        })
    }
}

/// What a push or close produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The defect has lasted `min_duration`; it began at `start`.
    Start { start: u64 },
    /// The defect that began at `start` ended at `end`.
    End {
        start: u64,
        end: u64,
        reason: EndReason,
    },
}

impl Transition {
    /// The instant the transition describes: where the defect began or ended.
    pub fn timestamp(&self) -> u64 {
        match *self {
            Transition::Start { start } => start,
            Transition::End { end, .. } => end,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// Defective since `start`, not yet reported; last defective frame ended at `last_end`.
    Pending {
        start: u64,
        last_end: u64,
    },
    /// Reported.
    Active {
        start: u64,
        last_end: u64,
    },
}

/// Turns per-frame defect decisions into start/end events.
#[derive(Debug, Clone)]
pub struct EventTracker {
    min_duration: u64,
    /// How long the media must be good before a defect ends (0: at once).
    hold: u64,
    /// Where the current good stretch inside a defect began.
    good_since: Option<u64>,
    phase: Phase,
}

impl EventTracker {
    pub fn new(min_duration: u64) -> Self {
        Self::with_hold(min_duration, 0)
    }

    /// A tracker whose defects end only once the media has been good for
    /// `hold` ns; shorter good stretches are part of the defect (bursts
    /// closer than `hold` make one event). The end is back-dated to where the
    /// good stretch began.
    pub fn with_hold(min_duration: u64, hold: u64) -> Self {
        EventTracker {
            min_duration,
            hold,
            good_since: None,
            phase: Phase::Idle,
        }
    }

    /// Changes the hold (see [`EventTracker::with_hold`]).
    pub fn set_hold(&mut self, hold: u64) {
        self.hold = hold;
    }

    /// Changes how long a defect must last; a pending defect is judged by the
    /// new value from its next frame on.
    pub fn set_min_duration(&mut self, min_duration: u64) {
        self.min_duration = min_duration;
    }

    /// True while a defect has been reported and has not ended.
    #[cfg(any(test, feature = "internals"))]
    pub fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Active { .. })
    }

    /// True while a defect is pending or reported.
    pub fn in_defect(&self) -> bool {
        !matches!(self.phase, Phase::Idle)
    }

    /// One frame covering `pts..end` (`end >= pts`), defective or not.
    pub fn push(&mut self, defective: bool, pts: u64, end: u64) -> Option<Transition> {
        let end = end.max(pts);
        if defective {
            self.good_since = None;
        }
        match (self.phase, defective) {
            (Phase::Idle, false) => None,
            (Phase::Pending { .. } | Phase::Active { .. }, false) => {
                let since = *self.good_since.get_or_insert(pts);
                if end.saturating_sub(since) < self.hold {
                    return None;
                }
                let phase = std::mem::replace(&mut self.phase, Phase::Idle);
                self.good_since = None;
                match phase {
                    Phase::Active { start, .. } => Some(Transition::End {
                        start,
                        end: since.max(start),
                        reason: EndReason::Recovered,
                    }),
                    _ => None,
                }
            }
            (Phase::Idle, true) => {
                self.phase = Phase::Pending {
                    start: pts,
                    last_end: end,
                };
                self.check_start()
            }
            (Phase::Pending { start, last_end }, true) => {
                self.phase = Phase::Pending {
                    start,
                    last_end: last_end.max(end),
                };
                self.check_start()
            }
            (Phase::Active { start, last_end }, true) => {
                self.phase = Phase::Active {
                    start,
                    last_end: last_end.max(end),
                };
                None
            }
        }
    }

    fn check_start(&mut self) -> Option<Transition> {
        if let Phase::Pending { start, last_end } = self.phase {
            if last_end.saturating_sub(start) >= self.min_duration {
                self.phase = Phase::Active { start, last_end };
                return Some(Transition::Start { start });
            }
        }
        None
    }

    /// The stream was interrupted: a reported defect ends at the end of its
    /// last frame with `reason`; a pending one is dropped.
    pub fn close(&mut self, reason: EndReason) -> Option<Transition> {
        self.good_since = None;
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        match phase {
            Phase::Active { start, last_end } => Some(Transition::End {
                start,
                end: last_end,
                reason,
            }),
            _ => None,
        }
    }

    /// Forgets any defect without reporting it.
    #[cfg(any(test, feature = "internals"))]
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
        self.good_since = None;
    }
}

/// When a periodic measurement that fell due at `due` is next due, once
/// stream time reached `now` (`now >= due`): the first point of the grid
/// `due + k * every` past `now`, so measurements keep to their grid
/// whatever the frame or packet times (`every` 0 counts as 1 ns).
pub fn next_due(due: u64, now: u64, every: u64) -> u64 {
    let every = every.max(1);
    let steps = now.saturating_sub(due) / every + 1;
    due.saturating_add(steps.saturating_mul(every))
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u64 = 40_000_000; // 25 fps

    fn run(t: &mut EventTracker, pattern: &str) -> Vec<(usize, Transition)> {
        pattern
            .bytes()
            .enumerate()
            .filter_map(|(i, c)| {
                let pts = i as u64 * F;
                t.push(c == b'#', pts, pts + F).map(|e| (i, e))
            })
            .collect()
    }

    #[test]
    fn start_is_backdated_and_end_is_first_good_frame() {
        let mut t = EventTracker::new(3 * F);
        let ev = run(&mut t, "..#####..");
        assert_eq!(
            ev,
            vec![
                (4, Transition::Start { start: 2 * F }),
                (
                    7,
                    Transition::End {
                        start: 2 * F,
                        end: 7 * F,
                        reason: EndReason::Recovered
                    }
                )
            ]
        );
    }

    #[test]
    fn short_defects_are_not_reported() {
        let mut t = EventTracker::new(3 * F);
        assert!(run(&mut t, ".##.##.##.").is_empty());
        // exactly min_duration counts
        let mut t = EventTracker::new(3 * F);
        assert_eq!(run(&mut t, ".###.").len(), 2);
    }

    #[test]
    fn zero_min_duration_reports_single_frames() {
        let mut t = EventTracker::new(0);
        let ev = run(&mut t, ".#.");
        assert_eq!(ev[0], (1, Transition::Start { start: F }));
        assert_eq!(
            ev[1],
            (
                2,
                Transition::End {
                    start: F,
                    end: 2 * F,
                    reason: EndReason::Recovered
                }
            )
        );
    }

    #[test]
    fn close_ends_at_last_frame_with_reason() {
        let mut t = EventTracker::new(2 * F);
        run(&mut t, ".####");
        assert!(t.is_active());
        assert_eq!(
            t.close(EndReason::Eos),
            Some(Transition::End {
                start: F,
                end: 5 * F,
                reason: EndReason::Eos
            })
        );
        assert!(!t.in_defect());
        assert_eq!(t.close(EndReason::Eos), None);
        // a pending defect is dropped silently
        let mut t = EventTracker::new(10 * F);
        run(&mut t, ".##");
        assert_eq!(t.close(EndReason::Flush), None);
        assert!(!t.in_defect());
    }

    #[test]
    fn timestamps_going_backwards_never_underflow() {
        let mut t = EventTracker::new(0);
        assert!(t.push(true, 10 * F, 11 * F).is_some());
        assert_eq!(
            t.push(false, 5 * F, 6 * F),
            Some(Transition::End {
                start: 10 * F,
                end: 10 * F,
                reason: EndReason::Recovered
            })
        );
        assert_eq!(
            t.push(true, 7 * F, 3 * F),
            Some(Transition::Start { start: 7 * F })
        );
    }

    #[test]
    fn hold_merges_bursts_and_backdates_the_end() {
        let mut t = EventTracker::with_hold(0, 3 * F);
        // defects 2-3 and 5-6 with a 2-frame gap merge; a 3-frame gap ends it
        let ev = run(&mut t, "..##..##...#");
        assert_eq!(
            ev,
            vec![
                (2, Transition::Start { start: 2 * F }),
                (
                    10,
                    Transition::End {
                        start: 2 * F,
                        end: 8 * F,
                        reason: EndReason::Recovered
                    }
                ),
                (11, Transition::Start { start: 11 * F })
            ]
        );
        // a pending defect survives a short good stretch too
        let mut t = EventTracker::with_hold(4 * F, 2 * F);
        assert_eq!(
            run(&mut t, "##.##"),
            vec![(3, Transition::Start { start: 0 })]
        );
    }

    #[test]
    fn reasons_round_trip() {
        for r in [
            EndReason::Recovered,
            EndReason::Eos,
            EndReason::Flush,
            EndReason::CapsChange,
            EndReason::Discont,
        ] {
            assert_eq!(EndReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(EndReason::parse("nope"), None);
    }

    #[test]
    fn measurements_keep_to_their_grid() {
        // due at 1 s, every second: a frame ending at 1 s or 1.9 s moves it to 2 s
        assert_eq!(next_due(1_000, 1_000, 1_000), 2_000);
        assert_eq!(next_due(1_000, 1_999, 1_000), 2_000);
        // a gap of 3.5 intervals skips the points it passed
        assert_eq!(next_due(1_000, 4_500, 1_000), 5_000);
        assert_eq!(next_due(5, 5, 0), 6);
        assert_eq!(next_due(u64::MAX - 1, u64::MAX, 10), u64::MAX);
    }
}
