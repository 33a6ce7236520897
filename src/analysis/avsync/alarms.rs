//! Offset and stall alarms: confident measurements outside the tolerance
//! for `min_duration`, and one stream not advancing while the other does.

use super::*;

impl AvSync {
    /// Reports a measurement and judges it against the tolerance.
    pub(super) fn measured(&mut self, m: Measurement, out: &mut Vec<SyncEvent>) {
        if self.config.measurements {
            out.push(SyncEvent::Measurement(m));
        }
        if m.method == Method::None || m.confidence < self.config.min_confidence {
            return;
        }
        let outside =
            m.offset < -(self.config.max_early as i64) || m.offset > self.config.max_late as i64;
        if outside {
            if self.alarm_first.is_none() && !self.alarm.in_defect() {
                self.alarm_first = Some(m.offset);
                self.worst = m.offset;
            }
            if m.offset.abs() > self.worst.abs() {
                self.worst = m.offset;
            }
        }
        match self.alarm.push(outside, m.at, m.at) {
            Some(t @ Transition::Start { .. }) => out.push(SyncEvent::Offset {
                transition: t,
                offset: self.alarm_first.unwrap_or(m.offset),
            }),
            Some(t @ Transition::End { .. }) => {
                out.push(SyncEvent::Offset {
                    transition: t,
                    offset: self.worst,
                });
                self.alarm_first = None;
            }
            None => {
                if !self.alarm.in_defect() {
                    self.alarm_first = None;
                }
            }
        }
    }

    pub(super) fn close_alarm(&mut self, reason: EndReason, out: &mut Vec<SyncEvent>) {
        if let Some(t) = self.alarm.close(reason) {
            out.push(SyncEvent::Offset {
                transition: t,
                offset: self.worst,
            });
        }
        self.alarm_first = None;
    }

    pub(super) fn close_stalls(&mut self, reason: EndReason, out: &mut Vec<SyncEvent>) {
        for media in [Media::Video, Media::Audio] {
            if let Some(start) = self.stalled[media.index()].take() {
                let end = self.pos[media.index()].unwrap_or(start).max(start);
                out.push(SyncEvent::Stall {
                    media,
                    transition: Transition::End { start, end, reason },
                });
            }
        }
    }

    /// `media` has data from `start` to `end`. A hole of `stall_timeout`
    /// or more since its last data was a stall (reported now, start and
    /// end); a stall seen live ends. Live, the other stream is stalled once
    /// this one has advanced `stall_timeout` beyond it. (Not when the media
    /// is not live: streams read from files run ahead of each other by as
    /// much as the queues after them hold.)
    pub(super) fn flowed(&mut self, media: Media, start: u64, end: u64, out: &mut Vec<SyncEvent>) {
        let i = media.index();
        self.ended[i] = false;
        let timeout = self.config.stall_timeout;
        let hole_from = self.pos[i].filter(|&p| start >= p.saturating_add(timeout));
        let stalled = self.stalled[i].take().or_else(|| {
            hole_from.inspect(|&p| {
                out.push(SyncEvent::Stall {
                    media,
                    transition: Transition::Start { start: p },
                })
            })
        });
        if let Some(s) = stalled {
            out.push(SyncEvent::Stall {
                media,
                transition: Transition::End {
                    start: s,
                    end: start.max(s),
                    reason: EndReason::Recovered,
                },
            });
        }
        self.first[i].get_or_insert(start);
        self.pos[i] = Some(self.pos[i].map_or(end, |p| p.max(end)));
        let other = media.other();
        let o = other.index();
        if !self.live || self.ended[o] || self.stalled[o].is_some() {
            return;
        }
        let Some(here) = self.pos[i] else { return };
        let since = self.pos[o].or(self.first[i]).unwrap_or(here);
        if here >= since.saturating_add(timeout) {
            self.stalled[o] = Some(since);
            out.push(SyncEvent::Stall {
                media: other,
                transition: Transition::Start { start: since },
            });
        }
    }
}
