//! Clipping detection: runs of consecutive samples at or beyond full scale.
//!
//! A run of at least `min_run` consecutive clipped samples on a channel is a
//! clipping run (integer samples at their extreme codes, float samples at a
//! magnitude of `level` or more, or not finite). Runs less than `merge_gap`
//! apart, on any channel, form one event: it starts at the first sample of
//! its first run and ends after the last sample of its last run; the end is
//! known (and reported) once `merge_gap` has passed without another run.

use crate::analysis::audio::samples::{AudioView, Sample};
use crate::analysis::audio::timing::AudioTime;
use crate::analysis::event::{EndReason, EventTracker, Transition};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipConfig {
    /// Fraction of full scale at or beyond which a sample is clipped (1.0:
    /// integer extremes, float magnitude 1.0).
    pub level: f32,
    /// Consecutive clipped samples that make a clipping run.
    pub min_run: u32,
    /// Runs closer than this (ns) belong to the same event.
    pub merge_gap: u64,
}

impl Default for ClipConfig {
    fn default() -> Self {
        ClipConfig {
            level: 1.0,
            min_run: 3,
            merge_gap: 500_000_000,
        }
    }
}

/// A start or end of clipping, with counts per channel over the event
/// (clipped samples in runs, and runs); at a start, the counts so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipEvent {
    pub transition: Transition,
    pub clipped_samples: Vec<u64>,
    pub runs: Vec<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Run {
    len: u64,
    start: u64,
}

#[derive(Debug, Clone)]
pub struct ClipDetector {
    config: ClipConfig,
    rate: u32,
    runs: Vec<Run>,
    /// The shared event logic: no minimum duration, a hold of `merge_gap`.
    tracker: EventTracker,
    /// End of the last clipping run fed to the tracker.
    last_end: Option<u64>,
    /// Counts of the current event, per channel.
    samples: Vec<u64>,
    counts: Vec<u64>,
}

impl ClipDetector {
    pub fn new(config: ClipConfig, rate: u32, channels: usize) -> Self {
        ClipDetector {
            config,
            rate,
            runs: vec![Run::default(); channels],
            tracker: EventTracker::with_hold(0, config.merge_gap),
            last_end: None,
            samples: vec![0; channels],
            counts: vec![0; channels],
        }
    }

    pub fn config(&self) -> ClipConfig {
        self.config
    }

    pub fn set_config(&mut self, config: ClipConfig) {
        self.config = config;
        self.tracker.set_hold(config.merge_gap);
    }

    /// One buffer whose first frame is `at`.
    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<ClipEvent> {
        let channels = self.runs.len().min(view.channels());
        let frames = view.frames();
        let min_run = u64::from(self.config.min_run.max(1));
        let level = self.config.level;
        let rate = self.rate;
        let t = |i: usize| at.frame(i, rate);
        // finished runs: (channel, start, end, length)
        let mut finished: Vec<(usize, u64, u64, u64)> = Vec::new();
        crate::with_sample_type!(view.format(), S => {
            for c in 0..channels {
                let run = &mut self.runs[c];
                if !any_clipped::<S>(view, c, level) {
                    if run.len >= min_run {
                        finished.push((c, run.start, t(0), run.len));
                    }
                    run.len = 0;
                    continue;
                }
                for (i, s) in view.channel::<S>(c, 0, frames).enumerate() {
                    if s.clipped(level) {
                        if run.len == 0 {
                            run.start = t(i);
                        }
                        run.len += 1;
                    } else {
                        if run.len >= min_run {
                            finished.push((c, run.start, t(i), run.len));
                        }
                        run.len = 0;
                    }
                }
            }
        });
        let end = t(frames);
        // runs still open at the end of the buffer that already qualify
        let open = self.runs[..channels]
            .iter()
            .filter(|r| r.len >= min_run)
            .map(|r| r.start)
            .min();
        finished.sort_by_key(|f| f.1);
        let mut events = Vec::new();
        for (c, start, stop, len) in finished {
            self.gap_until(start, &mut events);
            let new = !self.tracker.in_defect();
            let t = self.tracker.push(true, start, stop);
            if new {
                self.samples.iter_mut().for_each(|v| *v = 0);
                self.counts.iter_mut().for_each(|v| *v = 0);
            }
            self.samples[c] += len;
            self.counts[c] += 1;
            self.last_end = Some(self.last_end.map_or(stop, |e| e.max(stop)));
            events.extend(t.map(|t| self.event(t)));
        }
        match open {
            Some(first) => {
                self.gap_until(first, &mut events);
                if !self.tracker.in_defect() {
                    self.samples.iter_mut().for_each(|v| *v = 0);
                    self.counts.iter_mut().for_each(|v| *v = 0);
                }
                let t = self.tracker.push(true, first, end);
                self.last_end = Some(end);
                events.extend(t.map(|t| self.event(t)));
            }
            // clean to the end of the buffer: the event ends once merge_gap has passed
            None => self.gap_until(end, &mut events),
        }
        events
    }

