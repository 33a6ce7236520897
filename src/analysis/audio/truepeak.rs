//! True peak (ITU-R BS.1770 annex 2): the largest magnitude of the signal
//! oversampled 4 times below 96 kHz, twice below 192 kHz, as it is at
//! higher rates.
//!
//! The interpolator is the `ebur128` crate's (0.1): a 48-tap Hann-windowed
//! sinc split into `48 / factor` taps per phase, in `f32`, each output
//! summed tap by tap from the newest sample. The crate computes it one
//! frame at a time in code built for the baseline processor, which was
//! half of the loudness meter's time; this kernel computes eight outputs
//! of every phase at once, in AVX2 where the processor has it, in the same
//! order of operations, so its peaks are the crate's to the bit (the
//! tests hold it to that).

/// Taps of the whole interpolation filter.
const TAPS: usize = 48;
/// Outputs computed together.
const LANES: usize = 8;

/// True-peak meter for one stream of interleaved `f32` frames.
#[derive(Debug, Clone)]
pub struct TruePeak {
    channels: usize,
    factor: usize,
    /// `coeffs[j * factor + p]`: tap `j` (from the newest sample) of phase `p`.
    coeffs: Vec<f32>,
    /// Per channel: the last `taps - 1` samples, then the frames being
    /// measured (planar).
    planes: Vec<Vec<f32>>,
}

impl TruePeak {
    /// `None` for no channels or no rate.
    pub fn new(channels: usize, rate: u32) -> Option<Self> {
        if channels == 0 || rate == 0 {
            return None;
        }
        let factor = if rate < 96_000 {
            4
        } else if rate < 192_000 {
            2
        } else {
            1
        };
        let taps = TAPS / factor;
        Some(TruePeak {
            channels,
            factor,
            coeffs: coefficients(factor),
            planes: vec![vec![0.0; taps - 1]; channels],
        })
    }

    /// Forgets the samples before (the next frame follows silence).
    pub fn reset(&mut self) {
        let keep = self.taps() - 1;
        for p in &mut self.planes {
            p.clear();
            p.resize(keep, 0.0);
        }
    }

    fn taps(&self) -> usize {
        TAPS / self.factor
    }

    /// The true peak of each channel over `frames` (interleaved, whole
    /// frames; a partial last frame is ignored), into `peaks` (linear, at
    /// least the sample peak).
    pub fn push(&mut self, frames: &[f32], peaks: &mut [f64]) {
        let ch = self.channels;
        let n = frames.len() / ch;
        let keep = self.taps() - 1;
        for (c, (plane, peak)) in self.planes.iter_mut().zip(peaks.iter_mut()).enumerate() {
            plane.truncate(keep);
            plane.resize(keep + n, 0.0);
            for (s, f) in plane[keep..].iter_mut().zip(frames.chunks_exact(ch)) {
                *s = f[c];
            }
            *peak = f64::from(scan(plane, &self.coeffs, self.factor));
            // keep the history for the next call
            plane.drain(..n);
        }
    }
}

/// The largest magnitude of the new samples of `plane` (after a history of
/// `taps - 1`) and of what the interpolator makes from them (the crate
/// takes the larger of the two).
fn scan(plane: &[f32], coeffs: &[f32], factor: usize) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { scan_avx2(plane, coeffs, factor) };
        }
    }
    scan_with(plane, coeffs, factor)
}

/// The same code compiled for AVX2 (eight outputs in one register).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_avx2(plane: &[f32], coeffs: &[f32], factor: usize) -> f32 {
    scan_with(plane, coeffs, factor)
}

/// [`scan`] without SIMD dispatch, the reference the AVX2 build is tested
/// against.
#[cfg(test)]
fn scan_portable(plane: &[f32], coeffs: &[f32], factor: usize) -> f32 {
    scan_with(plane, coeffs, factor)
}

