//! The event records the service writes, one JSON line each: a detector's
//! message, the service's own stream events, alarms, and the ends it writes
//! for defects still open when a stream goes away. Serialized with serde
//! (see [`crate::json`]); the field order is the order written here.

use gstavmonitor::{AvSyncDetectMessage, LoudnessMeterMessage, Message, TsMonitorMessage};
use serde::Serialize;

use crate::json;

/// One event line: which stream, which detector (`avmonitor` for the
/// service's own), when (wall clock), and what.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub stream: &'a str,
    pub detector: &'a str,
    pub utc: String,
    #[serde(flatten)]
    pub body: Body<'a>,
}

impl Record<'_> {
    /// The record's `confidence` field, if it has one (blockdetect's
    /// corruptions), which webhook subscriptions filter on too.
    pub fn confidence(&self) -> Option<f64> {
        match &self.body {
            Body::Detector { message, .. } => message.structure.get::<f64>("confidence").ok(),
            _ => None,
        }
    }

    /// The record's `event` field, which webhook subscriptions filter on.
    pub fn event(&self) -> &str {
        match &self.body {
            Body::Detector { message, .. } => message.event,
            Body::Service(e) => e.name(),
            Body::Alarm { .. } => "alarm",
            Body::End { .. } => "end",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Body<'a> {
    /// A detector's message, its fields as on the bus (avsyncdetect's
    /// `stream` named `medium`, as `stream` is the stream id here), and the
    /// thumbnail of the frame where a video defect started.
    Detector {
        #[serde(flatten)]
        message: Posted<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        thumbnail: Option<String>,
    },
    Service(StreamEvent),
    /// An alarm rule fired on a defect still open.
    Alarm {
        event: &'static str,
        alarm: String,
        severity: String,
        #[serde(rename = "since-utc")]
        since_utc: String,
        #[serde(flatten)]
        which: Which,
    },
    /// A defect still open when its stream went down, ended or the service
    /// stopped; a silence at an outage is its audio side (`outage`).
    End {
        event: &'static str,
        reason: EndCause,
        #[serde(rename = "since-utc")]
        since_utc: String,
        #[serde(flatten)]
        which: Which,
        #[serde(skip_serializing_if = "Option::is_none")]
        outage: Option<bool>,
    },
}

/// A detector message as it was posted (its structure, for serialization),
/// and its `event` as read into its typed form.
#[derive(Debug)]
pub struct Posted<'a> {
    pub structure: &'a gst::StructureRef,
    pub event: &'static str,
}

impl Serialize for Posted<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        json::Fields {
            structure: self.structure,
            rename: |n| if n == "stream" { "medium" } else { n },
        }
        .serialize(ser)
    }
}

/// The service's own events about a stream.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event")]
pub enum StreamEvent {
    /// Media flows.
    #[serde(rename = "stream-up")]
    Up { live: bool, restarted: bool },
    /// The stream failed; it restarts in `restart-in-ms`.
    #[serde(rename = "stream-down")]
    Down {
        reason: String,
        #[serde(rename = "restart-in-ms")]
        restart_in_ms: u64,
    },
    /// A file or other finite stream came to its end.
    #[serde(rename = "stream-ended")]
    Ended,
    /// A stream with `loop` came to its end and starts again: its
    /// `loops` so far.
    #[serde(rename = "stream-looped")]
    Looped { loops: u64 },
    /// Added while the service runs (control API or reload), from `source`.
    #[serde(rename = "stream-added")]
    Added { source: Source },
    /// Removed while the service runs.
    #[serde(rename = "stream-removed")]
    Removed { source: Source },
    /// Its configuration changed while it runs: `restarted` when its
    /// source or detectors changed (a new pipeline), else only detector
    /// properties, set on the running pipeline.
    #[serde(rename = "stream-changed")]
    Changed { source: Source, restarted: bool },
}

