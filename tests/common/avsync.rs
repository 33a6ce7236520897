//! Generated clips for avsyncdetect: flash/beep test signals, scenes whose
//! sound changes with the picture, music; and reading its messages.
#![allow(dead_code)]

use gst_audio::{AudioFormat, AudioInfo};
use gstavmonitor::{AvSyncDetectMessage as Msg, EventKind};
use gstavmonitor::{Media, Method};

use super::*;

pub const MS: u64 = 1_000_000;
pub const RATE: u32 = 48_000;
/// Audio buffers of 10 ms.
pub const ABUF: u64 = 480;

pub fn vinfo(w: u32, h: u32, fps: (i32, i32)) -> gst_video::VideoInfo {
    init();
    gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, w, h)
        .fps(gst::Fraction::new(fps.0, fps.1))
        .build()
        .expect("video info")
}

pub fn mono() -> AudioInfo {
    init();
    AudioInfo::builder(AudioFormat::F32le, RATE, 1)
        .build()
        .expect("audio info")
}

pub fn luma(info: &gst_video::VideoInfo, v: u8) -> Vec<u8> {
    vec![v; (info.width() * info.height()) as usize]
}

/// Pictures with a white flash on the first frame of every `period` s.
pub fn flash_pictures(info: &gst_video::VideoInfo, period: f64) -> impl Fn(u64) -> Vec<u8> {
    let fps = info.fps();
    let frame = SECOND as f64 * fps.denom() as f64 / fps.numer() as f64;
    let (dark, white) = (luma(info, 16), luma(info, 235));
    move |t| {
        let k = ((t as f64) / (period * 1e9)).floor();
        let first = (((k * period * 1e9) / frame - 1e-6).ceil() * frame) as u64;
        if t.abs_diff(first) < 2 {
            white.clone()
        } else {
            dark.clone()
        }
    }
}

/// The time of the flash in period `k` (the first frame at or after it), s.
pub fn flash_time(info: &gst_video::VideoInfo, period: f64, k: f64) -> f64 {
    let fps = info.fps();
    let frame = fps.denom() as f64 / fps.numer() as f64;
    ((k * period / frame - 1e-9).ceil() * frame * 1e9).floor() / 1e9
}

/// A 1 kHz beep of 100 ms for each flash, `offset(t)` s after it.
pub fn beeps(
    info: &gst_video::VideoInfo,
    period: f64,
    offset: impl Fn(f64) -> f64,
) -> impl Fn(f64) -> f64 {
    let info = info.clone();
    move |t| {
        let k = (t / period).round();
        let flash = flash_time(&info, period, k);
        let dt = t - flash - offset(flash);
        if (0.0..0.1).contains(&dt) {
            0.5 * (std::f64::consts::TAU * 1000.0 * dt).sin()
        } else {
            0.0
        }
    }
}

pub fn measurements(msgs: &[Msg]) -> Vec<(u64, f64, f64, Method)> {
    msgs.iter()
        .filter_map(|m| match *m {
            Msg::Measurement {
                at,
                offset_ms,
                confidence,
                method,
                ..
            } => Some((at.running_time.unwrap(), offset_ms, confidence, method)),
            _ => None,
        })
        .collect()
}

/// Offset alarms as (kind, running time ms, offset ms rounded).
pub fn offset_alarms(msgs: &[Msg]) -> Vec<(EventKind, u64, f64)> {
    msgs.iter()
        .filter_map(|m| match *m {
            Msg::Offset { event, offset_ms } => Some((
                event.kind,
                event.at.running_time.unwrap() / MS,
                offset_ms.round(),
            )),
            _ => None,
        })
        .collect()
}

pub fn stalls(msgs: &[Msg]) -> Vec<(EventKind, Media, u64, Option<&'static str>)> {
    msgs.iter()
        .filter_map(|m| match *m {
            Msg::Stall { event, stream } => Some((
                event.kind,
                stream,
                event.at.running_time.unwrap() / MS,
                event.reason.map(|r| r.as_str()),
            )),
            _ => None,
        })
        .collect()
}

/// Scenes cut at irregular times, each with its own picture and sound (tone
/// and level); the sound switches `offset` s after the picture.
pub fn scenes(
    info: &gst_video::VideoInfo,
    offset: f64,
) -> (impl Fn(u64) -> Vec<u8>, impl Fn(f64) -> f64) {
    const CUTS: [f64; 14] = [
        0.0, 1.3, 2.9, 3.7, 5.6, 6.4, 8.1, 9.5, 10.2, 12.0, 13.1, 14.9, 16.3, 17.2,
    ];
    let scene = |t: f64| CUTS.iter().rposition(|&c| c <= t).unwrap_or(0);
    let tex = Texture::new();
    let (w, h) = (info.width() as usize, info.height() as usize);
    let pictures: Vec<Vec<u8>> = (0..CUTS.len())
        .map(|k| {
            tex.window(
                w,
                h,
                k * 97,
                k * 61,
                0.6 + 0.1 * (k % 4) as f64,
                (k % 3) as f64 * 20.0,
            )
        })
        .collect();
    let picture = move |t: u64| {
        // a slow pan within each scene (1 px every 40 ms: judder at 50 fps)
        let k = scene(t as f64 / 1e9);
        let mut p = pictures[k].clone();
        let n = p.len();
        p.rotate_left((t / 40_000_000) as usize % n);
        p
    };
    let sound = move |t: f64| {
        let k = scene((t - offset).max(0.0));
        let f = [220.0, 1800.0, 440.0, 3000.0, 660.0][k % 5];
        let a = [0.3, 0.05, 0.2, 0.1, 0.4][k % 5];
        a * (std::f64::consts::TAU * f * t).sin()
    };
    (picture, sound)
}

/// Notes at irregular times, each with its own pitch, decaying.
pub fn music(t: f64) -> f64 {
    let x = t * 3.3 + (t * 0.7).sin();
    let f = 220.0 * 2f64.powf((x.floor() * 7.0 % 12.0) / 12.0);
    0.3 * (-4.0 * x.fract()).exp() * (std::f64::consts::TAU * f * t).sin()
}

/// Launches `desc`, which has appsrcs named `v` and `a`; the pipeline,
/// playing, and the two sources.
pub fn launch_with_sources(desc: &str) -> (gst::Pipeline, gst_app::AppSrc, gst_app::AppSrc) {
    use gst::prelude::*;
    let pipeline = gst::parse::launch(desc)
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
    let src = |n: &str| {
        pipeline
            .by_name(n)
            .unwrap()
            .downcast::<gst_app::AppSrc>()
            .unwrap()
    };
    let (v, a) = (src("v"), src("a"));
    pipeline.set_state(gst::State::Playing).unwrap();
    (pipeline, v, a)
}

/// Caps as one token for a launch line.
pub fn caps_token(caps: &gst::Caps) -> String {
    caps.to_string().replace(' ', "")
}

/// Runs `pipeline` to EOS (panicking on an error or after `secs`), then
/// stops it; the avsyncdetect messages it posted.
pub fn sync_messages_to_eos(pipeline: &gst::Pipeline, secs: u64) -> Vec<Msg> {
    use gst::prelude::*;
    let bus = pipeline.bus().unwrap();
    let mut msgs = Vec::new();
    loop {
        let m = bus
            .timed_pop(gst::ClockTime::from_seconds(secs))
            .expect("the pipeline stalled");
        match m.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("{e:?}"),
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure().filter(|s| s.name() == "avsyncdetect") {
                    msgs.push(Msg::from_structure(s).unwrap());
                }
            }
            _ => (),
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    msgs
}
