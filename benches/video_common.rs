// Shared by the video benches: a textured luma plane, 8-bit and as 10-bit words.
use gstavmonitor::analysis::video::frame::{LumaLayout, LumaPlane, LumaRange};

pub const SIZES: [(&str, usize, usize); 2] = [("1080p", 1920, 1080), ("2160p", 3840, 2160)];

/// A `w` x `h` 8-bit luma plane with texture everywhere.
#[allow(dead_code)] // the areadetect bench uses the smooth texture instead
pub fn picture(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .map(|i| (16 + (i * 7 + i / w * 13) % 200) as u8)
        .collect()
}

/// The same values as 10-bit little-endian words (I420_10LE luma).
#[allow(dead_code)] // the patterndetect bench reads 8-bit pictures only
pub fn words10(data: &[u8]) -> Vec<u8> {
    data.iter()
        .flat_map(|&v| (u16::from(v) << 2).to_le_bytes())
        .collect()
}

/// A view of `words10` output, limited range.
#[allow(dead_code)] // the levelsdetect bench reads all three components instead
pub fn plane10(words: &[u8], w: usize, h: usize) -> LumaPlane<'_> {
    let layout = LumaLayout::U16 {
        offset: 0,
        step: 2,
        shift: 0,
    };
    LumaPlane::new(words, w * 2, w, h, layout, LumaRange::new(10, false)).expect("10-bit plane")
}

/// A `w` x `h` 8-bit luma plane of smooth natural-looking texture (sums of
/// sinusoids), shifted `dx` pixels.
#[allow(dead_code)] // the blockdetect and areadetect benches use it
pub fn texture(w: usize, h: usize, dx: usize) -> Vec<u8> {
    use std::f64::consts::TAU;
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (u, v) = ((x + dx) as f64, y as f64);
            let l = 120.0
                + 45.0 * (TAU * u / 37.0).sin() * (TAU * v / 53.0).cos()
                + 25.0 * (TAU * (u + 2.0 * v) / 91.0).sin()
                + 15.0 * (TAU * (3.0 * u - v) / 23.0).cos();
            out[y * w + x] = l.clamp(16.0, 235.0) as u8;
        }
    }
    out
}
