//! The avmonitor service: many streams in one process, each a GStreamer
//! pipeline of the `gstavmonitor` detector elements, their messages turned
//! into JSON Lines events, alarms, webhook calls and Prometheus metrics.
//!
//! - [`service`]: configuration, stream pipelines and supervision, outputs,
//!   metrics;
//! - [`demo`] and [`loadgen`]: generated streams (`demo:1`..`demo:3` with
//!   injected defects; `bench:raw` and `bench:h264` for the scale benchmark);
//! - [`json`]: bus message structures as JSON lines.

pub mod check;
pub mod demo;
pub mod json;
pub mod loadgen;
pub mod service;

/// Test set-up shared by the crate's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    /// Initialises GStreamer and registers the plugin, once per process.
    /// Registering again replaces the plugin's element factories while
    /// classes already built still point at the old ones, so every test
    /// goes through this one `Once`.
    pub(crate) fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            gst::init().unwrap();
            gstavmonitor::plugin_register_static().unwrap();
        });
    }
}
