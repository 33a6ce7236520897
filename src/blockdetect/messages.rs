//! The `blockdetect` message: corruption events and blockiness measurements.

use crate::analysis::video::block::{BlockEvent, BoxPx, Evidence};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// `blockdetect` message: a corruption (`event` = "start" / "end") or a
/// blockiness measurement (`event` = "measurement").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlockDetectMessage {
    Corruption {
        event: DefectEvent,
        /// `damaged-blocks` (u32): damaged 16x16 macroblocks in the most
        /// damaged frame of the corruption so far.
        damaged_blocks: u32,
        /// `damaged-fraction` (f64): the same as a fraction of the analysed
        /// macroblocks.
        damaged_fraction: f64,
        /// `area-x`, `area-y`, `area-width`, `area-height` (u32, pixels):
        /// bounding box of the damage, its union over the corruption so far.
        area: BoxPx,
        /// `evidence` (string): `pixels`, `decoder`, `missing-frames`, or
        /// several of them joined by `+` (`pixels+decoder`).
        evidence: Evidence,
        /// `confidence` (f64, 0 to 1): how sure the evidence is that this
        /// is damage: 1 for data known lost (`bitstream`, `decoder`), 0.9
        /// for missing frames or decoder grey, 0.2 to 0.8 for steps across
        /// the coding grid alone, by how sudden they are (the highest of
        /// its frames so far). Page on 0.5 and above, log the rest.
        confidence: f64,
    },
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        at: Times,
        /// `blockiness` (f64): mean luma gradient across the 8-pixel grid over
        /// the mean gradient off it, each plus one 8-bit code value, over the
        /// interval; 1.0 = no blocking, 256 at most.
        blockiness: f64,
        /// `frames` (u64): frames measured; `corrupted-frames` (u64): of
        /// them, frames judged corrupted.
        frames: u64,
        corrupted_frames: u64,
    },
}

impl BlockDetectMessage {
    pub const NAME: &'static str = "blockdetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            BlockDetectMessage::Corruption {
                event,
                damaged_blocks,
                damaged_fraction,
                area,
                evidence,
                confidence,
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("damaged-blocks", *damaged_blocks)
                .field("damaged-fraction", *damaged_fraction)
                .field("area-x", area.x)
                .field("area-y", area.y)
                .field("area-width", area.width)
                .field("area-height", area.height)
                .field("evidence", evidence.as_str())
                .field("confidence", *confidence)
                .build(),
            BlockDetectMessage::Measurement {
                at,
                blockiness,
                frames,
                corrupted_frames,
            } => at
                .measurement(Self::NAME)
                .field("blockiness", *blockiness)
                .field("frames", *frames)
                .field("corrupted-frames", *corrupted_frames)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(BlockDetectMessage::Measurement {
                at,
                blockiness: field(s, "blockiness")?,
                frames: field(s, "frames")?,
                corrupted_frames: field(s, "corrupted-frames")?,
            });
        }
        Ok(BlockDetectMessage::Corruption {
            event: DefectEvent::read(s)?,
            damaged_blocks: field(s, "damaged-blocks")?,
            damaged_fraction: field(s, "damaged-fraction")?,
            area: BoxPx {
                x: field(s, "area-x")?,
                y: field(s, "area-y")?,
                width: field(s, "area-width")?,
                height: field(s, "area-height")?,
            },
            evidence: enum_field(s, "evidence", Evidence::parse)?,
            confidence: field(s, "confidence")?,
        })
    }
}

impl From<&BlockDetectMessage> for gst::Structure {
    fn from(m: &BlockDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for BlockDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for BlockEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match *self {
            BlockEvent::Corruption { transition, damage } => BlockDetectMessage::Corruption {
                event: DefectEvent::from_transition(transition, segment),
                damaged_blocks: damage.blocks,
                damaged_fraction: damage.fraction,
                area: damage.area,
                evidence: damage.evidence,
                confidence: damage.confidence,
            },
            BlockEvent::Measurement(m) => {
                let at = Times::in_segment(m.timestamp, segment);
                BlockDetectMessage::Measurement {
                    at,
                    blockiness: m.blockiness,
                    frames: m.frames,
                    corrupted_frames: m.corrupted_frames,
                }
            }
        }
        .to_structure()
    }
}