#[inline(always)]
fn scan_with(plane: &[f32], coeffs: &[f32], factor: usize) -> f32 {
    let mut max = [0f32; LANES];
    let samples = &plane[TAPS / factor - 1..];
    let mut lanes = samples.chunks_exact(LANES);
    for l in &mut lanes {
        for (m, &x) in max.iter_mut().zip(l) {
            keep(m, x.abs());
        }
    }
    for (m, &x) in max.iter_mut().zip(lanes.remainder()) {
        keep(m, x.abs());
    }
    let best = max.into_iter().fold(0f32, f32::max);
    match factor {
        4 => best.max(interpolated::<12, 4>(plane, coeffs)),
        2 => best.max(interpolated::<24, 2>(plane, coeffs)),
        _ => best,
    }
}

/// Keeps the larger in `m` (no NaN here: as `f32::max`, and it vectorises).
#[inline(always)]
fn keep(m: &mut f32, a: f32) {
    *m = if a > *m { a } else { *m };
}

/// The largest magnitude the interpolator of `T` taps a phase and `F`
/// phases makes from `plane`: output `n` is sample `n + T - 1` and the
/// `T - 1` before it, each phase summed from the newest, as the crate does.
#[inline(always)]
fn interpolated<const T: usize, const F: usize>(plane: &[f32], coeffs: &[f32]) -> f32 {
    let mut c = [[0f32; F]; T];
    for (row, taps) in c.iter_mut().zip(coeffs.chunks_exact(F)) {
        row.copy_from_slice(taps);
    }
    let outputs = plane.len() + 1 - T;
    let whole = outputs / LANES * LANES;
    let mut max = [0f32; LANES];
    for n in (0..whole).step_by(LANES) {
        let window = &plane[n..n + T - 1 + LANES];
        let mut acc = [[0f32; LANES]; F];
        for (j, c) in c.iter().enumerate() {
            let x: &[f32; LANES] = window[T - 1 - j..][..LANES].try_into().unwrap();
            for (acc, &c) in acc.iter_mut().zip(c) {
                for (a, &x) in acc.iter_mut().zip(x) {
                    *a += x * c;
                }
            }
        }
        for acc in acc {
            for (m, a) in max.iter_mut().zip(acc) {
                keep(m, a.abs());
            }
        }
    }
    let mut best = max.into_iter().fold(0f32, f32::max);
    for n in whole..outputs {
        for p in 0..F {
            let mut acc = 0f32;
            for (j, c) in c.iter().enumerate() {
                acc += plane[n + T - 1 - j] * c[p];
            }
            best = best.max(acc.abs());
        }
    }
    best
}

