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
