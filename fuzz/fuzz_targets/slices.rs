//! slicecheck's readers on arbitrary bytes: H.264 or HEVC (first byte),
//! byte-stream or length-prefixed framing, `codec_data` taken from the
//! front, the rest cut into access units; no panic, no hang.
#![no_main]

use gstavmonitor::analysis::coded::slices::{
    is_recovery_point, nal_units, Framing, HevcParser, SliceLayout, SliceParser,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, cd, step], rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let (codec_data, rest) = rest.split_at(usize::from(cd).min(rest.len()));
    let framing = if mode & 2 != 0 {
        Framing::Length(1 + usize::from(mode >> 2) % 4)
    } else {
        Framing::ByteStream
    };
    let mut layout = SliceLayout::new();
    let step = 1 + usize::from(step) * 11;
    if mode & 1 != 0 {
        let mut p = HevcParser::new();
        p.codec_data(codec_data);
        for au in rest.chunks(step) {
            let units = nal_units(au, framing);
            let slices: Vec<_> = units.iter().filter_map(|u| p.unit(u)).collect();
            layout.frame(&slices, false);
            let _ = p.block();
        }
    } else {
        let mut p = SliceParser::new();
        p.codec_data(codec_data);
        for au in rest.chunks(step) {
            let units = nal_units(au, framing);
            let slices: Vec<_> = units.iter().filter_map(|u| p.unit(u)).collect();
            let recovery = units.iter().any(|u| is_recovery_point(u));
            layout.frame(&slices, recovery);
        }
    }
});
