//! PCR accuracy (ETSI TR 101 290 2.4, PCR_AC): how far each PCR value is
//! from where the transport rate puts it.
//!
//! In a constant-rate multiplex every byte takes the same time, so a PCR's
//! value follows from its byte position: the value of a PCR some way back
//! plus the bytes between, at the rate the PCRs since then show (the
//! standard's Annex I measures PCR_AC this way, on constant-rate streams).
//! The difference is the PCR's inaccuracy, which the standard bounds at
//! ±500 ns. This needs no arrival times: it reads the PCRs against their
//! own byte positions, so a file is measured as a network feed is. (Arrival
//! jitter, PCR_OJ, belongs to the network path, not to the stream.)
//!
//! The line is fitted (least squares) to the last 64 PCRs, so one
//! bad PCR moves it by a small share of its error and jitter within the
//! limit is read as such, not doubled by a bad reference.
//!
//! A variable-rate multiplex has no such rate: its bytes between PCRs vary
//! by tens of percent, where a constant-rate one with bad PCRs is off by
//! microseconds. So a PCR is measured only once 10 PCRs in a row
//! kept to one rate within 1/200 of their spacing; a PCR further off than
//! that (a variable rate, or the rate changed) is not an accuracy error but
//! starts the fit afresh from it.

use std::collections::VecDeque;

/// 27 MHz ticks in the PCR's 33-bit base times 300.
pub const PCR_WRAP: u64 = (1 << 33) * 300;

/// PCRs in a row at one rate before the multiplex counts as constant-rate.
const STEADY: usize = 10;

/// PCRs the rate is fitted to (about 1.3 s at the usual 20 ms).
const WINDOW: usize = 64;

/// A PCR further off its place than this share of the time since the last
/// PCR (1/200: 100 µs at 20 ms) means the rate is not constant.
const RATE_TOLERANCE: u64 = 200;

/// Longest step between PCRs followed (1 s); past it, or at a
/// discontinuity, the fit starts afresh.
const LONGEST_STEP: u64 = 27_000_000;

/// A PCR at a byte position, its value unwrapped (ticks since the fit's
/// start).
#[derive(Debug, Clone, Copy)]
struct Point {
    offset: u64,
    ticks: u64,
}

/// The PCR accuracy of one PCR PID.
#[derive(Debug, Clone, Default)]
pub struct PcrAccuracy {
    /// The PCRs the rate is fitted to, oldest first (an inaccurate one
    /// held to the limit, so that it moves the fit no more than an
    /// accurate one could).
    points: VecDeque<Point>,
    /// The last PCR: its place and its value as written (wrapped).
    last: Option<(Point, u64)>,
}

impl PcrAccuracy {
    /// A PCR of value `value` (27 MHz, wrapped) in the packet at byte
    /// `offset` of the stream; `discontinuity`: the packet's discontinuity
    /// indicator; `limit`: the accuracy asked for, ns. Gives the PCR's
    /// inaccuracy in ns (positive: the value is ahead of its place) when
    /// the stream is measured as constant-rate, else `None`.
    pub fn pcr(&mut self, offset: u64, value: u64, discontinuity: bool, limit: u64) -> Option<i64> {
        let value = value % PCR_WRAP;
        let Some((last, last_value)) = self.last else {
            return self.restart(offset, value);
        };
        let step = (value + PCR_WRAP - last_value) % PCR_WRAP;
        if discontinuity || offset <= last.offset || step == 0 || step > LONGEST_STEP {
            return self.restart(offset, value);
        }
        let here = Point {
            offset,
            ticks: last.ticks + step,
        };
        self.last = Some((here, value));
        if self.points.len() < 2 {
            self.points.push_back(here);
            return None;
        }
        let expected = self.expected(offset);
        let off = here.ticks as f64 - expected;
        if off.abs() > (step / RATE_TOLERANCE) as f64 {
            // not this rate: fit afresh from here
            self.points.clear();
            self.points.push_back(here);
            return None;
        }
        let measured = self.points.len() > STEADY;
        if self.points.len() == WINDOW {
            self.points.pop_front();
        }
        let bound = limit as f64 * 27.0 / 1000.0;
        self.points.push_back(Point {
            offset,
            ticks: (expected + off.clamp(-bound, bound)).round().max(0.0) as u64,
        });
        measured.then(|| (off * 1000.0 / 27.0).round() as i64)
    }

    /// Whether the PID's PCRs are read as a constant-rate multiplex's.
    #[cfg(test)]
    pub fn constant_rate(&self) -> bool {
        self.points.len() > STEADY
    }