    /// Clean audio from the end of the last run to `until`.
    fn gap_until(&mut self, until: u64, events: &mut Vec<ClipEvent>) {
        if let Some(last) = self.last_end {
            if until > last {
                if let Some(t) = self.tracker.push(false, last, until) {
                    self.last_end = None;
                    events.push(self.event(t));
                }
            }
        }
    }

    /// The event for `transition`, with the counts of the current event: for
    /// a start, the finished runs and the runs still open that already qualify.
    fn event(&self, transition: Transition) -> ClipEvent {
        let mut samples = self.samples.clone();
        let mut runs = self.counts.clone();
        if let Transition::Start { .. } = transition {
            let min_run = u64::from(self.config.min_run.max(1));
            for (c, r) in self.runs.iter().enumerate() {
                if r.len >= min_run {
                    samples[c] += r.len;
                    runs[c] += 1;
                }
            }
        }
        ClipEvent {
            transition,
            clipped_samples: samples,
            runs,
        }
    }

    /// Ends a clipping event because the stream was interrupted; runs still
    /// open count up to where they stopped.
    pub fn close(&mut self, reason: EndReason) -> Vec<ClipEvent> {
        let min_run = u64::from(self.config.min_run.max(1));
        if self.tracker.in_defect() {
            for (c, r) in self.runs.iter().enumerate() {
                if r.len >= min_run {
                    self.samples[c] += r.len;
                    self.counts[c] += 1;
                }
            }
        }
        self.runs.iter_mut().for_each(|r| r.len = 0);
        self.last_end = None;
        self.tracker
            .close(reason)
            .map(|t| self.event(t))
            .into_iter()
            .collect()
    }
}

