//! `avsyncdetect`: measures audio/video sync (lip-sync) and raises an alarm
//! when it leaves tolerance, or when one stream stalls.
//!
//! The element has a video and an audio sink pad, each with its source pad
//! (`video_sink` → `video_src`, `audio_sink` → `audio_src`). Both streams pass
//! through untouched: the same buffers, and every event and query goes on to
//! the other pad of its pair as if the element were not there. Put a queue
//! after each source pad when the two branches end in different sinks, as
//! always with two streams in one pipeline.
//!
//! ```text
//! gst-launch-1.0 -m avsyncdetect name=sync \
//!     uridecodebin uri=file:///media/in.mp4 name=d \
//!     d. ! queue ! videoconvert ! sync.video_sink  sync.video_src ! queue ! fakesink \
//!     d. ! queue ! audioconvert ! sync.audio_sink  sync.audio_src ! queue ! fakesink
//! ```
//!
//! ## How the offset is measured
//! All times are compared in running time, so edit lists and segments of
//! each stream are accounted for.
//! - **Test signals** (`mode=test-signal`, or `auto` when present): a
//!   *flash* (some 1/16 by 1/8 of the picture, or all of it, jumps to bright,
//!   and no part of it goes dark as a moving object would leave it)
//!   paired with a *beep* (a sound of at least -45 dBFS starting out of 100 ms
//!   below -60 dBFS), timed to the sample. Each flash is paired with the beep
//!   nearest to the offset last measured (else 0) within `max-offset`; every
//!   pair is a measurement. A pair counts for alarms once the pair before
//!   agrees with it within a frame duration (confidence 1; the first pair
//!   after a change has 0.3, and more than one beep within `max-offset` of the
//!   flash halves it). A test pattern's period must exceed twice `max-offset`
//!   to be unambiguous.
//! - **Content** (`mode=content`, or `auto` without test signals): visual
//!   changes (cuts and flashes: the picture changes 4 times more than in any
//!   of the 4 frames before; motion onsets: tiles start changing and go on
//!   changing) and audio changes (steps in level or in spectral tilt, to
//!   5 ms) over the last `window` are compared: every lag between a visual
//!   and an audio change within `max-offset` is a vote, weighted by how far
//!   the sound rises above the 100 ms before it, and the lag with the most
//!   votes wins, refined to the median of its pairs. Its confidence is how
//!   far it beats the best lag elsewhere, as a share of its own votes; with
//!   fewer than 3 agreeing pairs it is 0. A still picture with music, or
//!   changes that do not go together, give a low confidence: the element
//!   then says it cannot tell, and raises nothing. Visual changes must be
//!   large: lip movement in a talking head is not seen.
//!
//! Only measurements with at least `min-confidence` raise or end an alarm.
//!
//! ## Tolerance
//! `preset` sets `max-audio-early` and `max-audio-late`:
//! - `ebu-r37` (default): audio at most 40 ms early, 60 ms late;
//! - `itu-r-bt1359`: the detectability thresholds, 45 ms early, 125 ms late;
//! - `atsc-is191`: 15 ms early, 45 ms late.
//!
//! Setting either bound on its own makes the preset `custom`.
//!
//! ## Messages
//! Element messages named `avsyncdetect`.
//! - `event` = `measurement` (when `post-messages` is on): for every
//!   flash/beep pair, or every `interval` in content mode.
//!   - `timestamp`, `stream-time`, `running-time` (u64, ns): of the flash, or
//!     the end of the window, on the video stream;
//!   - `offset-ms` (f64): audio time minus video time of the same event
//!     (positive: audio late); 0 when `method` is `none`;
//!   - `confidence` (f64): 0 (cannot tell) to 1;
//!   - `observations` (u32): the event pairs it rests on;
//!   - `method` (string): `test-signal`, `content` or `none` (nothing to
//!     measure on in the window).
//! - `event` = `start`/`end`, with the shared event fields (`timestamp`,
//!   `stream-time`, `running-time`, and `duration` and `reason` on end):
//!   - `alarm` = `offset`: confident measurements outside the tolerance for
//!     `min-duration`. The start is at the first such measurement, the end at
//!     the first confident one back inside. `offset-ms` (f64) is the first
//!     offset out of tolerance (start), or the furthest (end). EOS on either
//!     pad, a flushing seek or a caps change end it (`reason`).
//!   - `alarm` = `stall`: `stream` (`video` or `audio`) stopped for
//!     `stall-timeout` or more. The start is back-dated to the end of its last
//!     buffer (or gap), the end is where it flows again. Live (upstream
//!     answers the latency query as live), the start is posted as soon as the
//!     other stream has advanced `stall-timeout` beyond it. Not live (files
//!     read as fast as they decode, where the streams run ahead of each other
//!     by as much as the queues after them hold), a stall is a hole in the
//!     stream's timestamps, posted (start and end) when it flows again. After
//!     EOS on a pad, nothing is judged stalled.
//!
//! A flushing seek (flush-stop on either pad) starts the measurement afresh.
//! A caps change on either pad restarts that stream's analysis.
//!
//! Buffers without a PTS are timed from the previous buffer (video: its
//! duration or the frame rate; audio: the sample count); until one has been
//! seen they pass unanalysed. Gap events count as flowing.

