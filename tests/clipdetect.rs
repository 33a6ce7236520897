//! clipdetect: shared audio behaviour, merged bursts with per-channel
//! counts, loud clean audio, float levels.
mod common;

use common::audio::*;
use common::*;
use gst::prelude::*;

fn props(_min: u64) -> Vec<(&'static str, gst::glib::Value)> {
    vec![]
}

fn good(c: usize, i: usize) -> f64 {
    music(c, i, RATE)
}

/// A square wave at full scale: every sample clipped.
fn clipped(_c: usize, i: usize) -> f64 {
    if (i / 10).is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

const SPEC: ASpec = ASpec {
    factory: "clipdetect",
    props,
    defect: clipped,
    good,
    tolerance: 0,
    end_delay: 500 * MS,
};

audio_contract_tests!(SPEC);

fn counts(s: &gst::StructureRef) -> (Vec<f64>, Vec<f64>) {
    let m = gstavmonitor::ClipDetectMessage::from_structure(s).unwrap();
    // the counts are integers; as f64 the assertions read as they always did
    let f = |v: Vec<u64>| v.into_iter().map(|c| c as f64).collect();
    (f(m.clipped_samples), f(m.runs))
}

/// Bursts closer than merge-gap are one event; its end carries per-channel
/// counts of clipped samples and runs. Clean audio peaking at -0.5 dBFS is
/// never clipping.
#[test]
fn bursts_counts_and_clean_peaks() {
    for format in [
        gst_audio::AudioFormat::S16le,
        gst_audio::AudioFormat::F32le,
        gst_audio::AudioFormat::S24le,
    ] {
        let info = ainfo(format, RATE, 2, gst_audio::AudioLayout::Interleaved);
        let mut r = ARun::new(&SPEC, 0, &info);
        let peak = 10f64.powf(-0.5 / 20.0);
        let mut msgs = Vec::new();
        for k in 0..200usize {
            let buf = abuffer(&info, 480, |c, f| {
                let i = k * 480 + f;
                // clean sine peaking at -0.5 dBFS ...
                let v = peak * (i as f64 * 2.0 * std::f64::consts::PI * 997.0 / 48_000.0).sin();
                // ... with 5-sample clipped bursts on channel 1 at 0.5 s and 0.7 s,
                // and a 2-sample one (below min-run) at 1.5 s
                match (c, i) {
                    (1, 24_000..24_005) | (1, 33_600..33_605) | (1, 72_000..72_002) => 1.0,
                    _ => v,
                }
            });
            msgs.extend(
                r.run
                    .push(timed(buf, Some(k as u64 * 10 * MS), Some(10 * MS))),
            );
        }
        let evs: Vec<Ev> = msgs.iter().map(|s| ev(s)).collect();
        assert_eq!(evs.len(), 2, "{format:?}: {evs:?}");
        assert_eq!((evs[0].kind, evs[0].ts), ("start", 500 * MS));
        let end = 33_605 * SECOND / 48_000;
        assert_eq!(
            (evs[1].kind, evs[1].ts, evs[1].reason),
            ("end", end, Some("recovered"))
        );
        assert_eq!(
            counts(&msgs[1]),
            (vec![0.0, 10.0], vec![0.0, 2.0]),
            "{format:?}"
        );
    }
}

/// level-db makes loud samples count in any format; min-run is settable while playing.
#[test]
fn level_and_min_run() {
    let info = stereo();
    let mut r = ARun::new(&SPEC, 0, &info);
    let loud = || abuffer(&info, 480, |_, _| 0.95);
    assert!(r.run.push(timed(loud(), Some(0), Some(10 * MS))).is_empty());
    r.run.element().set_property("level-db", -1.0);
    let m = r.run.push(timed(loud(), Some(10 * MS), Some(10 * MS)));
    assert_eq!(kinds(&m), vec![start(10 * MS)]);
    r.run.element().set_property("min-run", 1000u32);
    assert_eq!(r.run.element().property::<u32>("min-run"), 1000);
    assert!((r.run.element().property::<f64>("level-db") + 1.0).abs() < 1e-6);
}

/// NaN and infinite float samples are corrupt samples: reported as clipping.
#[test]
fn non_finite_samples_are_clipping() {
    let info = stereo();
    let mut r = ARun::new(&SPEC, 0, &info);
    r.play(&SPEC, 100, false);
    let bad = abuffer(&info, 480, |c, f| match (c, f) {
        (0, 100..110) => f64::NAN,
        (1, 200..205) => f64::NEG_INFINITY,
        _ => 0.0,
    });
    let m = r.run.push(timed(bad, Some(100 * MS), Some(10 * MS)));
    assert_eq!(kinds(&m), vec![start(100 * MS + 100 * SECOND / 48_000)]);
    let m = r.run.event(gst::event::Eos::new());
    assert_eq!(counts(&m[0]), (vec![10.0, 5.0], vec![1.0, 1.0]));
}
