//! Silence detection, per channel and for all channels together.
//!
//! Levels are measured as the power (mean square) of 5 ms blocks. A channel
//! is silent in a block when its level is below `threshold_db`. When every
//! channel is silent the feed is silent: one event for all channels. A
//! channel that is silent while others are not (a dead channel of a pair) has
//! an event of its own, with its index; while the whole feed is silent the
//! per-channel events are held, so a silent feed is never reported once per
//! channel.

use crate::analysis::audio::samples::{AudioView, Sample};
use crate::analysis::audio::timing::{db_to_power, power_db, AudioTime, Blocks};
use crate::analysis::event::{EndReason, EventTracker, Transition};

/// Analysis block length.
pub const BLOCK_NS: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceConfig {
    /// Level (dBFS, power of 5 ms blocks) below which a channel is silent.
    pub threshold_db: f64,
    /// Nanoseconds silence must last to be reported.
    pub min_duration: u64,
}

impl Default for SilenceConfig {
    fn default() -> Self {
        SilenceConfig {
            threshold_db: -60.0,
            min_duration: 2_000_000_000,
        }
    }
}

/// A start or end of silence. `channel` is `None` for all channels.
/// `level_db` is the level of the first silent block (start) or the loudest
/// block of the silence (end), in dBFS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceEvent {
    pub transition: Transition,
    pub channel: Option<usize>,
    pub level_db: f64,
}

#[derive(Debug, Clone)]
struct Track {
    tracker: EventTracker,
    first_db: f64,
    max_db: f64,
}

impl Track {
    fn new(min: u64) -> Self {
        Track {
            tracker: EventTracker::new(min),
            first_db: f64::NEG_INFINITY,
            max_db: f64::NEG_INFINITY,
        }
    }

    fn push(
        &mut self,
        silent: bool,
        db: f64,
        t0: u64,
        t1: u64,
        channel: Option<usize>,
    ) -> Option<SilenceEvent> {
        if silent {
            if !self.tracker.in_defect() {
                self.first_db = db;
                self.max_db = db;
            }
            self.max_db = self.max_db.max(db);
        }
        let t = self.tracker.push(silent, t0, t1)?;
        Some(self.event(t, channel))
    }

