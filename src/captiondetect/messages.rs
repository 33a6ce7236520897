//! The `captiondetect` message: captions missing or padding only, starting
//! and ending, and measurements of what the captions carry.

use crate::analysis::video::captions::{CaptionContent, CaptionEvent, CaptionProblem};
use crate::glue::ToMessage;
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// What the captions carried: `cea608-fields` (array of u32: the CEA-608
/// fields with content, 1 and/or 2) and `cea708` (boolean: DTVCC data).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaptionServices {
    pub cea608_fields: Vec<u32>,
    pub cea708: bool,
}

impl From<CaptionContent> for CaptionServices {
    fn from(c: CaptionContent) -> Self {
        CaptionServices {
            cea608_fields: (1..=2).filter(|f| c.cea608[*f as usize - 1]).collect(),
            cea708: c.cea708,
        }
    }
}

impl CaptionServices {
    fn write(&self, b: gst::structure::Builder) -> gst::structure::Builder {
        b.field(
            "cea608-fields",
            gst::Array::new(self.cea608_fields.iter().copied()),
        )
        .field("cea708", self.cea708)
    }

    fn read(s: &gst::StructureRef) -> Result<Self, MessageError> {
        let fields: gst::Array = field(s, "cea608-fields")?;
        Ok(CaptionServices {
            cea608_fields: fields
                .iter()
                .map(|v| v.get::<u32>())
                .collect::<Result<_, _>>()
                .map_err(|e| MessageError(format!("captiondetect: cea608-fields: {e}")))?,
            cea708: field(s, "cea708")?,
        })
    }
}

/// `captiondetect` message.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptionDetectMessage {
    /// `event` = "start" / "end": `problem` ("missing" or "padding-only"),
    /// and the services the captions carried before it (a start) or carry
    /// again (an end).
    Problem {
        event: DefectEvent,
        problem: CaptionProblem,
        services: CaptionServices,
    },
    /// `event` = "measurement", every `interval` when `post-messages` is
    /// on: `frames` (u64) and `frames-with-captions` (u64) in the
    /// interval, and the services seen so far.
    Measurement {
        at: Times,
        frames: u64,
        frames_with_captions: u64,
        services: CaptionServices,
    },
}

impl CaptionDetectMessage {
    pub const NAME: &'static str = "captiondetect";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            CaptionDetectMessage::Problem {
                event,
                problem,
                services,
            } => services
                .write(
                    event
                        .write(gst::Structure::builder(Self::NAME))
                        .field("problem", problem.as_str()),
                )
                .build(),
            CaptionDetectMessage::Measurement {
                at,
                frames,
                frames_with_captions,
                services,
            } => services
                .write(
                    at.measurement(Self::NAME)
                        .field("frames", *frames)
                        .field("frames-with-captions", *frames_with_captions),
                )
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(CaptionDetectMessage::Measurement {
                at,
                frames: field(s, "frames")?,
                frames_with_captions: field(s, "frames-with-captions")?,
                services: CaptionServices::read(s)?,
            });
        }
        Ok(CaptionDetectMessage::Problem {
            event: DefectEvent::read(s)?,
            problem: enum_field(s, "problem", CaptionProblem::parse)?,
            services: CaptionServices::read(s)?,
        })
    }
}

impl From<&CaptionDetectMessage> for gst::Structure {
    fn from(m: &CaptionDetectMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for CaptionDetectMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for CaptionEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        CaptionDetectMessage::Problem {
            event: DefectEvent::from_transition(self.transition, segment),
            problem: self.problem,
            services: self.seen.into(),
        }
        .to_structure()
    }
}