/// The crate's filter: a Hann window over 49 points (the last, zero,
/// left out) times the sinc of the oversampling factor.
fn coefficients(factor: usize) -> Vec<f32> {
    use std::f64::consts::PI;
    let window = TAPS as f64;
    (0..TAPS)
        .map(|j| {
            let j = j as f64;
            let w = 0.5 * (1.0 - f64::cos(2.0 * PI * j / window));
            let m = j - window / 2.0;
            (if m.abs() > 0.000001 {
                w * f64::sin(m * PI / factor as f64) / (m * PI / factor as f64)
            } else {
                w
            }) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebur128::{EbuR128, Mode};

    /// Test signals, interleaved: a sine near a quarter of the rate (its
    /// peaks fall between samples), noise, a square wave at full scale, and
    /// silence then a click.
    fn signals(channels: usize, frames: usize) -> Vec<Vec<f32>> {
        let mut seed = 12345u32;
        let mut noise = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 * 2.0 - 1.0
        };
        let sine: Vec<f32> = (0..frames * channels)
            .map(|i| {
                let (t, c) = ((i / channels) as f32, (i % channels) as f32);
                0.9 * (t * 0.5 * std::f32::consts::PI * (1.0 - 0.01 * c) + 0.3).sin()
            })
            .collect();
        let noisy: Vec<f32> = (0..frames * channels).map(|_| 0.7 * noise()).collect();
        let square: Vec<f32> = (0..frames * channels)
            .map(|i| {
                if (i / channels / 7).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let mut click = vec![0f32; frames * channels];
        click[frames / 2 * channels] = -0.5;
        vec![sine, noisy, square, click]
    }

    /// The crate's true peak and this kernel's, fed the same pieces.
    fn both(channels: usize, rate: u32, signal: &[f32], piece: usize) -> Vec<(f64, f64)> {
        let mut ebu = EbuR128::new(channels as u32, rate, Mode::TRUE_PEAK).unwrap();
        let mut tp = TruePeak::new(channels, rate).unwrap();
        let mut out = Vec::new();
        let mut ours = vec![0.0; channels];
        for chunk in signal.chunks(piece * channels) {
            ebu.add_frames_f32(chunk).unwrap();
            tp.push(chunk, &mut ours);
            for (c, &o) in ours.iter().enumerate() {
                out.push((ebu.prev_true_peak(c as u32).unwrap(), o));
            }
        }
        out
    }

    #[test]
    fn peaks_are_the_crates_to_the_bit() {
        for (channels, rate) in [
            (2, 48_000),
            (1, 44_100),
            (6, 48_000),
            (3, 96_000),
            (2, 192_000),
        ] {
            for signal in signals(channels, 4801) {
                // pieces shorter than the filter, odd, and the 10 ms of a buffer
                for piece in [1, 5, 13, 480, 4801] {
                    for (crate_tp, ours) in both(channels, rate, &signal, piece) {
                        assert_eq!(
                            crate_tp.to_bits(),
                            ours.to_bits(),
                            "{channels} channels at {rate} Hz, pieces of {piece}: {crate_tp} vs {ours}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn intersample_peak_above_the_samples() {
        // a sine at a quarter of the rate sampled at 45 degrees: samples at
        // 0.707 of the peak, the true peak near 1
        let s: Vec<f32> = (0..4800)
            .map(|i| (i as f32 * 0.5 * std::f32::consts::PI + std::f32::consts::FRAC_PI_4).sin())
            .collect();
        let mut tp = TruePeak::new(1, 48_000).unwrap();
        let mut peak = [0.0];
        tp.push(&s, &mut peak);
        let sample_peak = s.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(sample_peak < 0.71, "{sample_peak}");
        assert!(peak[0] > 0.95 && peak[0] < 1.05, "{}", peak[0]);
    }

    #[test]
    fn avx2_build_equals_portable() {
        for factor in [4, 2] {
            let coeffs = coefficients(factor);
            for signal in signals(1, 1000) {
                let mut plane = vec![0.0; TAPS / factor - 1];
                plane.extend(&signal);
                assert_eq!(
                    scan(&plane, &coeffs, factor).to_bits(),
                    scan_portable(&plane, &coeffs, factor).to_bits()
                );
            }
        }
    }

    #[test]
    fn reset_forgets_the_samples_before() {
        let signal = &signals(2, 480)[0];
        let mut tp = TruePeak::new(2, 48_000).unwrap();
        let (mut a, mut b) = ([0.0; 2], [0.0; 2]);
        tp.push(signal, &mut a);
        tp.reset();
        tp.push(&signal[..2], &mut b);
        let mut fresh = TruePeak::new(2, 48_000).unwrap();
        let mut c = [0.0; 2];
        fresh.push(&signal[..2], &mut c);
        assert_eq!(b, c);
        // without the reset the samples before show in the peak
        let mut kept = TruePeak::new(2, 48_000).unwrap();
        let mut d = [0.0; 2];
        kept.push(signal, &mut a);
        kept.push(&signal[..2], &mut d);
        assert!(d[0] > 2.0 * c[0] && d[1] > 2.0 * c[1], "{d:?} {c:?}");
        assert!(TruePeak::new(0, 48_000).is_none());
    }
}
