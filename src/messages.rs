//! Typed bus messages: one struct per message, to and from `gst::Structure`.
//!
//! Applications and tests read messages only through these types. Every
//! message carries `timestamp` (buffer time, ns), `stream-time` and
//! `running-time` (ns) of the instant it describes; times that fall outside
//! the segment are `GST_CLOCK_TIME_NONE` (`u64::MAX`) in the structure and
//! `None` here.

use crate::analysis::avsync::{Media, Method};
use crate::analysis::block::{BoxPx, Evidence};
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

/// Stream and running time of buffer time `ts` in `segment`.
pub fn segment_times(ts: u64, segment: &gst::Segment) -> (Option<u64>, Option<u64>) {
    match segment.downcast_ref::<gst::ClockTime>() {
        Some(seg) => {
            let t = gst::ClockTime::from_nseconds(ts);
            (
                seg.to_stream_time(t).map(|t| t.nseconds()),
                seg.to_running_time(t).map(|t| t.nseconds()),
            )
        }
        None => (None, None),
    }
}

impl DefectEvent {
    /// The shared fields for `transition`, with times from `segment`.
    pub fn from_transition(transition: Transition, segment: &gst::Segment) -> Self {
        let ts = transition.timestamp();
        let (stream_time, running_time) = segment_times(ts, segment);
        match transition {
            Transition::Start { .. } => DefectEvent {
                kind: EventKind::Start,
                timestamp: ts,
                stream_time,
                running_time,
                duration: None,
                reason: None,
            },
            Transition::End { start, end, reason } => DefectEvent {
                kind: EventKind::End,
                timestamp: ts,
                stream_time,
                running_time,
                duration: Some(end.saturating_sub(start)),
                reason: Some(reason),
            },
        }
    }

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
    },
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        timestamp: u64,
        stream_time: Option<u64>,
        running_time: Option<u64>,
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
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("damaged-blocks", *damaged_blocks)
                .field("damaged-fraction", *damaged_fraction)
                .field("area-x", area.x)
                .field("area-y", area.y)
                .field("area-width", area.width)
                .field("area-height", area.height)
                .field("evidence", evidence.as_str())
                .build(),
            BlockDetectMessage::Measurement {
                timestamp,
                stream_time,
                running_time,
                blockiness,
                frames,
                corrupted_frames,
            } => gst::Structure::builder(Self::NAME)
                .field("event", "measurement")
                .field("timestamp", *timestamp)
                .field("stream-time", time_to_field(*stream_time))
                .field("running-time", time_to_field(*running_time))
                .field("blockiness", *blockiness)
                .field("frames", *frames)
                .field("corrupted-frames", *corrupted_frames)
                .build(),
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if field::<&str>(s, "event")? == "measurement" {
            return Ok(BlockDetectMessage::Measurement {
                timestamp: field(s, "timestamp")?,
                stream_time: time_from_field(field(s, "stream-time")?),
                running_time: time_from_field(field(s, "running-time")?),
                blockiness: field(s, "blockiness")?,
                frames: field(s, "frames")?,
                corrupted_frames: field(s, "corrupted-frames")?,
            });
        }
        let ev: &str = field(s, "evidence")?;
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
            evidence: Evidence::parse(ev)
                .ok_or_else(|| MessageError(format!("{}: unknown evidence \"{ev}\"", s.name())))?,
        })
    }
}

fn f64_array(values: &[f64]) -> gst::Array {
    gst::Array::new(values.iter().copied())
}

fn read_f64_array(s: &gst::StructureRef, name: &str) -> Result<Vec<f64>, MessageError> {
    let a: gst::Array = field(s, name)?;
    a.iter()
        .map(|v| {
            v.get::<f64>()
                .map_err(|e| MessageError(format!("{}: field {name}: {e}", s.name())))
        })
        .collect()
}

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

/// `clipdetect` message.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipDetectMessage {
    pub event: DefectEvent,
    /// `clipped-samples` (array of f64, per channel): clipped samples in
    /// clipping runs, over the event (so far, for a start).
    pub clipped_samples: Vec<f64>,
    /// `runs` (array of f64, per channel): clipping runs.
    pub runs: Vec<f64>,
}

impl ClipDetectMessage {
    pub const NAME: &'static str = "clipdetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("clipped-samples", f64_array(&self.clipped_samples))
            .field("runs", f64_array(&self.runs))
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(ClipDetectMessage {
            event: DefectEvent::read(s)?,
            clipped_samples: read_f64_array(s, "clipped-samples")?,
            runs: read_f64_array(s, "runs")?,
        })
    }
}

/// `phasedetect` message.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseDetectMessage {
    pub event: DefectEvent,
    /// `kind` (string): `out-of-phase` or `mono`.
    pub kind: String,
    /// `correlation` (f64, -1..1): of the first block (start), mean over the stretch (end).
    pub correlation: f64,
    /// `channel-a`, `channel-b` (u32): the pair.
    pub channel_a: u32,
    pub channel_b: u32,
}

impl PhaseDetectMessage {
    pub const NAME: &'static str = "phasedetect";

    pub fn to_structure(&self) -> gst::Structure {
        self.event
            .write(gst::Structure::builder(Self::NAME))
            .field("kind", self.kind.as_str())
            .field("correlation", self.correlation)
            .field("channel-a", self.channel_a)
            .field("channel-b", self.channel_b)
            .build()
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        Ok(PhaseDetectMessage {
            event: DefectEvent::read(s)?,
            kind: field::<&str>(s, "kind")?.to_string(),
            correlation: field(s, "correlation")?,
            channel_a: field(s, "channel-a")?,
            channel_b: field(s, "channel-b")?,
        })
    }
}

