//! Phase problems on a channel pair: inverted polarity / out of phase
//! (sustained negative correlation) and mono in stereo (identical channels).
//!
//! Per 5 ms block: the correlation of the pair, Σxy / √(Σx² Σy²), and the
//! power of their difference. A block is out of phase when the correlation
//! is at or below `threshold`; mono when the difference is at least 60 dB
//! below the louder channel. Blocks where both channels are below
//! `silence_db` are neither. Each condition is an event once it has lasted
//! `min_duration`.

use crate::analysis::audio::samples::{AudioView, Sample};
use crate::analysis::audio::timing::{db_to_power, AudioTime, Blocks};
use crate::analysis::event::{EndReason, EventTracker, Transition};

pub const BLOCK_NS: u64 = 5_000_000;
/// Difference power, relative to the louder channel, at or below which the
/// pair is identical (-60 dB).
const MONO_RATIO: f64 = 1e-6;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseConfig {
    pub channel_a: usize,
    pub channel_b: usize,
    /// Correlation at or below which a block is out of phase.
    pub threshold: f64,
    /// Level (dBFS) below which a channel counts as silent.
    pub silence_db: f64,
    pub min_duration: u64,
}

impl Default for PhaseConfig {
    fn default() -> Self {
        PhaseConfig {
            channel_a: 0,
            channel_b: 1,
            threshold: -0.5,
            silence_db: -60.0,
            min_duration: 2_000_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    OutOfPhase,
    Mono,
}

impl PhaseKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PhaseKind::OutOfPhase => "out-of-phase",
            PhaseKind::Mono => "mono",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "out-of-phase" => Some(PhaseKind::OutOfPhase),
            "mono" => Some(PhaseKind::Mono),
            _ => None,
        }
    }
}

/// A start or end of a phase problem. `correlation` is that of the first
/// block (start) or the mean over the stretch (end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseEvent {
    pub transition: Transition,
    pub kind: PhaseKind,
    pub correlation: f64,
    /// The pair.
    pub channels: (usize, usize),
}

#[derive(Debug, Clone)]
struct Track {
    tracker: EventTracker,
    first: f64,
    sum: f64,
    n: u64,
}

impl Track {
    fn new(min: u64) -> Self {
        Track {
            tracker: EventTracker::new(min),
            first: 0.0,
            sum: 0.0,
            n: 0,
        }
    }

    fn push(
        &mut self,
        on: bool,
        corr: f64,
        t0: u64,
        t1: u64,
        kind: PhaseKind,
    ) -> Option<PhaseEvent> {
        if on {
            if !self.tracker.in_defect() {
                self.first = corr;
                self.sum = 0.0;
                self.n = 0;
            }
            self.sum += corr;
            self.n += 1;
        }
        let t = self.tracker.push(on, t0, t1)?;
        Some(self.event(t, kind))
    }

