//! The `avsyncdetect` message: measurements, offset and stall alarms.

use crate::analysis::avsync::{Media, Method};
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// `avsyncdetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AvSyncDetectMessage {
    Measurement {
        /// `timestamp` (video buffer time), `stream-time`, `running-time` of
        /// the instant measured: the flash, or the end of the window.
        at: Times,
        /// `offset-ms` (f64): audio time minus video time of the same event
        /// (positive: audio late); 0 when `method` is `none`.
        offset_ms: f64,
        /// `confidence` (f64, 0 = cannot tell, 1 = certain).
        confidence: f64,
        /// `observations` (u32): event pairs the measurement rests on.
        observations: u32,
        /// `method` (string): `test-signal`, `content` or `none`.
        method: Method,
    },
    /// `alarm` = `offset`: the offset outside the tolerance.
    Offset {
        event: DefectEvent,
        /// `offset-ms` (f64): first offset out of tolerance (start), furthest (end).
        offset_ms: f64,
    },
    /// `alarm` = `stall`: one stream stopped while the other went on.
    Stall {
        event: DefectEvent,
        /// `stream` (string): `video` or `audio`.
        stream: Media,
    },
}

impl AvSyncDetectMessage {
    pub const NAME: &'static str = "avsyncdetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            AvSyncDetectMessage::Measurement {
                at,
                offset_ms,
                confidence,
                observations,
                method,
            } => at
                .measurement(Self::NAME)
                .field("offset-ms", *offset_ms)
                .field("confidence", *confidence)
                .field("observations", *observations)
                .field("method", method.as_str())
                .build(),
            AvSyncDetectMessage::Offset { event, offset_ms } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("alarm", "offset")
                .field("offset-ms", *offset_ms)
                .build(),
            AvSyncDetectMessage::Stall { event, stream } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("alarm", "stall")
                .field("stream", stream.as_str())
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(AvSyncDetectMessage::Measurement {
                at,
                offset_ms: field(s, "offset-ms")?,
                confidence: field(s, "confidence")?,
                observations: field(s, "observations")?,
                method: enum_field(s, "method", Method::parse)?,
            });
        }
        let event = DefectEvent::read(s)?;
        match field::<&str>(s, "alarm")? {
            "offset" => Ok(AvSyncDetectMessage::Offset {
                event,
                offset_ms: field(s, "offset-ms")?,
            }),
            "stall" => Ok(AvSyncDetectMessage::Stall {
                event,
                stream: enum_field(s, "stream", Media::parse)?,
            }),
            other => Err(MessageError(format!(
                "{}: unknown alarm \"{other}\"",
                s.name()
            ))),
        }
    }
}

impl From<&AvSyncDetectMessage> for gst::Structure {
    fn from(m: &AvSyncDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for AvSyncDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}
