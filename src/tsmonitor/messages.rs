//! The `tsmonitor` message: transport errors starting and ending, and
//! measurements of counts and bitrates.

use crate::analysis::transport::monitor::{ErrorClass, PidKind, CLASSES};
use crate::messages::{check_name, enum_field, field, DefectEvent, MessageError, Times};

/// `tsmonitor` message: an error class starting or ending on a PID
/// (`event` = "start" / "end"), or every `interval` a measurement
/// (`event` = "measurement").
#[derive(Debug, Clone, PartialEq)]
pub enum TsMonitorMessage {
    Error {
        /// `event`, the times, and at an end `duration` (first to last
        /// occurrence) and `reason`.
        event: DefectEvent,
        /// `class` (string): the TR 101 290 measurement, e.g.
        /// "continuity-count-error".
        class: ErrorClass,
        /// `priority` (u32): TR 101 290's priority of the class, 1 or 2.
        priority: u32,
        /// `pid` (i32): the PID it concerns; -1 for sync, which has none.
        pid: Option<u16>,
        /// `pid-kind` (string): what the PID carries as the tables say:
        /// "video", "audio", "data", "tables" or "unknown".
        kind: PidKind,
        /// `stream-type` (i32): the PMT's stream type for the PID; -1 if none.
        stream_type: Option<u8>,
        /// `count` (u64): occurrences, 1 at a start, all of them at an end.
        count: u64,
    },
    Measurement {
        /// `timestamp`: the end of the interval; `stream-time`, `running-time`.
        at: Times,
        /// One u64 field per class, named as the class (e.g.
        /// `continuity-count-error`): its errors in the interval, in
        /// [`ErrorClass::ALL`]'s order.
        errors: [u64; CLASSES],
        /// `pids` (array of u32), `packets` (array of u64), `bitrates`
        /// (array of f64, bits a second): each PID that had packets in the
        /// interval, by PID.
        pids: Vec<u16>,
        packets: Vec<u64>,
        bitrates: Vec<f64>,
        /// `packet-size` (u32): 188, 192 or 204; 0 before sync.
        packet_size: u32,
    },
}

impl TsMonitorMessage {
    pub const NAME: &'static str = "tsmonitor";

    pub fn to_structure(&self) -> gst::Structure {
        match self {
            TsMonitorMessage::Error {
                event,
                class,
                priority,
                pid,
                kind,
                stream_type,
                count,
            } => event
                .write(gst::Structure::builder(Self::NAME))
                .field("class", class.as_str())
                .field("priority", *priority)
                .field("pid", pid.map_or(-1, i32::from))
                .field("pid-kind", kind.as_str())
                .field("stream-type", stream_type.map_or(-1, i32::from))
                .field("count", *count)
                .build(),
            TsMonitorMessage::Measurement {
                at,
                errors,
                pids,
                packets,
                bitrates,
                packet_size,
            } => {
                let mut b = at.measurement(Self::NAME);
                for (class, n) in ErrorClass::ALL.iter().zip(errors) {
                    b = b.field(class.as_str(), *n);
                }
                b.field("pids", gst::Array::new(pids.iter().map(|&p| u32::from(p))))
                    .field("packets", gst::Array::new(packets.iter().copied()))
                    .field("bitrates", gst::Array::new(bitrates.iter().copied()))
                    .field("packet-size", *packet_size)
                    .build()
            }
        }
    }

    pub fn from_structure(s: &gst::StructureRef) -> Result<Self, MessageError> {
        check_name(s, Self::NAME)?;
        if let Some(at) = Times::read_measurement(s)? {
            let mut errors = [0u64; CLASSES];
            for (class, n) in ErrorClass::ALL.iter().zip(errors.iter_mut()) {
                *n = field(s, class.as_str())?;
            }
            let array = |name: &str| -> Result<gst::Array, MessageError> { field(s, name) };
            let pids = array("pids")?
                .iter()
                .map(|v| v.get::<u32>().map(|p| p as u16))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| MessageError(format!("tsmonitor: pids: {e}")))?;
            let packets = array("packets")?
                .iter()
                .map(|v| v.get::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| MessageError(format!("tsmonitor: packets: {e}")))?;
            let bitrates = array("bitrates")?
                .iter()
                .map(|v| v.get::<f64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| MessageError(format!("tsmonitor: bitrates: {e}")))?;
            if pids.len() != packets.len() || pids.len() != bitrates.len() {
                return Err(MessageError(
                    "tsmonitor: pids, packets and bitrates differ in length".into(),
                ));
            }
            return Ok(TsMonitorMessage::Measurement {
                at,
                errors,
                pids,
                packets,
                bitrates,
                packet_size: field(s, "packet-size")?,
            });
        }
        let pid: i32 = field(s, "pid")?;
        let stream_type: i32 = field(s, "stream-type")?;
        Ok(TsMonitorMessage::Error {
            event: DefectEvent::read(s)?,
            class: enum_field(s, "class", ErrorClass::parse)?,
            priority: field(s, "priority")?,
            pid: u16::try_from(pid).ok(),
            kind: enum_field(s, "pid-kind", PidKind::parse)?,
            stream_type: u8::try_from(stream_type).ok(),
            count: field(s, "count")?,
        })
    }
}

impl From<&TsMonitorMessage> for gst::Structure {
    fn from(m: &TsMonitorMessage) -> Self {
        m.to_structure()
    }
}

impl TryFrom<&gst::StructureRef> for TsMonitorMessage {
    type Error = MessageError;

    fn try_from(s: &gst::StructureRef) -> Result<Self, MessageError> {
        Self::from_structure(s)
    }
}