    fn event(&self, transition: Transition, kind: PhaseKind) -> PhaseEvent {
        PhaseEvent {
            transition,
            kind,
            correlation: match transition {
                Transition::Start { .. } => self.first,
                Transition::End { .. } => self.sum / self.n.max(1) as f64,
            },
            channels: (0, 0),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PhaseDetector {
    config: PhaseConfig,
    blocks: Blocks,
    /// Σxy, Σx², Σy², Σ(x-y)² of the open block.
    acc: [f64; 4],
    phase: Track,
    mono: Track,
}

impl PhaseDetector {
    pub fn new(config: PhaseConfig, rate: u32) -> Self {
        PhaseDetector {
            config,
            blocks: Blocks::new(rate, BLOCK_NS),
            acc: [0.0; 4],
            phase: Track::new(config.min_duration),
            mono: Track::new(config.min_duration),
        }
    }

    pub fn config(&self) -> PhaseConfig {
        self.config
    }

    pub fn set_config(&mut self, config: PhaseConfig) {
        self.config = config;
        self.phase.tracker.set_min_duration(config.min_duration);
        self.mono.tracker.set_min_duration(config.min_duration);
    }

    /// One buffer whose first frame is `at`. A view without both
    /// channels of the pair is not analysed.
    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<PhaseEvent> {
        let (a, b) = (self.config.channel_a, self.config.channel_b);
        if a >= view.channels() || b >= view.channels() || a == b {
            return Vec::new();
        }
        let mut events = Vec::new();
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 1));
        let len = blocks.len() as f64;
        crate::with_sample_type!(view.format(), S => {
            blocks.feed(at, view.frames(), |f0, f1, done| {
                let s = sums::<S>(view, a, b, f0, f1);
                for (acc, v) in self.acc.iter_mut().zip(s) {
                    *acc += f64::from(v);
                }
                if let Some((t0, t1)) = done {
                    self.block(len, t0, t1, &mut events);
                }
            });
        });
        self.blocks = blocks;
        self.label(events)
    }

    fn label(&self, mut events: Vec<PhaseEvent>) -> Vec<PhaseEvent> {
        for e in &mut events {
            e.channels = (self.config.channel_a, self.config.channel_b);
        }
        events
    }

    fn block(&mut self, len: f64, t0: u64, t1: u64, events: &mut Vec<PhaseEvent>) {
        let [xy, xx, yy, dd] = std::mem::take(&mut self.acc);
        let silent = db_to_power(self.config.silence_db) * len;
        let audible = xx >= silent || yy >= silent;
        let corr = if xx > 0.0 && yy > 0.0 {
            xy / (xx * yy).sqrt()
        } else {
            0.0
        };
        let out = audible && corr <= self.config.threshold;
        let mono = audible && dd <= MONO_RATIO * xx.max(yy);
        events.extend(self.phase.push(out, corr, t0, t1, PhaseKind::OutOfPhase));
        events.extend(self.mono.push(mono, corr, t0, t1, PhaseKind::Mono));
    }

    pub fn close(&mut self, reason: EndReason) -> Vec<PhaseEvent> {
        self.blocks.reset();
        self.acc = [0.0; 4];
        let mut out = Vec::new();
        if let Some(t) = self.phase.tracker.close(reason) {
            out.push(self.phase.event(t, PhaseKind::OutOfPhase));
        }
        if let Some(t) = self.mono.tracker.close(reason) {
            out.push(self.mono.event(t, PhaseKind::Mono));
        }
        self.label(out)
    }
}

/// Σxy, Σx², Σy², Σ(x-y)² over frames `f0..f1` of channels `a` and `b`;
/// non-finite samples count as 0.
#[inline]
fn sums<S: Sample>(view: &AudioView<'_>, a: usize, b: usize, f0: usize, f1: usize) -> [f32; 4] {
    let clean = |v: f32| if v.is_finite() { v } else { 0.0 };
    view.channel::<S>(a, f0, f1)
        .zip(view.channel::<S>(b, f0, f1))
        .fold([0.0f32; 4], |[xy, xx, yy, dd], (x, y)| {
            let (x, y) = (clean(x.to_f32()), clean(y.to_f32()));
            let d = x - y;
            [xy + x * y, xx + x * x, yy + y * y, dd + d * d]
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::samples::SampleFormat;

    const RATE: u32 = 48_000;
    const MS: u64 = 1_000_000;

    fn music(i: usize) -> f32 {
        let t = i as f32 / RATE as f32;
        0.2 * (t * 2.0 * std::f32::consts::PI * 220.0).sin()
            + 0.1 * (t * 2.0 * std::f32::consts::PI * 331.0).sin()
            + 0.05 * (t * 2.0 * std::f32::consts::PI * 1237.0).cos()
    }

    /// The other channel of ordinary stereo: partly the same music, partly its own.
    fn other(i: usize) -> f32 {
        let t = i as f32 / RATE as f32;
        0.5 * music(i) + 0.15 * (t * 2.0 * std::f32::consts::PI * 587.0).sin()
    }

    fn pair(ms: usize, f: impl Fn(usize) -> (f32, f32)) -> Vec<u8> {
        (0..ms * 48)
            .flat_map(|i| {
                let (l, r) = f(i);
                [l, r]
            })
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    fn run(d: &mut PhaseDetector, data: &[u8]) -> Vec<PhaseEvent> {
        let mut out = Vec::new();
        for (k, chunk) in data.chunks(1024 * 8).enumerate() {
            let v = AudioView::interleaved(chunk, SampleFormat::F32, 2).unwrap();
            out.extend(d.push(
                &v,
                AudioTime {
                    base: 0,
                    offset: (k * 1024) as u64,
                },
            ));
        }
        out.extend(d.close(EndReason::Eos));
        out
    }

    #[test]
    fn inverted_pair_with_exact_times() {
        // 1 s normal stereo (decorrelated), 3 s inverted, 1 s normal
        let data = pair(5000, |i| {
            let l = music(i);
            let r = other(i);
            if (48_000..192_000).contains(&i) {
                (l, -l)
            } else {
                (l, r)
            }
        });
        let ev = run(&mut PhaseDetector::new(PhaseConfig::default(), RATE), &data);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].kind, PhaseKind::OutOfPhase);
        assert_eq!(ev[0].transition, Transition::Start { start: 1000 * MS });
        assert!((ev[0].correlation + 1.0).abs() < 1e-4);
        assert_eq!(
            ev[1].transition,
            Transition::End {
                start: 1000 * MS,
                end: 4000 * MS,
                reason: EndReason::Recovered
            }
        );
    }

    #[test]
    fn identical_pair_is_mono_and_silence_is_neither() {
        let data = pair(3000, |i| (music(i), music(i)));
        let ev = run(&mut PhaseDetector::new(PhaseConfig::default(), RATE), &data);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(
            (ev[0].kind, ev[0].transition),
            (PhaseKind::Mono, Transition::Start { start: 0 })
        );
        let silence = pair(3000, |_| (0.0, 0.0));
        assert!(run(
            &mut PhaseDetector::new(PhaseConfig::default(), RATE),
            &silence
        )
        .is_empty());
        // ordinary stereo: neither
        let stereo = pair(3000, |i| (music(i), other(i)));
        assert!(run(
            &mut PhaseDetector::new(PhaseConfig::default(), RATE),
            &stereo
        )
        .is_empty());
    }

    #[test]
    fn pair_outside_the_channels_is_ignored() {
        let data = pair(100, |i| (music(i), -music(i)));
        let v = AudioView::interleaved(&data, SampleFormat::F32, 2).unwrap();
        let mut d = PhaseDetector::new(
            PhaseConfig {
                channel_b: 5,
                ..PhaseConfig::default()
            },
            RATE,
        );
        assert!(d.push(&v, AudioTime::at(0)).is_empty());
    }
}
