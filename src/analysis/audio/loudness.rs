//! Loudness per ITU-R BS.1770 / EBU R128 (with the `ebur128` crate; true
//! peak with the crate's interpolator in this crate's `truepeak`, which computes
//! it the same, faster): momentary, short-term, integrated, loudness range,
//! sample and true peak,
//! measured every `interval`; alarms when short-term loudness leaves
//! target ± tolerance for `min_duration`, and when the true peak exceeds its
//! maximum.

use ebur128::{EbuR128, Mode};

use crate::analysis::audio::samples::{to_interleaved_f32, AudioView};
use crate::analysis::audio::timing::{AudioTime, Blocks};
use crate::analysis::audio::truepeak::TruePeak;
use crate::analysis::event::{EndReason, EventTracker, Transition};

/// Alarm evaluation step: the 100 ms hop of the momentary and short-term windows.
pub const STEP_NS: u64 = 100_000_000;
/// Short-term loudness is judged only once its 3 s window is full.
const SHORT_TERM_NS: u64 = 3_000_000_000;
/// 100 ms steps in the momentary (400 ms) and short-term (3 s) windows.
const STEPS_MOMENTARY: usize = 4;
const STEPS_SHORT: usize = 30;

/// BS.1770 loudness of a mean-square energy, and back.
fn lufs(energy: f64) -> f64 {
    if energy > 0.0 {
        10.0 * energy.log10() - 0.691
    } else {
        f64::NEG_INFINITY
    }
}

fn energy(lufs: f64) -> f64 {
    if lufs.is_finite() {
        10f64.powf((lufs + 0.691) / 10.0)
    } else {
        0.0
    }
}

/// Short-term loudness below this (LUFS) is silence, not a loudness alarm.
const ABSOLUTE_GATE: f64 = -70.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessConfig {
    /// ns between measurements.
    pub interval: u64,
    pub target_lufs: f64,
    pub tolerance_lu: f64,
    pub max_true_peak_dbtp: f64,
    /// ns short-term loudness must stay out of range to raise an alarm.
    pub min_duration: u64,
    /// Measure true peak (4x oversampling: the costly part).
    pub true_peak: bool,
    /// Return a measurement every interval (alarms come regardless).
    pub measurements: bool,
}

impl Default for LoudnessConfig {
    fn default() -> Self {
        LoudnessConfig {
            interval: 1_000_000_000,
            target_lufs: -23.0,
            tolerance_lu: 5.0,
            max_true_peak_dbtp: -1.0,
            min_duration: 10_000_000_000,
            true_peak: true,
            measurements: true,
        }
    }
}

/// Values of one measurement; loudness in LUFS, range in LU, peaks per
/// channel in dBFS / dBTP over the interval. `-inf` when not yet defined.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// End of the measured interval, ns.
    pub timestamp: u64,
    pub momentary: f64,
    pub short_term: f64,
    pub integrated: f64,
    pub range: f64,
    pub sample_peak_db: Vec<f64>,
    pub true_peak_db: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    ShortTerm,
    TruePeak,
}

impl AlarmKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AlarmKind::ShortTerm => "short-term",
            AlarmKind::TruePeak => "true-peak",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "short-term" => Some(AlarmKind::ShortTerm),
            "true-peak" => Some(AlarmKind::TruePeak),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoudnessEvent {
    Measurement(Measurement),
    /// `value`: short-term loudness (LUFS) or true peak (dBTP) of the first
    /// step out of range (start), the furthest out over the alarm (end).
    Alarm {
        kind: AlarmKind,
        transition: Transition,
        value: f64,
    },
}

#[derive(Debug, Clone)]
struct Alarm {
    tracker: EventTracker,
    first: f64,
    worst: f64,
}

impl Alarm {
    fn push(
        &mut self,
        on: bool,
        value: f64,
        worse: impl Fn(f64, f64) -> f64,
        t0: u64,
        t1: u64,
        kind: AlarmKind,
    ) -> Option<LoudnessEvent> {
        if on {
            if !self.tracker.in_defect() {
                self.first = value;
                self.worst = value;
            }
            self.worst = worse(self.worst, value);
        }
        let t = self.tracker.push(on, t0, t1)?;
        Some(self.event(t, kind))
    }

