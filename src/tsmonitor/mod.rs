//! `tsmonitor`: transport stream health before the demuxer, the
//! measurements of ETSI TR 101 290 priority 1 and 2.
//!
//! It reads `video/mpegts` as it arrives, in any packetisation (188-byte
//! packets, the 192-byte packets of M2TS and the 204-byte ones of DVB-ASI,
//! found by themselves; packets cut across buffers), and passes every
//! buffer through unchanged. It checks:
//!
//! | class | TR 101 290 | what |
//! |---|---|---|
//! | `ts-sync-loss` | 1.1 | two or more packets in a row without the sync byte (sync is found again after five in a row) |
//! | `sync-byte-error` | 1.2 | a packet whose sync byte is not 0x47 |
//! | `pat-error` | 1.3 | no PAT for `pat-interval`, another table on PID 0, PID 0 scrambled |
//! | `continuity-count-error` | 1.4 | a packet lost, out of order, or sent more than twice (the discontinuity indicator excuses a jump) |
//! | `pmt-error` | 1.5 | no PMT for `pmt-interval` on a PID the PAT names, or that PID scrambled |
//! | `pid-error` | 1.6 | a PID a PMT names without a packet for `pid-timeout` |
//! | `transport-error` | 2.1 | `transport_error_indicator` set |
//! | `crc-error` | 2.2 | a PAT, CAT, PMT, NIT, SDT, BAT, EIT or TOT section whose CRC is wrong |
//! | `pcr-repetition-error` | 2.3a | PCRs further apart than `pcr-interval` on a program's PCR PID |
//! | `pcr-discontinuity-indicator-error` | 2.3b | consecutive PCRs more than `pcr-jump` apart, or going back, without the discontinuity indicator |
//! | `pcr-accuracy-error` | 2.4 | a PCR further than `pcr-accuracy` (500 ns) from where the rate of a constant-rate multiplex puts it (PCR_AC) |
//! | `pts-error` | 2.5 | PTSs further apart than `pts-interval` on an elementary stream |
//! | `cat-error` | 2.6 | scrambled packets and no CAT, or another table on PID 1 |
//!
//! PCR accuracy (2.4) is read from the PCRs' byte positions, as the
//! standard's Annex I does, on constant-rate multiplexes only (one with a
//! variable rate has no rate to measure against); docs/tsmonitor.md
//! says how.
//!
//! ```text
//! gst-launch-1.0 -m udpsrc port=5000 caps=video/mpegts,systemstream=true ! \
//!     tsmonitor ! tsdemux ! h264parse ! avdec_h264 ! blockdetect ! fakesink
//! ```
//!
//! ## Time
//! With timestamped buffers (`udpsrc`, `srtsrc`) times are the buffers'
//! arrival times, and `stream-time` and `running-time` are theirs in the
//! segment. Without (a file), the element keeps the stream's own clock from
//! the PCRs of the first PID that carries them, interpolated by the bytes
//! between them, from 0 at the first packet; `stream-time` and
//! `running-time` are then that clock, which is the demuxer's output
//! running time give or take the multiplexer's delay.
//!
//! ## Messages
//! Structure `tsmonitor`, with `timestamp`, `stream-time`, `running-time`
//! (u64 ns; `u64::MAX` when unknown) and `event`:
//! - "start": an error class first occurred on a PID. `class` (string, the
//!   table's), `priority` (u32, 1 or 2), `pid` (i32; -1 for sync loss and
//!   none), `pid-kind` (string: "video", "audio", "data", "tables" or
//!   "unknown", as the PAT and PMT say), `stream-type` (i32, the PMT's; -1
//!   if none), `count` (u64, 1).
//! - "end": the class has not recurred on the PID for `hold`. Times are
//!   its last occurrence; `duration` (u64 ns, first to last occurrence),
//!   `reason` ("recovered", "eos" or "flush"), `count` (all of them), and
//!   the fields of the start.
//! - "measurement", every `interval` when `post-messages` is on: one u64
//!   field per class (e.g. `continuity-count-error`), its errors in the
//!   interval; `pids` (array of u32), `packets` (array of u64), `bitrates`
//!   (array of f64, bits a second of 188-byte packets): each PID that had
//!   packets in the interval; `packet-size` (u32).

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use crate::analysis::event::{EndReason, Transition};
use crate::analysis::transport::monitor::{TsConfig, TsEvent, TsMonitor};
use crate::messages::{DefectEvent, EventKind, Times};

