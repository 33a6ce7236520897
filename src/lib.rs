//! avmonitor: GStreamer elements that watch media for defects and post bus
//! messages, passing the media through untouched.
//!
//! Elements: `blackdetect`, `freezedetect`, `blockdetect`, `areadetect`,
//! `cadencedetect`, `levelsdetect`, `patterndetect`, `captiondetect` (video);
//! `silencedetect`, `clipdetect`, `phasedetect`, `loudnessmeter` (audio);
//! `avsyncdetect` (both); `slicecheck` (coded H.264 and HEVC, before the
//! decoder, for `blockdetect`); `tsmonitor` (MPEG transport streams, before
//! the demuxer: ETSI TR 101 290). Loaded as a plugin (`libgstavmonitor.so`) or
//! linked statically with [`plugin_register_static`].
//!
//! What the library promises to Rust applications is what this page lists:
//! [`plugin_register_static`]; one typed message per element
//! ([`BlackDetectMessage`], ...) read from and written to a bus message's
//! `gst::Structure`, with the enums they carry, and [`Message`] over them
//! all; and
//! [`attach_slicecheck_to_parser`], which does `slicecheck`'s work on a parser
//! inside `uridecodebin`; [`attach_tsmonitor_to_demuxer`], which does
//! `tsmonitor`'s work on the transport stream going into a `tsdemux` (and
//! [`attach_tsmonitor_to_demuxer_with`], with an element's limits); [`skip_frames`], which makes a
//! software decoder leave out the frames the detectors that allow it do not need;
//! [`keyframes_only`], which makes a decoder decode keyframes only, each at once; and
//! [`keyframes_until_still`], which does so while pictures move and decodes whole the GOPs
//! where a picture is still. Everything else is private. The feature `internals`
//! opens the pure kernels ([`analysis`] and a few glue items) to this
//! repository's benches and tests only: it is not part of the promise.

use gst::glib;

#[cfg(feature = "internals")]
pub mod analysis;
#[cfg(not(feature = "internals"))]
mod analysis;
mod areadetect;
mod audiodetect;
mod avsyncdetect;
mod blackdetect;
mod blockdetect;
mod cadencedetect;
mod captiondetect;
mod clipdetect;
mod decoding;
mod freezedetect;
mod glue;
mod levelsdetect;
mod loudnessmeter;
mod message;
mod messages;
mod patterndetect;
mod phasedetect;
mod silencedetect;
mod slicecheck;
#[cfg(feature = "internals")]
pub mod slicemeta;
#[cfg(not(feature = "internals"))]
mod slicemeta;
mod tsmonitor;
#[cfg(feature = "internals")]
pub mod videodetect;
#[cfg(not(feature = "internals"))]
mod videodetect;

pub use analysis::audio::loudness::AlarmKind as LoudnessAlarm;
pub use analysis::audio::phase::PhaseKind;
pub use analysis::avsync::{Media, Method};
pub use analysis::event::EndReason;
pub use analysis::transport::monitor::{ErrorClass as TsErrorClass, PidKind};
pub use analysis::video::area::{Area, AreaChange};
pub use analysis::video::block::{BoxPx, Evidence};
pub use analysis::video::cadence::{CadenceKind, CadenceMeasurement};
pub use analysis::video::captions::CaptionProblem;
pub use analysis::video::levels::LevelsStats;
pub use analysis::video::pattern::Pattern;
pub use areadetect::AreaDetectMessage;
pub use avsyncdetect::AvSyncDetectMessage;
pub use blackdetect::BlackDetectMessage;
pub use blockdetect::BlockDetectMessage;
pub use cadencedetect::CadenceDetectMessage;
pub use captiondetect::{CaptionDetectMessage, CaptionServices};
pub use clipdetect::ClipDetectMessage;
pub use decoding::{keyframes_only, keyframes_until_still, skip_frames};
pub use freezedetect::FreezeDetectMessage;
pub use levelsdetect::{LevelsDetectMessage, Preset as LevelsPreset};
pub use loudnessmeter::LoudnessMeterMessage;
pub use message::Message;
pub use messages::{DefectEvent, EventKind, MessageError, Times};
pub use patterndetect::PatternDetectMessage;
pub use phasedetect::PhaseDetectMessage;
pub use silencedetect::SilenceDetectMessage;
pub use slicecheck::attach_to_parser as attach_slicecheck_to_parser;
pub use tsmonitor::{
    attach_to_demuxer as attach_tsmonitor_to_demuxer,
    attach_to_demuxer_with as attach_tsmonitor_to_demuxer_with, TsMonitorMessage,
};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    blackdetect::register(plugin)?;
    freezedetect::register(plugin)?;
    blockdetect::register(plugin)?;
    areadetect::register(plugin)?;
    cadencedetect::register(plugin)?;
    levelsdetect::register(plugin)?;
    patterndetect::register(plugin)?;
    avsyncdetect::register(plugin)?;
    silencedetect::register(plugin)?;
    clipdetect::register(plugin)?;
    phasedetect::register(plugin)?;
    loudnessmeter::register(plugin)?;
    slicecheck::register(plugin)?;
    tsmonitor::register(plugin)?;
    captiondetect::register(plugin)?;
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