/// Whether channel `c` has any clipped sample (a fast scan before the run logic).
#[inline]
fn any_clipped<S: Sample>(view: &AudioView<'_>, c: usize, level: f32) -> bool {
    view.channel::<S>(c, 0, view.frames())
        .fold(false, |a, s| a | s.clipped(level))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::samples::SampleFormat;

    const RATE: u32 = 48_000;

    fn ns(i: u64) -> u64 {
        crate::analysis::audio::timing::frames_to_ns(i, RATE)
    }

    /// Mono S16: a sine at 0.5 of full scale with clipped stretches.
    fn mono(len: usize, clipped: &[(usize, usize)]) -> Vec<u8> {
        (0..len)
            .map(|i| {
                if clipped.iter().any(|&(a, b)| (a..b).contains(&i)) {
                    if i % 2 == 0 {
                        i16::MAX
                    } else {
                        i16::MIN
                    }
                } else {
                    (16384.0 * (i as f64 * 0.05).sin()) as i16
                }
            })
            .flat_map(|v| v.to_le_bytes())
            .collect()
    }

    /// Equal within 1 ns (buffer times and sample offsets are each rounded down).
    fn same(a: Transition, b: Transition) -> bool {
        match (a, b) {
            (Transition::Start { start: x }, Transition::Start { start: y }) => x.abs_diff(y) <= 1,
            (
                Transition::End {
                    start: s1,
                    end: e1,
                    reason: r1,
                },
                Transition::End {
                    start: s2,
                    end: e2,
                    reason: r2,
                },
            ) => s1.abs_diff(s2) <= 1 && e1.abs_diff(e2) <= 1 && r1 == r2,
            _ => false,
        }
    }

    fn run(d: &mut ClipDetector, data: &[u8], chunk_frames: usize) -> Vec<ClipEvent> {
        let mut out = Vec::new();
        for (k, chunk) in data.chunks(chunk_frames * 2).enumerate() {
            let v = AudioView::interleaved(chunk, SampleFormat::S16, 1).unwrap();
            out.extend(d.push(
                &v,
                AudioTime {
                    base: 0,
                    offset: (k * chunk_frames) as u64,
                },
            ));
        }
        out
    }

    #[test]
    fn bursts_merge_and_counts_add_up() {
        // runs of 5 and 4 samples 0.1 s apart, then a run 1.5 s later
        let data = mono(
            48_000 * 3,
            &[
                (1000, 1005),
                (5800, 5804),
                (80_000, 80_010),
                (90_000, 90_002),
            ],
        );
        for chunk in [480, 1000, 7] {
            let mut d = ClipDetector::new(ClipConfig::default(), RATE, 1);
            let mut ev = run(&mut d, &data, chunk);
            ev.extend(d.close(EndReason::Eos));
            assert_eq!(ev.len(), 4, "chunk {chunk}: {ev:?}");
            // the start counts the first run (as far as it had got)
            assert_eq!(ev[0].runs, vec![1], "chunk {chunk}");
            assert!(ev[0].clipped_samples[0] >= 3, "chunk {chunk}");
            assert!(
                same(ev[0].transition, Transition::Start { start: ns(1000) }),
                "{ev:?}"
            );
            assert!(
                same(
                    ev[1].transition,
                    Transition::End {
                        start: ns(1000),
                        end: ns(5804),
                        reason: EndReason::Recovered
                    }
                ),
                "{ev:?}"
            );
            assert_eq!(
                (ev[1].clipped_samples.clone(), ev[1].runs.clone()),
                (vec![9], vec![2])
            );
            assert!(
                same(ev[2].transition, Transition::Start { start: ns(80_000) }),
                "{ev:?}"
            );
            // the 2-sample run is below min-run
            assert_eq!(
                (ev[3].clipped_samples.clone(), ev[3].runs.clone()),
                (vec![10], vec![1])
            );
            // more than merge-gap of clean audio follows before the end of the data
            assert!(
                same(
                    ev[3].transition,
                    Transition::End {
                        start: ns(80_000),
                        end: ns(80_010),
                        reason: EndReason::Recovered
                    }
                ),
                "{ev:?}"
            );
        }
    }

    #[test]
    fn loud_clean_audio_is_not_clipping() {
        // peaks at -0.5 dBFS
        let a = 32767.0 * 10f64.powf(-0.5 / 20.0);
        let data: Vec<u8> = (0..48_000)
            .map(|i| (a * (i as f64 * 0.05).sin()) as i16)
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut d = ClipDetector::new(ClipConfig::default(), RATE, 1);
        assert!(run(&mut d, &data, 480).is_empty());
        assert!(d.close(EndReason::Eos).is_empty());
    }

    #[test]
    fn float_levels_and_non_finite() {
        let data: Vec<u8> = [0.5f32, 1.0, 1.2, f32::NAN, 0.1, 0.96, 0.97, 0.98]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let v = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
        let mut d = ClipDetector::new(ClipConfig::default(), RATE, 1);
        let ev = d.push(&v, AudioTime::at(0));
        assert_eq!(ev[0].transition, Transition::Start { start: ns(1) });
        let ev = d.close(EndReason::Eos);
        assert_eq!(
            (ev[0].clipped_samples.clone(), ev[0].runs.clone()),
            (vec![3], vec![1])
        );
        // a lower level makes the last three a run too
        let mut d = ClipDetector::new(
            ClipConfig {
                level: 0.95,
                ..ClipConfig::default()
            },
            RATE,
            1,
        );
        d.push(&v, AudioTime::at(0));
        let ev = d.close(EndReason::Eos);
        assert_eq!(
            (ev[0].clipped_samples.clone(), ev[0].runs.clone()),
            (vec![6], vec![2])
        );
    }
}
