//! Typed bus messages: one struct per message, to and from `gst::Structure`.
//!
//! Applications and tests read messages only through these types. Every
//! message carries `timestamp` (buffer time, ns), `stream-time` and
//! `running-time` (ns) of the instant it describes; times that fall outside
//! the segment are `GST_CLOCK_TIME_NONE` (`u64::MAX`) in the structure and
//! `None` here.

use crate::analysis::event::EndReason;

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError(pub String);

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MessageError {}

fn field<'a, T: gst::glib::value::FromValue<'a>>(
    s: &'a gst::StructureRef,
    name: &str,
) -> Result<T, MessageError> {
    s.get::<T>(name)
        .map_err(|e| MessageError(format!("{}: field {name}: {e}", s.name())))
}

fn time_to_field(t: Option<u64>) -> u64 {
    t.unwrap_or(u64::MAX)
}

fn time_from_field(t: u64) -> Option<u64> {
    (t != u64::MAX).then_some(t)
}

/// Start or end of a defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Start,
    End,
}

impl EventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Start => "start",
            EventKind::End => "end",
        }
    }
}

/// The fields every defect event shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefectEvent {
    /// `event`: "start" or "end".
    pub kind: EventKind,
    /// `timestamp`: buffer time of the instant (first defective frame for a
    /// start, where the defect ended for an end), ns.
    pub timestamp: u64,
    /// `stream-time` of that instant, ns.
    pub stream_time: Option<u64>,
    /// `running-time` of that instant, ns.
    pub running_time: Option<u64>,
    /// `duration` (end only): how long the defect lasted, ns.
    pub duration: Option<u64>,
    /// `reason` (end only): recovered, eos, flush, caps-change or discont.
    pub reason: Option<EndReason>,
}

impl DefectEvent {
    fn write(&self, b: gst::structure::Builder) -> gst::structure::Builder {
        let b = b
            .field("event", self.kind.as_str())
            .field("timestamp", self.timestamp)
            .field("stream-time", time_to_field(self.stream_time))
            .field("running-time", time_to_field(self.running_time));
        match self.kind {
            EventKind::Start => b,
            EventKind::End => b.field("duration", self.duration.unwrap_or(0)).field(
                "reason",
                self.reason.unwrap_or(EndReason::Recovered).as_str(),
            ),
        }
    }

    fn read(s: &gst::StructureRef) -> Result<Self, MessageError> {
        let kind = match field::<&str>(s, "event")? {
            "start" => EventKind::Start,
            "end" => EventKind::End,
            other => {
                return Err(MessageError(format!(
                    "{}: unknown event \"{other}\"",
                    s.name()
                )))
            }
        };
        let (duration, reason) = match kind {
            EventKind::Start => (None, None),
            EventKind::End => {
                let r: &str = field(s, "reason")?;
                let reason = EndReason::parse(r)
                    .ok_or_else(|| MessageError(format!("{}: unknown reason \"{r}\"", s.name())))?;
                (Some(field::<u64>(s, "duration")?), Some(reason))
            }
        };
        Ok(DefectEvent {
            kind,
            timestamp: field(s, "timestamp")?,
            stream_time: time_from_field(field(s, "stream-time")?),
            running_time: time_from_field(field(s, "running-time")?),
            duration,
            reason,
        })
    }
}

fn check_name(s: &gst::StructureRef, name: &str) -> Result<(), MessageError> {
    if s.name() == name {
        Ok(())
    } else {
        Err(MessageError(format!("expected {name}, got {}", s.name())))
    }
}

/// `blackdetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlackDetectMessage {
    pub event: DefectEvent,
    /// `black-ratio`: fraction of analysed pixels at or below the pixel
    /// threshold: of the first black frame for a start, mean over the black
    /// stretch for an end.
    pub black_ratio: f64,
    /// `mean-luma`: mean luma of the analysed pixels, 0.0 = nominal black,
    /// 1.0 = nominal white (slightly below 0 for sub-black); first frame for a
    /// start, mean over the stretch for an end.
    pub mean_luma: f64,
}

impl BlackDetectMessage {
    pub const NAME: &'static str = "blackdetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("black-ratio", self.black_ratio)
            .field("mean-luma", self.mean_luma)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(BlackDetectMessage {
            event: DefectEvent::read(s)?,
            black_ratio: field(s, "black-ratio")?,
            mean_luma: field(s, "mean-luma")?,
        })
    }
}

/// `freezedetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreezeDetectMessage {
    pub event: DefectEvent,
    /// `difference`: the largest tile difference from the reference frame
    /// (mean absolute difference of 4x4-pixel means over a 16x16 tile, as a
    /// fraction of the nominal luma range), over the freeze so far (start) or
    /// the whole freeze (end). 0 for exact repeats.
    pub difference: f64,
}

impl FreezeDetectMessage {
    pub const NAME: &'static str = "freezedetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("difference", self.difference)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(FreezeDetectMessage {
            event: DefectEvent::read(s)?,
            difference: field(s, "difference")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init() {
        gst::init().unwrap();
    }

    #[test]
    fn black_round_trip() {
        init();
        for m in [
            BlackDetectMessage {
                event: DefectEvent {
                    kind: EventKind::Start,
                    timestamp: 40,
                    stream_time: Some(40),
                    running_time: None,
                    duration: None,
                    reason: None,
                },
                black_ratio: 0.99,
                mean_luma: 0.01,
            },
            BlackDetectMessage {
                event: DefectEvent {
                    kind: EventKind::End,
                    timestamp: 80,
                    stream_time: Some(80),
                    running_time: Some(1080),
                    duration: Some(40),
                    reason: Some(EndReason::CapsChange),
                },
                black_ratio: 1.0,
                mean_luma: -0.01,
            },
        ] {
            let s = m.to_structure();
            assert_eq!(s.name(), "blackdetect");
            assert_eq!(BlackDetectMessage::from_structure(&s).unwrap(), m);
        }
    }

    #[test]
    fn freeze_round_trip_and_errors() {
        init();
        let m = FreezeDetectMessage {
            event: DefectEvent {
                kind: EventKind::End,
                timestamp: 5,
                stream_time: None,
                running_time: Some(7),
                duration: Some(3),
                reason: Some(EndReason::Eos),
            },
            difference: 0.001,
        };
        let s = m.to_structure();
        assert_eq!(s.get::<u64>("stream-time").unwrap(), u64::MAX);
        assert_eq!(s.get::<&str>("reason").unwrap(), "eos");
        assert_eq!(FreezeDetectMessage::from_structure(&s).unwrap(), m);
        assert!(BlackDetectMessage::from_structure(&s).is_err());
        let bad = gst::Structure::builder("freezedetect")
            .field("event", "middle")
            .build();
        assert!(FreezeDetectMessage::from_structure(&bad).is_err());
    }
}
