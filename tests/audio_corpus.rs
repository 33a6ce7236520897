//! Detection quality for the audio detectors on a corpus the test makes
//! itself: tones, noise, speech-like bursts and music-like signals with
//! injected silences (digital and -70 dBFS noise), one-channel silences,
//! clipped windows, inverted and mono pairs; plus hard negatives (quiet
//! music near -45 dBFS, speech pauses, loud clean audio peaking at
//! -0.5 dBFS, ordinary stereo). Prints recall and false alarms per detector
//! and clip; passes only with every defect found (start and end within
//! 10 ms) and no false alarm.
mod common;

use common::audio::*;
use common::*;
use gst_audio::{AudioFormat, AudioLayout};
use gstavmonitor::{PhaseDetectMessage, SilenceDetectMessage};

const TOL: u64 = 10 * MS;

fn hash(i: usize) -> f64 {
    let mut s = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    s ^= s >> 29;
    s = s.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    s ^= s >> 32;
    (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[derive(Clone, Copy)]
enum Content {
    Tones,
    Noise,
    Speech,
    Music,
}

/// The content, stereo, not mono and not inverted (channels differ).
fn content(kind: Content, c: usize, i: usize) -> f64 {
    let t = i as f64 / RATE as f64;
    let tau = 2.0 * std::f64::consts::PI;
    match kind {
        Content::Tones => 0.1 * (tau * if c == 0 { 440.0 } else { 554.37 } * t).sin(),
        Content::Noise => 0.05 * hash(i * 2 + c),
        Content::Speech => {
            // 300 ms syllable groups with 200 ms pauses, voiced partials and breath
            let on = (t % 0.5) < 0.3;
            let v =
                0.15 * (tau * 140.0 * t).sin() * (tau * 4.0 * t).sin().abs() + 0.02 * hash(i * 2);
            let v = if on { v } else { 0.0 };
            if c == 0 {
                v
            } else {
                0.8 * v + 0.02 * hash(i * 2 + 1) * f64::from(on as u8)
            }
        }
        Content::Music => music(c, i, RATE),
    }
}

/// What a stretch of a clip holds.
#[derive(Clone, Copy, PartialEq)]
enum Inject {
    None,
    Silence,
    FaintNoise,
    DeadRight,
    Clipped,
    Inverted,
    Mono,
}

struct Clip {
    name: String,
    content: Content,
    gain: f64,
    secs: f64,
    /// (from s, to s, what)
    stretches: Vec<(f64, f64, Inject)>,
}

impl Clip {
    fn inject(&self, i: usize) -> Inject {
        let t = i as f64 / RATE as f64;
        self.stretches
            .iter()
            .find(|(a, b, _)| (*a..*b).contains(&t))
            .map_or(Inject::None, |s| s.2)
    }

    fn sample(&self, c: usize, i: usize) -> f64 {
        let v = self.gain * content(self.content, c, i);
        match self.inject(i) {
            Inject::None => v,
            Inject::Silence => 0.0,
            Inject::FaintNoise => 10f64.powf(-70.0 / 20.0) * 3f64.sqrt() * hash(i * 2 + c + 7),
            Inject::DeadRight => {
                if c == 1 {
                    0.0
                } else {
                    v
                }
            }
            // driven 24 dB too hot into the rails
            Inject::Clipped => (16.0 * v).clamp(-1.0, 1.0),
            Inject::Inverted => {
                let m = self.gain * content(self.content, 0, i);
                if c == 1 {
                    -m
                } else {
                    m
                }
            }
            Inject::Mono => self.gain * content(self.content, 0, i),
        }
    }

    /// Expected events per detector label: (label, start ns, end ns).
    fn truth(&self) -> Vec<(&'static str, u64, u64)> {
        let ns = |s: f64| (s * 1e9).round() as u64;
        let mut out = Vec::new();
        for &(a, b, what) in &self.stretches {
            let label = match what {
                Inject::None => continue,
                Inject::Silence | Inject::FaintNoise => "silence all",
                Inject::DeadRight => "silence ch1",
                Inject::Inverted => "out-of-phase",
                Inject::Mono => "mono",
                Inject::Clipped => {
                    // from the first to just after the last clipped sample
                    let first = (a * RATE as f64) as usize;
                    let last = (b * RATE as f64) as usize;
                    let clipped: Vec<usize> = (first..last)
                        .filter(|&i| (0..2).any(|c| self.sample(c, i).abs() >= 1.0))
                        .collect();
                    if let (Some(f), Some(l)) = (clipped.first(), clipped.last()) {
                        out.push((
                            "clip",
                            *f as u64 * SECOND / RATE as u64,
                            (*l as u64 + 1) * SECOND / RATE as u64,
                        ));
                    }
                    continue;
                }
            };
            out.push((label, ns(a), ns(b)));
        }
        out
    }
}

fn label(s: &gst::StructureRef) -> &'static str {
    match s.name().as_str() {
        "silencedetect" => match SilenceDetectMessage::from_structure(s).unwrap().channel {
            None => "silence all",
            Some(1) => "silence ch1",
            Some(_) => "silence other",
        },
        "phasedetect" => {
            if PhaseDetectMessage::from_structure(s).unwrap().kind == gstavmonitor::PhaseKind::Mono
            {
                "mono"
            } else {
                "out-of-phase"
            }
        }
        "clipdetect" => "clip",
        _ => "other",
    }
}

fn defects(content: Content, name: &str, silence: Inject) -> Clip {
    Clip {
        name: name.into(),
        content,
        gain: 1.0,
        secs: 18.0,
        stretches: vec![
            (2.0, 4.5, silence),
            (5.5, 8.0, Inject::DeadRight),
            (9.0, 9.3, Inject::Clipped),
            (10.5, 13.0, Inject::Inverted),
            (14.0, 16.5, Inject::Mono),
        ],
    }
}

#[test]
fn detection_quality() {
    init();
    let mut clips = vec![
        defects(Content::Tones, "tones", Inject::Silence),
        defects(
            Content::Noise,
            "noise, silence as -70 dBFS noise",
            Inject::FaintNoise,
        ),
        defects(Content::Music, "music", Inject::Silence),
        defects(
            Content::Music,
            "music, silence as -70 dBFS noise",
            Inject::FaintNoise,
        ),
    ];
    // speech: injected silence starts mid-syllable (its own 200 ms pauses
    // would otherwise make the silence begin earlier than injected)
    let mut speech = defects(Content::Speech, "speech-like bursts", Inject::Silence);
    speech
        .stretches
        .retain(|s| matches!(s.2, Inject::Silence | Inject::DeadRight | Inject::Clipped));
    speech.stretches[0].0 = 2.1;
    clips.push(speech);
    let negative = |name: &str, content, gain| Clip {
        name: name.into(),
        content,
        gain,
        secs: 10.0,
        stretches: vec![],
    };
    clips.push(negative(
        "quiet music near -45 dBFS",
        Content::Music,
        10f64.powf(-25.0 / 20.0),
    ));
    clips.push(negative("speech with pauses", Content::Speech, 1.0));
    let music_peak = (0..10 * RATE as usize)
        .flat_map(|i| {
            [
                content(Content::Music, 0, i).abs(),
                content(Content::Music, 1, i).abs(),
            ]
        })
        .fold(0.0, f64::max);
    clips.push(negative(
        "loud clean music peaking at -0.5 dBFS",
        Content::Music,
        10f64.powf(-0.5 / 20.0) / music_peak,
    ));
    clips.push(negative("ordinary stereo music", Content::Music, 1.0));
    clips.push(negative(
        "loud clean tones peaking at -0.5 dBFS",
        Content::Tones,
        10f64.powf(-0.5 / 20.0) / 0.1,
    ));

    let labels = ["silence all", "silence ch1", "clip", "out-of-phase", "mono"];
    println!(
        "{:<42} {:<13} {:>8} {:>6} {:>12}",
        "clip", "defect", "injected", "found", "false alarms"
    );
    let mut total = vec![(0usize, 0usize, 0usize); labels.len()];
    let mut failed = false;
    for (n, clip) in clips.iter().enumerate() {
        // alternate formats and layouts over the corpus
        let (format, layout) = [
            (AudioFormat::F32le, AudioLayout::Interleaved),
            (AudioFormat::S16le, AudioLayout::NonInterleaved),
            (AudioFormat::S24le, AudioLayout::Interleaved),
        ][n % 3];
        let info = ainfo(format, RATE, 2, layout);
        let per = 1024;
        let frames = (clip.secs * RATE as f64) as usize;
        let bufs: Vec<gst::Buffer> = (0..frames / per)
            .map(|k| {
                let b = abuffer(&info, per, |c, f| clip.sample(c, k * per + f));
                timed(b, Some((k * per) as u64 * SECOND / RATE as u64), None)
            })
            .collect();
        let p = appsrc_pipeline(
            &info.to_caps().unwrap(),
            bufs,
            "silencedetect ! clipdetect ! phasedetect",
        );
        let msgs = run_structures(&p);
        let truth = clip.truth();
        for (k, l) in labels.iter().enumerate() {
            let evs: Vec<Ev> = msgs
                .iter()
                .filter(|s| label(s) == *l)
                .map(|s| ev(s))
                .collect();
            let want: Vec<_> = truth.iter().filter(|t| t.0 == *l).collect();
            let mut used = vec![false; evs.len()];
            let mut found = 0;
            for &&(_, a, b) in &want {
                let st = evs
                    .iter()
                    .position(|e| e.kind == "start" && e.ts.abs_diff(a) <= TOL);
                let en = evs
                    .iter()
                    .position(|e| e.kind == "end" && e.ts.abs_diff(b) <= TOL);
                if let (Some(i), Some(j)) = (st, en) {
                    used[i] = true;
                    used[j] = true;
                    found += 1;
                } else {
                    println!("  MISSED {l} in {}: {a}..{b}: {evs:?}", clip.name);
                }
            }
            let extra: Vec<_> = evs
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(e, _)| e)
                .collect();
            for e in &extra {
                println!("  UNEXPECTED {l} in {}: {e:?}", clip.name);
            }
            let fa = extra.iter().filter(|e| e.kind == "start").count();
            if !want.is_empty() || fa > 0 {
                println!(
                    "{:<42} {:<13} {:>8} {:>6} {:>12}",
                    clip.name,
                    l,
                    want.len(),
                    found,
                    fa
                );
            }
            failed |= found != want.len() || !extra.is_empty();
            total[k].0 += want.len();
            total[k].1 += found;
            total[k].2 += fa;
        }
        if truth.is_empty() && !msgs.is_empty() {
            failed = true;
        } else if truth.is_empty() {
            println!(
                "{:<42} {:<13} {:>8} {:>6} {:>12}",
                clip.name, "(all)", 0, 0, 0
            );
        }
    }
    for (l, (inj, found, fa)) in labels.iter().zip(&total) {
        println!(
            "TOTAL {l}: recall {found}/{inj} = {:.0}%, false alarms {fa}",
            100.0 * *found as f64 / (*inj).max(1) as f64
        );
    }
    assert!(!failed, "see the table above");
}