use gst::glib;
use gst::prelude::*;

mod imp;
mod messages;

pub use messages::*;

/// Sync tolerances.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAvSyncPreset")]
pub enum Preset {
    #[enum_value(
        name = "EBU R37: audio at most 40 ms early, 60 ms late",
        nick = "ebu-r37"
    )]
    EbuR37 = 0,
    #[enum_value(
        name = "ITU-R BT.1359 detectability: 45 ms early, 125 ms late",
        nick = "itu-r-bt1359"
    )]
    ItuRBt1359 = 1,
    #[enum_value(name = "ATSC IS-191: 15 ms early, 45 ms late", nick = "atsc-is191")]
    AtscIs191 = 2,
    #[enum_value(
        name = "Custom: max-audio-early and max-audio-late as set",
        nick = "custom"
    )]
    Custom = 3,
}

impl Preset {
    /// (most audio may be early, most it may be late), ns; `None` for custom.
    pub fn bounds(&self) -> Option<(u64, u64)> {
        const MS: u64 = 1_000_000;
        match self {
            Preset::EbuR37 => Some((40 * MS, 60 * MS)),
            Preset::ItuRBt1359 => Some((45 * MS, 125 * MS)),
            Preset::AtscIs191 => Some((15 * MS, 45 * MS)),
            Preset::Custom => None,
        }
    }
}

/// How the offset is measured.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAvSyncMode")]
pub enum Mode {
    #[enum_value(
        name = "Auto: flash/beep test signals when present, else content",
        nick = "auto"
    )]
    Auto = 0,
    #[enum_value(name = "Test signal: flash/beep pairs only", nick = "test-signal")]
    TestSignal = 1,
    #[enum_value(
        name = "Content: correlation of visual and audio changes only",
        nick = "content"
    )]
    Content = 2,
    #[enum_value(
        name = "Stall: no offset measured, stalls only (for streams whose decoder skips frames)",
        nick = "stall"
    )]
    Stall = 3,
}

glib::wrapper! {
    pub struct AvSyncDetect(ObjectSubclass<imp::AvSyncDetect>)
        @extends gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    // the enums its properties take, listed with their values by
    // gst-inspect-1.0 and the plugin documentation
    Preset::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    Mode::static_type().mark_as_plugin_api(gst::PluginAPIFlags::empty());
    gst::Element::register(
        Some(plugin),
        "avsyncdetect",
        gst::Rank::NONE,
        AvSyncDetect::static_type(),
    )
}
