//! avmonitor: GStreamer elements that watch media for defects and post bus messages.
pub mod analysis;
