//! Reads the avmonitor elements' messages as typed values: the plugin linked
//! statically, a pipeline of detectors over a file or URI (or, with no
//! argument, over test sources that are black and silent for three seconds),
//! and each message read once with `gstavmonitor::Message`.
//!
//! ```text
//! cargo run --release --example defects                  # generated: black and silence
//! cargo run --release --example defects -- /path/to/file.mp4
//! ```

use gst::prelude::*;
use gstavmonitor::{EventKind, Message};

fn pipeline(arg: Option<String>) -> Result<gst::Element, Box<dyn std::error::Error>> {
    let description = match arg {
        Some(arg) => {
            let uri = if arg.contains("://") {
                arg
            } else {
                let path = std::fs::canonicalize(&arg).map_err(|e| format!("{arg}: {e}"))?;
                gst::glib::filename_to_uri(&path, None)?.to_string()
            };
            format!(
                "uridecodebin name=d uri=\"{uri}\" \
                 d. ! video/x-raw ! queue ! videoconvert ! blackdetect ! freezedetect ! fakesink \
                 d. ! audio/x-raw ! queue ! audioconvert ! silencedetect ! clipdetect ! fakesink"
            )
        }
        None => "videotestsrc pattern=black num-buffers=75 ! video/x-raw,framerate=25/1 \
                 ! blackdetect min-duration=1000000000 ! fakesink \
                 audiotestsrc wave=silence samplesperbuffer=4800 num-buffers=30 \
                 ! audio/x-raw,rate=48000 ! silencedetect ! fakesink"
            .to_string(),
    };
    Ok(gst::parse::launch(&description)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    gst::init()?;
    gstavmonitor::plugin_register_static()?;
    let p = pipeline(std::env::args().nth(1))?;
    let bus = p.bus().ok_or("no bus")?;
    p.set_state(gst::State::Playing)?;
    let mut result = Ok(());
    for msg in bus.iter_timed(gst::ClockTime::NONE) {
        match msg.view() {
            gst::MessageView::Element(e) => {
                let Some(Ok(m)) = e.structure().and_then(Message::from_structure) else {
                    continue;
                };
                let Some(defect) = m.defect() else {
                    continue;
                };
                let at = gst::ClockTime::from_nseconds(defect.at.timestamp);
                match defect.kind {
                    EventKind::Start => println!("{}: starts at {at}", m.element()),
                    EventKind::End => println!(
                        "{}: ends at {at} after {} ({:?})",
                        m.element(),
                        gst::ClockTime::from_nseconds(defect.duration.unwrap_or(0)),
                        defect.reason
                    ),
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
    p.set_state(gst::State::Null)?;
    result
}
