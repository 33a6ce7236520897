//! Matching video and audio events: each flash with its beep (test
//! signals), and the lag most visual and audio changes agree on (content).

use super::*;

impl AvSync {
    /// The beep nearest the expected offset within `max_offset` of flash `f`.
    pub(super) fn pair(&mut self, f: u64) -> Option<Measurement> {
        let max = self.config.max_offset as i64;
        let expected = self
            .last_pair
            .filter(|p| p.at + self.config.window > f)
            .map_or(0, |p| p.offset);
        let mut candidates = 0u32;
        let mut best: Option<i64> = None;
        for &b in &self.beeps {
            let off = b as i64 - f as i64;
            if off.abs() > max {
                continue;
            }
            candidates += 1;
            if best.is_none_or(|x| (off - expected).abs() < (x - expected).abs()) {
                best = Some(off);
            }
        }
        let offset = best?;
        // agreement with the pair before (a drift moves far less than this)
        let agree = (self.frame as i64).max(20 * MS as i64);
        let confident = self
            .last_pair
            .is_some_and(|p| p.at + self.config.window > f && (p.offset - offset).abs() <= agree);
        self.last_pair = Some(Pair { at: f, offset });
        let mut confidence = if confident { 1.0 } else { 0.3 };
        if candidates > 1 {
            confidence *= 0.5;
        }
        if confidence >= self.config.min_confidence {
            self.last_confident_pair = Some(f);
        }
        Some(Measurement {
            at: f,
            offset,
            confidence,
            observations: 1 + u32::from(confident),
            method: Method::TestSignal,
        })
    }

    /// Votes over the lags between visual and audio changes in the window
    /// ending at `horizon`.
    pub(super) fn correlate(&self, horizon: u64) -> Measurement {
        let none = Measurement {
            at: horizon,
            offset: 0,
            confidence: 0.0,
            observations: 0,
            method: Method::None,
        };
        let from = horizon.saturating_sub(self.config.window);
        let visual: Vec<u64> = self
            .vchanges
            .iter()
            .copied()
            .filter(|&v| v >= from && v <= horizon)
            .collect();
        if visual.is_empty() || self.achanges.is_empty() {
            return none;
        }
        let max_ms = (self.config.max_offset / MS) as i64;
        let tol_ms = ((self.frame / 2 + BLOCK) / MS) as i64;
        let score = self.votes(&visual, max_ms, tol_ms);
        let top = *score.iter().max().unwrap_or(&0);
        if top <= 0 {
            return none;
        }
        // the middle of the first plateau at the top
        let a = score.iter().position(|&s| s == top).unwrap_or(0);
        let b = a + score[a..].iter().take_while(|&&s| s == top).count() - 1;
        let lag = ((a + b) / 2) as i64 - max_ms;
        let exclude = 2 * tol_ms + (self.frame / MS) as i64;
        let second = score
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as i64 - max_ms - lag).abs() > exclude)
            .map(|(_, &s)| s)
            .max()
            .unwrap_or(0);
        // the pairs that voted for it, refined to their median
        let offsets = self.voters(&visual, lag, tol_ms);
        let offset = offsets
            .get(offsets.len() / 2)
            .copied()
            .unwrap_or(lag * MS as i64);
        let matched = offsets.len() as u32;
        let confidence = if matched < 3 {
            0.0
        } else {
            (f64::from(top - second) / f64::from(top)).clamp(0.0, 1.0)
        };
        Measurement {
            at: horizon,
            offset,
            confidence,
            observations: matched,
            method: Method::Content,
        }
    }

    /// The votes for each lag from -`max_ms` to `max_ms` (1 ms bins): each
    /// pair of a visual change in `visual` and an audio change within
    /// `max_ms` votes with the audio change's weight for the lags within
    /// `tol_ms` of its own.
    fn votes(&self, visual: &[u64], max_ms: i64, tol_ms: i64) -> Vec<i32> {
        let bins = (2 * max_ms + 1) as usize;
        let mut diff = vec![0i32; bins + 1];
        for &v in visual {
            for &(a, w) in &self.achanges {
                let lag = (a as i64 - v as i64) / MS as i64;
                if lag.abs() > max_ms {
                    continue;
                }
                let lo = (lag - tol_ms + max_ms).clamp(0, bins as i64 - 1) as usize;
                let hi = (lag + tol_ms + max_ms).clamp(0, bins as i64 - 1) as usize;
                diff[lo] += w;
                diff[hi + 1] -= w;
            }
        }
        let mut score = Vec::with_capacity(bins);
        let mut run = 0;
        for d in &diff[..bins] {
            run += d;
            score.push(run);
        }
        score
    }

    /// The offsets (ns) of the pairs that voted for `lag` (ms): for each
    /// visual change, the audio change nearest `lag` within `tol_ms`; sorted.
    fn voters(&self, visual: &[u64], lag: i64, tol_ms: i64) -> Vec<i64> {
        let mut offsets: Vec<i64> = visual
            .iter()
            .filter_map(|&v| {
                self.achanges
                    .iter()
                    .map(|&(a, _)| a as i64 - v as i64)
                    .filter(|off| (off / MS as i64 - lag).abs() <= tol_ms)
                    .min_by_key(|off| (off / MS as i64 - lag).abs())
            })
            .collect();
        offsets.sort_unstable();
        offsets
    }
}
