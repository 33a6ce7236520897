//! The `loudnessmeter` message: measurements and alarms.

use crate::analysis::audio::loudness::{AlarmKind, LoudnessEvent};
use crate::glue::ToMessage;
use crate::messages::{
    array, check_name, enum_field, field, read_array, DefectEvent, MessageError, Times,
};

/// `loudnessmeter` message: a measurement (`event` = "measurement") or an
/// alarm (`event` = "start" / "end").
#[derive(Debug, Clone, PartialEq)]
pub enum LoudnessMeterMessage {
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        at: Times,
        /// `momentary`, `short-term`, `integrated` (f64, LUFS; -inf before defined).
        momentary: f64,
        short_term: f64,
        integrated: f64,
        /// `loudness-range` (f64, LU).
        loudness_range: f64,
        /// `sample-peak-db` (array of f64, dBFS per channel, over the interval).
        sample_peak_db: Vec<f64>,
        /// `true-peak-db` (array of f64, dBTP per channel, over the interval; empty when off).
        true_peak_db: Vec<f64>,
    },
    Alarm {
        event: DefectEvent,
        /// `alarm` (string): `short-term` or `true-peak`.
        alarm: AlarmKind,
        /// `value` (f64): short-term LUFS or true peak dBTP: first out-of-range
        /// value (start), furthest out (end).
        value: f64,
    },
}

impl LoudnessMeterMessage {
    pub const NAME: &'static str = "loudnessmeter";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            LoudnessMeterMessage::Measurement {
                at,
                momentary,
                short_term,
                integrated,
                loudness_range,
                sample_peak_db,
                true_peak_db,
            } => at
                .measurement(Self::NAME)
                .field("momentary", *momentary)
                .field("short-term", *short_term)
                .field("integrated", *integrated)
                .field("loudness-range", *loudness_range)
                .field("sample-peak-db", array(sample_peak_db))
                .field("true-peak-db", array(true_peak_db))
                .build(),
            LoudnessMeterMessage::Alarm {
                event,
                alarm,
                value,
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("alarm", alarm.as_str())
                .field("value", *value)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            return Ok(LoudnessMeterMessage::Measurement {
                at,
                momentary: field(s, "momentary")?,
                short_term: field(s, "short-term")?,
                integrated: field(s, "integrated")?,
                loudness_range: field(s, "loudness-range")?,
                sample_peak_db: read_array(s, "sample-peak-db")?,
                true_peak_db: read_array(s, "true-peak-db")?,
            });
        }
        Ok(LoudnessMeterMessage::Alarm {
            event: DefectEvent::read(s)?,
            alarm: enum_field(s, "alarm", AlarmKind::parse)?,
            value: field(s, "value")?,
        })
    }
}

impl From<&LoudnessMeterMessage> for gst::Structure {
    fn from(m: &LoudnessMeterMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for LoudnessMeterMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}

/// The message of one kernel event, with times from `segment`.
impl ToMessage for LoudnessEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match self {
            LoudnessEvent::Measurement(m) => {
                let at = Times::in_segment(m.timestamp, segment);
                LoudnessMeterMessage::Measurement {
                    at,
                    momentary: m.momentary,
                    short_term: m.short_term,
                    integrated: m.integrated,
                    loudness_range: m.range,
                    sample_peak_db: m.sample_peak_db.clone(),
                    true_peak_db: m.true_peak_db.clone(),
                }
            }
            LoudnessEvent::Alarm {
                kind,
                transition,
                value,
            } => LoudnessMeterMessage::Alarm {
                event: DefectEvent::from_transition(*transition, segment),
                alarm: *kind,
                value: *value,
            },
        }
        .to_structure()
    }
}