    fn event(&self, transition: Transition, kind: AlarmKind) -> LoudnessEvent {
        LoudnessEvent::Alarm {
            kind,
            transition,
            value: match transition {
                Transition::Start { .. } => self.first,
                Transition::End { .. } => self.worst,
            },
        }
    }
}

pub struct LoudnessMeter {
    config: LoudnessConfig,
    channels: usize,
    ebu: EbuR128,
    /// True peak, when measured.
    tp: Option<TruePeak>,
    /// The last piece's true peak per channel.
    piece_true_peak: Vec<f64>,
    blocks: Blocks,
    scratch: Vec<f32>,
    /// Time analysed since the start (or the last reset), ns.
    fed: u64,
    /// End of the next measurement interval.
    next_measure: Option<u64>,
    interval_sample_peak: Vec<f64>,
    interval_true_peak: Vec<f64>,
    step_true_peak: f64,
    /// Mean-square energy (K-weighted, channel-weighted) of the last 30
    /// 100 ms steps: momentary and short-term loudness come from it, which
    /// is much cheaper than asking the crate to sum its 3 s window each step.
    steps: std::collections::VecDeque<f64>,
    short_term: Alarm,
    true_peak: Alarm,
    /// Non-finite samples seen (counted as 0).
    pub non_finite: u64,
}

impl std::fmt::Debug for LoudnessMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessMeter")
            .field("config", &self.config)
            .finish()
    }
}

/// What the crate measures (true peak is [`TruePeak`]'s).
const MODE: Mode = Mode::I
    .union(Mode::S)
    .union(Mode::LRA)
    .union(Mode::SAMPLE_PEAK)
    .union(Mode::HISTOGRAM);

fn db(v: f64) -> f64 {
    20.0 * v.log10()
}

impl LoudnessMeter {
    /// `None` when the crate refuses the layout (0 or more than 64 channels,
    /// a rate outside 16 Hz..2.8 MHz).
    pub fn new(config: LoudnessConfig, rate: u32, channels: usize) -> Option<Self> {
        let ebu = EbuR128::new(channels as u32, rate, MODE).ok()?;
        Some(LoudnessMeter {
            config,
            channels,
            ebu,
            tp: config
                .true_peak
                .then(|| TruePeak::new(channels, rate))
                .flatten(),
            piece_true_peak: vec![0.0; channels],
            blocks: Blocks::new(rate, STEP_NS),
            scratch: Vec::new(),
            fed: 0,
            next_measure: None,
            interval_sample_peak: vec![0.0; channels],
            interval_true_peak: vec![0.0; channels],
            step_true_peak: 0.0,
            steps: std::collections::VecDeque::with_capacity(STEPS_SHORT),
            short_term: Alarm {
                tracker: EventTracker::new(config.min_duration),
                first: 0.0,
                worst: 0.0,
            },
            true_peak: Alarm {
                tracker: EventTracker::new(0),
                first: 0.0,
                worst: 0.0,
            },
            non_finite: 0,
        })
    }

    pub fn config(&self) -> LoudnessConfig {
        self.config
    }

    /// New settings; switching true peak on starts it from the next
    /// samples (the loudness measurement carries on).
    pub fn set_config(&mut self, config: LoudnessConfig) {
        if config.true_peak != self.config.true_peak {
            self.tp = config
                .true_peak
                .then(|| TruePeak::new(self.channels, self.ebu.rate()))
                .flatten();
        }
        self.config = config;
        self.short_term
            .tracker
            .set_min_duration(config.min_duration);
    }

