//! Audio test helpers: buffers in any format and layout from f64 samples,
//! signal generators, and the behaviour every audio detector shares.
#![allow(dead_code)]

use gst_audio::{AudioFormat, AudioInfo, AudioLayout};

use super::*;

pub const RATE: u32 = 48_000;

pub fn ainfo(format: AudioFormat, rate: u32, channels: u32, layout: AudioLayout) -> AudioInfo {
    init();
    AudioInfo::builder(format, rate, channels)
        .layout(layout)
        .build()
        .expect("audio info")
}

pub fn stereo() -> AudioInfo {
    ainfo(AudioFormat::F32le, RATE, 2, AudioLayout::Interleaved)
}

fn encode(format: AudioFormat, v: f64, out: &mut Vec<u8>) {
    let int = |bits: u32| {
        let max = ((1i64 << (bits - 1)) - 1) as f64;
        (v * (max + 1.0)).round().clamp(-(max + 1.0), max) as i64
    };
    match format {
        AudioFormat::S16le => out.extend((int(16) as i16).to_le_bytes()),
        AudioFormat::S24le => out.extend(&(int(24) as i32).to_le_bytes()[..3]),
        AudioFormat::S2432le => out.extend((int(24) as i32).to_le_bytes()),
        AudioFormat::S32le => out.extend((int(32) as i32).to_le_bytes()),
        AudioFormat::F32le => out.extend((v as f32).to_le_bytes()),
        AudioFormat::F64le => out.extend(v.to_le_bytes()),
        f => panic!("no encoder for {f:?}"),
    }
}

/// A buffer of `info` holding `frames` frames, sample (channel, frame) from
/// `gen`; planar layouts get their audio meta.
pub fn abuffer(info: &AudioInfo, frames: usize, gen: impl Fn(usize, usize) -> f64) -> gst::Buffer {
    let ch = info.channels() as usize;
    let mut data = Vec::with_capacity(frames * info.bpf() as usize);
    if info.layout() == AudioLayout::Interleaved {
        for f in 0..frames {
            for c in 0..ch {
                encode(info.format(), gen(c, f), &mut data);
            }
        }
    } else {
        for c in 0..ch {
            for f in 0..frames {
                encode(info.format(), gen(c, f), &mut data);
            }
        }
    }
    let mut buf = gst::Buffer::from_mut_slice(data);
    if info.layout() == AudioLayout::NonInterleaved {
        gst_audio::AudioMeta::add(buf.get_mut().unwrap(), info, frames, &[]).expect("audio meta");
    }
    buf
}

/// A music-like signal: three partials with a slow envelope, about -20 dBFS.
pub fn music(c: usize, i: usize, rate: u32) -> f64 {
    let t = i as f64 / rate as f64;
    let env = 0.7 + 0.3 * (t * 2.0 * std::f64::consts::PI * 0.7).sin();
    let tau = 2.0 * std::f64::consts::PI;
    let f0 = if c.is_multiple_of(2) { 220.0 } else { 277.18 };
    0.1 * env
        * ((tau * f0 * t).sin()
            + 0.5 * (tau * 2.0 * f0 * t + 0.3).sin()
            + 0.25 * (tau * 3.1 * f0 * t).sin())
        + 0.03 * (tau * 523.25 * t).sin()
}

/// An audio element under test: its factory, properties that make its
/// defect events count after `min` ns, and generators of good and defective
/// samples (channel, frame).
pub struct ASpec {
    pub factory: &'static str,
    pub props: fn(u64) -> Vec<(&'static str, gst::glib::Value)>,
    pub defect: fn(usize, usize) -> f64,
    pub good: fn(usize, usize) -> f64,
    /// How long after the last defective sample the end is known (clip: the merge gap).
    pub end_delay: u64,
    /// How far an event time may be from the truth: 0 for sample- or
    /// block-exact detectors; phasedetect judges 5 ms blocks, and an ordinary
    /// block next to the defect may correlate just as badly by chance.
    pub tolerance: u64,
}

/// Checks `got` against `want` (kind, time, reason), times within `tol`.
pub fn assert_events(got: &[Ev], want: &[(&str, u64, Option<&str>)], tol: u64) {
    let ok = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g.kind == w.0 && g.ts.abs_diff(w.1) <= tol && g.reason == w.2);
    assert!(
        ok,
        "got {:?}, want {want:?} (within {tol} ns)",
        summary(got)
    );
}

pub struct ARun {
    pub run: Run,
    pub info: AudioInfo,
    /// Frames pushed so far.
    pub frames: usize,
}