/// `loudnessmeter` message: a measurement (`event` = "measurement") or an
/// alarm (`event` = "start" / "end").
#[derive(Debug, Clone, PartialEq)]
pub enum LoudnessMeterMessage {
    Measurement {
        /// `timestamp`: end of the measured interval; `stream-time`, `running-time`.
        timestamp: u64,
        stream_time: Option<u64>,
        running_time: Option<u64>,
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
        alarm: String,
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
                timestamp,
                stream_time,
                running_time,
                momentary,
                short_term,
                integrated,
                loudness_range,
                sample_peak_db,
                true_peak_db,
            } => gst::Structure::builder(Self::NAME)
                .field("event", "measurement")
                .field("timestamp", *timestamp)
                .field("stream-time", time_to_field(*stream_time))
                .field("running-time", time_to_field(*running_time))
                .field("momentary", *momentary)
                .field("short-term", *short_term)
                .field("integrated", *integrated)
                .field("loudness-range", *loudness_range)
                .field("sample-peak-db", f64_array(sample_peak_db))
                .field("true-peak-db", f64_array(true_peak_db))
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
        if field::<&str>(s, "event")? == "measurement" {
            return Ok(LoudnessMeterMessage::Measurement {
                timestamp: field(s, "timestamp")?,
                stream_time: time_from_field(field(s, "stream-time")?),
                running_time: time_from_field(field(s, "running-time")?),
                momentary: field(s, "momentary")?,
                short_term: field(s, "short-term")?,
                integrated: field(s, "integrated")?,
                loudness_range: field(s, "loudness-range")?,
                sample_peak_db: read_f64_array(s, "sample-peak-db")?,
                true_peak_db: read_f64_array(s, "true-peak-db")?,
            });
        }
        Ok(LoudnessMeterMessage::Alarm {
            event: DefectEvent::read(s)?,
            alarm: field::<&str>(s, "alarm")?.to_string(),
            value: field(s, "value")?,
        })
    }
}

/// `avsyncdetect` message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AvSyncDetectMessage {
    Measurement {
        /// `timestamp` (video buffer time), `stream-time`, `running-time` of
        /// the instant measured: the flash, or the end of the window.
        timestamp: u64,
        stream_time: Option<u64>,
        running_time: Option<u64>,
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
                timestamp,
                stream_time,
                running_time,
                offset_ms,
                confidence,
                observations,
                method,
            } => gst::Structure::builder(Self::NAME)
                .field("event", "measurement")
                .field("timestamp", *timestamp)
                .field("stream-time", time_to_field(*stream_time))
                .field("running-time", time_to_field(*running_time))
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
        if field::<&str>(s, "event")? == "measurement" {
            let m: &str = field(s, "method")?;
            return Ok(AvSyncDetectMessage::Measurement {
                timestamp: field(s, "timestamp")?,
                stream_time: time_from_field(field(s, "stream-time")?),
                running_time: time_from_field(field(s, "running-time")?),
                offset_ms: field(s, "offset-ms")?,
                confidence: field(s, "confidence")?,
                observations: field(s, "observations")?,
                method: Method::parse(m)
                    .ok_or_else(|| MessageError(format!("{}: unknown method \"{m}\"", s.name())))?,
            });
        }
        let event = DefectEvent::read(s)?;
        match field::<&str>(s, "alarm")? {
            "offset" => Ok(AvSyncDetectMessage::Offset {
                event,
                offset_ms: field(s, "offset-ms")?,
            }),
            "stall" => {
                let m: &str = field(s, "stream")?;
                Ok(AvSyncDetectMessage::Stall {
                    event,
                    stream: Media::parse(m).ok_or_else(|| {
                        MessageError(format!("{}: unknown stream \"{m}\"", s.name()))
                    })?,
                })
            }
            other => Err(MessageError(format!(
                "{}: unknown alarm \"{other}\"",
                s.name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    timestamp: 80,
                    stream_time: Some(80),
                    running_time: Some(40),
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
            },
            BlockDetectMessage::Measurement {
                timestamp: 1_000,
                stream_time: None,
                running_time: Some(5),
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
            timestamp: 0,
            stream_time: None,
            running_time: None,
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
        let start = DefectEvent {
            kind: EventKind::Start,
            timestamp: 1,
            stream_time: Some(1),
            running_time: Some(1),
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
            clipped_samples: vec![3.0, 0.0],
            runs: vec![1.0, 0.0],
        };
        assert_eq!(
            ClipDetectMessage::from_structure(&m.to_structure()).unwrap(),
            m
        );
        let m = PhaseDetectMessage {
            event: start,
            kind: "mono".into(),
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
                timestamp: 5,
                stream_time: Some(5),
                running_time: None,
                momentary: -23.0,
                short_term: -23.1,
                integrated: f64::NEG_INFINITY,
                loudness_range: 0.0,
                sample_peak_db: vec![-23.0, -24.0],
                true_peak_db: vec![],
            },
            LoudnessMeterMessage::Alarm {
                event: start,
                alarm: "true-peak".into(),
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
            timestamp: 80,
            stream_time: Some(80),
            running_time: None,
            duration: Some(40),
            reason: Some(EndReason::Flush),
        };
        for m in [
            AvSyncDetectMessage::Measurement {
                timestamp: 1,
                stream_time: Some(2),
                running_time: Some(3),
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
