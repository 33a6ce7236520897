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
    file: Option<(PathBuf, Option<std::fs::File>)>,
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
        let file = out.file.as_ref().map(|path| {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            let f = match f {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!(
                        "avmonitor: cannot open event file {}: {e} (events go on to stdout; counted in avmonitor_output_errors_total)",
                        path.display()
                    );
                    None
                }
            };
            (path.clone(), f)
        });
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
        if let Some((path, file)) = &mut self.file {
            let ok = file
                .as_mut()
                .is_some_and(|f| writeln!(f, "{line}").and_then(|_| f.flush()).is_ok());
            if !ok {
                self.metrics.output_errors.inc();
                self.failures += 1;
                if self.failures % 1000 == 1 {
                    eprintln!(
                        "avmonitor: cannot write to the event file {} ({} lines lost so far)",
                        path.display(),
                        self.failures
                    );
                }
            }
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
