//! What every element's typed message shares: the time triple, the fields
//! of a defect's start and end, the error, and field helpers. Each element's
//! own message lives beside it (`src/<element>/messages.rs`), with `From`
//! and `TryFrom` to and from `gst::Structure`.
//!
//! Applications and tests read messages only through these types. Every
//! message carries `timestamp` (buffer time, ns), `stream-time` and
//! `running-time` (ns) of the instant it describes ([`Times`]); times that
//! fall outside the segment are `GST_CLOCK_TIME_NONE` (`u64::MAX`) in the
//! structure and `None` here.

use crate::analysis::event::{EndReason, Transition};

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError(pub String);

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MessageError {}

pub(crate) fn field<'a, T: gst::glib::value::FromValue<'a>>(
    s: &'a gst::StructureRef,
    name: &str,
) -> Result<T, MessageError> {
    s.get::<T>(name)
        .map_err(|e| MessageError(format!("{}: field {name}: {e}", s.name())))
}

/// A string field read into an enum with `parse`.
pub(crate) fn enum_field<T>(
    s: &gst::StructureRef,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, MessageError> {
    let v: &str = field(s, name)?;
    parse(v).ok_or_else(|| MessageError(format!("{}: unknown {name} \"{v}\"", s.name())))
}

fn time_to_field(t: Option<u64>) -> u64 {
    t.unwrap_or(u64::MAX)
}

fn time_from_field(t: u64) -> Option<u64> {
    (t != u64::MAX).then_some(t)
}

/// The instant a message describes: `timestamp` (buffer time), and its
/// `stream-time` and `running-time` in the segment (`None` outside it), ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Times {
    pub timestamp: u64,
    pub stream_time: Option<u64>,
    pub running_time: Option<u64>,
}

impl Times {
    /// Buffer time `ts` with its stream and running time in `segment`.
    pub(crate) fn in_segment(ts: u64, segment: &gst::Segment) -> Self {
        let (stream_time, running_time) = match segment.downcast_ref::<gst::ClockTime>() {
            Some(seg) => {
                let t = gst::ClockTime::from_nseconds(ts);
                (
                    seg.to_stream_time(t).map(|t| t.nseconds()),
                    seg.to_running_time(t).map(|t| t.nseconds()),
                )
            }
            None => (None, None),
        };
        Times {
            timestamp: ts,
            stream_time,
            running_time,
        }
    }

    pub(crate) fn write(&self, b: gst::structure::Builder) -> gst::structure::Builder {
        b.field("timestamp", self.timestamp)
            .field("stream-time", time_to_field(self.stream_time))
            .field("running-time", time_to_field(self.running_time))
    }

    pub(crate) fn read(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Ok(Times {
            timestamp: field(s, "timestamp")?,
            stream_time: time_from_field(field(s, "stream-time")?),
            running_time: time_from_field(field(s, "running-time")?),
        })
    }

    /// The start of element `name`'s measurement message at these times
    /// (`event` = "measurement"), for its own fields to follow.
    pub(crate) fn measurement(&self, name: &str) -> gst::structure::Builder {
        self.write(gst::Structure::builder(name).field("event", "measurement"))
    }

    /// The times of `s` when it is a measurement message; `None` for a
    /// start or end.
    pub(crate) fn read_measurement(s: &gst::StructureRef) -> Result<Option<Self>, MessageError> {
        if field::<&str>(s, "event")? == "measurement" {
            Times::read(s).map(Some)
        } else {
            Ok(None)
        }
    }
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

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "start" => Some(EventKind::Start),
            "end" => Some(EventKind::End),
            _ => None,
        }
    }
}

/// The fields every defect event shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefectEvent {
    /// `event`: "start" or "end".
    pub kind: EventKind,
    /// The instant: the first defective frame for a start, where the defect
    /// ended for an end.
    pub at: Times,
    /// `duration` (end only): how long the defect lasted, ns.
    pub duration: Option<u64>,
    /// `reason` (end only): recovered, eos, flush, caps-change or discont.
    pub reason: Option<EndReason>,
}