    /// One buffer whose first frame is `at`.
    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<LoudnessEvent> {
        let mut events = Vec::new();
        if view.channels() != self.channels {
            return events;
        }
        let rate = self.ebu.rate();
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 1));
        blocks.feed(at, view.frames(), |f0, f1, done| {
            self.scratch.clear();
            self.non_finite += to_interleaved_f32(view, f0, f1, &mut self.scratch) as u64;
            if self.ebu.add_frames_f32(&self.scratch).is_err() {
                return;
            }
            if let Some(tp) = &mut self.tp {
                tp.push(&self.scratch, &mut self.piece_true_peak);
            }
            self.fed += crate::analysis::audio::timing::frames_to_ns((f1 - f0) as u64, rate);
            for c in 0..self.channels {
                let sp = self.ebu.prev_sample_peak(c as u32).unwrap_or(0.0);
                self.interval_sample_peak[c] = self.interval_sample_peak[c].max(sp);
                if self.tp.is_some() {
                    let tp = self.piece_true_peak[c];
                    self.interval_true_peak[c] = self.interval_true_peak[c].max(tp);
                    self.step_true_peak = self.step_true_peak.max(tp);
                }
            }
            if let Some((t0, t1)) = done {
                self.step(t0, t1, &mut events);
            }
        });
        self.blocks = blocks;
        events
    }

    /// Loudness of the mean energy of the last `n` steps (fewer at the start).
    fn window(&self, n: usize) -> f64 {
        let k = n.min(self.steps.len());
        if k == 0 {
            return f64::NEG_INFINITY;
        }
        lufs(self.steps.iter().rev().take(k).sum::<f64>() / n as f64)
    }

    fn step(&mut self, t0: u64, t1: u64, events: &mut Vec<LoudnessEvent>) {
        let cfg = self.config;
        // the step just completed is exactly the crate's last 100 ms
        let e = energy(self.ebu.loudness_window(100).unwrap_or(f64::NEG_INFINITY));
        if self.steps.len() == STEPS_SHORT {
            self.steps.pop_front();
        }
        self.steps.push_back(e);
        if self.fed >= SHORT_TERM_NS {
            let st = self.window(STEPS_SHORT);
            let out = st > ABSOLUTE_GATE && (st - cfg.target_lufs).abs() > cfg.tolerance_lu;
            let target = cfg.target_lufs;
            events.extend(self.short_term.push(
                out,
                st,
                |a, b| {
                    if (b - target).abs() > (a - target).abs() {
                        b
                    } else {
                        a
                    }
                },
                t0,
                t1,
                AlarmKind::ShortTerm,
            ));
        }
        if cfg.true_peak {
            let tp = db(std::mem::take(&mut self.step_true_peak));
            events.extend(self.true_peak.push(
                tp > cfg.max_true_peak_dbtp,
                tp,
                f64::max,
                t0,
                t1,
                AlarmKind::TruePeak,
            ));
        }
        let next = *self
            .next_measure
            .get_or_insert(t0 + cfg.interval.max(STEP_NS));
        if t1 >= next {
            self.next_measure = Some(t1 + cfg.interval.max(STEP_NS) - (t1 - next).min(STEP_NS));
            // measured either way, so the interval peaks always cover one interval
            let m = self.measure(t1);
            if cfg.measurements {
                events.push(LoudnessEvent::Measurement(m));
            }
        }
    }

    /// The current values, peaks over the interval since the last call.
    /// Momentary and short-term loudness cover the last 400 ms and 3 s of
    /// whole 100 ms steps (at the start, the audio so far over the full window length).
    pub fn measure(&mut self, timestamp: u64) -> Measurement {
        let m = Measurement {
            timestamp,
            momentary: self.window(STEPS_MOMENTARY),
            short_term: self.window(STEPS_SHORT),
            integrated: self.ebu.loudness_global().unwrap_or(f64::NEG_INFINITY),
            range: self.ebu.loudness_range().unwrap_or(0.0),
            sample_peak_db: self.interval_sample_peak.iter().map(|&p| db(p)).collect(),
            true_peak_db: if self.config.true_peak {
                self.interval_true_peak.iter().map(|&p| db(p)).collect()
            } else {
                Vec::new()
            },
        };
        self.interval_sample_peak.iter_mut().for_each(|p| *p = 0.0);
        self.interval_true_peak.iter_mut().for_each(|p| *p = 0.0);
        m
    }

    /// Ends open alarms because the stream was interrupted. The measurement
    /// itself carries on (integrated loudness covers the whole programme)
    /// unless `reset` is called.
    pub fn close(&mut self, reason: EndReason) -> Vec<LoudnessEvent> {
        self.blocks.reset();
        let mut out = Vec::new();
        if let Some(t) = self.short_term.tracker.close(reason) {
            out.push(self.short_term.event(t, AlarmKind::ShortTerm));
        }
        if let Some(t) = self.true_peak.tracker.close(reason) {
            out.push(self.true_peak.event(t, AlarmKind::TruePeak));
        }
        out
    }

    /// Starts the measurement afresh.
    pub fn reset(&mut self) {
        self.ebu.reset();
        if let Some(tp) = &mut self.tp {
            tp.reset();
        }
        self.steps.clear();
        self.blocks.reset();
        self.fed = 0;
        self.next_measure = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::samples::SampleFormat;

    const RATE: u32 = 48_000;

    /// Stereo f32 sine of `freq` Hz at `dbfs` peak, `secs` long.
    fn sine(freq: f64, dbfs: f64, secs: f64) -> Vec<u8> {
        let a = 10f64.powf(dbfs / 20.0);
        (0..(secs * RATE as f64) as usize)
            .flat_map(|i| {
                let v =
                    (a * (2.0 * std::f64::consts::PI * freq * i as f64 / RATE as f64).sin()) as f32;
                [v, v]
            })
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    fn run(m: &mut LoudnessMeter, data: &[u8], start_frame: u64) -> Vec<LoudnessEvent> {
        let mut out = Vec::new();
        for (k, chunk) in data.chunks(1024 * 8).enumerate() {
            let v = AudioView::interleaved(chunk, SampleFormat::F32, 2).unwrap();
            out.extend(m.push(
                &v,
                AudioTime {
                    base: 0,
                    offset: start_frame + k as u64 * 1024,
                },
            ));
        }
        out
    }

    #[test]
    fn tech_3341_case_1_reads_minus_23() {
        // EBU Tech 3341 test 1: stereo 1 kHz sine at -23 dBFS, 20 s
        let mut m = LoudnessMeter::new(LoudnessConfig::default(), RATE, 2).unwrap();
        let ev = run(&mut m, &sine(1000.0, -23.0, 20.0), 0);
        let measurements: Vec<&Measurement> = ev
            .iter()
            .filter_map(|e| match e {
                LoudnessEvent::Measurement(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(measurements.len(), 20);
        assert_eq!(measurements[0].timestamp, 1_000_000_000);
        let last = measurements.last().unwrap();
        for v in [last.momentary, last.short_term, last.integrated] {
            assert!((v + 23.0).abs() <= 0.1, "{v}");
        }
        assert!(last.range.abs() < 0.1);
        assert!((last.sample_peak_db[0] + 23.0).abs() < 0.01);
        assert!((last.true_peak_db[1] + 23.0).abs() < 0.1);
        // -23 is within -23 +- 5: no alarm
        assert!(ev
            .iter()
            .all(|e| matches!(e, LoudnessEvent::Measurement(_))));
    }

    #[test]
    fn alarms_for_loudness_and_true_peak() {
        let cfg = LoudnessConfig {
            min_duration: 2_000_000_000,
            ..LoudnessConfig::default()
        };
        let mut m = LoudnessMeter::new(cfg, RATE, 2).unwrap();
        // 5 s at -23, then 10 s at -10 dBFS (about -10 LUFS: too loud), peak above -1 dBTP no
        let mut ev = run(&mut m, &sine(1000.0, -23.0, 5.0), 0);
        ev.extend(run(&mut m, &sine(1000.0, -10.0, 10.0), 5 * 48_000));
        let alarms: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                LoudnessEvent::Alarm {
                    kind,
                    transition,
                    value,
                } => Some((*kind, *transition, *value)),
                _ => None,
            })
            .collect();
        assert_eq!(alarms.len(), 1, "{alarms:?}");
        let (kind, t, v) = alarms[0];
        assert_eq!(kind, AlarmKind::ShortTerm);
        // the 3 s window crosses -18 LUFS a little after the step at 5 s
        let Transition::Start { start } = t else {
            panic!()
        };
        assert!((5_000_000_000..6_500_000_000).contains(&start), "{start}");
        assert!(v > -18.0, "{v}");
        // a sine at -0.5 dBFS sampled off its peaks: true peak above -1 dBTP
        let mut m = LoudnessMeter::new(cfg, RATE, 2).unwrap();
        let ev = run(&mut m, &sine(11_025.0 + 7.0, -0.5, 1.0), 0);
        assert!(ev.iter().any(|e| matches!(
            e,
            LoudnessEvent::Alarm {
                kind: AlarmKind::TruePeak,
                ..
            }
        )));
    }
}