    fn event(&self, transition: Transition, channel: Option<usize>) -> SilenceEvent {
        SilenceEvent {
            transition,
            channel,
            level_db: match transition {
                Transition::Start { .. } => self.first_db,
                Transition::End { .. } => self.max_db,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct SilenceDetector {
    config: SilenceConfig,
    blocks: Blocks,
    acc: Vec<f64>,
    all: Track,
    per: Vec<Track>,
}

impl SilenceDetector {
    pub fn new(config: SilenceConfig, rate: u32, channels: usize) -> Self {
        SilenceDetector {
            config,
            blocks: Blocks::new(rate, BLOCK_NS),
            acc: vec![0.0; channels],
            all: Track::new(config.min_duration),
            per: (0..channels)
                .map(|_| Track::new(config.min_duration))
                .collect(),
        }
    }

    pub fn config(&self) -> SilenceConfig {
        self.config
    }

    pub fn set_config(&mut self, config: SilenceConfig) {
        self.config = config;
        self.all.tracker.set_min_duration(config.min_duration);
        for t in &mut self.per {
            t.tracker.set_min_duration(config.min_duration);
        }
    }

    /// One buffer whose first frame is `at`.
    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<SilenceEvent> {
        let mut events = Vec::new();
        let channels = self.acc.len().min(view.channels());
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 1));
        let len = blocks.len() as f64;
        crate::with_sample_type!(view.format(), S => {
            blocks.feed(at, view.frames(), |f0, f1, done| {
                for (c, acc) in self.acc.iter_mut().enumerate().take(channels) {
                    *acc += f64::from(sum_squares::<S>(view, c, f0, f1));
                }
                if let Some((t0, t1)) = done {
                    self.block(len, t0, t1, &mut events);
                }
            });
        });
        self.blocks = blocks;
        events
    }

    fn block(&mut self, len: f64, t0: u64, t1: u64, events: &mut Vec<SilenceEvent>) {
        let threshold = db_to_power(self.config.threshold_db);
        let mut all_silent = true;
        let mut loudest = f64::NEG_INFINITY;
        let mut levels = [f64::NEG_INFINITY; 64];
        for (c, acc) in self.acc.iter_mut().enumerate() {
            let ms = *acc / len;
            *acc = 0.0;
            all_silent &= ms < threshold;
            let db = power_db(ms);
            loudest = loudest.max(db);
            if let Some(l) = levels.get_mut(c) {
                *l = db;
            }
        }
        events.extend(self.all.push(all_silent, loudest, t0, t1, None));
        if !all_silent {
            for (c, track) in self.per.iter_mut().enumerate() {
                let db = levels.get(c).copied().unwrap_or(f64::NEG_INFINITY);
                events.extend(track.push(db < self.config.threshold_db, db, t0, t1, Some(c)));
            }
        }
    }

    /// A stretch with no data (a gap event): silence on every channel.
    pub fn gap(&mut self, pts: u64, duration: u64) -> Vec<SilenceEvent> {
        self.blocks.reset();
        self.acc.iter_mut().for_each(|a| *a = 0.0);
        self.all
            .push(
                true,
                f64::NEG_INFINITY,
                pts,
                pts.saturating_add(duration),
                None,
            )
            .into_iter()
            .collect()
    }

    /// Ends reported silences (all channels first) and drops a partial block.
    pub fn close(&mut self, reason: EndReason) -> Vec<SilenceEvent> {
        self.blocks.reset();
        self.acc.iter_mut().for_each(|a| *a = 0.0);
        let mut out = Vec::new();
        if let Some(t) = self.all.tracker.close(reason) {
            out.push(self.all.event(t, None));
        }
        for (c, track) in self.per.iter_mut().enumerate() {
            if let Some(t) = track.tracker.close(reason) {
                out.push(track.event(t, Some(c)));
            }
        }
        out
    }
}

/// Sum of squares of samples `f0..f1` of channel `c`; non-finite samples count as 0.
#[inline]
fn sum_squares<S: Sample>(view: &AudioView<'_>, c: usize, f0: usize, f1: usize) -> f32 {
    view.channel::<S>(c, f0, f1).fold(0.0f32, |a, s| {
        let v = s.to_f32();
        let sq = v * v;
        a + if sq.is_finite() { sq } else { 0.0 }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::samples::SampleFormat;

    const RATE: u32 = 48_000;
    const MS: u64 = 1_000_000;

    /// Stereo f32 interleaved, `ms` milliseconds, each channel from `gen(ch, frame)`.
    fn stereo(ms: usize, gen: impl Fn(usize, usize) -> f32) -> Vec<u8> {
        let n = ms * RATE as usize / 1000;
        (0..n)
            .flat_map(|i| [gen(0, i), gen(1, i)])
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    fn tone(db: f64) -> impl Fn(usize, usize) -> f32 {
        let a = 10f64.powf(db / 20.0) * std::f64::consts::SQRT_2; // RMS = db
        move |_, i| (a * (i as f64 * 2.0 * std::f64::consts::PI * 440.0 / RATE as f64).sin()) as f32
    }

    fn run(d: &mut SilenceDetector, parts: &[Vec<u8>]) -> Vec<SilenceEvent> {
        let mut at = AudioTime::at(0);
        let mut out = Vec::new();
        for p in parts {
            // feed in 10 ms buffers, with times from the sample count
            for chunk in p.chunks(480 * 8) {
                let v = AudioView::interleaved(chunk, SampleFormat::F32, 2).unwrap();
                out.extend(d.push(&v, at));
                at.offset += v.frames() as u64;
            }
        }
        out
    }

    #[test]
    fn all_channels_silent_is_one_event_with_exact_times() {
        let mut d = SilenceDetector::new(SilenceConfig::default(), RATE, 2);
        let ev = run(
            &mut d,
            &[
                stereo(1000, tone(-20.0)),
                stereo(3000, |_, _| 0.0),
                stereo(500, tone(-20.0)),
            ],
        );
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].channel, None);
        assert_eq!(ev[0].transition, Transition::Start { start: 1000 * MS });
        assert_eq!(
            ev[1].transition,
            Transition::End {
                start: 1000 * MS,
                end: 4000 * MS,
                reason: EndReason::Recovered
            }
        );
        assert_eq!(ev[1].level_db, f64::NEG_INFINITY);
    }

    #[test]
    fn one_dead_channel_is_reported_with_its_index() {
        let mut d = SilenceDetector::new(SilenceConfig::default(), RATE, 2);
        let t = tone(-20.0);
        let ev = run(
            &mut d,
            &[stereo(3000, move |c, i| if c == 1 { 0.0 } else { t(c, i) })],
        );
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].channel, Some(1));
        assert_eq!(ev[0].transition, Transition::Start { start: 0 });
        let ev = d.close(EndReason::Eos);
        assert_eq!(
            ev[0].transition,
            Transition::End {
                start: 0,
                end: 3000 * MS,
                reason: EndReason::Eos
            }
        );
    }

    #[test]
    fn quiet_music_and_short_pauses_are_not_silence_but_faint_noise_is() {
        let mut d = SilenceDetector::new(SilenceConfig::default(), RATE, 2);
        let ev = run(
            &mut d,
            &[
                stereo(3000, tone(-45.0)),
                stereo(1500, |_, _| 0.0),
                stereo(1000, tone(-45.0)),
            ],
        );
        assert!(ev.is_empty(), "{ev:?}");
        // noise at -70 dBFS RMS (uniform, deterministic)
        let a = 10f64.powf(-70.0 / 20.0) as f32 * 3f32.sqrt();
        let noise = stereo(2500, move |c, i| {
            let s = ((i * 2 + c) as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(12345);
            let s = s ^ (s >> 13);
            a * ((s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        });
        let ev = run(&mut d, &[noise]);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(
            ev[0].level_db < -65.0 && ev[0].level_db > -75.0,
            "{}",
            ev[0].level_db
        );
    }

    #[test]
    fn gaps_count_as_silence() {
        let mut d = SilenceDetector::new(SilenceConfig::default(), RATE, 2);
        let ev = d.gap(0, 3_000 * MS);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].transition, Transition::Start { start: 0 });
    }
}
