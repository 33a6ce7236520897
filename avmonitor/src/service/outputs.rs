//! Where event records go: JSON lines on standard output and in the event
//! file, the webhook, and the thumbnails beside the event file. Nothing here
//! blocks the main loop: the webhook and the thumbnails have threads of
//! their own, and a file that cannot be written is counted and said, never
//! a stop.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::config;
use super::metrics::Metrics;
use super::record::Record;
use super::thumbnails::Thumbnails;
use super::webhook::Webhook;
use crate::json;

pub struct Outputs {
    stdout: bool,
    file: Option<EventFile>,
    metrics: Arc<Metrics>,
    failures: u64,
    webhook: Option<Webhook>,
    thumbnails: Option<Thumbnails>,
    /// Cluster mode: every line to NATS as well.
    nats: Option<super::cluster::Publisher>,
}

impl Outputs {
    pub fn new(config: &config::Config, metrics: Arc<Metrics>) -> Outputs {
        let out = &config.output;
        let file = out.file.as_ref().map(|path| EventFile::open(path.clone()));
        Outputs {
            stdout: out.stdout,
            file,
            failures: 0,
            webhook: config
                .webhook
                .as_ref()
                .map(|w| Webhook::start(w, metrics.clone())),
            thumbnails: out
                .thumbnails
                .then_some(out.file.as_ref())
                .flatten()
                .map(|f| Thumbnails::start(f, metrics.clone())),
            nats: None,
            metrics,
        }
    }

    /// Publishes every line to NATS too (cluster mode).
    pub fn publish_to(&mut self, nats: super::cluster::Publisher) {
        self.nats = Some(nats);
    }

    /// Whether thumbnails are taken.
    pub fn thumbnails(&self) -> bool {
        self.thumbnails.is_some()
    }

    /// Writes `record` everywhere it goes.
    pub fn emit(&mut self, record: &Record<'_>) {
        let line = json::line(record);
        self.line(&line);
        if let Some(w) = &self.webhook {
            w.send(record.event(), record.confidence(), &line);
        }
        if let Some(n) = &self.nats {
            n.publish(record.stream, record.event(), &line);
        }
    }

    fn line(&mut self, line: &str) {
        if self.stdout {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}").and_then(|_| out.flush());
        }
        if let Some(file) = &mut self.file {
            if let Err(e) = file.append(line) {
                self.metrics.output_errors.inc();
                self.failures += 1;
                if self.failures % 1000 == 1 {
                    eprintln!(
                        "avmonitor: cannot write to the event file {}: {e} ({} lines lost so far)",
                        file.path.display(),
                        self.failures
                    );
                }
            }
        }
    }

    /// Opens the event file again (SIGHUP: after a rotation that did not
    /// move it, or to try a file that could not be opened).
    pub fn reopen(&mut self) {
        if let Some(file) = &mut self.file {
            file.reopen();
        }
    }

    /// Saves `frame` as the JPEG `name` beside the event file (off the main
    /// loop); whether it was queued.
    pub fn thumbnail(&self, frame: (gst::Buffer, gst::Caps), name: &str) -> bool {
        self.thumbnails
            .as_ref()
            .is_some_and(|t| t.save(frame, name))
    }

    /// Gives the webhook and the thumbnails up to `limit` each to finish
    /// what is queued.
    pub fn finish(&mut self, limit: Duration) {
        if let Some(w) = self.webhook.as_mut() {
            w.finish(limit);
        }
        if let Some(t) = self.thumbnails.as_mut() {
            t.finish(limit);
        }
    }
}

/// The event file: JSON Lines appended whole, never a half line.
///
/// - Each line goes in one `write` with its newline; one that fails part
///   way (a full disk) is cut back off, so the file ends on a line.
/// - A half line found at the end on opening (the process killed while
///   writing, on an older version, or the disk full) is cut off first.
/// - A file moved or removed under the service (log rotation) is noticed at
///   the next line, by its device and inode, and a new one is made at the
///   path; SIGHUP reopens it too.
struct EventFile {
    path: PathBuf,
    /// The open file, its length, and its device and inode.
    open: Option<(std::fs::File, u64, (u64, u64))>,
    /// Whether failing to open it was said (once, until it opens again).
    said: bool,
}

impl EventFile {
    fn open(path: PathBuf) -> EventFile {
        let mut f = EventFile {
            path,
            open: None,
            said: false,
        };
        f.reopen();
        f
    }

    fn reopen(&mut self) {
        self.open = None;
        match Self::open_at(&self.path) {
            Ok(open) => {
                self.open = Some(open);
                self.said = false;
            }
            Err(e) if !self.said => {
                self.said = true;
                eprintln!(
                    "avmonitor: cannot open event file {}: {e} (events go on to stdout; counted in avmonitor_output_errors_total)",
                    self.path.display()
                )
            }
            Err(_) => {}
        }
    }

    fn open_at(path: &std::path::Path) -> std::io::Result<(std::fs::File, u64, (u64, u64))> {
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let meta = f.metadata()?;
        let mut len = meta.len();
        if len > 0 {
            // a half line at the end: cut back to the last newline
            let tail = len.min(1 << 20);
            let mut buf = vec![0u8; tail as usize];
            f.seek(SeekFrom::Start(len - tail))?;
            f.read_exact(&mut buf)?;
            if buf.last() != Some(&b'\n') {
                let keep = match buf.iter().rposition(|&b| b == b'\n') {
                    Some(i) => len - tail + i as u64 + 1,
                    None if tail == len => 0,
                    // (a last line over 1 MiB: left as it is, newline ended)
                    None => {
                        f.write_all(b"\n")?;
                        len + 1
                    }
                };
                if keep < len {
                    eprintln!(
                        "avmonitor: event file {}: cut off a half line at its end ({} bytes)",
                        path.display(),
                        len - keep
                    );
                    f.set_len(keep)?;
                }
                len = keep;
            }
        }
        Ok((f, len, (meta.dev(), meta.ino())))
    }

    fn append(&mut self, line: &str) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        // moved or removed (rotated): a new file at the path
        let here = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if self.open.as_ref().is_none_or(|o| here.ok() != Some(o.2)) {
            self.reopen();
        }
        let Some((f, len, _)) = self.open.as_mut() else {
            return Err(std::io::Error::other("not open"));
        };
        let mut whole = String::with_capacity(line.len() + 1);
        whole.push_str(line);
        whole.push('\n');
        match f.write(whole.as_bytes()) {
            Ok(n) if n == whole.len() => {
                *len += n as u64;
                Ok(())
            }
            other => {
                // nothing of a line that did not go in whole stays
                let _ = f.set_len(*len);
                match other {
                    Ok(n) => Err(std::io::Error::other(format!(
                        "wrote {n} of {} bytes (disk full?)",
                        whole.len()
                    ))),
                    Err(e) => Err(e),
                }
            }
        }
    }
}
