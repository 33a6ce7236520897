//! The `freezedetect` message.

use crate::analysis::video::freeze::FreezeEvent;
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError};

/// `freezedetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreezeDetectMessage {
    pub event: DefectEvent,
    /// `difference`: the largest tile difference from the reference frame
    /// (mean absolute difference of 4x4-pixel means over a 16x16 tile, as a
    /// fraction of the nominal luma range), over the freeze so far (start) or
    /// the whole freeze (end). 0 for exact repeats.
    pub difference: f64,
}

impl FreezeDetectMessage {
    pub const NAME: &'static str = "freezedetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("difference", self.difference)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(FreezeDetectMessage {
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
        let common = DefectEvent::from_transition(self.transition, segment);
        FreezeDetectMessage {
            event: common,
            difference: self.difference,
        }
        .to_structure()
    }
}
