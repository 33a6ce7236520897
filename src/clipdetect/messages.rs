//! The `clipdetect` message.

use crate::analysis::audio::clip::ClipEvent;
use crate::glue::ToMessage;
use crate::messages::{array, check_name, read_array, DefectEvent, MessageError};

/// `clipdetect` message.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipDetectMessage {
    pub event: DefectEvent,
    /// `clipped-samples` (array of u64, per channel): clipped samples in
    /// clipping runs, over the event (so far, for a start).
    pub clipped_samples: Vec<u64>,
    /// `runs` (array of u64, per channel): clipping runs.
    pub runs: Vec<u64>,
}

impl ClipDetectMessage {
    pub const NAME: &'static str = "clipdetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("clipped-samples", array(&self.clipped_samples))
            .field("runs", array(&self.runs))
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(ClipDetectMessage {
            event: DefectEvent::read(s)?,
            clipped_samples: read_array(s, "clipped-samples")?,
            runs: read_array(s, "runs")?,
        })
    }
}

impl From<&ClipDetectMessage> for gst::Structure {
    fn from(m: &ClipDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for ClipDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for ClipEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        ClipDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            clipped_samples: self.clipped_samples.clone(),
            runs: self.runs.clone(),
        }
        .to_structure()
    }
}
