//! The TR 101 290 checks, packet by packet, and the events they make.
//!
//! [`TsMonitor::push`] takes the bytes of one buffer and the buffer's
//! arrival time when it has one. Without arrival times (a file) the
//! monitor keeps its own clock from the first PCR-carrying PID's PCRs,
//! interpolating by the bytes between them, so that "every 0.5 s" means
//! 0.5 s of the stream however fast it is read.
//!
//! Each error raises an event for its class and PID: a start at its first
//! occurrence, and an end once the class has not recurred on that PID for
//! `hold` (its timestamp is the last occurrence, `duration` from the first
//! to the last, `count` how many there were). Every `interval` a
//! measurement gives per-class counts and per-PID packets and bitrates.

use mpeg2ts_reader::mpegts_crc;
use mpeg2ts_reader::packet::Packet;
use mpeg2ts_reader::psi::pat::PatSection;
use mpeg2ts_reader::psi::pmt::PmtSection;

use super::framing::{Framer, Item, SyncNote, PACKET};
use super::pcr::{PcrAccuracy, PCR_WRAP};
use crate::analysis::event::{next_due, EndReason, Transition};

const MS: u64 = 1_000_000;
/// The 27 MHz PCR wraps at 2^33 * 300.
const NULL_PID: u16 = 0x1fff;
const PIDS: usize = 8192;
/// The error classes (every measurement counts each).
pub const CLASSES: usize = 13;

/// The measurements of TR 101 290 (5.2.1 and 5.2.2) this monitor makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// 1.1: sync lost (two or more packets in a row without the sync byte).
    TsSyncLoss,
    /// 1.2: a packet's sync byte was not 0x47.
    SyncByteError,
    /// 1.3: no PAT for longer than `pat-interval`, another table on PID 0,
    /// or PID 0 scrambled.
    PatError,
    /// 1.4: packets lost, out of order, or sent more than twice.
    ContinuityCountError,
    /// 1.5: no PMT for longer than `pmt-interval` on a PID the PAT names, or
    /// a PMT PID scrambled.
    PmtError,
    /// 1.6: a PID a PMT names has had no packet for `pid-timeout`.
    PidError,
    /// 2.1: `transport_error_indicator` set.
    TransportError,
    /// 2.2: a table section (PAT, CAT, PMT, NIT, SDT, BAT, EIT, TOT) whose
    /// CRC is wrong.
    CrcError,
    /// 2.3a: on a program's PCR PID, consecutive PCR values further apart
    /// than `pcr-interval` (but not past `pcr-jump`, a discontinuity), or
    /// no PCR at all for `pcr-interval` + `pcr-jump` of stream time.
    PcrRepetitionError,
    /// 2.3b: consecutive PCRs more than `pcr-jump` apart (or going back)
    /// without the discontinuity indicator.
    PcrDiscontinuityIndicatorError,
    /// 2.4: a PCR further than `pcr-accuracy` from where the transport
    /// rate puts it (PCR_AC), on a constant-rate multiplex
    /// ([`super::pcr`]).
    PcrAccuracyError,
    /// 2.5: PTSs further apart than `pts-interval` on an elementary stream.
    PtsError,
    /// 2.6: scrambled packets without a CAT, or another table on PID 1.
    CatError,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; CLASSES] = [
        ErrorClass::TsSyncLoss,
        ErrorClass::SyncByteError,
        ErrorClass::PatError,
        ErrorClass::ContinuityCountError,
        ErrorClass::PmtError,
        ErrorClass::PidError,
        ErrorClass::TransportError,
        ErrorClass::CrcError,
        ErrorClass::PcrRepetitionError,
        ErrorClass::PcrDiscontinuityIndicatorError,
        ErrorClass::PcrAccuracyError,
        ErrorClass::PtsError,
        ErrorClass::CatError,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::TsSyncLoss => "ts-sync-loss",
            ErrorClass::SyncByteError => "sync-byte-error",
            ErrorClass::PatError => "pat-error",
            ErrorClass::ContinuityCountError => "continuity-count-error",
            ErrorClass::PmtError => "pmt-error",
            ErrorClass::PidError => "pid-error",
            ErrorClass::TransportError => "transport-error",
            ErrorClass::CrcError => "crc-error",
            ErrorClass::PcrRepetitionError => "pcr-repetition-error",
            ErrorClass::PcrDiscontinuityIndicatorError => "pcr-discontinuity-indicator-error",
            ErrorClass::PcrAccuracyError => "pcr-accuracy-error",
            ErrorClass::PtsError => "pts-error",
            ErrorClass::CatError => "cat-error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// TR 101 290's priority: 1 (the stream cannot be decoded) or 2.
    pub fn priority(&self) -> u32 {
        match self {
            ErrorClass::TsSyncLoss
            | ErrorClass::SyncByteError
            | ErrorClass::PatError
            | ErrorClass::ContinuityCountError
            | ErrorClass::PmtError
            | ErrorClass::PidError => 1,
            _ => 2,
        }
    }

    fn index(&self) -> usize {
        *self as usize
    }
}

/// What a PID carries, as the PAT and PMTs say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PidKind {
    /// Tables: PAT, CAT, a PMT, DVB SI.
    Tables,
    Video,
    Audio,
    /// Another elementary stream (data, subtitles, private).
    Data,
    /// Not named by any table (yet), or no PID (sync).
    #[default]
    Unknown,
}

impl PidKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PidKind::Tables => "tables",
            PidKind::Video => "video",
            PidKind::Audio => "audio",
            PidKind::Data => "data",
            PidKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PidKind::Tables,
            PidKind::Video,
            PidKind::Audio,
            PidKind::Data,
            PidKind::Unknown,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind of an elementary stream of `stream_type` (ISO/IEC 13818-1
    /// table 2-34, and the common private types).
    pub fn of_stream_type(stream_type: u8) -> Self {
        match stream_type {
            0x01 | 0x02 | 0x10 | 0x1b | 0x1f | 0x20 | 0x24 | 0x42 | 0xd1 | 0xea => PidKind::Video,
            0x03 | 0x04 | 0x0f | 0x11 | 0x1c | 0x81 | 0x82 | 0x83 | 0x84 | 0x87 => PidKind::Audio,
            _ => PidKind::Data,
        }
    }
}

