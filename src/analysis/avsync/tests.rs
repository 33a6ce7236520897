use super::audio::*;
use super::*;
use crate::analysis::audio::samples::SampleFormat;
use crate::analysis::audio::timing::frames_to_ns;

const RATE: u32 = 48_000;
const W: usize = 64;
const H: usize = 36;

/// Drives a sync measurement with generated media: `picture(t)` gives the
/// luma of the frame starting at `t`, `sound(t)` the sample at `t` (ns),
/// frames of `frame` ns, audio in 10 ms buffers, interleaved in time.
struct Sim {
    sync: AvSync,
    frame: f64,
    vt: u64,
    vi: u64,
    ai: u64,
    events: Vec<SyncEvent>,
}

impl Sim {
    fn new(config: SyncConfig, fps: f64) -> Self {
        Sim {
            sync: AvSync::new(config),
            frame: 1e9 / fps,
            vt: 0,
            vi: 0,
            ai: 0,
            events: Vec::new(),
        }
    }

    fn run(&mut self, until: u64, picture: impl Fn(u64) -> Vec<u8>, sound: impl Fn(f64) -> f32) {
        loop {
            let at = frames_to_ns(self.ai, RATE);
            if self.vt >= until && at >= until {
                break;
            }
            if self.vt <= at && self.vt < until {
                self.frame(&picture);
            } else {
                self.audio(&sound);
            }
        }
    }

    /// Video alone up to `until`, then its end of stream.
    fn video_to_eos(&mut self, until: u64, picture: impl Fn(u64) -> Vec<u8>) {
        while self.vt < until {
            self.frame(&picture);
        }
        self.sync.eos(Media::Video, &mut self.events);
    }

    /// Audio alone up to `until`, then its end of stream.
    fn audio_to_eos(&mut self, until: u64, sound: impl Fn(f64) -> f32) {
        while frames_to_ns(self.ai, RATE) < until {
            self.audio(&sound);
        }
        self.sync.eos(Media::Audio, &mut self.events);
    }

    fn frame(&mut self, picture: &impl Fn(u64) -> Vec<u8>) {
        let luma = picture(self.vt);
        let plane = LumaPlane::gray8(&luma, W, H).unwrap();
        self.vi += 1;
        let end = (self.vi as f64 * self.frame).round() as u64;
        self.sync.push_video(&plane, self.vt, end, &mut self.events);
        self.vt = end;
    }

    fn audio(&mut self, sound: &impl Fn(f64) -> f32) {
        let n = 480;
        let data: Vec<u8> = (0..n)
            .flat_map(|i| {
                let t = (self.ai + i) as f64 / f64::from(RATE);
                sound(t).to_le_bytes()
            })
            .collect();
        let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
        let at = AudioTime::at(frames_to_ns(self.ai, RATE));
        self.sync.push_audio(&view, at, RATE, &mut self.events);
        self.ai += n;
    }

    fn measurements(&self) -> Vec<Measurement> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Measurement(m) => Some(*m),
                _ => None,
            })
            .collect()
    }

    fn alarms(&self) -> Vec<SyncEvent> {
        self.events
            .iter()
            .filter(|e| !matches!(e, SyncEvent::Measurement(_)))
            .copied()
            .collect()
    }
}

fn flat(v: u8) -> Vec<u8> {
    vec![v; W * H]
}

/// A 1 kHz beep of 100 ms every `period` s, `offset` s after the flash at
/// the start of each period.
fn beeps(period: f64, offset: impl Fn(f64) -> f64) -> impl Fn(f64) -> f32 {
    move |t: f64| {
        let k = (t / period).round();
        let start = k * period + offset(k * period);
        let dt = t - start;
        if (0.0..0.1).contains(&dt) {
            (0.5 * (2.0 * std::f64::consts::PI * 1000.0 * dt).sin()) as f32
        } else {
            0.0
        }
    }
}

