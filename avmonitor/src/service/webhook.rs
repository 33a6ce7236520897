//! Webhook delivery: each event line POSTed as JSON to a URL (http, or
//! https through rustls with the Mozilla roots) from a thread
//! of its own, through a bounded queue (when the receiver falls behind,
//! events beyond the queue are dropped and counted, and the media never
//! waits), each retried with exponential backoff.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use super::config;
use super::metrics::Metrics;

pub struct Webhook {
    tx: Option<SyncSender<String>>,
    done: Receiver<()>,
    events: Vec<String>,
    min_confidence: f64,
    metrics: Arc<Metrics>,
}

impl Webhook {
    pub fn start(conf: &config::Webhook, metrics: Arc<Metrics>) -> Webhook {
        let (tx, rx) = mpsc::sync_channel::<String>(conf.queue);
        let (done_tx, done) = mpsc::channel();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(conf.timeout_ms)))
            .http_status_as_error(true)
            .build()
            .into();
        let url = conf.url.clone();
        let retries = conf.retries;
        let m = metrics.clone();
        std::thread::Builder::new()
            .name("avmonitor-webhook".into())
            .spawn(move || {
                for body in rx {
                    let mut wait = Duration::from_millis(500);
                    let mut ok = false;
                    for attempt in 0..=retries {
                        if attempt > 0 {
                            std::thread::sleep(wait);
                            wait = (wait * 2).min(Duration::from_secs(30));
                        }
                        let sent = agent
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .send(body.as_bytes());
                        if sent.is_ok() {
                            ok = true;
                            break;
                        }
                    }
                    if ok {
                        m.webhook_sent.inc();
                    } else {
                        m.webhook_failed.inc();
                        if m.webhook_failed.get() % 100 == 1 {
                            eprintln!(
                                "avmonitor: webhook {url}: an event was not delivered after {} attempts",
                                retries + 1
                            );
                        }
                    }
                }
                let _ = done_tx.send(());
            })
            .expect("a thread for the webhook");
        Webhook {
            tx: Some(tx),
            done,
            events: conf.events.clone(),
            min_confidence: conf.min_confidence,
            metrics,
        }
    }

    /// Queues `line` (event `event`, and its `confidence` if it has one)
    /// if the configuration wants it; never blocks.
    pub fn send(&self, event: &str, confidence: Option<f64>, line: &str) {
        if !wanted(&self.events, self.min_confidence, event, confidence) {
            return;
        }
        if let Some(tx) = &self.tx {
            match tx.try_send(line.to_string()) {
                Ok(()) => (),
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    self.metrics.webhook_dropped.inc();
                }
            }
        }
    }

    /// Lets the queue drain for up to `limit`.
    pub fn finish(&mut self, limit: Duration) {
        self.tx = None;
        let _ = self.done.recv_timeout(limit);
    }
}

/// Whether a subscription to `events` with `min_confidence` wants an event
/// `event` with `confidence`: the event must be one of them, and a
/// confidence, where the event has one, must reach the minimum (an end
/// carries the highest of its corruption, so a corruption that grew
/// confident is sent from there on).
fn wanted(events: &[String], min_confidence: f64, event: &str, confidence: Option<f64>) -> bool {
    events.iter().any(|e| e == event) && confidence.is_none_or(|c| c >= min_confidence)
}

#[cfg(test)]
mod tests {
    use super::wanted;

    #[test]
    fn only_confident_corruptions_are_sent() {
        let events = ["start".to_string(), "end".to_string()];
        assert!(wanted(&events, 0.5, "start", Some(0.9)));
        assert!(wanted(&events, 0.5, "start", Some(0.5)));
        assert!(!wanted(&events, 0.5, "start", Some(0.25)));
        // events without a confidence (every other detector's) go as before
        assert!(wanted(&events, 0.5, "end", None));
        assert!(!wanted(&events, 0.5, "alarm", None));
        assert!(wanted(&events, 0.0, "start", Some(0.2)));
    }
}
