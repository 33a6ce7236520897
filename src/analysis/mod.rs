//! Pure analysis: detector kernels and the shared event logic.
//!
//! Nothing here depends on GStreamer; times are nanoseconds and pictures are
//! [`frame::LumaPlane`] views, so every kernel is unit tested on its own.

pub mod black;
pub mod event;
pub mod frame;
pub mod freeze;
