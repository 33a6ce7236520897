//! The `cadencedetect` message: cadence faults, and counts per interval.

use crate::analysis::video::cadence::{CadenceEvent, CadenceKind, CadenceMeasurement};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// `cadencedetect` message: a cadence fault (`event` = "start" / "end") or,
/// when `post-messages` is on, the counts of an interval (`event` =
/// "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CadenceDetectMessage {
    Fault {
        event: DefectEvent,
        /// `kind` (string): `judder` (frames repeated in a regular pattern),
        /// `stutter` (repeated irregularly), `dropped` (frames missing
        /// between timestamps), `timestamps` (repeated, backwards, jumping or
        /// jittering timestamps).
        kind: CadenceKind,
        /// `count` (u64): repeated or dropped frames, or timestamp faults,
        /// so far (start) or over the fault (end).
        count: u64,
        /// `period` (u64): judder only, frames from one repeat to the next;
        /// 0 for the other kinds.
        period: u64,
    },
    Measurement {
        /// `timestamp`: end of the interval's last frame; `stream-time`,
        /// `running-time`.
        at: Times,
        /// `frames`, `repeated`, `dropped`, `timestamp-faults` (u64): frames
        /// received, frames that repeated the one before, frames missing
        /// between timestamps, and timestamp faults, over the interval.
        counts: CadenceMeasurement,
    },
}

impl CadenceDetectMessage {
    pub const NAME: &'static str = "cadencedetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            CadenceDetectMessage::Fault {
                event,
                kind,
                count,
                period,
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("kind", kind.as_str())
                .field("count", *count)
                .field("period", *period)
                .build(),
            CadenceDetectMessage::Measurement { at, counts } => at
                .measurement(Self::NAME)
                .field("frames", counts.frames)
                .field("repeated", counts.repeated)
                .field("dropped", counts.dropped)
                .field("timestamp-faults", counts.timestamp_faults)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(CadenceDetectMessage::Measurement {
                at,
                counts: CadenceMeasurement {
                    timestamp: at.timestamp,
                    frames: field(s, "frames")?,
                    repeated: field(s, "repeated")?,
                    dropped: field(s, "dropped")?,
                    timestamp_faults: field(s, "timestamp-faults")?,
                },
            });
        }
        Ok(CadenceDetectMessage::Fault {
            event: DefectEvent::read(s)?,
            kind: enum_field(s, "kind", CadenceKind::parse)?,
            count: field(s, "count")?,
            period: field(s, "period")?,
        })
    }
}

impl From<&CadenceDetectMessage> for gst::Structure {
    fn from(m: &CadenceDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for CadenceDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for CadenceEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            CadenceEvent::Fault {
                transition,
                kind,
                count,
                period,
            } => CadenceDetectMessage::Fault {
                event: DefectEvent::from_transition(transition, segment),
                kind,
                count,
                period,
            },
            CadenceEvent::Measurement(m) => CadenceDetectMessage::Measurement {
                at: Times::in_segment(m.timestamp, segment),
                counts: m,
            },
        }
        .to_structure()
    }
}
