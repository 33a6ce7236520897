// Shared by the video benches: a textured luma plane, 8-bit and as 10-bit words.
use gstavmonitor::analysis::frame::{LumaLayout, LumaPlane, LumaRange};

pub const SIZES: [(&str, usize, usize); 2] = [("1080p", 1920, 1080), ("2160p", 3840, 2160)];

/// A `w` x `h` 8-bit luma plane with texture everywhere.
pub fn picture(w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .map(|i| (16 + (i * 7 + i / w * 13) % 200) as u8)
        .collect()
}

/// The same values as 10-bit little-endian words (I420_10LE luma).
pub fn words10(data: &[u8]) -> Vec<u8> {
    data.iter()
        .flat_map(|&v| (u16::from(v) << 2).to_le_bytes())
        .collect()
}

/// A view of `words10` output, limited range.
pub fn plane10(words: &[u8], w: usize, h: usize) -> LumaPlane<'_> {
    let layout = LumaLayout::U16 {
        offset: 0,
        step: 2,
        shift: 0,
    };
    LumaPlane::new(words, w * 2, w, h, layout, LumaRange::new(10, false)).expect("10-bit plane")
}
