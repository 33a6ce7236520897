//! Any of the plugin's messages, read once from a bus message.

use crate::areadetect::AreaDetectMessage;
use crate::avsyncdetect::AvSyncDetectMessage;
use crate::blackdetect::BlackDetectMessage;
use crate::blockdetect::BlockDetectMessage;
use crate::cadencedetect::CadenceDetectMessage;
use crate::captiondetect::CaptionDetectMessage;
use crate::clipdetect::ClipDetectMessage;
use crate::freezedetect::FreezeDetectMessage;
use crate::levelsdetect::LevelsDetectMessage;
use crate::loudnessmeter::LoudnessMeterMessage;
use crate::messages::{DefectEvent, MessageError};
use crate::patterndetect::PatternDetectMessage;
use crate::phasedetect::PhaseDetectMessage;
use crate::silencedetect::SilenceDetectMessage;
use crate::tsmonitor::TsMonitorMessage;

/// One message of any avmonitor element, so an application matches on a
/// type instead of a structure name.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Black(BlackDetectMessage),
    Freeze(FreezeDetectMessage),
    Block(BlockDetectMessage),
    Area(AreaDetectMessage),
    Cadence(CadenceDetectMessage),
    Levels(LevelsDetectMessage),
    Pattern(PatternDetectMessage),
    Silence(SilenceDetectMessage),
    Clip(ClipDetectMessage),
    Phase(PhaseDetectMessage),
    Loudness(LoudnessMeterMessage),
    AvSync(AvSyncDetectMessage),
    Transport(TsMonitorMessage),
    Captions(CaptionDetectMessage),
}

impl Message {
    /// Reads `s`: `None` when it is no avmonitor element's message, an error
    /// when it is one but malformed.
    pub fn from_structure(s: &gst::StructureRef) -> Option<Result<Self, MessageError>> {
        Some(match s.name().as_str() {
            BlackDetectMessage::NAME => BlackDetectMessage::from_structure(s).map(Message::Black),
            FreezeDetectMessage::NAME => {
                FreezeDetectMessage::from_structure(s).map(Message::Freeze)
            }
            BlockDetectMessage::NAME => BlockDetectMessage::from_structure(s).map(Message::Block),
            AreaDetectMessage::NAME => AreaDetectMessage::from_structure(s).map(Message::Area),
            CadenceDetectMessage::NAME => {
                CadenceDetectMessage::from_structure(s).map(Message::Cadence)
            }
            LevelsDetectMessage::NAME => {
                LevelsDetectMessage::from_structure(s).map(Message::Levels)
            }
            PatternDetectMessage::NAME => {
                PatternDetectMessage::from_structure(s).map(Message::Pattern)
            }
            SilenceDetectMessage::NAME => {
                SilenceDetectMessage::from_structure(s).map(Message::Silence)
            }
            ClipDetectMessage::NAME => ClipDetectMessage::from_structure(s).map(Message::Clip),
            PhaseDetectMessage::NAME => PhaseDetectMessage::from_structure(s).map(Message::Phase),
            LoudnessMeterMessage::NAME => {
                LoudnessMeterMessage::from_structure(s).map(Message::Loudness)
            }
            AvSyncDetectMessage::NAME => {
                AvSyncDetectMessage::from_structure(s).map(Message::AvSync)
            }
            TsMonitorMessage::NAME => TsMonitorMessage::from_structure(s).map(Message::Transport),
            CaptionDetectMessage::NAME => {
                CaptionDetectMessage::from_structure(s).map(Message::Captions)
            }
            _ => return None,
        })
    }

    /// The structure it came from, as the element posts it.
    pub fn to_structure(&self) -> gst::Structure {
        match self {
            Message::Black(m) => m.to_structure(),
            Message::Freeze(m) => m.to_structure(),
            Message::Block(m) => m.to_structure(),
            Message::Area(m) => m.to_structure(),
            Message::Cadence(m) => m.to_structure(),
            Message::Levels(m) => m.to_structure(),
            Message::Pattern(m) => m.to_structure(),
            Message::Silence(m) => m.to_structure(),
            Message::Clip(m) => m.to_structure(),
            Message::Phase(m) => m.to_structure(),
            Message::Loudness(m) => m.to_structure(),
            Message::AvSync(m) => m.to_structure(),
            Message::Transport(m) => m.to_structure(),
            Message::Captions(m) => m.to_structure(),
        }
    }

