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

use avmonitor::json;

/// One output line: the element, its factory, the message's fields.
#[derive(serde::Serialize)]
struct Line<'a> {
    source: &'a str,
    detector: &'a str,
    #[serde(flatten)]
    fields: json::Fields<'a>,
}
use gst::prelude::*;

const DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "silencedetect",
    "clipdetect",
    "phasedetect",
    "loudnessmeter",
];

/// The built-in clip (the service's `demo:1`): bars and tones, clipped
/// 2-2.5 s, black 4-7 s, frozen 10-14 s, silent 15-18 s.
fn generated() -> Result<gst::Pipeline, Box<dyn std::error::Error>> {
    let p = gst::Pipeline::new();
    let src = avmonitor::demo::source(1)?;
    let rest = gst::parse::bin_from_description(
        "blackdetect name=v ! freezedetect ! fakesink sync=false \
         audioconvert name=a ! silencedetect ! clipdetect ! phasedetect \
         ! loudnessmeter post-messages=false ! fakesink sync=false",
        false,
    )?;
    p.add_many([src.upcast_ref::<gst::Element>(), rest.upcast_ref()])?;
    for (pad, to) in [("video", "v"), ("audio", "a")] {
        let sink = rest
            .by_name(to)
            .and_then(|e| e.static_pad("sink"))
            .ok_or("no sink")?;
        let ghost = gst::GhostPad::builder_with_target(&sink)?.name(pad).build();
        rest.add_pad(&ghost)?;
        src.static_pad(pad).ok_or("no pad")?.link(&ghost)?;
    }
    eprintln!("built-in clip: demo:1 (bars and tones: clipped 2-2.5 s, black 4-7 s, frozen 10-14 s, silent 15-18 s)");
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
                        println!(
                            "{}",
                            json::line(&Line {
                                source: &source,
                                detector: s.name(),
                                fields: json::Fields {
                                    structure: s,
                                    rename: json::same,
                                },
                            })
                        );
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
