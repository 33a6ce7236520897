//! The `silencedetect` message.

use crate::analysis::audio::silence::SilenceEvent;
use crate::glue::ToMessage;
use crate::messages::{check_name, field, DefectEvent, MessageError};

/// `silencedetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceDetectMessage {
    pub event: DefectEvent,
    /// `channel` (i32): the silent channel, or -1 (`None` here) for all channels.
    pub channel: Option<u32>,
    /// `level-db` (f64, dBFS): level of the first silent 5 ms block (start),
    /// of the loudest block of the silence (end); -inf for digital silence.
    pub level_db: f64,
}

impl SilenceDetectMessage {
    pub const NAME: &'static str = "silencedetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("channel", self.channel.map_or(-1, |c| c as i32))
            .field("level-db", self.level_db)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        let ch: i32 = field(s, "channel")?;
        Ok(SilenceDetectMessage {
            event: DefectEvent::read(s)?,
            channel: u32::try_from(ch).ok(),
            level_db: field(s, "level-db")?,
        })
    }
}

impl From<&SilenceDetectMessage> for gst::Structure {
    fn from(m: &SilenceDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for SilenceDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for SilenceEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        SilenceDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            channel: self.channel.map(|c| c as u32),
            level_db: self.level_db,
        }
        .to_structure()
    }
}