impl ARun {
    pub fn new(spec: &ASpec, min: u64, info: &AudioInfo) -> ARun {
        init();
        let props = (spec.props)(min);
        let refs: Vec<(&str, &dyn gst::glib::value::ToValue)> = props
            .iter()
            .map(|(k, v)| (*k, v as &dyn gst::glib::value::ToValue))
            .collect();
        ARun {
            run: Run::new(spec.factory, &refs, &info.to_caps().unwrap()),
            info: info.clone(),
            frames: 0,
        }
    }

    /// Pushes `ms` milliseconds in 10 ms buffers, defective or good,
    /// timestamped from the frame count; returns the events.
    pub fn play(&mut self, spec: &ASpec, ms: usize, defect: bool) -> Vec<Ev> {
        let rate = self.info.rate() as usize;
        let per = rate / 100;
        let mut out = Vec::new();
        for _ in 0..ms / 10 {
            let first = self.frames;
            let g = if defect { spec.defect } else { spec.good };
            let buf = abuffer(&self.info, per, |c, f| g(c, first + f));
            let pts = first as u64 * SECOND / rate as u64;
            out.extend(
                self.run
                    .push(timed(
                        buf,
                        Some(pts),
                        Some(per as u64 * SECOND / rate as u64),
                    ))
                    .iter()
                    .map(|s| ev(s)),
            );
            self.frames += per;
        }
        out
    }
}

pub const MS: u64 = 1_000_000;

fn summary(evs: &[Ev]) -> Vec<(&'static str, u64, Option<&'static str>)> {
    evs.iter().map(|e| (e.kind, e.ts, e.reason)).collect()
}

/// Start back-dated to the first defective sample, end at the first good one.
pub fn exact_timing(spec: &ASpec) {
    let mut r = ARun::new(spec, 1000 * MS, &stereo());
    let mut evs = r.play(spec, 1000, false);
    evs.extend(r.play(spec, 3000, true));
    evs.extend(r.play(spec, 1000 + (spec.end_delay / MS) as usize + 10, false));
    assert_eq!(
        summary(&evs),
        vec![
            ("start", 1000 * MS, None),
            ("end", 4000 * MS, Some("recovered"))
        ],
        "{evs:?}"
    );
    assert_eq!(evs[1].duration, Some(3000 * MS));
    assert_eq!(evs[0].running, Some(1000 * MS));
}

/// EOS during a defect ends it where the data ended.
pub fn eos_closes_defect(spec: &ASpec) {
    let mut r = ARun::new(spec, 500 * MS, &stereo());
    r.play(spec, 500, false);
    r.play(spec, 1000, true);
    let m: Vec<Ev> = r
        .run
        .event(gst::event::Eos::new())
        .iter()
        .map(|s| ev(s))
        .collect();
    assert_events(&m, &[("end", 1500 * MS, Some("eos"))], spec.tolerance);
}

/// A flushing seek ends the defect; analysis goes on after it.
pub fn flush_closes_defect(spec: &ASpec) {
    let mut r = ARun::new(spec, 500 * MS, &stereo());
    r.play(spec, 1000, true);
    r.run.event(gst::event::FlushStart::new());
    let m: Vec<Ev> = r
        .run
        .event(gst::event::FlushStop::new(true))
        .iter()
        .map(|s| ev(s))
        .collect();
    assert_eq!(
        summary(&m),
        vec![("end", 1000 * MS, Some("flush"))],
        "{m:?}"
    );
    r.run
        .h
        .push_event(gst::event::Segment::new(&gst::FormattedSegment::<
            gst::ClockTime,
        >::new()));
    r.frames = 0;
    let evs = r.play(spec, 1000, true);
    assert_events(&evs, &[("start", 0, None)], spec.tolerance);
}

/// A caps change ends the defect (caps-change); the new format is analysed.
pub fn caps_change_closes_defect(spec: &ASpec) {
    let mut r = ARun::new(spec, 500 * MS, &stereo());
    r.play(spec, 1000, true);
    // rate, channel count, format and layout all change
    let info = ainfo(AudioFormat::S16le, 44_100, 4, AudioLayout::NonInterleaved);
    r.run.h.set_src_caps(info.to_caps().unwrap());
    // times go on from 1 s at the new rate
    r.info = info;
    r.frames = 44_100;
    let evs = r.play(spec, 1000, true);
    assert_eq!(
        summary(&evs),
        vec![
            ("end", 1000 * MS, Some("caps-change")),
            ("start", 1000 * MS, None)
        ],
        "{evs:?}"
    );
}