/// The limits, TR 101 290's by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TsConfig {
    /// How long a class must stay away from a PID before its event ends, ns.
    pub hold: u64,
    /// Longest gap between PAT sections (1.3), ns.
    pub pat_interval: u64,
    /// Longest gap between PMT sections on each PMT PID (1.5), ns.
    pub pmt_interval: u64,
    /// Longest silence of a PID a PMT names (1.6), ns.
    pub pid_timeout: u64,
    /// Longest gap between PCRs (2.3a), ns.
    pub pcr_interval: u64,
    /// Largest step between consecutive PCRs without the discontinuity
    /// indicator (2.3b), ns.
    pub pcr_jump: u64,
    /// Largest PCR inaccuracy (2.4, PCR_AC) on a constant-rate multiplex,
    /// ns; 0: not measured.
    pub pcr_accuracy: u64,
    /// Longest gap between PTSs on an elementary stream (2.5), ns.
    pub pts_interval: u64,
    /// Measurements every this many ns; `None`: none.
    pub measure: Option<u64>,
}

impl Default for TsConfig {
    fn default() -> Self {
        TsConfig {
            hold: 1000 * MS,
            pat_interval: 500 * MS,
            pmt_interval: 500 * MS,
            pid_timeout: 5000 * MS,
            pcr_interval: 40 * MS,
            pcr_jump: 100 * MS,
            pcr_accuracy: 500,
            pts_interval: 700 * MS,
            measure: Some(1000 * MS),
        }
    }
}

/// One PID's packets and bitrate over a measurement's interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PidRate {
    pub pid: u16,
    pub kind: PidKind,
    pub packets: u64,
    /// Bits a second, from 188-byte packets.
    pub bitrate: f64,
}

/// Every `interval`: what the stream carried and what went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct TsMeasurement {
    /// The end of the interval, ns.
    pub timestamp: u64,
    /// Errors of each class in the interval, in [`ErrorClass::ALL`]'s order.
    pub errors: [u64; CLASSES],
    /// Packets of every PID that had any, by PID.
    pub pids: Vec<PidRate>,
    /// The packet size found (188, 192 or 204; 0 before sync).
    pub packet_size: u32,
}

/// An event of the monitor.
#[derive(Debug, Clone, PartialEq)]
pub enum TsEvent {
    Error {
        class: ErrorClass,
        /// The PID it concerns; `None` for sync, which has none.
        pid: Option<u16>,
        kind: PidKind,
        /// The elementary stream type the PMT gives the PID, if any.
        stream_type: Option<u8>,
        transition: Transition,
        /// Occurrences: 1 at a start, all of them at an end.
        count: u64,
    },
    Measurement(TsMeasurement),
}

/// A table section being put together.
#[derive(Debug, Default)]
struct Section {
    bytes: Vec<u8>,
    /// Whether a section start was seen since the last loss.
    open: bool,
}

#[derive(Debug, Default)]
struct PidState {
    packets: u64,
    interval_packets: u64,
    cc: Option<u8>,
    /// Times the last packet came again (one repeat is allowed).
    repeats: u8,
    last_seen: u64,
    kind: PidKind,
    stream_type: Option<u8>,
    /// A PMT PID (from the PAT): sections with table_id 2 are due here.
    pmt: bool,
    /// Named by a PMT as an elementary stream: packets are due.
    named: bool,
    /// The PCR PID of a program: PCRs are due.
    pcr_due: bool,
    /// Table sections are read (and their CRC checked) on this PID.
    section: Option<Box<Section>>,
    /// Deadlines (ns) of the repetition checks, once armed.
    table_due: Option<u64>,
    packet_due: Option<u64>,
    pcr_next: Option<u64>,
    pts_due: Option<u64>,
    /// The last PCR (27 MHz).
    last_pcr: Option<u64>,
    /// PCR_AC of the PCRs on this PID.
    pcr_accuracy: PcrAccuracy,
}

#[derive(Debug, Clone, Copy)]
struct Episode {
    class: ErrorClass,
    pid: Option<u16>,
    first: u64,
    last: u64,
    count: u64,
}

/// The clock used without arrival times: from PCRs.
#[derive(Debug, Default, Clone, Copy)]
struct PcrClock {
    pid: Option<u16>,
    /// The last PCR (27 MHz), its time (ns) and its packet's stream offset.
    anchor: Option<(u64, u64, u64)>,
    /// Bytes a second between the last two PCRs.
    rate: Option<f64>,
    /// Time between the last two PCRs, ns: the clock runs on by bytes at
    /// most this far past the last PCR (a burst of bytes at the rate of a
    /// quiet stretch would otherwise run it seconds ahead).
    spacing: u64,
}

/// The TR 101 290 monitor of one transport stream.
pub struct TsMonitor {
    config: TsConfig,
    framer: Framer,
    /// Index into `states` per PID (`u16::MAX`: none yet).
    slot: Box<[u16; PIDS]>,
    states: Vec<(u16, PidState)>,
    /// PIDs with a deadline or section to watch.
    watched: Vec<u16>,
    episodes: Vec<Episode>,
    counts: [u64; CLASSES],
    now: u64,
    started: bool,
    arrival: Option<u64>,
    uses_arrival: Option<bool>,
    clock: PcrClock,
    pat_due: Option<u64>,
    cat_seen: bool,
    next_sweep: u64,
    interval_start: u64,
    next_measure: Option<u64>,
    sync_error_pending: bool,
    /// The packet size found (0 before sync).
    size: usize,
    events: Vec<TsEvent>,
}

