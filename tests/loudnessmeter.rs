//! loudnessmeter: EBU Tech 3341 signals in every format, measurement
//! timing, presets, alarms, and interruptions.
mod common;

use common::audio::*;
use common::*;
use gst::prelude::*;
use gst_audio::{AudioFormat, AudioLayout};
use gstavmonitor::LoudnessMeterMessage;

/// Stereo 1 kHz sine, `secs` seconds at `dbfs` (peak), into `r` from `from` s.
fn sine(
    r: &mut Run,
    info: &gst_audio::AudioInfo,
    from: f64,
    secs: f64,
    dbfs: f64,
    freq: f64,
) -> Vec<gst::Structure> {
    let rate = info.rate() as usize;
    let per = rate / 10; // 100 ms buffers
    let a = 10f64.powf(dbfs / 20.0);
    let first = (from * rate as f64) as usize;
    let mut out = Vec::new();
    for k in 0..(secs * 10.0) as usize {
        let f0 = first + k * per;
        let buf = abuffer(info, per, |_, f| {
            a * (2.0 * std::f64::consts::PI * freq * (f0 + f) as f64 / rate as f64).sin()
        });
        let pts = f0 as u64 * SECOND / rate as u64;
        out.extend(r.push(timed(buf, Some(pts), Some(100 * MS))));
    }
    out
}

fn measurements(msgs: &[gst::Structure]) -> Vec<LoudnessMeterMessage> {
    msgs.iter()
        .map(|s| LoudnessMeterMessage::from_structure(s).unwrap())
        .filter(|m| matches!(m, LoudnessMeterMessage::Measurement { .. }))
        .collect()
}

fn alarms(msgs: &[gst::Structure]) -> Vec<(String, &'static str, u64, Option<&'static str>)> {
    msgs.iter()
        .filter_map(|s| match LoudnessMeterMessage::from_structure(s).unwrap() {
            LoudnessMeterMessage::Alarm { alarm, .. } => {
                let e = ev(s);
                Some((alarm.as_str().to_string(), e.kind, e.ts, e.reason))
            }
            _ => None,
        })
        .collect()
}

fn last(msgs: &[gst::Structure]) -> (f64, f64, f64, f64, Vec<f64>, Vec<f64>) {
    match measurements(msgs).pop().expect("a measurement") {
        LoudnessMeterMessage::Measurement {
            momentary,
            short_term,
            integrated,
            loudness_range,
            sample_peak_db,
            true_peak_db,
            ..
        } => (
            momentary,
            short_term,
            integrated,
            loudness_range,
            sample_peak_db,
            true_peak_db,
        ),
        _ => unreachable!(),
    }
}

/// EBU Tech 3341 cases 1 and 2 (stereo 1 kHz sine at -23 and -33 dBFS read
/// -23.0 and -33.0 LUFS, within 0.1 LU) in every format and layout.
#[test]
fn tech_3341_cases_1_and_2_in_every_format() {
    for format in [
        AudioFormat::S16le,
        AudioFormat::S24le,
        AudioFormat::S2432le,
        AudioFormat::S32le,
        AudioFormat::F32le,
        AudioFormat::F64le,
    ] {
        for layout in [AudioLayout::Interleaved, AudioLayout::NonInterleaved] {
            for level in [-23.0, -33.0] {
                let info = ainfo(format, RATE, 2, layout);
                let mut r = Run::new("loudnessmeter", &[], &info.to_caps().unwrap());
                let msgs = sine(&mut r, &info, 0.0, 20.0, level, 1000.0);
                let (m, s, i, lra, sp, tp) = last(&msgs);
                for v in [m, s, i] {
                    assert!(
                        (v - level).abs() <= 0.1,
                        "{format:?} {layout:?} {level}: {v}"
                    );
                }
                assert!(lra.abs() <= 0.1);
                assert!(
                    (sp[0] - level).abs() < 0.05 && (tp[1] - level).abs() < 0.2,
                    "{sp:?} {tp:?}"
                );
                // -33 LUFS is 10 LU under the -23 target: a short-term alarm,
                // judged from the step that completes the first 3 s (2.9-3.0 s)
                // and raised after the 10 s min-duration
                let a: Vec<_> = alarms(&msgs).into_iter().map(|a| (a.0, a.1, a.2)).collect();
                if level == -23.0 {
                    assert!(a.is_empty(), "{a:?}");
                } else {
                    assert_eq!(a, vec![("short-term".to_string(), "start", 2900 * MS)]);
                }
            }
        }
    }
}

