//! Audio features for sync: beeps (a sound out of quiet, timed to the
//! sample) and audio changes (a step in level or spectral tilt, timed to
//! 5 ms), weighted by how far the sound rises.

use std::collections::VecDeque;

use crate::analysis::audio::samples::{AudioView, Sample};
use crate::analysis::audio::timing::{frames_to_ns, AudioTime, Blocks};

use super::MS;

pub(super) const BLOCK: u64 = 5 * MS;
/// Blocks of quiet a beep must follow (100 ms).
pub(super) const QUIET_BLOCKS: usize = 20;
/// A beep is at least this loud (mean square, dBFS)...
pub(super) const BEEP_MIN_DB: f32 = -45.0;
/// ...and this much louder than the quiet before it...
pub(super) const BEEP_RISE_DB: f32 = 25.0;
/// ...which is below this (test signals have silence between beeps; music
/// seldom falls this low between notes).
pub(super) const BEEP_QUIET_DB: f32 = -60.0;
/// A beep starts at the first sample reaching this share of its block's peak.
pub(super) const BEEP_EDGE: f32 = 0.3;
/// Blocks each side of a candidate audio change (20 ms).
pub(super) const SIDE: usize = 4;
/// An audio change: level plus tilt step, dB.
pub(super) const AUDIO_CHANGE_DB: f32 = 10.0;
/// Changes closer than this are one change.
pub(super) const REFRACTORY: u64 = 100 * MS;
/// Level floor, dBFS.
pub(super) const FLOOR_DB: f32 = -70.0;
/// Blocks of history kept.
pub(super) const HISTORY: usize = QUIET_BLOCKS + 2 * SIDE + 4;

#[derive(Debug, Clone, Copy)]
pub(super) struct BlockFeatures {
    pub(super) start: u64,
    /// Level (mean square, dBFS, floored).
    pub(super) level: f32,
    /// Level of the first difference (a high-pass), dBFS, floored.
    pub(super) high: f32,
    /// Change at this block's start (once computed).
    pub(super) change: f32,
}

/// What the audio showed: beeps and changes, with their times and how far
/// the sound rose above the loudest of the 100 ms before (dB; 0 for a change
/// that is not a rise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AudioMark {
    Beep(u64, f32),
    Change(u64, f32),
}

/// The vote of an audio event in content correlation: 10, plus its rise
/// above the 100 ms before in dB, up to 50. A sound starting out of
/// silence outweighs a change within a sound, which may follow it at a
/// steady delay (the syllables of a word).
pub(super) fn weight(rise_db: f32) -> i32 {
    (10.0 + rise_db.max(0.0)).min(50.0) as i32
}

/// 5 ms blocks: level, high-band level, the sample magnitudes of the last two
/// blocks (to time a beep to the sample), and the change detector.
#[derive(Debug, Clone)]
pub struct AudioAnalyser {
    pub(super) rate: u32,
    pub(super) blocks: Blocks,
    pub(super) energy: f64,
    pub(super) high: f64,
    pub(super) count: usize,
    pub(super) last: Vec<f32>,
    pub(super) mags: Vec<f32>,
    pub(super) prev_mags: Vec<f32>,
    pub(super) prev_start: u64,
    pub(super) history: VecDeque<BlockFeatures>,
    pub(super) last_beep: Option<u64>,
    pub(super) last_change: Option<u64>,
    pub(super) scratch: Vec<f32>,
}