impl TsMonitor {
    pub fn new(config: TsConfig) -> Self {
        TsMonitor {
            config,
            framer: Framer::new(),
            slot: Box::new([u16::MAX; PIDS]),
            states: Vec::new(),
            watched: Vec::new(),
            episodes: Vec::new(),
            counts: [0; CLASSES],
            now: 0,
            started: false,
            arrival: None,
            uses_arrival: None,
            clock: PcrClock::default(),
            pat_due: None,
            cat_seen: false,
            next_sweep: 0,
            interval_start: 0,
            next_measure: None,
            sync_error_pending: false,
            size: 0,
            events: Vec::new(),
        }
    }

    /// New limits, used from the next packet on.
    pub fn set_config(&mut self, config: TsConfig) {
        self.config = config;
    }

    /// The packet size found, once in sync.
    pub fn packet_size(&self) -> Option<usize> {
        (self.size > 0).then_some(self.size)
    }

    /// Whether times are the buffers' arrival times (else the PCR clock).
    pub fn uses_arrival(&self) -> bool {
        self.uses_arrival == Some(true)
    }

    /// The stream time now, ns (the last packet's).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Packets seen on `pid`.
    #[cfg(test)]
    pub fn packets(&self, pid: u16) -> u64 {
        self.state(pid).map_or(0, |s| s.packets)
    }

    /// The bytes of one buffer, that follow the last call's; `arrival`: the
    /// buffer's arrival time (ns) when known. Events go to `out`.
    pub fn push(&mut self, data: &[u8], arrival: Option<u64>, out: &mut Vec<TsEvent>) {
        if self.uses_arrival.is_none() {
            self.uses_arrival = Some(arrival.is_some());
        }
        if self.uses_arrival == Some(true) {
            if let Some(a) = arrival {
                self.arrival = Some(a.max(self.arrival.unwrap_or(0)));
            }
        }
        if let Some(a) = self.arrival {
            self.advance(a);
        }
        let mut framer = std::mem::take(&mut self.framer);
        framer.push(data, |item| match item {
            Item::Packet { bytes, offset } => self.packet(bytes, offset),
            Item::Note { note, offset } => self.note(note, offset),
        });
        self.framer = framer;
        self.sweep(true);
        out.append(&mut self.events);
    }

