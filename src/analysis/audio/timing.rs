//! Splits a stream of audio buffers into fixed-length analysis blocks.

/// Where a buffer's first frame is: `base` ns plus `offset` frames. Keeping
/// the frame count apart from the base time rounds every time once, so
/// times derived from sample counts never drift or jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AudioTime {
    pub base: u64,
    pub offset: u64,
}

impl AudioTime {
    pub fn at(base: u64) -> Self {
        AudioTime { base, offset: 0 }
    }

    /// The time of frame `i` of the buffer.
    #[inline]
    pub fn frame(&self, i: usize, rate: u32) -> u64 {
        self.base + frames_to_ns(self.offset + i as u64, rate)
    }
}

/// Fixed blocks of `len` frames; tracks where the open block began.
#[derive(Debug, Clone)]
pub struct Blocks {
    len: usize,
    rate: u32,
    filled: usize,
    start: u64,
}

/// Nanoseconds of `frames` frames at `rate`.
#[inline]
pub fn frames_to_ns(frames: u64, rate: u32) -> u64 {
    (u128::from(frames) * 1_000_000_000 / u128::from(rate.max(1))) as u64
}

impl Blocks {
    /// Blocks of `block_ns` (rounded to whole frames, at least one).
    pub fn new(rate: u32, block_ns: u64) -> Self {
        let len = ((u128::from(block_ns) * u128::from(rate) / 1_000_000_000) as usize).max(1);
        Blocks {
            len,
            rate,
            filled: 0,
            start: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[cfg(any(test, feature = "internals"))]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Frames `0..frames` of a buffer whose first frame is `at`: calls
    /// `f(f0, f1, done)` for each run of frames within one block, with
    /// `done = Some((block start, block end))` when the run completes its block.
    pub fn feed(
        &mut self,
        at: AudioTime,
        frames: usize,
        mut f: impl FnMut(usize, usize, Option<(u64, u64)>),
    ) {
        let mut f0 = 0;
        while f0 < frames {
            if self.filled == 0 {
                self.start = at.frame(f0, self.rate);
            }
            let n = (self.len - self.filled).min(frames - f0);
            self.filled += n;
            let done = (self.filled == self.len).then(|| {
                self.filled = 0;
                (
                    self.start,
                    self.start + frames_to_ns(self.len as u64, self.rate),
                )
            });
            f(f0, f0 + n, done);
            f0 += n;
        }
    }

    /// Drops a partly filled block.
    pub fn reset(&mut self) {
        self.filled = 0;
    }
}

/// Power (mean square, full scale 1.0) in dBFS; -inf for zero.
pub fn power_db(mean_square: f64) -> f64 {
    10.0 * mean_square.log10()
}

/// dBFS to mean square.
pub fn db_to_power(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_block_boundaries() {
        let mut b = Blocks::new(1000, 10_000_000); // 10 frames
        assert_eq!(b.len(), 10);
        let mut runs = Vec::new();
        b.feed(AudioTime::at(0), 25, |a, z, d| runs.push((a, z, d)));
        b.feed(
            AudioTime {
                base: 0,
                offset: 25,
            },
            5,
            |a, z, d| runs.push((a, z, d)),
        );
        assert_eq!(
            runs,
            vec![
                (0, 10, Some((0, 10_000_000))),
                (10, 20, Some((10_000_000, 20_000_000))),
                (20, 25, None),
                (0, 5, Some((20_000_000, 30_000_000))),
            ]
        );
        assert_eq!(frames_to_ns(48_000, 48_000), 1_000_000_000);
        assert!((power_db(0.5) + 3.0103).abs() < 1e-3);
        assert!((db_to_power(-60.0) - 1e-6).abs() < 1e-12);
    }
}
