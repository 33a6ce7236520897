//! Runs blackdetect and freezedetect over a file or URI (or, with no
//! argument, over a built-in generated clip with injected defects) and prints
//! every detector message as one JSON line on stdout.
//!
//! ```text
//! cargo run --release --example monitor                      # built-in clip
//! cargo run --release --example monitor -- /path/to/file.mp4
//! cargo run --release --example monitor -- rtsp://camera/stream
//! ```

use std::sync::{Arc, Mutex};

use gst::prelude::*;

/// The built-in clip: 20 s of scrolling colour bars at 25 fps, black from
/// 4 s to 7 s and frozen from 10 s to 14 s.
const FRAMES: u64 = 500;
const BLACK: std::ops::Range<u64> = 100..175;
const FROZEN: std::ops::Range<u64> = 250..350;

fn generated() -> Result<gst::Pipeline, Box<dyn std::error::Error>> {
    let p = gst::parse::launch(&format!(
        "videotestsrc name=src pattern=smpte horizontal-speed=4 num-buffers={FRAMES} \
         ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 \
         ! blackdetect ! freezedetect ! fakesink sync=false"
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
    eprintln!(
        "built-in clip: {} s of scrolling bars, black {:.1}-{:.1} s, frozen {:.1}-{:.1} s",
        FRAMES / 25,
        BLACK.start as f64 / 25.0,
        BLACK.end as f64 / 25.0,
        FROZEN.start as f64 / 25.0,
        FROZEN.end as f64 / 25.0
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
        "uridecodebin uri=\"{uri}\" ! video/x-raw ! queue ! blackdetect ! freezedetect ! fakesink sync=false"
    ))?
    .downcast::<gst::Pipeline>()
    .map_err(|_| "not a pipeline")?;
    Ok(p)
}

/// One structure as a JSON object (numbers, strings and booleans; other
/// values as their string form).
fn json(source: &str, s: &gst::StructureRef) -> String {
    fn string(v: &str) -> String {
        let mut out = String::from("\"");
        for c in v.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    let mut fields = vec![
        format!("\"source\":{}", string(source)),
        format!("\"detector\":{}", string(s.name())),
    ];
    for (name, value) in s.iter() {
        let v = if let Ok(v) = value.get::<u64>() {
            v.to_string()
        } else if let Ok(v) = value.get::<i64>() {
            v.to_string()
        } else if let Ok(v) = value.get::<f64>() {
            if v.is_finite() {
                v.to_string()
            } else {
                "null".into()
            }
        } else if let Ok(v) = value.get::<bool>() {
            v.to_string()
        } else if let Ok(v) = value.get::<&str>() {
            string(v)
        } else {
            string(&format!("{value:?}"))
        };
        fields.push(format!("{}:{v}", string(name)));
    }
    format!("{{{}}}", fields.join(","))
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
                    if s.name() == "blackdetect" || s.name() == "freezedetect" {
                        let source = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                        println!("{}", json(&source, s));
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