impl DefectEvent {
    /// The shared fields for `transition`, with times from `segment`.
    pub(crate) fn from_transition(transition: Transition, segment: &gst::Segment) -> Self {
        let at = Times::in_segment(transition.timestamp(), segment);
        match transition {
            Transition::Start { .. } => DefectEvent {
                kind: EventKind::Start,
                at,
                duration: None,
                reason: None,
            },
            Transition::End { start, end, reason } => DefectEvent {
                kind: EventKind::End,
                at,
                duration: Some(end.saturating_sub(start)),
                reason: Some(reason),
            },
        }
    }

    pub(crate) fn write(&self, b: gst::structure::Builder) -> gst::structure::Builder {
        let b = self.at.write(b.field("event", self.kind.as_str()));
        match self.kind {
            EventKind::Start => b,
            EventKind::End => b.field("duration", self.duration.unwrap_or(0)).field(
                "reason",
                self.reason.unwrap_or(EndReason::Recovered).as_str(),
            ),
        }
    }

    pub(crate) fn read(s: &gst::StructureRef) -> Result<Self, MessageError> {
        let kind = enum_field(s, "event", EventKind::parse)?;
        let (duration, reason) = match kind {
            EventKind::Start => (None, None),
            EventKind::End => (
                Some(field::<u64>(s, "duration")?),
                Some(enum_field(s, "reason", EndReason::parse)?),
            ),
        };
        Ok(DefectEvent {
            kind,
            at: Times::read(s)?,
            duration,
            reason,
        })
    }
}

pub(crate) fn check_name(s: &gst::StructureRef, name: &str) -> Result<(), MessageError> {
    if s.name() == name {
        Ok(())
    } else {
        Err(MessageError(format!("expected {name}, got {}", s.name())))
    }
}

pub(crate) fn array<T: Into<gst::glib::Value> + Send + Copy>(values: &[T]) -> gst::Array {
    gst::Array::new(values.iter().copied())
}