    /// Ends every open event (EOS, flush), with `reason`; a flush also
    /// forgets the stream.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<TsEvent>) {
        let episodes = std::mem::take(&mut self.episodes);
        for e in episodes {
            self.end(e, reason);
        }
        out.append(&mut self.events);
        if reason == EndReason::Flush {
            *self = TsMonitor::new(self.config);
        }
    }

    fn state(&self, pid: u16) -> Option<&PidState> {
        let i = *self.slot.get(usize::from(pid))?;
        self.states.get(usize::from(i)).map(|(_, s)| s)
    }

    fn state_mut(&mut self, pid: u16) -> &mut PidState {
        let pid = pid & 0x1fff;
        let mut i = self.slot[usize::from(pid)];
        if i == u16::MAX {
            i = self.states.len() as u16;
            self.slot[usize::from(pid)] = i;
            let mut st = PidState::default();
            if matches!(pid, 0 | 1 | 0x10..=0x14) {
                st.section = Some(Box::default());
                st.kind = PidKind::Tables;
                self.watched.push(pid);
            }
            self.states.push((pid, st));
        }
        &mut self.states[usize::from(i)].1
    }

    fn advance(&mut self, t: u64) {
        self.now = self.now.max(t);
        if !self.started {
            self.started = true;
            self.interval_start = self.now;
            self.next_sweep = self.now;
            self.pat_due = Some(self.now + self.config.pat_interval);
            self.next_measure = self.config.measure.map(|m| self.now + m.max(1));
        }
    }

    /// The time of the packet at `offset` from the PCR clock.
    fn pcr_time(&self, offset: u64) -> u64 {
        match (self.clock.anchor, self.clock.rate) {
            (Some((_, t, off)), Some(rate)) if rate > 0.0 => {
                let ahead = (offset.saturating_sub(off)) as f64 * 1e9 / rate;
                t + (ahead as u64).min(self.clock.spacing)
            }
            (Some((_, t, _)), _) => t,
            _ => 0,
        }
    }

    fn note(&mut self, note: SyncNote, offset: u64) {
        if self.uses_arrival != Some(true) {
            let t = self.pcr_time(offset);
            self.advance(t);
        }
        match note {
            SyncNote::Acquired { size } => {
                self.size = size;
                if self
                    .episodes
                    .iter()
                    .any(|e| e.class == ErrorClass::TsSyncLoss)
                {
                    // the loss lasted until now
                    self.error_at(ErrorClass::TsSyncLoss, None, self.now, 0);
                }
            }
            SyncNote::Lost => self.error(ErrorClass::TsSyncLoss, None),
            SyncNote::SyncByteError => self.sync_error_pending = true,
        }
    }

    fn packet(&mut self, bytes: &[u8; PACKET], offset: u64) {
        let pk = Packet::new(bytes);
        let pid = u16::from(pk.pid());
        let af = pk.adaptation_field();
        let discontinuity = af.as_ref().is_some_and(|a| a.discontinuity_indicator());
        let pcr = af.as_ref().and_then(|a| a.pcr().ok()).map(|c| {
            let v = c.base() * 300 + u64::from(c.extension());
            v % PCR_WRAP
        });
        if self.uses_arrival != Some(true) {
            if let Some(v) = pcr {
                self.tick_pcr_clock(pid, v, offset, discontinuity);
            }
            let t = self.pcr_time(offset);
            self.advance(t);
        }
        let now = self.now;
        if std::mem::take(&mut self.sync_error_pending) {
            self.error(ErrorClass::SyncByteError, Some(pid));
        }
        let tei = pk.transport_error_indicator();
        let timeout = self.config.pid_timeout;
        let scrambled = bytes[3] >> 6 != 0;
        let has_payload = pk.adaptation_control().has_payload();
        let cc = pk.continuity_counter().count();
        // the PID's state is looked up once for all the per-packet checks
        let st = self.state_mut(pid);
        st.packets += 1;
        st.interval_packets += 1;
        st.last_seen = now;
        if tei {
            // nothing else in the packet can be trusted; its counter is
            // taken as it is, so the next packet is not a second error
            st.cc = Some(bytes[3] & 0x0f);
            st.repeats = 0;
            self.error(ErrorClass::TransportError, Some(pid));
            return;
        }
        if pid == NULL_PID {
            return;
        }
        if st.named {
            st.packet_due = Some(now + timeout);
        }
        let cc_error = match st.cc {
            Some(last) if !discontinuity => {
                if !has_payload {
                    cc != last
                } else if cc == last {
                    st.repeats += 1;
                    st.repeats > 1
                } else {
                    st.repeats = 0;
                    cc != (last + 1) & 0x0f
                }
            }
            _ => {
                st.repeats = 0;
                false
            }
        };
        st.cc = Some(cc);
        if cc_error {
            if let Some(sec) = st.section.as_mut() {
                sec.bytes.clear();
                sec.open = false;
            }
        }
        let (pmt, tables, named) = (st.pmt, st.section.is_some(), st.named);
        if cc_error {
            self.error(ErrorClass::ContinuityCountError, Some(pid));
        }
        if scrambled {
            if pid == 0 {
                self.error(ErrorClass::PatError, Some(pid));
            } else if pmt {
                self.error(ErrorClass::PmtError, Some(pid));
            }
            if !self.cat_seen {
                self.error(ErrorClass::CatError, Some(pid));
            }
        }
        if let Some(v) = pcr {
            self.pcr(pid, v, offset, discontinuity);
        }
        if let (Some(payload), false) = (pk.payload(), scrambled) {
            let pusi = pk.payload_unit_start_indicator();
            if tables {
                self.section_payload(pid, payload, pusi);
            } else if pusi && named {
                self.pes_start(pid, payload);
            }
        }
        self.sweep(false);
    }

    /// Moves the PCR clock on with a PCR of `pid` at `offset`.
    fn tick_pcr_clock(&mut self, pid: u16, v: u64, offset: u64, discontinuity: bool) {
        if *self.clock.pid.get_or_insert(pid) != pid {
            return;
        }
        let here = self.pcr_time(offset);
        let t = match self.clock.anchor {
            Some((last, t0, off0)) => {
                let ticks = (v + PCR_WRAP - last) % PCR_WRAP;
                if discontinuity || ticks == 0 || ticks * 1000 / 27 > self.config.pcr_jump {
                    here
                } else {
                    let dt = ticks as f64 / 27e6;
                    self.clock.rate = Some(offset.saturating_sub(off0) as f64 / dt);
                    self.clock.spacing = ticks * 1000 / 27;
                    t0 + ticks * 1000 / 27
                }
            }
            None => here,
        };
        self.clock.anchor = Some((v, t, offset));
    }

    fn pcr(&mut self, pid: u16, v: u64, offset: u64, discontinuity: bool) {
        let now = self.now;
        let (interval, jump) = (self.config.pcr_interval, self.config.pcr_jump);
        let limit = self.config.pcr_accuracy;
        let st = self.state_mut(pid);
        if limit > 0 {
            let ac = st.pcr_accuracy.pcr(offset, v, discontinuity, limit);
            if ac.is_some_and(|ns| ns.unsigned_abs() > limit) {
                self.error(ErrorClass::PcrAccuracyError, Some(pid));
            }
        }
        let st = self.state_mut(pid);
        let last = st.last_pcr.replace(v);
        let due = st.pcr_due;
        if due {
            // PCRs that stop altogether are late by this (the gaps
            // between PCRs are measured on their values, below)
            st.pcr_next = Some(now + interval + jump);
        }
        if let (Some(last), false) = (last, discontinuity) {
            // (a step back wraps to a huge forward one)
            let ns = (v + PCR_WRAP - last) % PCR_WRAP * 1000 / 27;
            if ns > jump {
                self.error(ErrorClass::PcrDiscontinuityIndicatorError, Some(pid));
            } else if ns > interval && due {
                self.error(ErrorClass::PcrRepetitionError, Some(pid));
            }
        }
    }

    fn pes_start(&mut self, pid: u16, payload: &[u8]) {
        if payload.len() < 9 || payload[..3] != [0, 0, 1] {
            return;
        }
        // stream ids without the optional header (ISO/IEC 13818-1 2.4.3.7)
        if matches!(
            payload[3],
            0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
        ) {
            return;
        }
        if payload[7] & 0x80 != 0 {
            let due = self.now + self.config.pts_interval;
            self.state_mut(pid).pts_due = Some(due);
        }
    }

    fn section_payload(&mut self, pid: u16, payload: &[u8], pusi: bool) {
        let mut done: Vec<Vec<u8>> = Vec::new();
        {
            let st = self.state_mut(pid);
            let Some(sec) = st.section.as_mut() else {
                return;
            };
            let mut rest = payload;
            if pusi {
                let pointer = usize::from(rest[0]);
                rest = &rest[1..];
                let (tail, after) = rest.split_at(pointer.min(rest.len()));
                if sec.open {
                    sec.bytes.extend_from_slice(tail);
                    take_sections(sec, &mut done);
                }
                sec.bytes.clear();
                sec.open = true;
                sec.bytes.extend_from_slice(after);
            } else if sec.open {
                sec.bytes.extend_from_slice(rest);
            }
            if sec.open {
                take_sections(sec, &mut done);
            }
        }
        for s in done {
            self.section(pid, &s);
        }
    }

    /// A whole section on `pid`.
    fn section(&mut self, pid: u16, s: &[u8]) {
        let table_id = s[0];
        let long = s[1] & 0x80 != 0;
        if (long || table_id == 0x73) && s.len() >= 7 && mpegts_crc::sum32(s) != 0 {
            self.error(ErrorClass::CrcError, Some(pid));
            return;
        }
        let is_pmt = self.state(pid).is_some_and(|st| st.pmt);
        let body = if long && s.len() >= 12 {
            &s[8..s.len() - 4]
        } else {
            &s[..0]
        };
        if pid == 0 {
            if table_id != 0 {
                self.error(ErrorClass::PatError, Some(pid));
                return;
            }
            self.pat_due = Some(self.now + self.config.pat_interval);
            let pmts: Vec<u16> = PatSection::new(&body[..body.len() / 4 * 4])
                .programs()
                .filter(|p| {
                    matches!(
                        p,
                        mpeg2ts_reader::psi::pat::ProgramDescriptor::Program { .. }
                    )
                })
                .map(|p| u16::from(p.pid()))
                .collect();
            let due = self.now + self.config.pmt_interval;
            for p in pmts {
                let st = self.state_mut(p);
                if !st.pmt {
                    st.pmt = true;
                    st.kind = PidKind::Tables;
                    st.table_due = Some(due);
                    if st.section.is_none() {
                        st.section = Some(Box::default());
                    }
                    self.watched.push(p);
                }
            }
        } else if pid == 1 {
            if table_id != 1 {
                self.error(ErrorClass::CatError, Some(pid));
            } else {
                self.cat_seen = true;
            }
        } else if is_pmt && table_id == 2 {
            let due = self.now + self.config.pmt_interval;
            self.state_mut(pid).table_due = Some(due);
            let Ok(pmt) = PmtSection::from_bytes(body) else {
                return;
            };
            let pcr_pid = u16::from(pmt.pcr_pid());
            let streams: Vec<(u16, u8)> = pmt
                .streams()
                .map(|s| (u16::from(s.elementary_pid()), s.stream_type().0))
                .collect();
            let now = self.now;
            let timeout = self.config.pid_timeout;
            for (p, ty) in streams {
                let st = self.state_mut(p);
                if st.named || st.pmt {
                    continue;
                }
                st.named = true;
                st.kind = PidKind::of_stream_type(ty);
                st.stream_type = Some(ty);
                st.packet_due = Some(now.max(st.last_seen) + timeout);
                self.watched.push(p);
            }
            let c_pcr = self.config.pcr_interval + self.config.pmt_interval;
            if pcr_pid != NULL_PID {
                let st = self.state_mut(pcr_pid);
                if !st.pcr_due {
                    st.pcr_due = true;
                    // (a first PCR may follow the PMT by a little)
                    st.pcr_next = Some(now + c_pcr);
                    if !self.watched.contains(&pcr_pid) {
                        self.watched.push(pcr_pid);
                    }
                }
            }
        }
    }

    fn error(&mut self, class: ErrorClass, pid: Option<u16>) {
        self.error_at(class, pid, self.now, 1);
    }

    /// `n` errors of `class` on `pid`, the first at `at`.
    fn error_at(&mut self, class: ErrorClass, pid: Option<u16>, at: u64, n: u64) {
        self.counts[class.index()] += n;
        if let Some(e) = self
            .episodes
            .iter_mut()
            .find(|e| e.class == class && e.pid == pid)
        {
            e.last = e.last.max(at);
            e.count += n;
            return;
        }
        if n == 0 {
            return;
        }
        self.episodes.push(Episode {
            class,
            pid,
            first: at,
            last: at,
            count: n,
        });
        let (kind, stream_type) = self.describe(pid);
        self.events.push(TsEvent::Error {
            class,
            pid,
            kind,
            stream_type,
            transition: Transition::Start { start: at },
            count: n,
        });
    }

    fn describe(&self, pid: Option<u16>) -> (PidKind, Option<u8>) {
        pid.and_then(|p| self.state(p))
            .map_or((PidKind::Unknown, None), |s| (s.kind, s.stream_type))
    }

    fn end(&mut self, e: Episode, reason: EndReason) {
        let (kind, stream_type) = self.describe(e.pid);
        self.events.push(TsEvent::Error {
            class: e.class,
            pid: e.pid,
            kind,
            stream_type,
            transition: Transition::End {
                start: e.first,
                end: e.last,
                reason,
            },
            count: e.count,
        });
    }

    /// The deadline checks, the ends of quiet episodes and measurements;
    /// every 5 ms of stream time, or at the end of a buffer (`all`).
    fn sweep(&mut self, all: bool) {
        if !self.started || (!all && self.now < self.next_sweep) {
            return;
        }
        let now = self.now;
        self.next_sweep = now + 5 * MS;
        let c = self.config;
        if let Some(at) = expire(&mut self.pat_due, now, c.pat_interval) {
            self.error_at(ErrorClass::PatError, Some(0), at.0, at.1);
        }
        for i in 0..self.watched.len() {
            let pid = self.watched[i];
            let st = self.state_mut(pid);
            let pmt = expire(&mut st.table_due, now, c.pmt_interval);
            let silent = expire(&mut st.packet_due, now, c.pid_timeout);
            let pcr = expire(&mut st.pcr_next, now, c.pcr_interval + c.pcr_jump);
            let pts = expire(&mut st.pts_due, now, c.pts_interval);
            for (class, hit) in [
                (ErrorClass::PmtError, pmt),
                (ErrorClass::PidError, silent),
                (ErrorClass::PcrRepetitionError, pcr),
                (ErrorClass::PtsError, pts),
            ] {
                if let Some((at, n)) = hit {
                    self.error_at(class, Some(pid), at, n);
                }
            }
        }
        let hold = c.hold;
        let mut i = 0;
        while i < self.episodes.len() {
            if now > self.episodes[i].last.saturating_add(hold) {
                let e = self.episodes.remove(i);
                self.end(e, EndReason::Recovered);
            } else {
                i += 1;
            }
        }
        if let Some(next) = self.next_measure {
            if now >= next {
                self.measure(now);
                self.next_measure = c.measure.map(|m| next_due(next, now, m));
            }
        }
    }

    fn measure(&mut self, now: u64) {
        let secs = (now - self.interval_start) as f64 / 1e9;
        let mut pids: Vec<PidRate> = self
            .states
            .iter_mut()
            .filter(|(_, s)| s.interval_packets > 0)
            .map(|(pid, s)| {
                let packets = std::mem::take(&mut s.interval_packets);
                PidRate {
                    pid: *pid,
                    kind: s.kind,
                    packets,
                    bitrate: if secs > 0.0 {
                        (packets * PACKET as u64 * 8) as f64 / secs
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        pids.sort_by_key(|p| p.pid);
        self.events.push(TsEvent::Measurement(TsMeasurement {
            timestamp: now,
            errors: std::mem::take(&mut self.counts),
            pids,
            packet_size: self.size as u32,
        }));
        self.interval_start = now;
    }
}

/// A deadline past: when it fell due and how many intervals it missed;
/// it is moved on past `now`.
fn expire(due: &mut Option<u64>, now: u64, interval: u64) -> Option<(u64, u64)> {
    let d = (*due)?;
    if now <= d {
        return None;
    }
    let interval = interval.max(1);
    let n = (now - d) / interval + 1;
    *due = Some(d + n * interval);
    Some((d, n))
}

/// Moves whole sections out of `sec` into `done`; stuffing (0xff) ends
/// the packet's sections.
fn take_sections(sec: &mut Section, done: &mut Vec<Vec<u8>>) {
    loop {
        if sec.bytes.is_empty() || sec.bytes[0] == 0xff {
            if !sec.bytes.is_empty() {
                sec.bytes.clear();
                sec.open = false;
            }
            return;
        }
        if sec.bytes.len() < 3 {
            return;
        }
        let len = 3 + (usize::from(sec.bytes[1] & 0x0f) << 8 | usize::from(sec.bytes[2]));
        if sec.bytes.len() < len {
            return;
        }
        let rest = sec.bytes.split_off(len);
        done.push(std::mem::replace(&mut sec.bytes, rest));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A hand-made transport stream: PAT and PMT every 100 ms, a video PID
    /// (0x100, H.264, carrying the PCR every 10 ms and a PTS every 40 ms)
    /// and an audio PID (0x101, AAC, a PTS every 40 ms), 10 ms a tick.
    pub struct Mux {
        pub cc: [u8; PIDS],
        pub tick: u64,
        pub pcr_step: u64,
    }

    pub const VIDEO: u16 = 0x100;
    pub const AUDIO: u16 = 0x101;
    pub const PMT: u16 = 0x1000;

    fn header(pid: u16, pusi: bool, cc: u8, afc: u8) -> [u8; 4] {
        [
            SYNC,
            (u8::from(pusi) << 6) | (pid >> 8) as u8,
            pid as u8,
            (afc << 4) | (cc & 0x0f),
        ]
    }
    const SYNC: u8 = 0x47;

    pub fn section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
        let len = 5 + body.len() + 4;
        let mut s = vec![
            table_id,
            0xb0 | (len >> 8) as u8,
            len as u8,
            (id >> 8) as u8,
            id as u8,
            0xc1,
            0,
            0,
        ];
        s.extend_from_slice(body);
        let crc = mpegts_crc::sum32(&s);
        s.extend_from_slice(&crc.to_be_bytes());
        s
    }

    impl Mux {
        pub fn new() -> Self {
            Mux {
                cc: [0; PIDS],
                tick: 0,
                pcr_step: 10,
            }
        }

        fn next_cc(&mut self, pid: u16) -> u8 {
            let c = self.cc[usize::from(pid)];
            self.cc[usize::from(pid)] = (c + 1) & 0x0f;
            c
        }

        /// A packet with a whole section (pointer field 0).
        pub fn psi(&mut self, pid: u16, section: &[u8]) -> Vec<u8> {
            let cc = self.next_cc(pid);
            let mut p = header(pid, true, cc, 1).to_vec();
            p.push(0);
            p.extend_from_slice(section);
            p.resize(PACKET, 0xff);
            p
        }

        pub fn pat(&mut self) -> Vec<u8> {
            let s = section(0, 1, &[0, 1, 0xe0 | (PMT >> 8) as u8, PMT as u8]);
            self.psi(0, &s)
        }

        pub fn pmt(&mut self) -> Vec<u8> {
            let mut body = vec![0xe0 | (VIDEO >> 8) as u8, VIDEO as u8, 0xf0, 0];
            body.extend_from_slice(&[0x1b, 0xe0 | (VIDEO >> 8) as u8, VIDEO as u8, 0xf0, 0]);
            body.extend_from_slice(&[0x0f, 0xe0 | (AUDIO >> 8) as u8, AUDIO as u8, 0xf0, 0]);
            let s = section(2, 1, &body);
            self.psi(PMT, &s)
        }

        /// An elementary stream packet; with a PCR (27 MHz) and/or a PES
        /// start with a PTS.
        pub fn es(&mut self, pid: u16, pcr: Option<u64>, pes: bool) -> Vec<u8> {
            let cc = self.next_cc(pid);
            let mut p = if let Some(pcr) = pcr {
                let mut p = header(pid, pes, cc, 3).to_vec();
                let (base, ext) = (pcr / 300, pcr % 300);
                p.extend_from_slice(&[
                    7,
                    0x10,
                    (base >> 25) as u8,
                    (base >> 17) as u8,
                    (base >> 9) as u8,
                    (base >> 1) as u8,
                    ((base & 1) << 7) as u8 | 0x7e | (ext >> 8) as u8,
                    ext as u8,
                ]);
                p
            } else {
                header(pid, pes, cc, 1).to_vec()
            };
            if pes {
                p.extend_from_slice(&[0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]);
            }
            p.resize(PACKET, 0x55);
            p
        }

        /// One 10 ms tick of packets.
        pub fn tick(&mut self) -> Vec<Vec<u8>> {
            let t = self.tick;
            self.tick += 1;
            let mut out = Vec::new();
            if t.is_multiple_of(10) {
                out.push(self.pat());
                out.push(self.pmt());
            }
            let pcr = (t * self.pcr_step)
                .is_multiple_of(10)
                .then_some(t * 270_000);
            out.push(self.es(VIDEO, pcr, t.is_multiple_of(4)));
            for _ in 0..8 {
                out.push(self.es(VIDEO, None, false));
            }
            out.push(self.es(AUDIO, None, t.is_multiple_of(4)));
            out.push(self.es(NULL_PID, None, false));
            out
        }

        pub fn ticks(&mut self, n: usize) -> Vec<Vec<u8>> {
            (0..n).flat_map(|_| self.tick()).collect()
        }
    }

    pub fn run(packets: &[Vec<u8>], chunk: usize) -> (Vec<TsEvent>, TsMonitor) {
        let config = TsConfig {
            measure: None,
            ..TsConfig::default()
        };
        let mut m = TsMonitor::new(config);
        let bytes: Vec<u8> = packets.concat();
        let mut out = Vec::new();
        for c in bytes.chunks(chunk) {
            m.push(c, None, &mut out);
        }
        m.close(EndReason::Eos, &mut out);
        (out, m)
    }

    /// (class, pid, start ms, end ms, count) of each error event pair.
    pub fn errors(events: &[TsEvent]) -> Vec<(ErrorClass, Option<u16>, u64, u64, u64)> {
        let mut open: Vec<(ErrorClass, Option<u16>, u64)> = Vec::new();
        let mut done = Vec::new();
        for e in events {
            if let TsEvent::Error {
                class,
                pid,
                transition,
                count,
                ..
            } = e
            {
                match *transition {
                    Transition::Start { start } => open.push((*class, *pid, start)),
                    Transition::End { start, end, .. } => {
                        let i = open
                            .iter()
                            .position(|o| o.0 == *class && o.1 == *pid)
                            .expect("an end has its start");
                        assert_eq!(open.remove(i).2, start);
                        done.push((*class, *pid, start / MS, end / MS, *count));
                    }
                }
            }
        }
        assert!(open.is_empty(), "every start has its end: {open:?}");
        done
    }

    #[test]
    fn a_clean_stream_raises_nothing_in_any_split() {
        let packets = Mux::new().ticks(500);
        for chunk in [188, 1316, 4096, 1, 1000] {
            let (events, m) = run(&packets, chunk);
            assert_eq!(errors(&events), vec![], "chunk {chunk}");
            assert_eq!(m.packets(VIDEO), 4500);
            assert_eq!(m.packet_size(), Some(188));
            // the PCR clock: 500 ticks of 10 ms
            assert!((4_980..=5_000).contains(&(m.now() / MS)), "{}", m.now());
        }
    }

    #[test]
    fn a_lost_packet_is_one_continuity_error_at_its_time() {
        let mut packets = Mux::new().ticks(300);
        // tick 150 starts at packet 150 * 11 + 15 * 2 (PAT and PMT every tenth)
        let at = 150 * 11 + 15 * 2 + 3;
        assert_eq!(
            u16::from(packets[at][1] & 0x1f) << 8 | u16::from(packets[at][2]),
            VIDEO
        );
        packets.remove(at);
        let (events, _) = run(&packets, 1316);
        let e = errors(&events);
        assert_eq!(e.len(), 1, "{e:?}");
        let (class, pid, start, end, count) = e[0];
        assert_eq!(
            (class, pid, count),
            (ErrorClass::ContinuityCountError, Some(VIDEO), 1)
        );
        assert!((1495..=1510).contains(&start), "{start}");
        assert_eq!(start, end);
    }

    #[test]
    fn the_discontinuity_indicator_excuses_a_counter_jump() {
        let mut packets = Mux::new().ticks(100);
        // a video packet with a PCR (so an adaptation field), counter moved on
        let at = 50 * 11 + 5 * 2 + 2;
        let p = &mut packets[at];
        assert_eq!(p[3] >> 4, 3);
        p[3] = (p[3] & 0xf0) | ((p[3] + 5) & 0x0f);
        let (events, _) = run(&packets, 188);
        let e = errors(&events);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].0, e[0].4),
            (ErrorClass::ContinuityCountError, 2),
            "a jump and the step back after it"
        );
        packets[at][5] |= 0x80;
        // the next packet continues from the original counter: mend it too
        let next_cc = (packets[at][3] + 1) & 0x0f;
        let next = at + 1;
        packets[next][3] = (packets[next][3] & 0xf0) | next_cc;
        for p in packets.iter_mut().skip(next + 1) {
            if u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]) == VIDEO {
                p[3] = (p[3] & 0xf0) | ((p[3] + 5) & 0x0f);
            }
        }
        let (events, _) = run(&packets, 188);
        assert_eq!(errors(&events), vec![]);
    }

    #[test]
    fn pat_pmt_pcr_and_pts_that_stop_are_late() {
        // the tables and the PCR stop after 1 s, the stream goes on 2 s
        let mut mux = Mux::new();
        let mut packets = mux.ticks(100);
        for p in mux.ticks(200) {
            let pid = u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]);
            if pid == 0 || pid == PMT {
                continue;
            }
            packets.push(p);
        }
        let (events, _) = run(&packets, 1316);
        let e = errors(&events);
        let find = |c: ErrorClass| e.iter().find(|x| x.0 == c).copied();
        let pat = find(ErrorClass::PatError).expect("PAT error");
        // last PAT at 0.9 s: due at 1.4 s
        assert_eq!((pat.1, pat.2), (Some(0), 1400));
        let pmt = find(ErrorClass::PmtError).expect("PMT error");
        assert_eq!((pmt.1, pmt.2), (Some(PMT), 1400));
        // 2.99 s - 1.4 s: three more missed half-seconds (1.9, 2.4, 2.9)
        assert_eq!(pat.4, 4);
        assert_eq!(e.len(), 2, "{e:?}");
    }

    #[test]
    fn a_pcr_jump_without_the_indicator() {
        let mut mux = Mux::new();
        let mut packets = mux.ticks(100);
        mux.tick += 50; // 500 ms of PCR skipped
        packets.extend(mux.ticks(100));
        let (events, _) = run(&packets, 1316);
        let e = errors(&events);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].0, e[0].1),
            (ErrorClass::PcrDiscontinuityIndicatorError, Some(VIDEO))
        );
        // the clock did not jump with it
        assert!((990..=1010).contains(&e[0].2), "{}", e[0].2);
    }

    #[test]
    fn sparse_pcrs_are_a_repetition_error() {
        let mut mux = Mux::new();
        mux.pcr_step = 2; // a PCR every 50 ms
        let packets = mux.ticks(100);
        let (events, _) = run(&packets, 1316);
        let e = errors(&events);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            (e[0].0, e[0].1),
            (ErrorClass::PcrRepetitionError, Some(VIDEO))
        );
        assert!(e[0].4 >= 15, "{e:?}");
    }

    #[test]
    fn tei_crc_and_sync_byte_errors_name_their_pid() {
        let mut packets = Mux::new().ticks(100);
        packets[500][1] |= 0x80; // transport error indicator
        let pmt_at = 60 * 11 + 6 * 2 + 1;
        packets[pmt_at][12] ^= 0x01; // inside the PMT section
        packets[800][0] = 0x46;
        let (events, _) = run(&packets, 999);
        let e = errors(&events);
        let pid_of =
            |i: usize| Some(u16::from(packets[i][1] & 0x1f) << 8 | u16::from(packets[i][2]));
        let classes: Vec<_> = e.iter().map(|x| (x.0, x.1)).collect();
        assert_eq!(
            classes,
            vec![
                (ErrorClass::TransportError, pid_of(500)),
                (ErrorClass::CrcError, Some(PMT)),
                (ErrorClass::SyncByteError, pid_of(800)),
            ]
        );
    }

    #[test]
    fn lost_sync_spans_the_garbage() {
        let mut packets = Mux::new().ticks(200);
        for p in packets.iter_mut().skip(1000).take(20) {
            p.iter_mut().for_each(|b| *b = 0x11);
        }
        let (events, m) = run(&packets, 1316);
        let e = errors(&events);
        let loss = e
            .iter()
            .find(|x| x.0 == ErrorClass::TsSyncLoss)
            .expect("sync loss");
        assert_eq!(loss.1, None);
        assert!(loss.3 > loss.2, "it lasts until sync is back: {loss:?}");
        assert_eq!(m.packet_size(), Some(188));
    }

    #[test]
    fn packets_of_192_and_204_bytes() {
        let packets = Mux::new().ticks(200);
        for extra in [4usize, 16] {
            let with: Vec<Vec<u8>> = packets
                .iter()
                .map(|p| {
                    let mut v = p.clone();
                    v.extend(std::iter::repeat_n(0u8, extra));
                    v
                })
                .collect();
            let (events, m) = run(&with, 1000);
            assert_eq!(errors(&events), vec![]);
            assert_eq!(m.packet_size(), Some(188 + extra));
        }
    }

    #[test]
    fn measurements_count_packets_and_errors() {
        let mut packets = Mux::new().ticks(290);
        packets.remove(150 * 11 + 15 * 2 + 3);
        let mut m = TsMonitor::new(TsConfig::default());
        let mut out = Vec::new();
        m.push(&packets.concat(), None, &mut out);
        let ms: Vec<&TsMeasurement> = out
            .iter()
            .filter_map(|e| match e {
                TsEvent::Measurement(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(ms.len(), 2, "at 1 s and 2 s");
        let second = ms[1];
        assert_eq!(second.errors[ErrorClass::ContinuityCountError.index()], 1);
        let video = second.pids.iter().find(|p| p.pid == VIDEO).unwrap();
        assert_eq!(video.kind, PidKind::Video);
        // 900 packets a second of 188 bytes
        assert!(
            (video.bitrate - 900.0 * 188.0 * 8.0).abs() < 30_000.0,
            "{video:?}"
        );
        assert_eq!(second.packet_size, 188);
    }

    #[test]
    fn arrival_times_drive_the_clock() {
        let packets = Mux::new().ticks(100);
        let mut m = TsMonitor::new(TsConfig::default());
        let mut out = Vec::new();
        // the stream arrives, then nothing for 3 s but null packets
        for (i, p) in packets.iter().enumerate() {
            m.push(p, Some(i as u64 * MS), &mut out);
        }
        let null = Mux::new().es(NULL_PID, None, false);
        for k in 0..300 {
            m.push(&null, Some(1100 * MS + k * 10 * MS), &mut out);
        }
        m.close(EndReason::Eos, &mut out);
        let e = errors(&out);
        let pid_errors: Vec<_> = e.iter().filter(|x| x.0 == ErrorClass::PidError).collect();
        assert_eq!(pid_errors.len(), 0, "5 s not reached: {e:?}");
        assert!(e.iter().any(|x| x.0 == ErrorClass::PatError));
    }
}