/// EBU Tech 3341 case 3: -36 dBFS 10 s, -23 dBFS 60 s, -36 dBFS 10 s: the
/// relative gate gives -23.0 LUFS integrated.
#[test]
fn tech_3341_case_3_gating() {
    let info = stereo();
    let mut r = Run::new(
        "loudnessmeter",
        &[("post-messages", &true)],
        &info.to_caps().unwrap(),
    );
    let mut msgs = sine(&mut r, &info, 0.0, 10.0, -36.0, 1000.0);
    msgs.extend(sine(&mut r, &info, 10.0, 60.0, -23.0, 1000.0));
    msgs.extend(sine(&mut r, &info, 70.0, 10.0, -36.0, 1000.0));
    let (_, _, i, _, _, _) = last(&msgs);
    assert!((i + 23.0).abs() <= 0.1, "{i}");
}

/// One measurement per interval, at its end; none with post-messages off.
#[test]
fn measurement_interval_and_post_messages() {
    let info = stereo();
    let mut r = Run::new(
        "loudnessmeter",
        &[("interval", &(500 * MS))],
        &info.to_caps().unwrap(),
    );
    let msgs = sine(&mut r, &info, 0.0, 3.0, -23.0, 1000.0);
    let ts: Vec<u64> = measurements(&msgs)
        .iter()
        .map(|m| match m {
            LoudnessMeterMessage::Measurement { at, .. } => at.timestamp,
            _ => 0,
        })
        .collect();
    assert_eq!(ts, (1..=6).map(|k| k * 500 * MS).collect::<Vec<_>>());
    r.element().set_property("post-messages", false);
    assert!(measurements(&sine(&mut r, &info, 3.0, 2.0, -23.0, 1000.0)).is_empty());
}

/// Presets set target and maximum true peak; setting either makes it custom.
#[test]
fn presets() {
    init();
    let e = gst::ElementFactory::make("loudnessmeter").build().unwrap();
    let get = |e: &gst::Element| {
        (
            e.property::<f64>("target-lufs"),
            e.property::<f64>("max-true-peak-dbtp"),
        )
    };
    assert_eq!(get(&e), (-23.0, -1.0));
    e.set_property_from_str("preset", "atsc-a85");
    assert_eq!(get(&e), (-24.0, -2.0));
    e.set_property_from_str("preset", "streaming");
    assert_eq!(get(&e), (-14.0, -1.0));
    e.set_property("target-lufs", -16.0);
    assert_eq!(get(&e), (-16.0, -1.0));
    let preset = e.property_value("preset");
    assert_eq!(preset.serialize().unwrap().as_str(), "custom");
}

/// Short-term loudness out of range for min-duration, and true peak over
/// the maximum, raise alarms; EOS and flushes end them.
#[test]
fn alarms_and_interruptions() {
    let info = stereo();
    let props: [(&str, &dyn ToValue); 1] = [("min-duration", &(2 * SECOND))];
    let mut r = Run::new("loudnessmeter", &props, &info.to_caps().unwrap());
    let mut msgs = sine(&mut r, &info, 0.0, 5.0, -23.0, 1000.0);
    // 10 dB too loud from 5 s
    msgs.extend(sine(&mut r, &info, 5.0, 8.0, -13.0, 1000.0));
    msgs.extend(r.event(gst::event::Eos::new()));
    let a = alarms(&msgs);
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!((a[0].0.as_str(), a[0].1), ("short-term", "start"));
    // the 3 s window passes -18 LUFS about 1.5 s after the step
    assert!((5 * SECOND..7 * SECOND).contains(&a[0].2), "{a:?}");
    assert_eq!((a[1].1, a[1].2, a[1].3), ("end", 13 * SECOND, Some("eos")));

    // true peak: a sine near 11 kHz at -0.5 dBFS sampled off its peaks
    let mut r = Run::new("loudnessmeter", &[], &info.to_caps().unwrap());
    let mut msgs = sine(&mut r, &info, 0.0, 1.0, -0.5, 11_025.0 + 7.0);
    r.event(gst::event::FlushStart::new());
    msgs.extend(r.event(gst::event::FlushStop::new(true)));
    let a = alarms(&msgs);
    assert_eq!((a[0].0.as_str(), a[0].1, a[0].2), ("true-peak", "start", 0));
    assert_eq!((a[1].1, a[1].2, a[1].3), ("end", SECOND, Some("flush")));
    // with true-peak off there is no true peak at all
    r.element().set_property("true-peak", false);
    r.h.push_event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
    let msgs = sine(&mut r, &info, 0.0, 2.0, -0.5, 11_032.0);
    assert!(alarms(&msgs).is_empty());
    let (_, _, _, _, _, tp) = last(&msgs);
    assert!(tp.is_empty());
}
