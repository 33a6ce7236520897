//! The `phasedetect` message.

use crate::analysis::audio::phase::{PhaseEvent, PhaseKind};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError};

/// `phasedetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseDetectMessage {
    pub event: DefectEvent,
    /// `kind` (string): `out-of-phase` or `mono`.
    pub kind: PhaseKind,
    /// `correlation` (f64, -1..1): of the first block (start), mean over the stretch (end).
    pub correlation: f64,
    /// `channel-a`, `channel-b` (u32): the pair.
    pub channel_a: u32,
    pub channel_b: u32,
}

impl PhaseDetectMessage {
    pub const NAME: &'static str = "phasedetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("kind", self.kind.as_str())
            .field("correlation", self.correlation)
            .field("channel-a", self.channel_a)
            .field("channel-b", self.channel_b)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(PhaseDetectMessage {
            event: DefectEvent::read(s)?,
            kind: enum_field(s, "kind", PhaseKind::parse)?,
            correlation: field(s, "correlation")?,
            channel_a: field(s, "channel-a")?,
            channel_b: field(s, "channel-b")?,
        })
    }
}

impl From<&PhaseDetectMessage> for gst::Structure {
    fn from(m: &PhaseDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for PhaseDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for PhaseEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        PhaseDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            kind: self.kind,
            correlation: self.correlation,
            channel_a: self.channels.0 as u32,
            channel_b: self.channels.1 as u32,
        }
        .to_structure()
    }
}
