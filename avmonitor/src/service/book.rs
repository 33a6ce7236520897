//! Event bookkeeping and policy for one stream: which defects are open, and
//! what the service makes of a start or an end.
//!
//! Policy, in one place:
//! - a freeze that starts while black is open is the black's: neither its
//!   start nor its end is written;
//! - a defect still open when the stream goes away is ended by the service
//!   (reason `stream-down`, `eos` or `shutdown`); a silence open at an
//!   outage is marked as the outage's audio side;
//! - a test pattern that starts while the audio carries a steady tone is
//!   line-up (bars and tone): loudnessmeter's last two measurements (a
//!   second apart by default) have momentary loudness within 0.3 LU of
//!   each other, above -40 LUFS (a tone's loudness does not move; a
//!   programme's moves by more from one second to the next). It is judged
//!   when the pattern starts, on what has been measured by then.

use std::collections::{BTreeMap, HashSet};

use gstavmonitor::{EventKind, Message};

use super::record::{EndCause, Which};

/// A defect that started and has not ended.
#[derive(Debug, Clone)]
pub struct Open {
    pub detector: &'static str,
    /// Tells this defect from the one before with the same key (alarm
    /// timers fire only for the one they were set for).
    pub id: u64,
    /// When it started (wall clock).
    pub started: String,
    pub which: Which,
}

/// A defect's key: its detector and the fields that tell its defects apart.
pub type Key = (&'static str, Which);

/// What to do with a detector's start or end.
#[derive(Debug)]
pub enum Decision {
    /// Write it; a start opened this defect, an end closed one that was
    /// open (`ended`).
    Write { started: Option<Open>, ended: bool },
    /// Policy says it is not written.
    Suppress,
}

/// The open defects of one stream.
#[derive(Debug, Default)]
pub struct Book {
    open: BTreeMap<Key, Open>,
    suppressed: HashSet<Key>,
    next_id: u64,
    /// The last two momentary loudness measurements, LUFS.
    loudness: [Option<f64>; 2],
}

impl Book {
    /// A start or end of a defect in `message`, posted at wall-clock `utc`.
    pub fn defect(&mut self, message: &Message, kind: EventKind, utc: &str) -> Decision {
        let detector = message.element();
        let which = Which::of(message);
        let key = (detector, which.clone());
        match kind {
            EventKind::Start => {
                // a freeze during black is the black's
                let black = self.open.keys().any(|(d, _)| *d == "blackdetect");
                if detector == "freezedetect" && black {
                    self.suppressed.insert(key);
                    return Decision::Suppress;
                }
                self.next_id += 1;
                let open = Open {
                    detector,
                    id: self.next_id,
                    started: utc.to_string(),
                    which,
                };
                self.open.insert(key, open.clone());
                Decision::Write {
                    started: Some(open),
                    ended: false,
                }
            }
            EventKind::End => {
                if self.suppressed.remove(&key) {
                    return Decision::Suppress;
                }
                let ended = self.open.remove(&key).is_some();
                Decision::Write {
                    started: None,
                    ended,
                }
            }
        }
    }

    /// A momentary loudness measurement of the stream's audio (LUFS).
    pub fn loudness(&mut self, momentary: f64) {
        self.loudness = [self.loudness[1], Some(momentary)];
    }

    /// Whether the audio carries a steady tone (see the module doc).
    pub fn steady_tone(&self) -> bool {
        let [Some(m0), Some(m1)] = self.loudness else {
            return false;
        };
        m1 > -40.0 && (m1 - m0).abs() <= 0.3
    }

    /// The defect open under `key`, if it is still the one numbered `id`.
    pub fn still_open(&self, key: &Key, id: u64) -> Option<&Open> {
        self.open.get(key).filter(|o| o.id == id)
    }

    /// The defects open now.
    pub fn open(&self) -> impl Iterator<Item = &Open> {
        self.open.values()
    }

    /// Ends every open defect because of `cause`: each with whether it is
    /// the audio side of an outage.
    pub fn close_all(&mut self, cause: EndCause) -> Vec<(Open, bool)> {
        self.suppressed.clear();
        std::mem::take(&mut self.open)
            .into_values()
            .map(|o| {
                let outage = o.detector == "silencedetect" && cause == EndCause::StreamDown;
                (o, outage)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstavmonitor::{
        BlackDetectMessage, DefectEvent, FreezeDetectMessage, SilenceDetectMessage, Times,
    };

    fn event(kind: EventKind) -> DefectEvent {
        DefectEvent {
            kind,
            at: Times::default(),
            duration: None,
            reason: None,
        }
    }

    fn black(kind: EventKind) -> Message {
        Message::Black(BlackDetectMessage::Black {
            event: event(kind),
            black_ratio: 1.0,
            mean_luma: 0.0,
        })
    }

    fn freeze(kind: EventKind) -> Message {
        Message::Freeze(FreezeDetectMessage::Freeze {
            event: event(kind),
            difference: 0.0,
        })
    }

    #[test]
    fn a_steady_tone_is_two_measurements_alike() {
        let mut b = Book::default();
        assert!(!b.steady_tone());
        b.loudness(-18.0);
        assert!(!b.steady_tone(), "one measurement is not steady");
        b.loudness(-18.02);
        assert!(b.steady_tone());
        b.loudness(-17.0);
        assert!(!b.steady_tone(), "programme moves");
        b.loudness(-60.0);
        b.loudness(-60.0);
        assert!(!b.steady_tone(), "too quiet for line-up tone");
        b.loudness(f64::NEG_INFINITY);
        b.loudness(f64::NEG_INFINITY);
        assert!(!b.steady_tone(), "digital silence");
    }

    #[test]
    fn a_freeze_during_black_is_the_blacks() {
        let mut b = Book::default();
        let (s, e) = (EventKind::Start, EventKind::End);
        assert!(matches!(
            b.defect(&black(s), s, "t0"),
            Decision::Write {
                started: Some(_),
                ..
            }
        ));
        assert!(matches!(b.defect(&freeze(s), s, "t1"), Decision::Suppress));
        assert!(matches!(
            b.defect(&black(e), e, "t2"),
            Decision::Write {
                started: None,
                ended: true
            }
        ));
        // its end is not written either, though black has ended
        assert!(matches!(b.defect(&freeze(e), e, "t3"), Decision::Suppress));
        // a freeze on its own is
        assert!(matches!(
            b.defect(&freeze(s), s, "t4"),
            Decision::Write {
                started: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn open_defects_end_with_the_stream_and_silence_marks_an_outage() {
        let mut b = Book::default();
        let silence = Message::Silence(SilenceDetectMessage {
            event: event(EventKind::Start),
            channel: None,
            level_db: -90.0,
        });
        let Decision::Write {
            started: Some(o), ..
        } = b.defect(&silence, EventKind::Start, "t0")
        else {
            panic!("silence not opened")
        };
        assert_eq!(o.which.channel, Some(-1));
        let key = ("silencedetect", o.which.clone());
        assert!(b.still_open(&key, o.id).is_some());
        assert!(b.still_open(&key, o.id + 1).is_none());
        b.defect(&black(EventKind::Start), EventKind::Start, "t1");
        let closed = b.close_all(EndCause::StreamDown);
        let got: Vec<_> = closed.iter().map(|(o, out)| (o.detector, *out)).collect();
        assert_eq!(got, [("blackdetect", false), ("silencedetect", true)]);
        assert!(b.close_all(EndCause::Shutdown).is_empty());
        assert!(b.still_open(&key, o.id).is_none());
    }
}
