//! Packet loss on a video PID, remembered per stream, so that a picture
//! defect that follows it says so: `tsmonitor`'s continuity and transport
//! errors before the demuxer explain the blocks and freezes after the
//! decoder.

use gstavmonitor::{EventKind, PidKind, TsErrorClass, TsMonitorMessage};

/// A picture defect starting this long after the last loss is tied to it.
const AFTER: u64 = 1_000_000_000;
/// ... or this long before the first (the transport's clock and the
/// pictures' running time differ by the multiplexer's delay).
const LEAD: u64 = 500_000_000;
/// Losses kept, the newest.
const KEEP: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Loss {
    class: TsErrorClass,
    pid: u16,
    /// Running times of the first and (once it ended) the last occurrence.
    first: u64,
    last: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Losses {
    losses: Vec<Loss>,
}

impl Losses {
    /// A tsmonitor message: a continuity or transport error on a video PID
    /// starting or ending.
    pub fn note(&mut self, m: &TsMonitorMessage) {
        let TsMonitorMessage::Error {
            event,
            class,
            pid: Some(pid),
            kind: PidKind::Video,
            ..
        } = m
        else {
            return;
        };
        if !matches!(
            class,
            TsErrorClass::ContinuityCountError | TsErrorClass::TransportError
        ) {
            return;
        }
        let Some(rt) = event.at.running_time else {
            return;
        };
        match event.kind {
            EventKind::Start => {
                if self.losses.len() == KEEP {
                    self.losses.remove(0);
                }
                self.losses.push(Loss {
                    class: *class,
                    pid: *pid,
                    first: rt,
                    last: None,
                });
            }
            EventKind::End => {
                if let Some(l) = self
                    .losses
                    .iter_mut()
                    .rev()
                    .find(|l| l.class == *class && l.pid == *pid && l.last.is_none())
                {
                    l.last = Some(rt);
                }
            }
        }
    }

    /// The loss a picture defect starting at running time `rt` follows,
    /// if any: the newest one under way then or ended at most a second
    /// before.
    pub fn before(&self, rt: u64) -> Option<(TsErrorClass, u16)> {
        self.losses
            .iter()
            .rev()
            .find(|l| {
                l.first <= rt + LEAD && l.last.is_none_or(|last| last.saturating_add(AFTER) >= rt)
            })
            .map(|l| (l.class, l.pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gstavmonitor::{DefectEvent, EndReason, Times};

    fn msg(kind: EventKind, rt: u64, pid_kind: PidKind) -> TsMonitorMessage {
        TsMonitorMessage::Error {
            event: DefectEvent {
                kind,
                at: Times {
                    timestamp: rt,
                    stream_time: Some(rt),
                    running_time: Some(rt),
                },
                duration: (kind == EventKind::End).then_some(0),
                reason: (kind == EventKind::End).then_some(EndReason::Recovered),
            },
            class: TsErrorClass::ContinuityCountError,
            priority: 1,
            pid: Some(0x100),
            kind: pid_kind,
            stream_type: Some(0x1b),
            count: 1,
        }
    }

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_defect_within_a_second_of_a_loss_follows_it() {
        let mut l = Losses::default();
        l.note(&msg(EventKind::Start, 10 * S, PidKind::Video));
        // under way
        assert_eq!(
            l.before(12 * S),
            Some((TsErrorClass::ContinuityCountError, 0x100))
        );
        l.note(&msg(EventKind::End, 11 * S, PidKind::Video));
        assert!(l.before(12 * S).is_some());
        assert!(l.before(12 * S + 1).is_none(), "more than a second after");
        assert!(l.before(9 * S).is_none(), "before it");
        assert!(
            l.before(10 * S - S / 2).is_some(),
            "the multiplexer's delay"
        );
        // audio losses explain no picture
        let mut a = Losses::default();
        a.note(&msg(EventKind::Start, 10 * S, PidKind::Audio));
        assert!(a.before(10 * S).is_none());
    }
}
