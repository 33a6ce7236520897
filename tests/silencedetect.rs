//! silencedetect: shared audio behaviour, per-channel and all-channel
//! silence, quiet music, short pauses, faint noise, gaps.
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

fn silent(_c: usize, _i: usize) -> f64 {
    0.0
}

const SPEC: ASpec = ASpec {
    factory: "silencedetect",
    props,
    defect: silent,
    good,
    tolerance: 0,
    end_delay: 0,
};

audio_contract_tests!(SPEC);

fn channel_of(s: &gst::StructureRef) -> Option<u32> {
    gstavmonitor::SilenceDetectMessage::from_structure(s)
        .unwrap()
        .channel
}

/// One dead channel of a pair is reported with its index; a whole silent
/// feed is one event for all channels.
#[test]
fn dead_channel_and_silent_feed() {
    let info = stereo();
    let mut r = ARun::new(&SPEC, 1000 * MS, &info);
    let mut msgs = Vec::new();
    for k in 0..300usize {
        // 0-1 s music, 1-2.5 s right channel dead, 2.5-3 s all silent
        let buf = abuffer(&info, 480, |c, f| {
            let i = k * 480 + f;
            match k {
                0..100 => good(c, i),
                100..250 if c == 1 => 0.0,
                100..250 => good(c, i),
                _ => 0.0,
            }
        });
        msgs.extend(
            r.run
                .push(timed(buf, Some(k as u64 * 10 * MS), Some(10 * MS))),
        );
    }
    msgs.extend(r.run.event(gst::event::Eos::new()));
    let got: Vec<(&str, u64, Option<u32>)> = msgs
        .iter()
        .map(|s| (ev(s).kind, ev(s).ts, channel_of(s)))
        .collect();
    // the dead channel's event is held while the whole feed is silent (it
    // ends at EOS where it was last judged, 2.5 s), and the whole feed's
    // 0.5 s of silence is shorter than min-duration
    assert_eq!(
        got,
        vec![("start", 1000 * MS, Some(1)), ("end", 2500 * MS, Some(1))],
        "{got:?}"
    );
    let mut r = ARun::new(&SPEC, 1000 * MS, &info);
    r.play(&SPEC, 500, false);
    let evs = r.play(&SPEC, 2000, true);
    assert_eq!(evs.len(), 1, "one event for the silent feed: {evs:?}");
}

/// Quiet music near -45 dBFS and a 1.5 s pause are not silence; noise at
/// -70 dBFS is, with its level reported.
#[test]
fn quiet_music_pauses_and_faint_noise() {
    let info = stereo();
    let mut r = ARun::new(&SPEC, 2000 * MS, &info);
    let mut msgs = Vec::new();
    let quiet = |c: usize, i: usize| good(c, i) * 10f64.powf(-25.0 / 20.0); // ~ -45 dBFS
    let noise = |c: usize, i: usize| {
        let s = ((i * 2 + c) as u32).wrapping_mul(2_654_435_761) ^ 0x5bd1_e995;
        let u = (s >> 8) as f64 / (1u32 << 24) as f64 * 2.0 - 1.0;
        u * 10f64.powf(-70.0 / 20.0) * 3f64.sqrt()
    };
    for k in 0..800usize {
        let buf = abuffer(&info, 480, |c, f| {
            let i = k * 480 + f;
            match k {
                0..300 => quiet(c, i),
                300..450 => 0.0,
                450..500 => quiet(c, i),
                _ => noise(c, i),
            }
        });
        msgs.extend(
            r.run
                .push(timed(buf, Some(k as u64 * 10 * MS), Some(10 * MS))),
        );
    }
    let evs: Vec<Ev> = msgs.iter().map(|s| ev(s)).collect();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!((evs[0].kind, evs[0].ts), ("start", 5000 * MS));
    let level = gstavmonitor::SilenceDetectMessage::from_structure(&msgs[0])
        .unwrap()
        .level_db;
    assert!((-75.0..-66.0).contains(&level), "{level}");
}

/// A gap event counts as silence; threshold-db changes while playing.
#[test]
fn gap_events_and_threshold() {
    let info = stereo();
    let mut r = ARun::new(&SPEC, 1000 * MS, &info);
    r.play(&SPEC, 500, false);
    let m = r.run.event(
        gst::event::Gap::builder(gst::ClockTime::from_nseconds(500 * MS))
            .duration(gst::ClockTime::from_nseconds(2000 * MS))
            .build(),
    );
    assert_eq!(kinds(&m), vec![start(500 * MS)]);
    r.frames = 2500 * 48;
    let evs = r.play(&SPEC, 100, false);
    assert_eq!((evs[0].kind, evs[0].ts), ("end", 2500 * MS));
    // music at about -20 dBFS is silence below a -10 dB threshold
    r.run.element().set_property("threshold-db", -10.0);
    let evs = r.play(&SPEC, 1500, false);
    assert_eq!((evs[0].kind, evs[0].ts), ("start", 2600 * MS));
}
