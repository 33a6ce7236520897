//! The `blackdetect` message: black starts and ends, and luma measurements.

use crate::analysis::video::black::BlackEvent;
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError, Times};

/// `blackdetect` message: a black stretch (`event` = "start" / "end") or,
/// when `post-messages` is on, a luma measurement (`event` = "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlackDetectMessage {
    Black {
        event: DefectEvent,
        /// `black-ratio` (f64): fraction of analysed pixels at or below the
        /// pixel threshold: of the first black frame for a start, mean over
        /// the black stretch for an end.
        black_ratio: f64,
        /// `mean-luma` (f64): mean luma of the analysed pixels, 0.0 = nominal
        /// black, 1.0 = nominal white (slightly below 0 for sub-black); first
        /// frame for a start, mean over the stretch for an end.
        mean_luma: f64,
    },
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        at: Times,
        /// `luma-min`, `luma-mean`, `luma-max` (f64): the lowest pixel, the
        /// mean of the frames' means, and the highest pixel of the analysed
        /// region over the interval, as fractions of the nominal range (0.0
        /// = nominal black, 1.0 = nominal white; below 0 and above 1 for
        /// sub-black and super-white).
        luma_min: f64,
        luma_mean: f64,
        luma_max: f64,
        /// `frames` (u64): frames measured.
        frames: u64,
    },
}

impl BlackDetectMessage {
    pub const NAME: &'static str = "blackdetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            BlackDetectMessage::Black {
                event,
                black_ratio,
                mean_luma,
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("black-ratio", *black_ratio)
                .field("mean-luma", *mean_luma)
                .build(),
            BlackDetectMessage::Measurement {
                at,
                luma_min,
                luma_mean,
                luma_max,
                frames,
            } => at
                .measurement(Self::NAME)
                .field("luma-min", *luma_min)
                .field("luma-mean", *luma_mean)
                .field("luma-max", *luma_max)
                .field("frames", *frames)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(BlackDetectMessage::Measurement {
                at,
                luma_min: field(s, "luma-min")?,
                luma_mean: field(s, "luma-mean")?,
                luma_max: field(s, "luma-max")?,
                frames: field(s, "frames")?,
            });
        }
        Ok(BlackDetectMessage::Black {
            event: DefectEvent::read(s)?,
            black_ratio: field(s, "black-ratio")?,
            mean_luma: field(s, "mean-luma")?,
        })
    }
}

impl From<&BlackDetectMessage> for gst::Structure {
    fn from(m: &BlackDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for BlackDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for BlackEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            BlackEvent::Black { transition, stats } => BlackDetectMessage::Black {
                event: DefectEvent::from_transition(transition, segment),
                black_ratio: stats.black_ratio,
                mean_luma: stats.mean_luma,
            },
            BlackEvent::Measurement(m) => BlackDetectMessage::Measurement {
                at: Times::in_segment(m.timestamp, segment),
                luma_min: m.min,
                luma_mean: m.mean,
                luma_max: m.max,
                frames: m.frames,
            },
        }
        .to_structure()
    }
}
