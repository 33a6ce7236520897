//! Runs the video detectors (blackdetect, freezedetect) and the audio
//! detectors (silencedetect, clipdetect, phasedetect, loudnessmeter) over a
//! file or URI (or, with no argument, over a built-in generated clip with
//! injected defects) and prints every detector message as one JSON line on
//! stdout. Loudness measurements are left out of the built-in clip's output
//! (its alarms are not); a file or URI gets them every 10 s.
//!
//! ```text
//! cargo run --release --example monitor                      # built-in clip
//! cargo run --release --example monitor -- /path/to/file.mp4
//! cargo run --release --example monitor -- rtsp://camera/stream
//! ```

use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gstavmonitor::json;

/// The built-in clip: 20 s of scrolling colour bars at 25 fps, black from
/// 4 s to 7 s and frozen from 10 s to 14 s; with two tones, silent from 15 s
/// to 18 s and clipped from 2 s to 2.5 s.
const FRAMES: u64 = 500;
const BLACK: std::ops::Range<u64> = 100..175;
const FROZEN: std::ops::Range<u64> = 250..350;
const RATE: u64 = 48_000;
const SILENT: std::ops::Range<u64> = 15 * RATE..18 * RATE;
const CLIPPED: std::ops::Range<u64> = 2 * RATE..5 * RATE / 2;

/// Rewrites the generated stereo F32 audio: a 440 Hz tone left, 554 Hz
/// right, at -20 dBFS, with the silence and clipping injected.
fn audio_probe(pad: &gst::Pad) {
    pad.add_probe(gst::PadProbeType::BUFFER, |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() {
            let first = buf.offset();
            let b = buf.make_mut();
            if let Ok(mut map) = b.map_writable() {
                for (k, frame) in map.as_mut_slice().chunks_exact_mut(8).enumerate() {
                    let i = first + k as u64;
                    let t = i as f64 / RATE as f64;
                    for (c, f) in [(0usize, 440.0), (1, 554.37)] {
                        let mut v = 0.1 * (2.0 * std::f64::consts::PI * f * t).sin();
                        if SILENT.contains(&i) {
                            v = 0.0;
                        } else if CLIPPED.contains(&i) {
                            v = (v * 30.0).clamp(-1.0, 1.0);
                        }
                        frame[c * 4..c * 4 + 4].copy_from_slice(&(v as f32).to_le_bytes());
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

const DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "silencedetect",
    "clipdetect",
    "phasedetect",
    "loudnessmeter",
];

fn generated() -> Result<gst::Pipeline, Box<dyn std::error::Error>> {
    let p = gst::parse::launch(&format!(
        "videotestsrc name=src pattern=smpte horizontal-speed=4 num-buffers={FRAMES} \
         ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 \
         ! blackdetect ! freezedetect ! fakesink sync=false \
         audiotestsrc name=asrc wave=silence samplesperbuffer=1920 num-buffers={} \
         ! audio/x-raw,format=F32LE,rate={RATE},channels=2,layout=interleaved \
         ! silencedetect ! clipdetect ! phasedetect ! loudnessmeter post-messages=false \
         ! fakesink sync=false",
        FRAMES * RATE / 25 / 1920
    ))?
    .downcast::<gst::Pipeline>()
    .map_err(|_| "not a pipeline")?;
    let src = p.by_name("src").ok_or("no src")?;
    let pad = src.static_pad("src").ok_or("no src pad")?;
    // Injects the defects by rewriting the generated frames before the detectors.
    let held: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() {
            // frame index from the timestamp, rounded
            let i = buf
                .pts()
                .map_or(0, |t| (t.nseconds() * 25 + 500_000_000) / 1_000_000_000);
            if !BLACK.contains(&i) && !FROZEN.contains(&i) {
                return gst::PadProbeReturn::Ok;
            }
            let b = buf.make_mut();
            if let Ok(mut map) = b.map_writable() {
                let data = map.as_mut_slice();
                let luma = 640 * 360;
                if BLACK.contains(&i) {
                    data[..luma].fill(16);
                    data[luma..].fill(128);
                } else {
                    let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                    match held.as_ref() {
                        Some(frame) if frame.len() == data.len() => data.copy_from_slice(frame),
                        _ => *held = Some(data.to_vec()),
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
    let asrc = p.by_name("asrc").ok_or("no asrc")?;
    audio_probe(&asrc.static_pad("src").ok_or("no audio src pad")?);
    eprintln!(
        "built-in clip: {} s of scrolling bars, black {:.1}-{:.1} s, frozen {:.1}-{:.1} s; \
         two tones, clipped {:.1}-{:.1} s, silent {:.1}-{:.1} s",
        FRAMES / 25,
        BLACK.start as f64 / 25.0,
        BLACK.end as f64 / 25.0,
        FROZEN.start as f64 / 25.0,
        FROZEN.end as f64 / 25.0,
        CLIPPED.start as f64 / RATE as f64,
        CLIPPED.end as f64 / RATE as f64,
        SILENT.start as f64 / RATE as f64,
        SILENT.end as f64 / RATE as f64,
    );
    Ok(p)
}

fn from_uri(arg: &str) -> Result<gst::Pipeline, Box<dyn std::error::Error>> {
    let uri = if arg.contains("://") {
        arg.to_string()
    } else {
        let path = std::fs::canonicalize(arg).map_err(|e| format!("{arg}: {e}"))?;
        gst::glib::filename_to_uri(&path, None)?.to_string()
    };
    let p = gst::parse::launch(&format!(
        "uridecodebin name=d uri=\"{uri}\" \
         d. ! video/x-raw ! queue ! blackdetect ! freezedetect ! fakesink sync=false \
         d. ! audio/x-raw ! queue ! audioconvert ! silencedetect ! clipdetect ! phasedetect \
            ! loudnessmeter interval=10000000000 ! fakesink sync=false"
    ))?
    .downcast::<gst::Pipeline>()
    .map_err(|_| "not a pipeline")?;
    Ok(p)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    gst::init()?;
    gstavmonitor::plugin_register_static()?;
    let pipeline = match std::env::args().nth(1) {
        Some(arg) => from_uri(&arg)?,
        None => generated()?,
    };
    let bus = pipeline.bus().ok_or("no bus")?;
    pipeline.set_state(gst::State::Playing)?;
    let mut result = Ok(());
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure() {
                    if DETECTORS.contains(&s.name().as_str()) {
                        let source = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                        let mut fields = vec![
                            ("source".to_string(), json::string(&source)),
                            ("detector".to_string(), json::string(s.name())),
                        ];
                        fields.extend(json::fields(s));
                        println!("{}", json::object(&fields));
                    }
                }
            }
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                result = Err(format!("{}: {}", e.error(), e.debug().unwrap_or_default()).into());
                break;
            }
            _ => (),
        }
    }
    pipeline.set_state(gst::State::Null)?;
    result
}