#[test]
fn beep_onset_is_timed_to_the_sample() {
    let mut a = AudioAnalyser::new(RATE);
    let onset = 0.5123; // s, not on a block or buffer boundary
    let mut marks = Vec::new();
    for b in 0..100u64 {
        let data: Vec<u8> = (0..480u64)
            .flat_map(|i| {
                let t = (b * 480 + i) as f64 / 48_000.0 - onset;
                let v = if t >= 0.0 {
                    0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                } else {
                    0.0
                };
                (v as f32).to_le_bytes()
            })
            .collect();
        let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
        a.push(
            &view,
            AudioTime {
                base: 0,
                offset: b * 480,
            },
            &mut marks,
        );
    }
    let beeps: Vec<u64> = marks
        .iter()
        .filter_map(|m| match m {
            AudioMark::Beep(t, _) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(beeps.len(), 1, "{marks:?}");
    // 0.3 of the peak is reached 0.11 ms into a 440 Hz sine
    assert!(beeps[0].abs_diff(512_300_000) < 200_000, "{beeps:?}");
}

#[test]
fn flash_and_beep_give_the_offset_at_every_rate() {
    for fps in [25.0, 30000.0 / 1001.0, 50.0, 60.0] {
        for off_ms in [
            -500.0, -200.0, -80.0, -40.0, 0.0, 17.0, 40.0, 80.0, 200.0, 500.0,
        ] {
            let frame = 1e9 / fps;
            // the flash is at the first frame of each 2 s period
            let mut sim = Sim::new(SyncConfig::default(), fps);
            let flash_at = move |k: f64| (((k * 1e9) / frame).ceil() * frame).round() / 1e9 - k;
            sim.run(
                9 * 1_000_000_000,
                move |t| {
                    let k = ((t as f64) / 2e9).floor();
                    let first = (((k * 2e9) / frame).ceil() * frame).round() as u64;
                    flat(if t == first { 235 } else { 16 })
                },
                beeps(2.0, move |k| flash_at(k) + off_ms / 1000.0),
            );
            let ms = sim.measurements();
            let pairs: Vec<_> = ms
                .iter()
                .filter(|m| m.method == Method::TestSignal)
                .collect();
            assert!(pairs.len() >= 3, "{fps} {off_ms}: {ms:?}");
            for m in &pairs {
                let err = (m.offset as f64 / 1e6 - off_ms).abs();
                assert!(
                    err < 1.0,
                    "{fps} fps, {off_ms} ms: measured {} ms",
                    m.offset as f64 / 1e6
                );
            }
            assert!(pairs[1..].iter().all(|m| m.confidence == 1.0), "{pairs:?}");
        }
    }
}

/// A flash at the first frame of each `period`-second period, at `fps`.
fn flash_pictures(period: f64, fps: f64) -> impl Fn(u64) -> Vec<u8> {
    let frame = 1e9 / fps;
    move |t| {
        let k = ((t as f64) / (period * 1e9)).floor();
        let first = (((k * period * 1e9) / frame).ceil() * frame).round() as u64;
        flat(if t == first { 235 } else { 16 })
    }
}

#[test]
fn a_drift_is_followed() {
    // -90 ms drifting to +150 ms over 24 s, at 25 fps
    let drift = |t: f64| -0.09 + 0.01 * t;
    let mut sim = Sim::new(SyncConfig::default(), 25.0);
    sim.run(
        25 * 1_000_000_000,
        flash_pictures(2.0, 25.0),
        beeps(2.0, drift),
    );
    let ms: Vec<_> = sim
        .measurements()
        .into_iter()
        .filter(|m| m.method == Method::TestSignal)
        .collect();
    // the first beep (at -90 ms) is before the audio starts
    assert_eq!(ms.len(), 12, "{ms:?}");
    for m in &ms {
        let want = drift(m.at as f64 / 1e9) * 1e3;
        assert!(
            (m.offset as f64 / 1e6 - want).abs() < 1.0,
            "{m:?} want {want}"
        );
    }
    // EBU R37: -70 ms at 2 s is out, but the first pair is not trusted
    // yet; -50 at 4 s starts an alarm, -30 at 6 s ends it; +70 at 16 s
    // starts another, open at the end
    let alarms: Vec<_> = sim
        .alarms()
        .into_iter()
        .map(|e| match e {
            SyncEvent::Offset { transition, offset } => {
                (transition.timestamp() / MS, (offset as f64 / 1e6).round())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(alarms, vec![(4000, -50.0), (6000, -50.0), (16000, 70.0)]);
}

#[test]
fn alarm_starts_and_ends_at_the_measurements() {
    let offset = |t: f64| if (4.0..10.0).contains(&t) { -0.08 } else { 0.0 };
    let mut sim = Sim::new(SyncConfig::default(), 25.0);
    sim.run(
        14 * 1_000_000_000,
        flash_pictures(2.0, 25.0),
        beeps(2.0, offset),
    );
    // offsets to the nearest ms (a beep's onset is found 0.05 ms in)
    let alarms: Vec<_> = sim
        .alarms()
        .into_iter()
        .map(|e| match e {
            SyncEvent::Offset { transition, offset } => (transition, (offset as f64 / 1e6).round()),
            other => panic!("{other:?}"),
        })
        .collect();
    // pairs at 4, 6 and 8 s are 80 ms early (EBU R37 allows 40): the pair
    // at 4 s is the first after a change, so not yet trusted; the one at
    // 6 s agrees with it and starts the alarm; the pair at 10 s is back in
    // sync but not yet trusted, the one at 12 s ends the alarm
    assert_eq!(
        alarms,
        vec![
            (
                Transition::Start {
                    start: 6_000_000_000
                },
                -80.0
            ),
            (
                Transition::End {
                    start: 6_000_000_000,
                    end: 12_000_000_000,
                    reason: EndReason::Recovered
                },
                -80.0
            ),
        ],
        "{:?}",
        sim.measurements()
    );
}

/// Files run ahead of each other: whichever stream ends first, the
/// alarm lasts to the last pair, as when both end together (it ended at
/// the first end of stream and started again on the pairs after it).
#[test]
fn an_alarm_lasts_to_the_last_pair_whichever_stream_ends_first() {
    let end = 20 * 1_000_000_000;
    let late = |_: f64| 0.08;
    let mut together = Sim::new(SyncConfig::default(), 25.0);
    together.run(end, flash_pictures(2.0, 25.0), beeps(2.0, late));
    together.sync.eos(Media::Video, &mut together.events);
    together.sync.eos(Media::Audio, &mut together.events);
    let expected = together.alarms();
    let Some(SyncEvent::Offset {
        transition: Transition::End {
            end: last, reason, ..
        },
        ..
    }) = expected.last().copied()
    else {
        panic!("{expected:?}");
    };
    assert_eq!(expected.len(), 2, "{expected:?}");
    assert_eq!(reason, EndReason::Eos);
    // the flash at 18 s pairs with its beep at 18.08 s
    assert_eq!(last, 18_000_000_000);
    for audio_first in [true, false] {
        let mut sim = Sim::new(SyncConfig::default(), 25.0);
        if audio_first {
            sim.audio_to_eos(end, beeps(2.0, late));
            sim.video_to_eos(end, flash_pictures(2.0, 25.0));
        } else {
            sim.video_to_eos(end, flash_pictures(2.0, 25.0));
            sim.audio_to_eos(end, beeps(2.0, late));
        }
        assert_eq!(sim.alarms(), expected, "audio first: {audio_first}");
    }
}

/// Scenes cut at irregular times; each has its own picture and its own
/// sound (tone and level), the sound switching `offset` s after the picture.
fn scenes(offset: f64) -> (impl Fn(u64) -> Vec<u8>, impl Fn(f64) -> f32) {
    const CUTS: [f64; 12] = [
        0.0, 1.3, 2.9, 3.7, 5.6, 6.4, 8.1, 9.5, 10.2, 12.0, 13.1, 14.9,
    ];
    let scene = |t: f64| CUTS.iter().rposition(|&c| c <= t).unwrap_or(0);
    let picture = move |t: u64| {
        let k = scene(t as f64 / 1e9);
        (0..W * H)
            .map(|i| (40 + (k * 37 + (i % W) * (k + 1) * 3 + (i / W) * 5) % 180) as u8)
            .collect()
    };
    let sound = move |t: f64| {
        let k = scene((t - offset).max(0.0));
        let f = [220.0, 1800.0, 440.0, 3000.0, 660.0][k % 5];
        let a = [0.3, 0.05, 0.2, 0.1, 0.4][k % 5];
        (a * (2.0 * std::f64::consts::PI * f * t).sin()) as f32
    };
    (picture, sound)
}

#[test]
fn content_gives_the_offset_within_a_frame() {
    for off_ms in [-200.0, -40.0, 0.0, 17.0, 80.0, 200.0] {
        let (picture, sound) = scenes(off_ms / 1000.0);
        let config = SyncConfig {
            mode: Mode::Content,
            ..SyncConfig::default()
        };
        let mut sim = Sim::new(config, 25.0);
        sim.run(16 * 1_000_000_000, picture, sound);
        let ms = sim.measurements();
        let sure: Vec<_> = ms.iter().filter(|m| m.confidence >= 0.5).collect();
        assert!(sure.len() >= 8, "{off_ms}: {ms:?}");
        for m in sure {
            assert_eq!(m.method, Method::Content);
            let err = (m.offset as f64 / 1e6 - off_ms).abs();
            assert!(err <= 40.0, "{off_ms} ms: {m:?}");
        }
    }
}

/// Notes at irregular times, each with its own pitch.
fn music(t: f64) -> f32 {
    let note = (t * 3.3 + (t * 0.7).sin()).floor();
    let f = 220.0 * 2f64.powf((note * 7.0 % 12.0) / 12.0);
    let into = (t * 3.3 + (t * 0.7).sin()).fract();
    (0.3 * (-4.0 * into).exp() * (2.0 * std::f64::consts::PI * f * t).sin()) as f32
}

#[test]
fn still_picture_with_music_cannot_tell() {
    let mut sim = Sim::new(SyncConfig::default(), 25.0);
    let (picture, _) = scenes(0.0);
    let still = picture(0);
    sim.run(20 * 1_000_000_000, |_| still.clone(), music);
    let ms = sim.measurements();
    assert!(ms.len() >= 15, "{ms:?}");
    assert!(
        ms.iter()
            .all(|m| m.confidence == 0.0 && m.observations == 0),
        "{ms:?}"
    );
    assert!(sim.alarms().is_empty());
}

#[test]
fn unrelated_cuts_and_music_give_no_alarm() {
    let mut sim = Sim::new(SyncConfig::default(), 25.0);
    let (picture, _) = scenes(0.0);
    sim.run(20 * 1_000_000_000, picture, music);
    let ms = sim.measurements();
    assert!(ms.iter().all(|m| m.confidence < 0.5), "{ms:?}");
    assert!(sim.alarms().is_empty(), "{:?}", sim.alarms());
}

/// Video at 25 fps for 10 s; audio (in 10 ms buffers) stops after 3 s
/// and comes back at 8 s. The stall events, each with the video time
/// when it came.
fn audio_stall(live: bool) -> Vec<(u64, SyncEvent)> {
    audio_stall_with(live, SyncConfig::default(), 1)
}

/// As [`audio_stall`], in `config`, pushing one video frame in `step`
/// (the others skipped, as a decoder skipping B-frames leaves them).
fn audio_stall_with(live: bool, config: SyncConfig, step: u64) -> Vec<(u64, SyncEvent)> {
    let mut sync = AvSync::new(config);
    sync.set_live(live);
    let mut got = Vec::new();
    let data = vec![0u8; 480 * 4];
    let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
    let luma = flat(16);
    let plane = LumaPlane::gray8(&luma, W, H).unwrap();
    let f = 40 * MS;
    for i in 0..250u64 {
        let t = i * f;
        let mut out = Vec::new();
        if i % step == 0 {
            sync.push_video(&plane, t, t + f, &mut out);
        }
        if !(3000 * MS..8000 * MS).contains(&t) {
            for k in 0..4 {
                let at = AudioTime::at(t + k * 10 * MS);
                sync.push_audio(&view, at, RATE, &mut out);
            }
        }
        got.extend(
            out.into_iter()
                .filter(|e| matches!(e, SyncEvent::Stall { .. }))
                .map(|e| (t, e)),
        );
    }
    got
}

fn audio_stall_events(start_seen: u64) -> Vec<(u64, SyncEvent)> {
    let start = Transition::Start { start: 3000 * MS };
    let end = Transition::End {
        start: 3000 * MS,
        end: 8000 * MS,
        reason: EndReason::Recovered,
    };
    let ev = |transition| SyncEvent::Stall {
        media: Media::Audio,
        transition,
    };
    vec![(start_seen, ev(start)), (8000 * MS, ev(end))]
}

#[test]
fn a_live_stall_is_reported_once_the_other_stream_is_ahead() {
    // video's frame at 4.96 s takes it to 5 s, 2 s past the audio
    assert_eq!(audio_stall(true), audio_stall_events(4960 * MS));
}

#[test]
fn stall_mode_watches_stalls_on_skipped_frames() {
    let stall = SyncConfig {
        mode: Mode::Stall,
        ..SyncConfig::default()
    };
    // (live, one video frame in `step`, the video time the start comes at)
    for (live, step, seen) in [
        // every frame, as the default mode
        (true, 1, 4960),
        // one in 4 (IBBBP with the B-frames skipped): frame 124, at 4.96 s,
        // is one of them
        (true, 4, 4960),
        // one in 3 (IBBP): frame 123 ends at 4.96 s, short of 5 s; frame
        // 126, at 5.04 s, is the first ahead
        (true, 3, 5040),
        // from files: at the hole's end
        (false, 3, 8000),
    ] {
        assert_eq!(
            audio_stall_with(live, stall, step),
            audio_stall_events(seen * MS),
            "live {live}, one frame in {step}"
        );
    }
}

#[test]
fn stall_mode_measures_no_offset() {
    // the pairs of `alarm_starts_and_ends_at_the_measurements`, 80 ms early
    // from 4 to 10 s, which raise an alarm in the default mode
    let offset = |t: f64| if (4.0..10.0).contains(&t) { -0.08 } else { 0.0 };
    let stall = SyncConfig {
        mode: Mode::Stall,
        ..SyncConfig::default()
    };
    let mut sim = Sim::new(stall, 25.0);
    sim.run(
        14 * 1_000_000_000,
        flash_pictures(2.0, 25.0),
        beeps(2.0, offset),
    );
    assert_eq!(sim.events, vec![]);
    // turned to stall halfway, with pairs already waiting: nothing after
    let mut sim = Sim::new(SyncConfig::default(), 25.0);
    sim.run(3_100_000_000, flash_pictures(2.0, 25.0), beeps(2.0, offset));
    let before = sim.events.len();
    assert!(before > 0, "measured before");
    sim.sync.set_config(stall);
    sim.run(
        14 * 1_000_000_000,
        flash_pictures(2.0, 25.0),
        beeps(2.0, offset),
    );
    assert_eq!(sim.events.len(), before, "{:?}", &sim.events[before..]);
}

#[test]
fn a_hole_in_the_timestamps_is_a_stall() {
    // from files, streams run ahead of each other by what the queues
    // after them hold: only the hole tells, when audio comes back
    assert_eq!(audio_stall(false), audio_stall_events(8000 * MS));
}
