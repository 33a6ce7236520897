//! avmonitor: GStreamer elements that watch media for defects and post bus
//! messages, passing the media through untouched.
//!
//! - [`analysis`]: the pure detector kernels and the shared event logic;
//! - [`messages`]: typed bus messages;
//! - elements: `blackdetect`, `freezedetect`, `blockdetect` (video); `silencedetect`,
//!   `clipdetect`, `phasedetect`, `loudnessmeter` (audio); `avsyncdetect` (both); `slicecheck`
//!   (coded H.264, before the decoder, for `blockdetect`).

use gst::glib;

pub mod analysis;
pub mod audiodetect;
pub mod avsyncdetect;
pub mod blackdetect;
pub mod blockdetect;
pub mod clipdetect;
pub mod demo;
pub mod freezedetect;
pub mod glue;
pub mod json;
pub mod loadgen;
pub mod loudnessmeter;
pub mod messages;
pub mod phasedetect;
#[cfg(feature = "service")]
pub mod service;
pub mod silencedetect;
pub mod slicecheck;
pub mod videodetect;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    blackdetect::register(plugin)?;
    freezedetect::register(plugin)?;
    blockdetect::register(plugin)?;
    avsyncdetect::register(plugin)?;
    silencedetect::register(plugin)?;
    clipdetect::register(plugin)?;
    phasedetect::register(plugin)?;
    loudnessmeter::register(plugin)?;
    slicecheck::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    avmonitor,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    env!("BUILD_REL_DATE")
);
