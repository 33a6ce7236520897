//! Frames missing from a steady frame rate.

/// Frames in a row at a steady rate a stream needs before a gap in it counts
/// as missing frames.
pub(super) const STEADY_FRAMES: u32 = 8;
/// The most frames a gap may miss to count, unless a second holds more: a
/// decoder that lost a reference picture may drop every frame up to the
/// next key frame (avdec_h264 drops up to 17 at 24 fps behind one lost
/// transport packet). Longer is an outage (left to the stream's
/// liveness), not data lost within the stream.
pub(super) const MAX_MISSING: u64 = 5;
/// A second, in ns: the longest gap that counts as missing frames when
/// it holds more than [`MAX_MISSING`], unless the coded stream shows the
/// loss (see [`Cadence::push`]).
const MAX_GAP: u64 = 1_000_000_000;
/// Ten seconds, in ns: the longest gap [`Cadence::push`] measures at all (a
/// decoder that lost a reference early in a long GOP drops the rest of it).
const LONG_GAP: u64 = 10_000_000_000;

/// Follows a stream's frame times to tell frames missing from it: a decoder
/// drops a frame it cannot decode (one whose data was lost, or that lost its
/// reference), and the frames after it are often damaged in ways the pixels
/// alone do not show (content a frame behind where it should be).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cadence {
    /// The previous frame's time and duration.
    prev: Option<(u64, u64)>,
    /// Frames in a row that followed the one before at its duration.
    steady: u32,
}

impl Cadence {
    /// Where the previous frame ended, if it had a duration.
    pub fn last_end(&self) -> Option<u64> {
        self.prev.map(|(pts, dur)| pts + dur)
    }

    /// How many frames are missing just before the frame at `pts` lasting
    /// until `end`, and whether so many count on their own: the whole
    /// number of the previous frame's durations the gap spans, when it
    /// spans up to ten seconds within a quarter
    /// duration and the stream kept that duration for [`STEADY_FRAMES`]
    /// frames before; 0 otherwise (variable rates, frames without a
    /// duration, time going backwards, longer gaps). Up to [`MAX_MISSING`]
    /// frames, or a second's worth if more, count on their own; a longer
    /// gap counts only where the coded stream shows data lost.
    pub fn push(&mut self, pts: u64, end: u64) -> (u64, bool) {
        let dur = end.saturating_sub(pts);
        let mut missing = 0;
        let mut short = false;
        let mut steady = 0;
        if let Some((prev, prev_dur)) = self.prev {
            let tolerance = prev_dur / 4;
            let period = pts.saturating_sub(prev);
            let frames = (period + prev_dur / 2).checked_div(prev_dur).unwrap_or(0);
            let on_beat = pts > prev
                && frames >= 1
                && period.abs_diff(frames * prev_dur) <= tolerance
                && dur.abs_diff(prev_dur) <= tolerance;
            if on_beat && frames == 1 {
                steady = self.steady.saturating_add(1);
            } else if on_beat && frames <= LONG_GAP / prev_dur + 1 && self.steady >= STEADY_FRAMES {
                missing = frames - 1;
                short = missing <= MAX_MISSING.max(MAX_GAP / prev_dur);
                // still the same rate
                steady = self.steady;
            }
        }
        self.prev = (dur > 0).then_some((pts, dur));
        self.steady = if dur > 0 { steady } else { 0 };
        (missing, short)
    }
}
