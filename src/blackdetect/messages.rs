//! The `blackdetect` message.

use crate::analysis::video::black::BlackEvent;
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError};

/// `blackdetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlackDetectMessage {
    pub event: DefectEvent,
    /// `black-ratio`: fraction of analysed pixels at or below the pixel
    /// threshold: of the first black frame for a start, mean over the black
    /// stretch for an end.
    pub black_ratio: f64,
    /// `mean-luma`: mean luma of the analysed pixels, 0.0 = nominal black,
    /// 1.0 = nominal white (slightly below 0 for sub-black); first frame for a
    /// start, mean over the stretch for an end.
    pub mean_luma: f64,
}

impl BlackDetectMessage {
    pub const NAME: &'static str = "blackdetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("black-ratio", self.black_ratio)
            .field("mean-luma", self.mean_luma)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(BlackDetectMessage {
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
        let common = DefectEvent::from_transition(self.transition, segment);
        BlackDetectMessage {
            event: common,
            black_ratio: self.stats.black_ratio,
            mean_luma: self.stats.mean_luma,
        }
        .to_structure()
    }
}
