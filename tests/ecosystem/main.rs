//! How the plugin fits the GStreamer world: the clients outside Rust
//! (Python, C) run against the built plugin, and the launch lines of
//! docs/pipelines.md (beside an existing chain, network inputs, playbin).
//! One test binary for both, to link once.

#[path = "../common/mod.rs"]
mod common;

mod clients;
mod pipelines;