pub(crate) fn read_array<T: for<'a> gst::glib::value::FromValue<'a> + 'static>(
    s: &gst::StructureRef,
    name: &str,
) -> Result<Vec<T>, MessageError> {
    let a: gst::Array = field(s, name)?;
    a.iter()
        .map(|v| {
            v.get::<T>()
                .map_err(|e| MessageError(format!("{}: field {name}: {e}", s.name())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::loudness::AlarmKind;
    use crate::analysis::audio::phase::PhaseKind;
    use crate::analysis::avsync::{Media, Method};
    use crate::analysis::video::block::{BoxPx, Evidence};
    use crate::avsyncdetect::AvSyncDetectMessage;
    use crate::blackdetect::BlackDetectMessage;
    use crate::blockdetect::BlockDetectMessage;
    use crate::clipdetect::ClipDetectMessage;
    use crate::freezedetect::FreezeDetectMessage;
    use crate::loudnessmeter::LoudnessMeterMessage;
    use crate::phasedetect::PhaseDetectMessage;
    use crate::silencedetect::SilenceDetectMessage;

    fn at(timestamp: u64, stream_time: Option<u64>, running_time: Option<u64>) -> Times {
        Times {
            timestamp,
            stream_time,
            running_time,
        }
    }

    fn init() {
        gst::init().unwrap();
    }

    #[test]
    fn block_round_trip() {
        init();
        for m in [
            BlockDetectMessage::Corruption {
                event: DefectEvent {
                    kind: EventKind::End,
                    at: at(80, Some(80), Some(40)),
                    duration: Some(40),
                    reason: Some(EndReason::Eos),
                },
                damaged_blocks: 7,
                damaged_fraction: 0.25,
                area: BoxPx {
                    x: 16,
                    y: 32,
                    width: 48,
                    height: 16,
                },
                evidence: Evidence::PIXELS.union(Evidence::MISSING_FRAMES),
                confidence: 0.9,
            },
            BlockDetectMessage::Measurement {
                at: at(1_000, None, Some(5)),
                blockiness: 1.25,
                frames: 25,
                corrupted_frames: 1,
            },
        ] {
            assert_eq!(
                BlockDetectMessage::from_structure(&m.to_structure()).unwrap(),
                m
            );
        }
        let mut s = BlockDetectMessage::Measurement {
            at: at(0, None, None),
            blockiness: 1.0,
            frames: 1,
            corrupted_frames: 0,
        }
        .to_structure();
        s.set("event", "start");
        assert!(BlockDetectMessage::from_structure(&s).is_err());
    }

    #[test]
    fn black_round_trip() {
        init();
        for m in [
            BlackDetectMessage::Black {
                event: DefectEvent {
                    kind: EventKind::Start,
                    at: at(40, Some(40), None),
                    duration: None,
                    reason: None,
                },
                black_ratio: 0.99,
                mean_luma: 0.01,
            },
            BlackDetectMessage::Black {
                event: DefectEvent {
                    kind: EventKind::End,
                    at: at(80, Some(80), Some(1080)),
                    duration: Some(40),
                    reason: Some(EndReason::CapsChange),
                },
                black_ratio: 1.0,
                mean_luma: -0.01,
            },
            BlackDetectMessage::Measurement {
                at: at(120, Some(120), Some(1120)),
                luma_min: -0.02,
                luma_mean: 0.4,
                luma_max: 1.05,
                frames: 25,
            },
        ] {
            let s = m.to_structure();
            assert_eq!(s.name(), "blackdetect");
            assert_eq!(BlackDetectMessage::from_structure(&s).unwrap(), m);
        }
    }

    #[test]
    fn area_round_trip_and_errors() {
        use crate::analysis::video::area::{Area, AreaChange};
        use crate::areadetect::AreaDetectMessage;
        init();
        let area = |x, y, width, height| Area {
            x,
            y,
            width,
            height,
        };
        for m in [
            AreaDetectMessage::Change {
                event: DefectEvent {
                    kind: EventKind::End,
                    at: at(80, Some(80), Some(1080)),
                    duration: Some(40),
                    reason: Some(EndReason::Recovered),
                },
                change: AreaChange::Changed,
                area: area(0, 138, 1920, 804),
                reference: area(240, 0, 1440, 1080),
            },
            AreaDetectMessage::Measurement {
                at: at(120, None, Some(1120)),
                area: area(0, 0, 1920, 1080),
            },
        ] {
            let s = m.to_structure();
            assert_eq!(s.name(), "areadetect");
            assert_eq!(AreaDetectMessage::from_structure(&s).unwrap(), m);
        }
        let mut s = AreaDetectMessage::Measurement {
            at: at(0, None, None),
            area: area(0, 0, 1, 1),
        }
        .to_structure();
        s.set("event", "start");
        assert!(AreaDetectMessage::from_structure(&s).is_err());
    }

    #[test]
    fn cadence_round_trip() {
        use crate::analysis::video::cadence::{CadenceKind, CadenceMeasurement};
        use crate::cadencedetect::CadenceDetectMessage;
        init();
        for m in [
            CadenceDetectMessage::Fault {
                event: DefectEvent {
                    kind: EventKind::Start,
                    at: at(40, Some(40), Some(1040)),
                    duration: None,
                    reason: None,
                },
                kind: CadenceKind::Judder,
                count: 3,
                period: 5,
            },
            CadenceDetectMessage::Measurement {
                at: at(120, None, Some(1120)),
                counts: CadenceMeasurement {
                    timestamp: 120,
                    frames: 25,
                    repeated: 5,
                    dropped: 1,
                    timestamp_faults: 2,
                },
            },
        ] {
            let s = m.to_structure();
            assert_eq!(s.name(), "cadencedetect");
            assert_eq!(CadenceDetectMessage::from_structure(&s).unwrap(), m);
        }
    }

    #[test]
    fn freeze_round_trip_and_errors() {
        init();
        let m = FreezeDetectMessage::Freeze {
            event: DefectEvent {
                kind: EventKind::End,
                at: at(5, None, Some(7)),
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
        let m = FreezeDetectMessage::Measurement {
            at: at(9, Some(9), Some(9)),
            difference: 0.3,
            frames: 1,
        };
        let s = m.to_structure();
        assert_eq!(s.get::<&str>("event").unwrap(), "measurement");
        assert_eq!(FreezeDetectMessage::from_structure(&s).unwrap(), m);
        assert_eq!(m.difference(), 0.3);
        let mut bad = s.clone();
        bad.remove_field("frames");
        assert!(FreezeDetectMessage::from_structure(&bad).is_err());
        let start = DefectEvent {
            kind: EventKind::Start,
            at: at(1, Some(1), Some(1)),
            duration: None,
            reason: None,
        };
        let m = SilenceDetectMessage {
            event: start,
            channel: Some(1),
            level_db: f64::NEG_INFINITY,
        };
        assert_eq!(
            SilenceDetectMessage::from_structure(&m.to_structure()).unwrap(),
            m
        );
        let m = SilenceDetectMessage { channel: None, ..m };
        assert_eq!(m.to_structure().get::<i32>("channel").unwrap(), -1);
        assert_eq!(
            SilenceDetectMessage::from_structure(&m.to_structure()).unwrap(),
            m
        );
        let m = ClipDetectMessage {
            event: start,
            clipped_samples: vec![3, 0],
            runs: vec![1, 0],
        };
        assert_eq!(
            ClipDetectMessage::from_structure(&m.to_structure()).unwrap(),
            m
        );
        let m = PhaseDetectMessage {
            event: start,
            kind: PhaseKind::Mono,
            correlation: 1.0,
            channel_a: 0,
            channel_b: 1,
        };
        assert_eq!(
            PhaseDetectMessage::from_structure(&m.to_structure()).unwrap(),
            m
        );
        for m in [
            LoudnessMeterMessage::Measurement {
                at: at(5, Some(5), None),
                momentary: -23.0,
                short_term: -23.1,
                integrated: f64::NEG_INFINITY,
                loudness_range: 0.0,
                sample_peak_db: vec![-23.0, -24.0],
                true_peak_db: vec![],
            },
            LoudnessMeterMessage::Alarm {
                event: start,
                alarm: AlarmKind::TruePeak,
                value: 0.5,
            },
        ] {
            assert_eq!(
                LoudnessMeterMessage::from_structure(&m.to_structure()).unwrap(),
                m
            );
        }
        let bad = gst::Structure::builder("freezedetect")
            .field("event", "middle")
            .build();
        assert!(FreezeDetectMessage::from_structure(&bad).is_err());
    }

    #[test]
    fn avsync_round_trip() {
        init();
        let event = DefectEvent {
            kind: EventKind::End,
            at: at(80, Some(80), None),
            duration: Some(40),
            reason: Some(EndReason::Flush),
        };
        for m in [
            AvSyncDetectMessage::Measurement {
                at: at(1, Some(2), Some(3)),
                offset_ms: -17.5,
                confidence: 0.75,
                observations: 4,
                method: Method::Content,
            },
            AvSyncDetectMessage::Offset {
                event,
                offset_ms: 80.0,
            },
            AvSyncDetectMessage::Stall {
                event,
                stream: Media::Audio,
            },
        ] {
            let s = m.to_structure();
            assert_eq!(AvSyncDetectMessage::from_structure(&s), Ok(m), "{s}");
        }
        let bad = gst::Structure::builder("avsyncdetect")
            .field("event", "measurement")
            .build();
        assert!(AvSyncDetectMessage::from_structure(&bad).is_err());
    }
}
