//! Thumbnails: a JPEG of the frame where a video defect was detected, saved
//! beside the event file by a thread of its own (`gst_video::convert_sample`
//! scales and encodes), through a small bounded queue that drops rather than
//! waits.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use super::metrics::Metrics;

/// Width of a thumbnail (height keeps the aspect ratio).
const WIDTH: i32 = 480;

pub struct Thumbnails {
    tx: Option<SyncSender<(gst::Buffer, gst::Caps, PathBuf)>>,
    done: Receiver<()>,
    dir: PathBuf,
}

impl Thumbnails {
    /// Saving beside `event_file`.
    pub fn start(event_file: &Path, metrics: Arc<Metrics>) -> Thumbnails {
        let dir = event_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let (tx, rx) = mpsc::sync_channel::<(gst::Buffer, gst::Caps, PathBuf)>(16);
        let (done_tx, done) = mpsc::channel();
        std::thread::Builder::new()
            .name("avmonitor-thumbnails".into())
            .spawn(move || {
                for (buffer, caps, path) in rx {
                    if let Err(e) = save(buffer, caps, &path) {
                        metrics.output_errors.inc();
                        eprintln!("avmonitor: thumbnail {}: {e}", path.display());
                    }
                }
                let _ = done_tx.send(());
            })
            .expect("a thread for thumbnails");
        Thumbnails {
            tx: Some(tx),
            done,
            dir,
        }
    }

    /// Queues `frame` to be saved as `name`; false when the queue is full.
    pub fn save(&self, frame: (gst::Buffer, gst::Caps), name: &str) -> bool {
        let Some(tx) = &self.tx else { return false };
        tx.try_send((frame.0, frame.1, self.dir.join(name))).is_ok()
    }

    pub fn finish(&mut self, limit: Duration) {
        self.tx = None;
        let _ = self.done.recv_timeout(limit);
    }
}

fn save(buffer: gst::Buffer, caps: gst::Caps, path: &Path) -> Result<(), String> {
    std::fs::write(path, jpeg(&buffer, &caps, WIDTH)?).map_err(|e| e.to_string())
}

/// The frame `buffer` of `caps` as a JPEG `width` pixels wide (the height
/// keeps the aspect ratio).
pub fn jpeg(buffer: &gst::Buffer, caps: &gst::Caps, width: i32) -> Result<Vec<u8>, String> {
    let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| e.to_string())?;
    let height = (i64::from(width) * i64::from(info.height()) / i64::from(info.width().max(1)))
        .max(2) as i32;
    let sample = gst::Sample::builder().buffer(buffer).caps(caps).build();
    let jpeg = gst::Caps::builder("image/jpeg")
        .field("width", width)
        .field("height", height)
        .build();
    let out = gst_video::convert_sample(&sample, &jpeg, Some(gst::ClockTime::from_seconds(5)))
        .map_err(|e| e.to_string())?;
    let map = out
        .buffer()
        .ok_or("no JPEG")?
        .map_readable()
        .map_err(|e| e.to_string())?;
    Ok(map.as_slice().to_vec())
}