    /// Where the line fitted to the points puts a PCR at `offset`, in ticks.
    fn expected(&self, offset: u64) -> f64 {
        let o = self.points[0];
        let n = self.points.len() as f64;
        let (mut sx, mut sy) = (0.0, 0.0);
        for p in &self.points {
            sx += (p.offset - o.offset) as f64;
            sy += (p.ticks - o.ticks) as f64;
        }
        let (mx, my) = (sx / n, sy / n);
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for p in &self.points {
            let dx = (p.offset - o.offset) as f64 - mx;
            sxy += dx * ((p.ticks - o.ticks) as f64 - my);
            sxx += dx * dx;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        o.ticks as f64 + my + slope * ((offset - o.offset) as f64 - mx)
    }

    fn restart(&mut self, offset: u64, value: u64) -> Option<i64> {
        let p = Point { offset, ticks: 0 };
        self.points.clear();
        self.points.push_back(p);
        self.last = Some((p, value));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PCRs of a 3 Mb/s constant-rate multiplex every 20 ms (7,500 bytes),
    /// from value `v0`, with `err(i)` ticks added to the `i`th.
    fn cbr(n: u64, v0: u64, err: impl Fn(u64) -> i64) -> Vec<(u64, u64)> {
        (0..n)
            .map(|i| {
                let v = (v0 + i * 540_000) as i64 + err(i);
                (1000 + i * 7_520, (v as u64) % PCR_WRAP)
            })
            .collect()
    }

    fn run(pcrs: &[(u64, u64)]) -> Vec<Option<i64>> {
        let mut a = PcrAccuracy::default();
        pcrs.iter().map(|&(o, v)| a.pcr(o, v, false, 500)).collect()
    }

    #[test]
    fn an_exact_constant_rate_multiplex_is_measured_at_zero() {
        let got = run(&cbr(40, 5_000_000, |_| 0));
        // the first two set the rate, ten more confirm it
        assert!(got[..STEADY + 1].iter().all(Option::is_none));
        assert!(got[STEADY + 1..].iter().all(|r| *r == Some(0)), "{got:?}");
    }

    #[test]
    fn one_pcr_off_by_5_us_is_found_and_the_next_is_not() {
        // 135 ticks = 5 µs ahead on the 25th PCR
        let got = run(&cbr(40, 0, |i| if i == 25 { 135 } else { 0 }));
        assert_eq!(got[25], Some(5000));
        // it joins the fit held to 500 ns: the next moves by a share of that
        assert!(got[26].unwrap().abs() < 150, "{:?}", got[26]);
        assert!(got[30..].iter().all(|r| r.unwrap().abs() < 150), "{got:?}");
        assert_eq!(got[24], Some(0));
    }

    #[test]
    fn jitter_within_500_ns_stays_within_and_wraps_are_followed() {
        // ±300 ns of jitter, across the 33-bit wrap
        let v0 = PCR_WRAP - 10 * 540_000;
        let got = run(&cbr(60, v0, |i| if i % 2 == 0 { 8 } else { -8 }));
        let worst = got.iter().flatten().map(|r| r.abs()).max().unwrap();
        assert!((250..=450).contains(&worst), "{worst}");
        assert_eq!(got.iter().flatten().count(), 60 - STEADY - 1);
    }

    #[test]
    fn a_variable_rate_multiplex_is_not_measured() {
        // PCRs every 40 ms with 2 to 40 kB between them
        let mut offset = 0;
        let pcrs: Vec<(u64, u64)> = (0..200u64)
            .map(|i| {
                offset += 2_000 + (i * 7_919 % 38_000);
                (offset, i * 1_080_000)
            })
            .collect();
        assert!(run(&pcrs).iter().all(Option::is_none));
    }

    #[test]
    fn a_discontinuity_or_a_rate_change_starts_afresh() {
        let mut a = PcrAccuracy::default();
        for (o, v) in cbr(20, 0, |_| 0) {
            a.pcr(o, v, false, 500);
        }
        assert!(a.constant_rate());
        // a new timeline, flagged
        assert_eq!(a.pcr(1000 + 20 * 7_520, 99_000_000, true, 500), None);
        assert!(!a.constant_rate());
        // a rate twice as high from here: ten PCRs to confirm it again
        let mut got = Vec::new();
        for i in 1..20u64 {
            got.push(a.pcr(
                1000 + 20 * 7_520 + i * 15_040,
                99_000_000 + i * 540_000,
                false,
                500,
            ));
        }
        assert!(got[..STEADY].iter().all(Option::is_none), "{got:?}");
        assert!(got[STEADY..].iter().all(|r| *r == Some(0)), "{got:?}");
    }
}