/// Buffers without timestamps are timed from the sample count; a timestamp
/// going backwards ends the defect (discont).
pub fn timestamps_from_sample_counts(spec: &ASpec) {
    let info = stereo();
    let mut r = ARun::new(spec, 500 * MS, &info);
    let mut evs = Vec::new();
    for k in 0..150usize {
        let defect = k >= 50;
        let g = if defect { spec.defect } else { spec.good };
        let buf = abuffer(&info, 480, |c, f| g(c, k * 480 + f));
        evs.extend(r.run.push(buf).iter().map(|s| ev(s)));
    }
    assert_events(&evs, &[("start", 500 * MS, None)], spec.tolerance);
    let g = spec.defect;
    let back = timed(abuffer(&info, 480, g), Some(200 * MS), None);
    let evs: Vec<Ev> = r.run.push(back).iter().map(|s| ev(s)).collect();
    assert_eq!(
        summary(&evs)[0],
        ("end", 1500 * MS, Some("discont")),
        "{evs:?}"
    );
}

/// Empty buffers, GAP buffers, gap events and non-finite samples pass
/// untouched without trouble.
pub fn odd_buffers(spec: &ASpec) {
    let info = stereo();
    let mut r = ARun::new(spec, 500 * MS, &info);
    r.play(spec, 100, false);
    r.run
        .push(timed(gst::Buffer::new(), Some(100 * MS), Some(0)));
    let mut gap = abuffer(&info, 480, |_, _| 0.0);
    gap.get_mut().unwrap().set_flags(gst::BufferFlags::GAP);
    r.run.push(timed(gap, Some(100 * MS), Some(10 * MS)));
    r.frames += 480;
    let nan = abuffer(
        &info,
        480,
        |c, _| if c == 0 { f64::NAN } else { f64::INFINITY },
    );
    r.run.push(timed(nan, Some(110 * MS), Some(10 * MS)));
    r.frames += 480;
    r.run.event(
        gst::event::Gap::builder(gst::ClockTime::from_nseconds(120 * MS))
            .duration(gst::ClockTime::from_nseconds(100 * MS))
            .build(),
    );
    r.frames += 4800;
    r.play(spec, 100, false);
    // bad caps are refused at the pad
    let mut h = gst_check::Harness::new(spec.factory);
    h.set_src_caps(
        gst::Caps::builder("audio/x-raw")
            .field("format", "U8")
            .field("rate", 48_000)
            .field("channels", 2)
            .field("layout", "interleaved")
            .build(),
    );
    assert_eq!(
        h.push(gst::Buffer::with_size(64).unwrap()),
        Err(gst::FlowError::NotNegotiated)
    );
}

/// Every format, both layouts, 1 to 64 channels, 8 to 192 kHz: the same events.
pub fn every_format_and_layout(spec: &ASpec) {
    let mut failures = Vec::new();
    for format in [
        AudioFormat::S16le,
        AudioFormat::S24le,
        AudioFormat::S2432le,
        AudioFormat::S32le,
        AudioFormat::F32le,
        AudioFormat::F64le,
    ] {
        for layout in [AudioLayout::Interleaved, AudioLayout::NonInterleaved] {
            for (rate, channels) in [
                (48_000, 2),
                (8_000, 2),
                (192_000, 2),
                (44_100, 6),
                (48_000, 64),
            ] {
                let info = ainfo(format, rate, channels, layout);
                let mut r = ARun::new(spec, 300 * MS, &info);
                let mut evs = r.play(spec, 200, false);
                evs.extend(r.play(spec, 500, true));
                evs.extend(r.play(spec, 200 + (spec.end_delay / MS) as usize + 10, false));
                // within one 5 ms analysis block where the rate does not
                // divide into blocks evenly (44.1 kHz)
                let got = summary(&evs);
                let ok = got.len() == 2
                    && got[0].0 == "start"
                    && got[0].1.abs_diff(200 * MS) <= 5 * MS + spec.tolerance
                    && got[1].0 == "end"
                    && got[1].1.abs_diff(700 * MS) <= 5 * MS + spec.tolerance
                    && got[1].2 == Some("recovered");
                if !ok {
                    failures.push(format!(
                        "{format:?} {layout:?} {rate} Hz x{channels}: {got:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// One `#[test]` per shared audio behaviour for the element of `$spec`.
#[macro_export]
macro_rules! audio_contract_tests {
    ($spec:expr) => {
        $crate::audio_contract_tests!(@each $spec;
            exact_timing, eos_closes_defect, flush_closes_defect, caps_change_closes_defect,
            timestamps_from_sample_counts, odd_buffers, every_format_and_layout);
    };
    (@each $spec:expr; $($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                common::audio::$name(&$spec);
            }
        )*
    };
}
