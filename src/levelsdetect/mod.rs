//! `levelsdetect`: illegal video levels, as EBU R103 defines them: luma,
//! or R'G'B' derived from Y'CbCr through the caps' matrix, outside the
//! legal range on more than a small share of the picture.
//!
//! Every limit is a fraction of the nominal range, so limited and full
//! range, 8, 10 and 16 bit are judged alike: luma 0 is nominal black and 1
//! nominal white (16 and 235 in limited 8 bit, 0 and 255 in full range),
//! Cb and Cr run from -0.5 to 0.5, R', G' and B' from 0 to 1. The defaults
//! (`preset` `ebu-r103`) are luma -1% to 103% and R'G'B' -5% to 105% (8
//! bit: luma 14 to 241). A frame is illegal when more than `max-share` of
//! its sampled pixels are out of range in luma or in R'G'B'; an event
//! starts once frames have been illegal for `min-duration`, back-dated to
//! the first, and ends at the first legal frame. One line in `line-step`
//! is read (moving down one line each frame); R'G'B' is computed at each
//! chroma sample with its co-sited luma. The buffers pass through
//! untouched.
//!
//! ```text
//! gst-launch-1.0 -m uridecodebin uri=file:///media/in.mp4 ! levelsdetect ! fakesink
//! ```
//!
//! ## Messages
//! Element messages named `levelsdetect`:
//! - `event` (string): `start` once frames have been illegal for
//!   `min-duration`, back-dated to the first; `end` at the first legal
//!   frame, or when the stream is interrupted (see `reason`); with
//!   `post-messages` (on by default), `measurement` every `interval`.
//! - `timestamp`, `stream-time`, `running-time` (u64, ns);
//!   `duration` (u64, ns, end only), `reason` (string, end only):
//!   `recovered`, `eos`, `flush`, `caps-change` or `discont`.
//! - `luma-share`, `rgb-share` (f64): the highest share of sampled pixels
//!   out of range, in luma and in R'G'B', of any frame covered (a start:
//!   the stretch so far; an end: the whole stretch; a measurement: the
//!   interval).
//! - `luma-min`, `luma-max`, `cb-min`, `cb-max`, `cr-min`, `cr-max`,
//!   `rgb-min`, `rgb-max` (f64, fractions of the nominal range): the
//!   extremes over the same frames (`rgb-*`: the lowest and highest of R',
//!   G' and B'; chroma reads 0 in a grey picture).
//! - `frames`, `illegal-frames` (u64, measurement only): frames measured,
//!   and those with a share above `max-share`.
//!
//! Buffers without a PTS are timed from the previous frame's end; until one
//! has been seen they are passed on unanalysed.

use gst::glib;
use gst::prelude::*;

use crate::analysis::video::levels::Limits;

mod imp;
mod messages;

pub use messages::*;

/// Legal ranges.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstLevelsPreset")]
pub enum Preset {
    #[enum_value(
        name = "EBU R103 (2000): luma -1% to 103%, R'G'B' -5% to 105%",
        nick = "ebu-r103"
    )]
    EbuR103 = 0,
    #[enum_value(
        name = "EBU R103 v3 (2020): luma and R'G'B' 5 to 246 in 8 bit (-5.02% to 105.02%)",
        nick = "ebu-r103-v3"
    )]
    EbuR103V3 = 1,
    #[enum_value(
        name = "Nominal: luma and R'G'B' within black and white (16 to 235 in 8 bit)",
        nick = "nominal"
    )]
    Nominal = 2,
    #[enum_value(name = "Custom: the four limits as set", nick = "custom")]
    Custom = 3,
}

impl Preset {
    const ALL: [Preset; 3] = [Preset::EbuR103, Preset::EbuR103V3, Preset::Nominal];

    /// The preset's limits; `None` for custom.
    pub fn limits(&self) -> Option<Limits> {
        match self {
            Preset::EbuR103 => Some(Limits::EBU_R103),
            Preset::EbuR103V3 => Some(Limits::EBU_R103_V3),
            Preset::Nominal => Some(Limits::NOMINAL),
            Preset::Custom => None,
        }
    }

    /// The preset whose limits these are, or custom.
    pub fn from_limits(limits: &Limits) -> Preset {
        Self::ALL
            .into_iter()
            .find(|p| p.limits().as_ref() == Some(limits))
            .unwrap_or(Preset::Custom)
    }
}

glib::wrapper! {
    pub struct LevelsDetect(ObjectSubclass<imp::LevelsDetect>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    // the enums its properties take, listed with their values by
    // gst-inspect-1.0 and the plugin documentation
    Preset::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "levelsdetect",
        gst::Rank::NONE,
        LevelsDetect::static_type(),
    )
}