    /// The element that posts it (its factory name).
    pub fn element(&self) -> &'static str {
        match self {
            Message::Black(_) => BlackDetectMessage::NAME,
            Message::Freeze(_) => FreezeDetectMessage::NAME,
            Message::Block(_) => BlockDetectMessage::NAME,
            Message::Area(_) => AreaDetectMessage::NAME,
            Message::Cadence(_) => CadenceDetectMessage::NAME,
            Message::Levels(_) => LevelsDetectMessage::NAME,
            Message::Pattern(_) => PatternDetectMessage::NAME,
            Message::Silence(_) => SilenceDetectMessage::NAME,
            Message::Clip(_) => ClipDetectMessage::NAME,
            Message::Phase(_) => PhaseDetectMessage::NAME,
            Message::Loudness(_) => LoudnessMeterMessage::NAME,
            Message::AvSync(_) => AvSyncDetectMessage::NAME,
            Message::Transport(_) => TsMonitorMessage::NAME,
            Message::Captions(_) => CaptionDetectMessage::NAME,
        }
    }

    /// The start or end of a defect it reports; `None` for a measurement.
    pub fn defect(&self) -> Option<&DefectEvent> {
        match self {
            Message::Black(BlackDetectMessage::Black { event, .. })
            | Message::Freeze(FreezeDetectMessage::Freeze { event, .. }) => Some(event),
            Message::Black(BlackDetectMessage::Measurement { .. })
            | Message::Freeze(FreezeDetectMessage::Measurement { .. }) => None,
            Message::Block(BlockDetectMessage::Corruption { event, .. }) => Some(event),
            Message::Block(BlockDetectMessage::Measurement { .. }) => None,
            Message::Area(AreaDetectMessage::Change { event, .. }) => Some(event),
            Message::Area(AreaDetectMessage::Measurement { .. }) => None,
            Message::Cadence(CadenceDetectMessage::Fault { event, .. }) => Some(event),
            Message::Cadence(CadenceDetectMessage::Measurement { .. }) => None,
            Message::Levels(LevelsDetectMessage::Illegal { event, .. }) => Some(event),
            Message::Levels(LevelsDetectMessage::Measurement { .. }) => None,
            Message::Pattern(m) => Some(&m.event),
            Message::Silence(m) => Some(&m.event),
            Message::Clip(m) => Some(&m.event),
            Message::Phase(m) => Some(&m.event),
            Message::Loudness(LoudnessMeterMessage::Alarm { event, .. }) => Some(event),
            Message::Loudness(LoudnessMeterMessage::Measurement { .. }) => None,
            Message::AvSync(AvSyncDetectMessage::Offset { event, .. })
            | Message::AvSync(AvSyncDetectMessage::Stall { event, .. }) => Some(event),
            Message::AvSync(AvSyncDetectMessage::Measurement { .. }) => None,
            Message::Transport(TsMonitorMessage::Error { event, .. }) => Some(event),
            Message::Transport(TsMonitorMessage::Measurement { .. }) => None,
            Message::Captions(CaptionDetectMessage::Problem { event, .. }) => Some(event),
            Message::Captions(CaptionDetectMessage::Measurement { .. }) => None,
        }
    }
}

impl TryFrom<&gst::StructureRef> for Message {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Message::from_structure(s).unwrap_or_else(|| {
            Err(MessageError(format!(
                "{}: not an avmonitor message",
                s.name()
            )))
        })
    }
}

impl From<&Message> for gst::Structure {
    fn from(m: &Message) -> Self {
        m.to_structure()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{EventKind, Times};

    #[test]
    fn read_once_by_name() {
        gst::init().unwrap();
        let m = Message::Silence(SilenceDetectMessage {
            event: DefectEvent {
                kind: EventKind::Start,
                at: Times::default(),
                duration: None,
                reason: None,
            },
            channel: Some(1),
            level_db: -70.0,
        });
        let s = m.to_structure();
        assert_eq!(Message::from_structure(&s), Some(Ok(m.clone())));
        assert_eq!(m.element(), "silencedetect");
        assert_eq!(m.defect().map(|e| e.kind), Some(EventKind::Start));
        let other = gst::Structure::new_empty("level");
        assert_eq!(Message::from_structure(&other), None);
        assert!(Message::try_from(other.as_ref()).is_err());
        let bad = gst::Structure::builder("blackdetect")
            .field("event", "x")
            .build();
        assert!(matches!(Message::from_structure(&bad), Some(Err(_))));
    }
}
