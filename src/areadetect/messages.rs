//! The `areadetect` message: changes of the active area, and each area the
//! stream holds.

use crate::analysis::video::area::{Area, AreaChange, AreaEvent};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// `areadetect` message: an area away from the reference (`event` =
/// "start" / "end"), or an area the stream has held for `min-duration`
/// (`event` = "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AreaDetectMessage {
    Change {
        event: DefectEvent,
        /// `change` (string): `borders-appeared`, `borders-disappeared` or
        /// `borders-changed`.
        change: AreaChange,
        /// `x`, `y`, `width`, `height` (u32, pixels): the active area, of
        /// the first frame away from the reference for a start, of the last
        /// one for an end.
        area: Area,
        /// `reference-x`, `reference-y`, `reference-width`,
        /// `reference-height` (u32, pixels): the area expected.
        reference: Area,
    },
    Measurement {
        /// `timestamp`: the first frame of the area; `stream-time`,
        /// `running-time`.
        at: Times,
        /// `x`, `y`, `width`, `height` (u32, pixels).
        area: Area,
    },
}

fn write_area(b: gst::structure::Builder, prefix: &str, a: &Area) -> gst::structure::Builder {
    b.field(format!("{prefix}x"), a.x)
        .field(format!("{prefix}y"), a.y)
        .field(format!("{prefix}width"), a.width)
        .field(format!("{prefix}height"), a.height)
}

fn read_area(s: &gst::StructureRef, prefix: &str) -> Result<Area, MessageError> {
    Ok(Area {
        x: field(s, &format!("{prefix}x"))?,
        y: field(s, &format!("{prefix}y"))?,
        width: field(s, &format!("{prefix}width"))?,
        height: field(s, &format!("{prefix}height"))?,
    })
}

impl AreaDetectMessage {
    pub const NAME: &'static str = "areadetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            AreaDetectMessage::Change {
                event,
                change,
                area,
                reference,
            } => {
                let b = event
                    .write(gst::Structure::builder(Self::NAME))
                    .field("change", change.as_str());
                write_area(write_area(b, "", area), "reference-", reference).build()
            }
            AreaDetectMessage::Measurement { at, area } => {
                write_area(at.measurement(Self::NAME), "", area).build()
            }
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(AreaDetectMessage::Measurement {
                at,
                area: read_area(s, "")?,
            });
        }
        Ok(AreaDetectMessage::Change {
            event: DefectEvent::read(s)?,
            change: enum_field(s, "change", AreaChange::parse)?,
            area: read_area(s, "")?,
            reference: read_area(s, "reference-")?,
        })
    }
}

impl From<&AreaDetectMessage> for gst::Structure {
    fn from(m: &AreaDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for AreaDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for AreaEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            AreaEvent::Change {
                transition,
                change,
                area,
                reference,
            } => AreaDetectMessage::Change {
                event: DefectEvent::from_transition(transition, segment),
                change,
                area,
                reference,
            },
            AreaEvent::Measurement { timestamp, area } => AreaDetectMessage::Measurement {
                at: Times::in_segment(timestamp, segment),
                area,
            },
        }
        .to_structure()
    }
}