/// What changed a stream while the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The control API.
    Api,
    /// The configuration file, reloaded (SIGHUP).
    Reload,
    /// The cluster's shared streams (cluster mode): assigned to this
    /// instance, or no longer.
    Cluster,
}

impl StreamEvent {
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Up { .. } => "stream-up",
            StreamEvent::Down { .. } => "stream-down",
            StreamEvent::Ended => "stream-ended",
            StreamEvent::Looped { .. } => "stream-looped",
            StreamEvent::Added { .. } => "stream-added",
            StreamEvent::Removed { .. } => "stream-removed",
            StreamEvent::Changed { .. } => "stream-changed",
        }
    }
}

/// Why the service ended a defect itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndCause {
    StreamDown,
    Shutdown,
    Eos,
    /// The stream was removed while the service runs.
    Removed,
    /// The stream's source or detectors changed: a new pipeline.
    Reconfigured,
}

/// The fields that tell one detector's defects apart (which channel, which
/// alarm, which medium), as they appear in its messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Which {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<&'static str>,
    /// tsmonitor: the TR 101 290 class and the PID (-1: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
}

impl Which {
    /// Of a detector's message.
    pub fn of(m: &Message) -> Which {
        match m {
            Message::Silence(s) => Which {
                channel: Some(s.channel.map_or(-1, |c| c as i32)),
                ..Which::default()
            },
            Message::Phase(p) => Which {
                kind: Some(p.kind.as_str()),
                ..Which::default()
            },
            Message::Loudness(LoudnessMeterMessage::Alarm { alarm, .. }) => Which {
                alarm: Some(alarm.as_str()),
                ..Which::default()
            },
            Message::AvSync(AvSyncDetectMessage::Offset { .. }) => Which {
                alarm: Some("offset"),
                ..Which::default()
            },
            Message::AvSync(AvSyncDetectMessage::Stall { stream, .. }) => Which {
                alarm: Some("stall"),
                medium: Some(stream.as_str()),
                ..Which::default()
            },
            Message::Transport(TsMonitorMessage::Error { class, pid, .. }) => Which {
                class: Some(class.as_str()),
                pid: Some(pid.map_or(-1, i32::from)),
                ..Which::default()
            },
            _ => Which::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(body: Body<'_>) -> String {
        json::line(&Record {
            stream: "cam1",
            detector: "silencedetect",
            utc: "2026-01-01T00:00:00.000Z".into(),
            body,
        })
    }

    #[test]
    fn records_as_the_lines_they_always_were() {
        gst::init().unwrap();
        assert_eq!(
            line(Body::Service(StreamEvent::Down {
                reason: "gone".into(),
                restart_in_ms: 1000
            })),
            r#"{"stream":"cam1","detector":"silencedetect","utc":"2026-01-01T00:00:00.000Z","event":"stream-down","reason":"gone","restart-in-ms":1000}"#
        );
        assert_eq!(
            line(Body::End {
                event: "end",
                reason: EndCause::StreamDown,
                since_utc: "x".into(),
                which: Which {
                    channel: Some(-1),
                    ..Which::default()
                },
                outage: Some(true),
            }),
            r#"{"stream":"cam1","detector":"silencedetect","utc":"2026-01-01T00:00:00.000Z","event":"end","reason":"stream-down","since-utc":"x","channel":-1,"outage":true}"#
        );
        let s = gst::Structure::builder("avsyncdetect")
            .field("event", "start")
            .field("alarm", "stall")
            .field("stream", "audio")
            .build();
        assert_eq!(
            line(Body::Detector {
                message: Posted {
                    structure: &s,
                    event: "start",
                },
                thumbnail: Some("t.jpg".into())
            }),
            r#"{"stream":"cam1","detector":"silencedetect","utc":"2026-01-01T00:00:00.000Z","event":"start","alarm":"stall","medium":"audio","thumbnail":"t.jpg"}"#
        );
    }
}
