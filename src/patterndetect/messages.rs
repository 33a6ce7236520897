//! The `patterndetect` message: a test pattern on air.

use crate::analysis::video::pattern::{Pattern, PatternEvent};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError};

/// `patterndetect` message: a test pattern on air (`event` = "start" /
/// "end").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternDetectMessage {
    pub event: DefectEvent,
    /// `pattern` (string): `smpte-bars`, `ebu-bars`, `bars` (the bar colours
    /// in another layout) or `still-card`.
    pub pattern: Pattern,
    /// `amplitude` (f64): the coloured bars' level, a fraction of the
    /// nominal range (0.75 for 75% bars, 1.0 for 100%); 0 for a still card.
    pub amplitude: f64,
}

impl PatternDetectMessage {
    pub const NAME: &'static str = "patterndetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("pattern", self.pattern.as_str())
            .field("amplitude", self.amplitude)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(PatternDetectMessage {
            event: DefectEvent::read(s)?,
            pattern: enum_field(s, "pattern", Pattern::parse)?,
            amplitude: field(s, "amplitude")?,
        })
    }
}

impl From<&PatternDetectMessage> for gst::Structure {
    fn from(m: &PatternDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for PatternDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for PatternEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        PatternDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            pattern: self.pattern,
            amplitude: self.amplitude,
        }
        .to_structure()
    }
}
