//! What the random-stream tests share: a seeded generator, the seed count,
//! and the check of what an element posted.
#![allow(dead_code)]

use std::collections::HashMap;

/// xorshift64*: small, seeded, enough to vary the streams.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any value, 0 included).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds per element: `ROBUST_SEEDS`, else 24. (`ROBUST_TRACE=1` prints
/// every message `check` reads, with its seed.)
pub fn seeds() -> u64 {
    std::env::var("ROBUST_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24)
}

/// Each of `messages` reads back as an avmonitor message, and a start or end
/// moves the count of open defects under its key (the element and the
/// fields that tell its defects apart), which must stay 0 or 1.
pub fn check(messages: &[gst::Structure], open: &mut HashMap<String, i32>, seed: u64) {
    let trace = std::env::var_os("ROBUST_TRACE").is_some();
    for s in messages {
        if trace {
            eprintln!("seed {seed}: {s}");
        }
        let m = gstavmonitor::Message::from_structure(s)
            .unwrap_or_else(|| panic!("seed {seed}: not a detector message: {s}"))
            .unwrap_or_else(|e| panic!("seed {seed}: malformed: {e}"));
        if let Some(e) = m.defect() {
            let extra = [
                "channel",
                "alarm",
                "channel-a",
                "kind",
                "stream",
                "class",
                "pid",
            ]
            .iter()
            .filter_map(|&f| s.value(f).ok().map(|v| format!("{f}={v:?}")))
            .collect::<Vec<_>>()
            .join(",");
            let n = open.entry(format!("{}:{extra}", m.element())).or_default();
            match e.kind {
                gstavmonitor::EventKind::Start => *n += 1,
                gstavmonitor::EventKind::End => *n -= 1,
            }
            assert!((0..=1).contains(n), "seed {seed}: {s} leaves {n} open");
        }
    }
}

/// Every defect opened was closed.
pub fn all_closed(open: &HashMap<String, i32>, seed: u64) {
    let left: Vec<_> = open.iter().filter(|(_, &n)| n != 0).collect();
    assert!(left.is_empty(), "seed {seed}: open at EOS: {left:?}");
}

/// The timestamp of a buffer `step` ns long that follows time `*t`: none,
/// repeated, backwards, an hour on, huge, or (most often) the next one, a
/// little late now and then, which moves `*t`.
pub fn next_pts(rng: &mut Rng, t: &mut u64, step: u64) -> Option<u64> {
    match rng.below(12) {
        0 => None,
        1 => Some(*t),
        2 => Some(t.saturating_sub(5 * step.max(40_000_000))),
        3 => Some(*t + 3_600_000_000_000),
        4 => Some(u64::MAX / 4),
        _ => {
            *t += step + rng.below(3) * 1_000_000;
            Some(*t)
        }
    }
}

/// Now and then an event on `h`: a flushing seek (time starts again at 0:
/// flush, then a new segment), EOS in mid-stream (then a flushing seek), a
/// gap of 40 ms, or a segment that starts late (an hour in, as after a
/// seek without a flush). Returns whether the caller should change caps
/// (one step in twenty-four). The messages the events caused go through
/// `check`; with `eos_closes_all`, every defect must have ended at EOS.
pub fn disturb(
    rng: &mut Rng,
    h: &mut gst_check::Harness,
    bus: &gst::Bus,
    open: &mut HashMap<String, i32>,
    seed: u64,
    t: &mut u64,
    eos_closes_all: bool,
) -> bool {
    let gap = 40_000_000;
    // a flushing seek: flush, then a segment from 0
    let seek = || {
        vec![
            gst::event::FlushStart::new(),
            gst::event::FlushStop::new(true),
            gst::event::Segment::new(&gst::FormattedSegment::<gst::ClockTime>::new()),
        ]
    };
    let events = match rng.below(24) {
        0 => {
            *t = 0;
            seek()
        }
        1 => return true,
        2 => {
            let ev = gst::event::Gap::builder(gst::ClockTime::from_nseconds(*t))
                .duration(gst::ClockTime::from_nseconds(gap))
                .build();
            *t += gap;
            vec![ev]
        }
        3 => {
            let mut seg = gst::FormattedSegment::<gst::ClockTime>::new();
            seg.set_start(gst::ClockTime::from_seconds(3600));
            seg.set_time(gst::ClockTime::from_seconds(3600));
            vec![gst::event::Segment::new(&seg)]
        }
        4 => {
            *t = 0;
            let mut events = vec![gst::event::Eos::new()];
            events.extend(seek());
            events
        }
        _ => return false,
    };
    for ev in events {
        let eos = ev.type_() == gst::EventType::Eos;
        assert!(h.push_event(ev), "seed {seed}: an event was refused");
        check(&super::bus_messages(bus), open, seed);
        if eos && eos_closes_all {
            all_closed(open, seed);
        }
    }
    false
}

/// `data` mutated as a fuzzer would: bytes flipped or set to 0, 0xff or a
/// start code, ranges dropped or repeated, or the end cut off.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            return;
        }
        let at = rng.below(data.len() as u64) as usize;
        let len = (1 + rng.below(64) as usize).min(data.len() - at);
        match rng.below(6) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0, 0xff, 0x47, 1][rng.below(4) as usize],
            2 => {
                data.drain(at..at + len);
            }
            3 => {
                let piece = data[at..at + len].to_vec();
                data.splice(at..at, piece);
            }
            4 => data.truncate(at),
            _ => {
                let code = [0u8, 0, 1];
                data.splice(at..at, code);
            }
        }
    }
}

static CRITICALS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// From now on, GLib criticals and warnings are collected for
/// `no_criticals` (a failed GStreamer assertion, such as a buffer mapped
/// against caps it does not match, is a critical: the program goes on, but
/// the element called GStreamer wrongly).
pub fn watch_criticals() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        gst::glib::log_set_default_handler(|domain, level, message| {
            use gst::glib::LogLevel;
            let line = format!("{}: {message}", domain.unwrap_or("?"));
            eprintln!("{level:?} {line}");
            if matches!(
                level,
                LogLevel::Error | LogLevel::Critical | LogLevel::Warning
            ) {
                CRITICALS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line);
            }
        });
    });
}

/// No critical or warning was logged since `watch_criticals`.
pub fn no_criticals(seed: u64) {
    let got = CRITICALS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(got.is_empty(), "seed {seed}: GLib said {got:?}");
    if std::env::var_os("ROBUST_FDS").is_some() {
        eprintln!(
            "seed {seed}: {} fds",
            std::fs::read_dir("/proc/self/fd").unwrap().count()
        );
    }
}
