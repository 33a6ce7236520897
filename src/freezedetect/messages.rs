//! The `freezedetect` message: freeze starts and ends, and difference
//! measurements.

use crate::analysis::video::freeze::FreezeEvent;
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError, Times};

/// `freezedetect` message: a freeze (`event` = "start" / "end") or, when
/// `post-messages` is on, a difference measurement (`event` = "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FreezeDetectMessage {
    Freeze {
        event: DefectEvent,
        /// `difference` (f64): the largest tile difference from the
        /// reference frame (mean absolute difference of 4x4-pixel means
        /// over a 16x16 tile, as a fraction of the nominal luma range), over
        /// the freeze so far (start) or the whole freeze (end). 0 for exact
        /// repeats.
        difference: f64,
    },
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        at: Times,
        /// `difference` (f64): the largest tile difference of any frame of
        /// the interval from its reference (the frame before it, or the
        /// first frame of a freeze), as a fraction of the nominal luma
        /// range: at most `threshold` when the picture did not change.
        difference: f64,
        /// `frames` (u64): frames compared.
        frames: u64,
    },
}

impl FreezeDetectMessage {
    pub const NAME: &'static str = "freezedetect";

    /// `difference`, which both kinds carry.
    pub fn difference(&self) -> f64 {
        match self {
            FreezeDetectMessage::Freeze { difference, .. }
            | FreezeDetectMessage::Measurement { difference, .. } => *difference,
        }
    }

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            FreezeDetectMessage::Freeze { event, difference } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("difference", *difference)
                .build(),
            FreezeDetectMessage::Measurement {
                at,
                difference,
                frames,
            } => at
                .measurement(Self::NAME)
                .field("difference", *difference)
                .field("frames", *frames)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(FreezeDetectMessage::Measurement {
                at,
                difference: field(s, "difference")?,
                frames: field(s, "frames")?,
            });
        }
        Ok(FreezeDetectMessage::Freeze {
            event: DefectEvent::read(s)?,
            difference: field(s, "difference")?,
        })
    }
}

impl From<&FreezeDetectMessage> for gst::Structure {
    fn from(m: &FreezeDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for FreezeDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for FreezeEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            FreezeEvent::Freeze {
                transition,
                difference,
            } => FreezeDetectMessage::Freeze {
                event: DefectEvent::from_transition(transition, segment),
                difference,
            },
            FreezeEvent::Measurement(m) => FreezeDetectMessage::Measurement {
                at: Times::in_segment(m.timestamp, segment),
                difference: m.difference,
                frames: m.frames,
            },
        }
        .to_structure()
    }
}