impl AudioAnalyser {
    pub fn new(rate: u32) -> Self {
        AudioAnalyser {
            rate,
            blocks: Blocks::new(rate.max(1), BLOCK),
            energy: 0.0,
            high: 0.0,
            count: 0,
            last: Vec::new(),
            mags: Vec::new(),
            prev_mags: Vec::new(),
            prev_start: 0,
            history: VecDeque::with_capacity(HISTORY + 1),
            last_beep: None,
            last_change: None,
            scratch: Vec::new(),
        }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Forgets everything (discontinuity, flush).
    pub fn reset(&mut self) {
        *self = AudioAnalyser::new(self.rate);
    }

    /// No audio until `end` (a gap): judged as silence, so a beep right
    /// after it is still a beep.
    pub fn gap(&mut self, end: u64) {
        self.reset();
        let n = HISTORY as u64;
        for k in 0..n {
            self.history.push_back(BlockFeatures {
                start: end.saturating_sub((n - k) * BLOCK),
                level: FLOOR_DB,
                high: FLOOR_DB,
                change: 0.0,
            });
        }
    }

    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime, out: &mut Vec<AudioMark>) {
        let channels = view.channels();
        if channels == 0 {
            return;
        }
        if self.last.len() != channels {
            self.last = vec![0.0; channels];
        }
        let frames = view.frames();
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 1));
        blocks.feed(at, frames, |f0, f1, done| {
            self.accumulate(view, f0, f1);
            if let Some((start, _)) = done {
                self.block_done(start, out);
            }
        });
        self.blocks = blocks;
    }

    pub(super) fn accumulate(&mut self, view: &AudioView<'_>, f0: usize, f1: usize) {
        let n = f1 - f0;
        let base = self.mags.len();
        self.mags.resize(base + n, 0.0);
        let mut energy = 0.0f64;
        let mut high = 0.0f64;
        for c in 0..view.channels() {
            let mut last = self.last[c];
            let mags = &mut self.mags[base..];
            let scratch = &mut self.scratch;
            scratch.clear();
            crate::with_sample_type!(view.format(), S => {
                scratch.extend(view.channel::<S>(c, f0, f1).map(|s| {
                    let v = s.to_f32();
                    if v.is_finite() { v } else { 0.0 }
                }));
            });
            let (mut e, mut hsum) = (0.0f32, 0.0f32);
            for (m, &v) in mags.iter_mut().zip(scratch.iter()) {
                e += v * v;
                let d = v - last;
                hsum += d * d;
                last = v;
                *m = m.max(v.abs());
            }
            energy += f64::from(e);
            high += f64::from(hsum);
            self.last[c] = last;
        }
        let ch = view.channels() as f64;
        self.energy += energy / ch;
        self.high += high / ch;
        self.count += n;
    }

    pub(super) fn block_done(&mut self, start: u64, out: &mut Vec<AudioMark>) {
        let n = self.count.max(1) as f64;
        let db = |e: f64| ((10.0 * (e / n + 1e-12).log10()) as f32).max(FLOOR_DB);
        let block = BlockFeatures {
            start,
            level: db(self.energy),
            high: db(self.high),
            change: 0.0,
        };
        self.energy = 0.0;
        self.high = 0.0;
        self.count = 0;
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(block);
        self.find_beep(out);
        self.prev_mags = std::mem::take(&mut self.mags);
        self.prev_start = start;
        self.find_change(out);
    }

    /// The newest block starts a beep when it is loud and the 100 ms before
    /// the block preceding it were quiet; the onset is the first sample of
    /// the last two blocks that reaches a share of the block's peak.
    pub(super) fn find_beep(&mut self, out: &mut Vec<AudioMark>) {
        let n = self.history.len();
        if n < QUIET_BLOCKS + 2 {
            return;
        }
        let cur = self.history[n - 1];
        let quiet = (n - 2 - QUIET_BLOCKS..n - 2)
            .map(|i| self.history[i].level)
            .fold(FLOOR_DB, f32::max);
        if cur.level < BEEP_MIN_DB || cur.level - quiet < BEEP_RISE_DB || quiet > BEEP_QUIET_DB {
            return;
        }
        let peak = self.mags.iter().fold(0.0f32, |a, &m| a.max(m));
        let edge = BEEP_EDGE * peak;
        let rate = self.rate.max(1);
        let prev = (self.prev_start + frames_to_ns(self.prev_mags.len() as u64, rate) >= cur.start
            && !self.prev_mags.is_empty())
        .then_some((self.prev_start, &self.prev_mags));
        let onset = prev
            .into_iter()
            .chain(std::iter::once((cur.start, &self.mags)))
            .find_map(|(t0, mags)| {
                mags.iter()
                    .position(|&m| m >= edge)
                    .map(|i| t0 + frames_to_ns(i as u64, rate))
            })
            .unwrap_or(cur.start);
        if self.last_beep.is_some_and(|b| onset < b + REFRACTORY) {
            return;
        }
        self.last_beep = Some(onset);
        out.push(AudioMark::Beep(onset, cur.level - quiet));
    }

    /// Computes the change at the block `SIDE - 1` back (its start is the
    /// boundary between the `SIDE` blocks before and after), then reports the
    /// block `2 * SIDE - 1` back when its change is large and the largest
    /// within `SIDE` blocks either way.
    pub(super) fn find_change(&mut self, out: &mut Vec<AudioMark>) {
        let n = self.history.len();
        if n < 2 * SIDE {
            return;
        }
        let c = n - SIDE;
        let mean = |a: usize, b: usize, f: fn(&BlockFeatures) -> f32| {
            (a..b).map(|i| f(&self.history[i])).sum::<f32>() / (b - a) as f32
        };
        let (lb, la) = (mean(c - SIDE, c, |b| b.level), mean(c, n, |b| b.level));
        let (hb, ha) = (mean(c - SIDE, c, |b| b.high), mean(c, n, |b| b.high));
        let audible = lb.max(la) > FLOOR_DB + 15.0;
        self.history[c].change = if audible {
            (la - lb).abs() + (ha - hb).abs()
        } else {
            0.0
        };
        if c < 2 * SIDE {
            return;
        }
        let d = c - SIDE;
        let cand = self.history[d];
        if cand.change < AUDIO_CHANGE_DB {
            return;
        }
        let largest = (d - SIDE..=c).all(|i| {
            let ch = self.history[i].change;
            ch < cand.change || (ch == cand.change && i >= d)
        });
        if !largest
            || self
                .last_change
                .is_some_and(|t| cand.start < t + REFRACTORY)
        {
            return;
        }
        self.last_change = Some(cand.start);
        // how far the sound after it rises above the loudest of the 100 ms
        // before: a sound out of silence, not a swell within a sound
        let after = (d..(d + SIDE).min(n))
            .map(|i| self.history[i].level)
            .sum::<f32>()
            / SIDE as f32;
        let before = (d.saturating_sub(QUIET_BLOCKS)..d)
            .map(|i| self.history[i].level)
            .fold(FLOOR_DB, f32::max);
        out.push(AudioMark::Change(cand.start, (after - before).max(0.0)));
    }
}
