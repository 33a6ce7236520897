//! One sample abstraction for every audio kernel: the [`Sample`] trait over
//! the raw sample types, and [`AudioView`], a read-only view of a buffer's
//! samples, interleaved or one plane per channel.

/// Raw sample formats (all little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    S16,
    /// 24 bits packed in 3 bytes.
    S24,
    /// 24 bits in the low bits of 4 bytes.
    S24In32,
    S32,
    F32,
    F64,
}

impl SampleFormat {
    pub fn bytes(&self) -> usize {
        match self {
            SampleFormat::S16 => 2,
            SampleFormat::S24 => 3,
            SampleFormat::S24In32 | SampleFormat::S32 | SampleFormat::F32 => 4,
            SampleFormat::F64 => 8,
        }
    }
}

/// A sample type read from little-endian bytes.
pub trait Sample: Copy + 'static {
    const BYTES: usize;
    /// Reads one sample from the first `BYTES` bytes of `b`.
    fn read(b: &[u8]) -> Self;
    /// The value with full scale at 1.0 (non-finite floats stay non-finite).
    fn to_f32(self) -> f32;
    /// At or beyond `level` of full scale. Integers at `level >= 1` mean the
    /// extreme codes (the most negative one included); floats are clipped at
    /// a magnitude of `level` or more, and when not finite.
    fn clipped(self, level: f32) -> bool;
}

impl Sample for i16 {
    const BYTES: usize = 2;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        i16::from_le_bytes([b[0], b[1]])
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from(self) / 32768.0
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        if level >= 1.0 {
            self == i16::MIN || self == i16::MAX
        } else {
            self.to_f32().abs() >= level
        }
    }
}

/// A 24-bit sample packed in 3 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S24(pub i32);

/// A 24-bit sample in the low bits of a 32-bit word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S24In32(pub i32);

const S24_MAX: i32 = (1 << 23) - 1;
const S24_MIN: i32 = -(1 << 23);

fn clipped24(v: i32, level: f32) -> bool {
    if level >= 1.0 {
        v <= S24_MIN || v >= S24_MAX
    } else {
        (v as f32 / 8_388_608.0).abs() >= level
    }
}

impl Sample for S24 {
    const BYTES: usize = 3;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        S24(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self.0 as f32 / 8_388_608.0
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        clipped24(self.0, level)
    }
}

impl Sample for S24In32 {
    const BYTES: usize = 4;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        // sign-extend from bit 23; the top byte is padding
        S24In32(i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8)
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self.0 as f32 / 8_388_608.0
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        clipped24(self.0, level)
    }
}

impl Sample for i32 {
    const BYTES: usize = 4;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        i32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32 / 2_147_483_648.0
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        if level >= 1.0 {
            self == i32::MIN || self == i32::MAX
        } else {
            self.to_f32().abs() >= level
        }
    }
}

impl Sample for f32 {
    const BYTES: usize = 4;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        self.is_nan() || self.abs() >= level
    }
}

impl Sample for f64 {
    const BYTES: usize = 8;
    #[inline(always)]
    fn read(b: &[u8]) -> Self {
        f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn clipped(self, level: f32) -> bool {
        self.is_nan() || self.abs() >= f64::from(level)
    }
}

/// Why a view could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioError {
    NoChannels,
    /// A plane is shorter than the frames it should hold.
    TooShort {
        plane: usize,
        needed: usize,
        got: usize,
    },
}

impl std::fmt::Display for AudioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudioError::NoChannels => write!(f, "no channels"),
            AudioError::TooShort { plane, needed, got } => {
                write!(f, "plane {plane} needs {needed} bytes but has {got}")
            }
        }
    }
}

impl std::error::Error for AudioError {}

/// A read-only view of `frames` frames of `channels` channels.
#[derive(Debug, Clone)]
pub struct AudioView<'a> {
    planes: Vec<&'a [u8]>,
    format: SampleFormat,
    channels: usize,
    frames: usize,
}

impl<'a> AudioView<'a> {
    /// Interleaved samples; trailing bytes that do not make a whole frame are ignored.
    pub fn interleaved(
        data: &'a [u8],
        format: SampleFormat,
        channels: usize,
    ) -> Result<Self, AudioError> {
        if channels == 0 {
            return Err(AudioError::NoChannels);
        }
        let frames = data.len() / (format.bytes() * channels);
        Ok(AudioView {
            planes: vec![data],
            format,
            channels,
            frames,
        })
    }

    /// One plane per channel, each holding at least `frames` samples.
    pub fn planar(
        planes: Vec<&'a [u8]>,
        format: SampleFormat,
        frames: usize,
    ) -> Result<Self, AudioError> {
        if planes.is_empty() {
            return Err(AudioError::NoChannels);
        }
        let needed = frames * format.bytes();
        for (i, p) in planes.iter().enumerate() {
            if p.len() < needed {
                return Err(AudioError::TooShort {
                    plane: i,
                    needed,
                    got: p.len(),
                });
            }
        }
        let channels = planes.len();
        Ok(AudioView {
            planes,
            format,
            channels,
            frames,
        })
    }

    pub fn format(&self) -> SampleFormat {
        self.format
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Samples `f0..f1` of channel `ch` (clamped to the view).
    #[inline]
    pub fn channel<S: Sample + 'a>(
        &self,
        ch: usize,
        f0: usize,
        f1: usize,
    ) -> impl Iterator<Item = S> + 'a {
        let f1 = f1.min(self.frames);
        let f0 = f0.min(f1);
        let (plane, first, step) = if self.planes.len() == 1 {
            (self.planes[0], f0 * self.channels + ch, self.channels)
        } else {
            (self.planes[ch], f0, 1)
        };
        // an empty range (an empty buffer) may start past the end of the plane
        plane
            .get(first * S::BYTES..)
            .unwrap_or(&[])
            .chunks_exact(S::BYTES)
            .step_by(step)
            .take(f1 - f0)
            .map(S::read)
    }
}

