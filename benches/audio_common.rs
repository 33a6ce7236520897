// Shared by the audio benches: one second of music-like audio.
use gstavmonitor::analysis::samples::SampleFormat;

pub const RATE: u32 = 48_000;

/// One second, `channels` interleaved, in `format` (F32 or S16).
pub fn second(channels: usize, format: SampleFormat) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..RATE as usize {
        for c in 0..channels {
            let t = i as f64 / RATE as f64;
            let v = 0.2 * (t * 2.0 * std::f64::consts::PI * (220.0 + 30.0 * c as f64)).sin();
            match format {
                SampleFormat::S16 => out.extend(((v * 32767.0) as i16).to_le_bytes()),
                _ => out.extend((v as f32).to_le_bytes()),
            }
        }
    }
    out
}
