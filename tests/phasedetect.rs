//! phasedetect: shared audio behaviour, inverted and mono pairs, silence,
//! channel pair selection.
mod common;

use common::audio::*;
use common::*;
use gst::prelude::*;

fn props(min: u64) -> Vec<(&'static str, gst::glib::Value)> {
    vec![("min-duration", min.to_value())]
}

fn good(c: usize, i: usize) -> f64 {
    music(c, i, RATE)
}

/// Channel 1 is channel 0 inverted.
fn inverted(c: usize, i: usize) -> f64 {
    let v = music(0, i, RATE);
    if c == 1 {
        -v
    } else {
        v
    }
}

const SPEC: ASpec = ASpec {
    factory: "phasedetect",
    props,
    defect: inverted,
    good,
    tolerance: 10 * MS,
    end_delay: 0,
};

audio_contract_tests!(SPEC);

fn kind_of(s: &gst::StructureRef) -> String {
    gstavmonitor::PhaseDetectMessage::from_structure(s)
        .unwrap()
        .kind
        .as_str()
        .to_string()
}

/// Identical channels are mono; silence is neither; the pair is selectable.
#[test]
fn mono_silence_and_pair() {
    let info = ainfo(
        gst_audio::AudioFormat::S16le,
        RATE,
        4,
        gst_audio::AudioLayout::Interleaved,
    );
    let mut r = ARun::new(&SPEC, 1000 * MS, &info);
    let mut msgs = Vec::new();
    for k in 0..400usize {
        let buf = abuffer(&info, 480, |c, f| {
            let i = k * 480 + f;
            match k {
                0..100 => music(c, i, RATE),
                100..250 => music(0, i, RATE), // every channel the same
                _ => 0.0,                      // silence
            }
        });
        msgs.extend(
            r.run
                .push(timed(buf, Some(k as u64 * 10 * MS), Some(10 * MS))),
        );
    }
    let got: Vec<(&str, u64, String)> = msgs
        .iter()
        .map(|s| (ev(s).kind, ev(s).ts, kind_of(s)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("start", 1000 * MS, "mono".into()),
            ("end", 2500 * MS, "mono".into())
        ],
        "silence ends mono and is not out of phase"
    );
    // channels 2 and 3: channel 3 inverted from 1 s
    let mut r = ARun::new(&SPEC, 1000 * MS, &info);
    r.run.element().set_property("channel-a", 2u32);
    r.run.element().set_property("channel-b", 3u32);
    let mut msgs = Vec::new();
    for k in 0..250usize {
        let buf = abuffer(&info, 480, |c, f| {
            let i = k * 480 + f;
            if k >= 100 && c == 3 {
                -music(2, i, RATE)
            } else {
                music(c, i, RATE)
            }
        });
        msgs.extend(
            r.run
                .push(timed(buf, Some(k as u64 * 10 * MS), Some(10 * MS))),
        );
    }
    assert_eq!(kinds(&msgs), vec![start(1000 * MS)]);
    let m = gstavmonitor::PhaseDetectMessage::from_structure(&msgs[0]).unwrap();
    assert_eq!(
        (m.channel_a, m.channel_b, m.kind.as_str()),
        (2, 3, "out-of-phase")
    );
    assert!(m.correlation < -0.99, "{}", m.correlation);
    // a mono stream has no pair: nothing to report
    let info = ainfo(
        gst_audio::AudioFormat::F32le,
        RATE,
        1,
        gst_audio::AudioLayout::Interleaved,
    );
    let mut r = ARun::new(&SPEC, 0, &info);
    assert!(r.play(&SPEC, 500, true).is_empty());
}