/// Runs `$body` with `$S` bound to the sample type of `$format`.
#[macro_export]
macro_rules! with_sample_type {
    ($format:expr, $S:ident => $body:expr) => {
        match $format {
            $crate::analysis::audio::samples::SampleFormat::S16 => {
                type $S = i16;
                $body
            }
            $crate::analysis::audio::samples::SampleFormat::S24 => {
                type $S = $crate::analysis::audio::samples::S24;
                $body
            }
            $crate::analysis::audio::samples::SampleFormat::S24In32 => {
                type $S = $crate::analysis::audio::samples::S24In32;
                $body
            }
            $crate::analysis::audio::samples::SampleFormat::S32 => {
                type $S = i32;
                $body
            }
            $crate::analysis::audio::samples::SampleFormat::F32 => {
                type $S = f32;
                $body
            }
            $crate::analysis::audio::samples::SampleFormat::F64 => {
                type $S = f64;
                $body
            }
        }
    };
}

/// Frames `f0..f1` of `view`, all channels, as interleaved f32 (full scale
/// 1.0) appended to `out`; non-finite samples become 0. Returns how many
/// non-finite samples there were.
pub fn to_interleaved_f32(view: &AudioView<'_>, f0: usize, f1: usize, out: &mut Vec<f32>) -> usize {
    let f1 = f1.min(view.frames());
    let f0 = f0.min(f1);
    let ch = view.channels();
    let base = out.len();
    out.resize(base + (f1 - f0) * ch, 0.0);
    let mut bad = 0;
    with_sample_type!(view.format(), S => {
        for c in 0..ch {
            for (i, s) in view.channel::<S>(c, f0, f1).enumerate() {
                let v = s.to_f32();
                if v.is_finite() {
                    out[base + i * ch + c] = v;
                } else {
                    bad += 1;
                }
            }
        }
    });
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_format() {
        assert_eq!(i16::read(&(-32768i16).to_le_bytes()).to_f32(), -1.0);
        assert!(i16::MIN.clipped(1.0) && i16::MAX.clipped(1.0) && !(i16::MAX - 1).clipped(1.0));
        let s24 = [0xff, 0xff, 0x7f]; // 8388607
        assert_eq!(S24::read(&s24), S24(S24_MAX));
        assert!(S24::read(&s24).clipped(1.0));
        assert_eq!(S24::read(&[0, 0, 0x80]), S24(S24_MIN));
        assert_eq!(S24::read(&[0xfe, 0xff, 0xff]), S24(-2));
        // S24_32: the top byte is padding, whatever it holds
        assert_eq!(S24In32::read(&[0xfe, 0xff, 0xff, 0x00]), S24In32(-2));
        assert_eq!(S24In32::read(&[0x01, 0x00, 0x00, 0xff]), S24In32(1));
        assert!(i32::read(&i32::MIN.to_le_bytes()).clipped(1.0));
        assert!(f32::NAN.clipped(1.0) && f32::INFINITY.clipped(1.0) && 1.0f32.clipped(1.0));
        assert!(!0.99f32.clipped(1.0) && 0.6f32.clipped(0.5));
        assert!(!f64::NAN.is_finite() && (-1.0f64).clipped(1.0));
        assert!((0.5f64.to_f32() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn views_address_channels() {
        // stereo S16 interleaved: L = 1,2,3  R = -1,-2,-3
        let data: Vec<u8> = [1i16, -1, 2, -2, 3, -3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let v = AudioView::interleaved(&data, SampleFormat::S16, 2).unwrap();
        assert_eq!(v.frames(), 3);
        assert_eq!(
            v.channel::<i16>(1, 0, 3).collect::<Vec<_>>(),
            vec![-1, -2, -3]
        );
        assert_eq!(v.channel::<i16>(0, 1, 9).collect::<Vec<_>>(), vec![2, 3]);
        let l: Vec<u8> = [1i16, 2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let r: Vec<u8> = [-1i16, -2, -3]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let p = AudioView::planar(vec![&l, &r], SampleFormat::S16, 3).unwrap();
        assert_eq!(
            p.channel::<i16>(1, 0, 3).collect::<Vec<_>>(),
            vec![-1, -2, -3]
        );
        assert!(AudioView::planar(vec![&l, &r[..2]], SampleFormat::S16, 3).is_err());
        assert!(AudioView::interleaved(&data, SampleFormat::S16, 0).is_err());
        let mut out = Vec::new();
        to_interleaved_f32(&p, 0, 3, &mut out);
        assert_eq!(out.len(), 6);
        assert_eq!(out[1], -1.0 / 32768.0);
        // an empty view yields nothing on any channel
        let e = AudioView::interleaved(&[], SampleFormat::S16, 2).unwrap();
        assert_eq!(e.channel::<i16>(1, 0, 5).count(), 0);
        // an odd byte count keeps whole frames only
        let v = AudioView::interleaved(&data[..7], SampleFormat::S16, 2).unwrap();
        assert_eq!(v.frames(), 1);
    }

    #[test]
    fn non_finite_become_zero() {
        let data: Vec<u8> = [0.5f32, f32::NAN, f32::INFINITY, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let v = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
        let mut out = Vec::new();
        assert_eq!(to_interleaved_f32(&v, 0, 4, &mut out), 2);
        assert_eq!(out, vec![0.5, 0.0, 0.0, -0.25]);
    }
}