mod imp;
mod messages;

pub use messages::TsMonitorMessage;

glib::wrapper! {
    pub struct TsMonitorElement(ObjectSubclass<imp::TsMonitor>)
        @extends gst_base::BaseTransform, gst::Element, gst::Object;
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(
        Some(plugin),
        "tsmonitor",
        gst::Rank::NONE,
        TsMonitorElement::static_type(),
    )
}

/// The element's work, for use elsewhere too (a pad probe on a demuxer
/// inside `uridecodebin`, see [`attach_to_demuxer`]).
pub struct Checker {
    monitor: TsMonitor,
    events: Vec<TsEvent>,
}

impl Checker {
    pub fn new(config: TsConfig) -> Self {
        Checker {
            monitor: TsMonitor::new(config),
            events: Vec::new(),
        }
    }

    pub fn set_config(&mut self, config: TsConfig) {
        self.monitor.set_config(config);
    }

    /// The packet size found and the stream time reached (ns), for a log.
    pub fn progress(&self) -> (Option<usize>, u64) {
        (self.monitor.packet_size(), self.monitor.now())
    }

    /// The messages one buffer makes; `segment` is asked for only when
    /// there are any (`in_time`: whether the segment is in time).
    pub fn buffer(
        &mut self,
        buf: &gst::BufferRef,
        in_time: bool,
        segment: impl FnOnce() -> gst::Segment,
    ) -> Vec<gst::Structure> {
        // (a source of bytes stamps its first buffer 0: only times in a
        // time segment are arrival times)
        let arrival = buf.dts_or_pts().filter(|_| in_time).map(|t| t.nseconds());
        if let Ok(map) = buf.map_readable() {
            self.monitor.push(map.as_slice(), arrival, &mut self.events);
        }
        if self.events.is_empty() {
            return Vec::new();
        }
        self.take(&segment())
    }

    /// Ends what is open: EOS, or a flush (which also forgets the stream).
    pub fn close(&mut self, reason: EndReason, segment: &gst::Segment) -> Vec<gst::Structure> {
        self.monitor.close(reason, &mut self.events);
        self.take(segment)
    }

    fn take(&mut self, segment: &gst::Segment) -> Vec<gst::Structure> {
        let arrival = self.monitor.uses_arrival();
        let times = |t: u64| {
            if arrival {
                Times::in_segment(t, segment)
            } else {
                Times {
                    timestamp: t,
                    stream_time: Some(t),
                    running_time: Some(t),
                }
            }
        };
        self.events
            .drain(..)
            .map(|e| message(e, &times).to_structure())
            .collect()
    }
}

fn message(e: TsEvent, times: &impl Fn(u64) -> Times) -> TsMonitorMessage {
    match e {
        TsEvent::Error {
            class,
            pid,
            kind,
            stream_type,
            transition,
            count,
        } => {
            let (kind_, duration, reason) = match transition {
                Transition::Start { .. } => (EventKind::Start, None, None),
                Transition::End { start, end, reason } => (
                    EventKind::End,
                    Some(end.saturating_sub(start)),
                    Some(reason),
                ),
            };
            let event = DefectEvent {
                kind: kind_,
                at: times(transition.timestamp()),
                duration,
                reason,
            };
            TsMonitorMessage::Error {
                event,
                class,
                priority: class.priority(),
                pid,
                kind,
                stream_type,
                count,
            }
        }
        TsEvent::Measurement(m) => TsMonitorMessage::Measurement {
            at: times(m.timestamp),
            errors: m.errors,
            pids: m.pids.iter().map(|p| p.pid).collect(),
            packets: m.pids.iter().map(|p| p.packets).collect(),
            bitrates: m.pids.iter().map(|p| p.bitrate).collect(),
            packet_size: m.packet_size,
        },
    }
}

