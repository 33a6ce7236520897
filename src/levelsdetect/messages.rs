//! The `levelsdetect` message: illegal levels, and the levels of each
//! interval.

use crate::analysis::video::levels::{LevelsEvent, LevelsMeasurement, LevelsStats};
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError, Times};

/// `levelsdetect` message: illegal levels (`event` = "start" / "end") or,
/// when `post-messages` is on, the levels of an interval (`event` =
/// "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelsDetectMessage {
    Illegal {
        event: DefectEvent,
        /// `luma-share`, `rgb-share` (f64): the highest share of sampled
        /// pixels out of range in luma, and in R'G'B', of any frame so far
        /// (start) or of the stretch (end); `luma-min`, `luma-max`,
        /// `cb-min`, `cb-max`, `cr-min`, `cr-max`, `rgb-min`, `rgb-max`
        /// (f64, fractions of the nominal range): the extremes over the
        /// same frames.
        stats: LevelsStats,
    },
    Measurement {
        /// `timestamp`: end of the interval's last frame; `stream-time`,
        /// `running-time`.
        at: Times,
        /// As for a start or end, over the interval's frames.
        stats: LevelsStats,
        /// `frames`, `illegal-frames` (u64): frames measured, and those
        /// among them with a share above `max-share`.
        frames: u64,
        illegal_frames: u64,
    },
}

const FIELDS: [&str; 10] = [
    "luma-share",
    "rgb-share",
    "luma-min",
    "luma-max",
    "cb-min",
    "cb-max",
    "cr-min",
    "cr-max",
    "rgb-min",
    "rgb-max",
];

fn values(s: &LevelsStats) -> [f64; 10] {
    [
        s.luma_share,
        s.rgb_share,
        s.luma_min,
        s.luma_max,
        s.cb_min,
        s.cb_max,
        s.cr_min,
        s.cr_max,
        s.rgb_min,
        s.rgb_max,
    ]
}

fn write_stats(mut b: gst::structure::Builder, s: &LevelsStats) -> gst::structure::Builder {
    for (name, v) in FIELDS.iter().zip(values(s)) {
        b = b.field(*name, v);
    }
    b
}

fn read_stats(s: &gst::StructureRef) -> Result<LevelsStats, MessageError> {
    let mut v = [0.0; 10];
    for (name, out) in FIELDS.iter().zip(&mut v) {
        *out = field(s, name)?;
    }
    Ok(LevelsStats {
        luma_share: v[0],
        rgb_share: v[1],
        luma_min: v[2],
        luma_max: v[3],
        cb_min: v[4],
        cb_max: v[5],
        cr_min: v[6],
        cr_max: v[7],
        rgb_min: v[8],
        rgb_max: v[9],
    })
}

impl LevelsDetectMessage {
    pub const NAME: &'static str = "levelsdetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            LevelsDetectMessage::Illegal { event, stats } => {
                write_stats(event.write(gst::Structure::builder(Self::NAME)), stats).build()
            }
            LevelsDetectMessage::Measurement {
                at,
                stats,
                frames,
                illegal_frames,
            } => write_stats(at.measurement(Self::NAME), stats)
                .field("frames", *frames)
                .field("illegal-frames", *illegal_frames)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(LevelsDetectMessage::Measurement {
                at,
                stats: read_stats(s)?,
                frames: field(s, "frames")?,
                illegal_frames: field(s, "illegal-frames")?,
            });
        }
        Ok(LevelsDetectMessage::Illegal {
            event: DefectEvent::read(s)?,
            stats: read_stats(s)?,
        })
    }
}

impl From<&LevelsDetectMessage> for gst::Structure {
    fn from(m: &LevelsDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for LevelsDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for LevelsEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            LevelsEvent::Illegal { transition, stats } => LevelsDetectMessage::Illegal {
                event: DefectEvent::from_transition(transition, segment),
                stats,
            },
            LevelsEvent::Measurement(LevelsMeasurement {
                timestamp,
                stats,
                frames,
                illegal_frames,
            }) => LevelsDetectMessage::Measurement {
                at: Times::in_segment(timestamp, segment),
                stats,
                frames,
                illegal_frames,
            },
        }
        .to_structure()
    }
}