/// Does `tsmonitor`'s work on the transport stream going into `demuxer`
/// (a `tsdemux` that `uridecodebin` plugged, where no element can be put
/// before it): a probe on its sink pad reads every buffer, and the
/// `tsmonitor` messages are posted from the demuxer, with the default
/// limits ([`attach_to_demuxer_with`] takes them from an element).
pub fn attach_to_demuxer(demuxer: &gst::Element) {
    attach(demuxer, None);
}

/// [`attach_to_demuxer`] with the limits and measurement properties of
/// `settings`, a `tsmonitor` element that is not linked anywhere (for
/// example, added to the pipeline unlinked, so it is found by name): they
/// are read for each buffer, so a property set on it while playing takes
/// effect from the next buffer. Any other element gives the defaults.
pub fn attach_to_demuxer_with(demuxer: &gst::Element, settings: &gst::Element) {
    attach(
        demuxer,
        settings
            .downcast_ref::<TsMonitorElement>()
            .map(|e| e.downgrade()),
    );
}

fn attach(demuxer: &gst::Element, settings: Option<glib::WeakRef<TsMonitorElement>>) {
    let Some(pad) = demuxer.static_pad("sink") else {
        return;
    };
    // pulling, the demuxer reads the start and the end of a file before it
    // plays it (as much as all of a short file): it is asked to be pushed
    // to instead, so every byte passes the probe once, in order
    pad.add_probe(gst::PadProbeType::QUERY_UPSTREAM, |_, info| {
        if let Some(gst::PadProbeData::Query(q)) = &mut info.data {
            if let gst::QueryViewMut::Scheduling(q) = q.view_mut() {
                q.set(gst::SchedulingFlags::SEQUENTIAL, 1, -1, 0);
                q.add_scheduling_modes([gst::PadMode::Push]);
                return gst::PadProbeReturn::Handled;
            }
        }
        gst::PadProbeReturn::Ok
    });
    let weak = demuxer.downgrade();
    let config = move || {
        settings
            .as_ref()
            .and_then(|s| s.upgrade())
            .map_or_else(TsConfig::default, |s| s.imp().kernel_config())
    };
    // (checker, its config, segment, the byte offset the next buffer should have)
    let state = std::sync::Mutex::new((
        Checker::new(config()),
        config(),
        gst::Segment::new(),
        None::<u64>,
    ));
    pad.add_probe(
        gst::PadProbeType::BUFFER
            | gst::PadProbeType::BUFFER_LIST
            | gst::PadProbeType::EVENT_DOWNSTREAM,
        move |_, info| {
            let mut out = Vec::new();
            {
                let mut st = crate::glue::lock(&state);
                let (checker, in_use, segment, next) = &mut *st;
                let wanted = config();
                if wanted != *in_use {
                    checker.set_config(wanted);
                    *in_use = wanted;
                }
                // (a seek: a read elsewhere starts afresh)
                let mut read = |b: &gst::BufferRef, out: &mut Vec<gst::Structure>| {
                    let offset = b.offset(); // (u64::MAX: none)
                    if offset != u64::MAX {
                        if next.is_some_and(|n| n != offset) {
                            out.extend(checker.close(EndReason::Flush, segment));
                        }
                        *next = Some(offset + b.size() as u64);
                    }
                    let in_time = segment.format() == gst::Format::Time;
                    out.extend(checker.buffer(b, in_time, || segment.clone()));
                };
                match &info.data {
                    Some(gst::PadProbeData::Buffer(b)) => read(b, &mut out),
                    Some(gst::PadProbeData::BufferList(l)) => {
                        for b in l.iter() {
                            read(b, &mut out);
                        }
                    }
                    Some(gst::PadProbeData::Event(e)) => match e.view() {
                        gst::EventView::Segment(s) => *segment = s.segment().clone(),
                        gst::EventView::Eos(_) => out = checker.close(EndReason::Eos, segment),
                        gst::EventView::FlushStop(_) => {
                            out = checker.close(EndReason::Flush, segment)
                        }
                        _ => {}
                    },
                    _ => {}
                }
            }
            if let Some(demuxer) = weak.upgrade() {
                for s in out {
                    let _ = demuxer
                        .post_message(gst::message::Element::builder(s).src(&demuxer).build());
                }
            }
            gst::PadProbeReturn::Ok
        },
    );
}
