//! B pictures dropped before the decoder (`gstavmonitor::skip_frames`, the
//! `bskip` kernel): on real x264 encodes, the stream whose P pictures never
//! refer to a B picture loses every B picture and decodes every other
//! picture exactly as a full decode does; the stream whose P pictures may
//! refer to one keeps them, and its pictures are exact too.

mod common;

use gst::prelude::*;
use gstavmonitor::analysis::coded::bskip::{BSkipper, Mode};
use gstavmonitor::analysis::coded::slices::Framing;

/// An encode kept as buffers (timestamps and flags included) with its caps.
struct Encode {
    caps: gst::Caps,
    buffers: Vec<gst::Buffer>,
}

/// The first `frames` pictures of the handheld camera clip at `width` by
/// `height`, encoded by x264 with 3 B-frames (B-pyramid by the presets) and
/// `x264` options (one thread: the same encode on any machine).
fn encode(x264: &str, format: &str, (width, height, frames): (u32, u32, u32)) -> Encode {
    let dir = common::footage_dir(&["bikes.mp4"]);
    let desc = format!(
        "filesrc location={} ! decodebin ! identity eos-after={frames} ! videoconvert ! videoscale \
         ! video/x-raw,width={width},height={height} \
         ! x264enc key-int-max=50 bframes=3 threads=1 {x264} \
         ! h264parse ! video/x-h264,stream-format={format},alignment=au",
        dir.join("bikes.mp4").display()
    );
    let (caps, buffers) = common::pull_all(&desc).expect("an x264 encode");
    Encode { caps, buffers }
}

/// How an encode's units are framed (x264's avc sizes are 4 bytes).
fn framing(e: &Encode) -> Framing {
    match e
        .caps
        .structure(0)
        .unwrap()
        .get::<&str>("stream-format")
        .unwrap()
    {
        "byte-stream" => Framing::ByteStream,
        _ => Framing::Length(4),
    }
}

/// The kernel's verdict on an encode, and how many access units it dropped.
fn verdict(e: &Encode) -> (Mode, u64) {
    let s = e.caps.structure(0).unwrap();
    let cd = s.get::<gst::Buffer>("codec_data").ok();
    let map = cd.as_ref().map(|b| b.map_readable().unwrap());
    let mut k = BSkipper::new();
    k.set_format(Some(framing(e)), map.as_ref().map(|m| m.as_slice()));
    for b in &e.buffers {
        k.pass(&b.map_readable().unwrap());
    }
    (k.mode(), k.counts().1)
}

/// Decodes an encode with `avdec_h264` (one thread), every picture or with
/// `skip_frames`: (PTS, picture bytes) of each decoded picture.
fn decode(e: &Encode, skip: bool) -> Vec<(u64, Vec<u8>)> {
    let pipeline = gst::parse::launch(
        "appsrc name=src format=time ! avdec_h264 name=dec max-threads=1 ! appsink name=out sync=false",
    )
    .unwrap();
    let bin = pipeline.downcast_ref::<gst::Bin>().unwrap();
    if skip {
        gstavmonitor::skip_frames(&bin.by_name("dec").unwrap());
    }
    let src = bin
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    src.set_caps(Some(&e.caps));
    let sink = bin
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    for b in &e.buffers {
        src.push_buffer(b.copy()).unwrap();
    }
    src.end_of_stream().unwrap();
    let mut out = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let b = sample.buffer().unwrap();
        out.push((
            b.pts().unwrap().nseconds(),
            b.map_readable().unwrap().to_vec(),
        ));
    }
    pipeline.set_state(gst::State::Null).unwrap();
    out
}

/// Every picture decoded with skipping equals the full decode's picture of
/// the same time: (pictures decoded with skipping, of all).
fn exact(e: &Encode) -> (usize, usize) {
    let full = decode(e, false);
    let skipped = decode(e, true);
    assert_eq!(
        full.len(),
        e.buffers.len(),
        "a full decode gives every picture"
    );
    for (pts, data) in &skipped {
        let (_, f) = full
            .iter()
            .find(|(p, _)| p == pts)
            .unwrap_or_else(|| panic!("a picture at {pts} the full decode has not"));
        assert!(
            f == data,
            "the picture at {pts} differs from the full decode"
        );
    }
    (skipped.len(), full.len())
}

/// The B pictures of an encode, by their first slice's type, read here
/// apart from the kernel.
fn b_pictures(e: &Encode) -> usize {
    e.buffers
        .iter()
        .filter(|b| {
            let m = b.map_readable().unwrap();
            slice_type(&m, framing(e)) == Some(1)
        })
        .count()
}

/// The first slice's `slice_type % 5` of an access unit (0 P, 1 B, 2 I).
fn slice_type(au: &[u8], framing: Framing) -> Option<u32> {
    let units = gstavmonitor::analysis::coded::slices::nal_units(au, framing);
    let unit = units.into_iter().find(|u| matches!(u[0] & 0x1f, 1 | 5))?;
    // two Exp-Golomb numbers: first_mb_in_slice, slice_type
    let mut bits = unit[1..]
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1));
    let mut ue = || {
        let mut zeros = 0;
        while bits.next()? == 0 {
            zeros += 1;
        }
        let mut v = 1u32;
        for _ in 0..zeros {
            v = v << 1 | u32::from(bits.next()?);
        }
        Some(v - 1)
    };
    ue()?;
    Some(ue()? % 5)
}

/// These x264 encodes keep their P pictures off B pictures (each P picture
/// names its references and unmarks the B reference), so the kernel drops
/// every B picture after its first check, and what is decoded is exact.
#[test]
fn every_b_picture_is_dropped_from_x264_encodes_and_the_rest_decodes_exactly() {
    for (x264, format) in [
        ("speed-preset=veryfast", "avc"),
        ("speed-preset=veryfast", "byte-stream"),
        ("speed-preset=medium ref=3 b-pyramid=true", "avc"),
        ("speed-preset=slow ref=5 b-pyramid=true", "avc"),
    ] {
        let e = encode(x264, format, (640, 360, 150));
        let b = b_pictures(&e);
        let (mode, dropped) = verdict(&e);
        let (decoded, all) = exact(&e);
        eprintln!(
            "{x264} {format}: {b} of {all} pictures B, {dropped} dropped by the kernel, {decoded} decoded"
        );
        assert!(b > 50, "{x264} {format}: the encode has B pictures ({b})");
        assert_eq!(mode, Mode::Dropping, "{x264} {format}");
        // all but the B pictures of the stretch the kernel checks first
        assert!(
            dropped as usize >= b - 30,
            "{x264} {format}: {dropped} of {b}"
        );
        // and libav skips the other B pictures nothing refers to meanwhile
        assert!(
            decoded <= all - dropped as usize && decoded >= all - b,
            "{x264} {format}"
        );
    }
}

/// x264 `medium` at 720p and 4 Mb/s: a P picture's list (weighted
/// prediction lists one reference twice) holds the B reference picture
/// before it. The kernel stops at that first P picture, before dropping
/// anything; the decoder skips only what nothing refers to, exactly.
/// (Dropping every B picture of this encode, as FFmpeg's `-skip_frame bidir`
/// does, damaged 71 of the 91 other pictures of 250 in a trial.)
#[test]
fn b_pictures_are_kept_where_a_p_picture_may_refer_to_one() {
    let e = encode("speed-preset=medium bitrate=4000", "avc", (1280, 720, 60));
    let b = b_pictures(&e);
    let (mode, dropped) = verdict(&e);
    let (decoded, all) = exact(&e);
    eprintln!("{b} of {all} pictures B, {dropped} dropped by the kernel, {decoded} decoded");
    assert!(b > 20, "the encode has B pictures ({b})");
    assert_eq!(mode, Mode::Off);
    assert_eq!(dropped, 0);
    assert!(decoded < all && decoded > all - b);
}

/// Damaged streams (bits flipped, ranges dropped or repeated, ends cut, as
/// a fuzzer does) never make the kernel panic, and it drops nothing but B
/// pictures (by the first slice's type, read here apart from the kernel).
#[test]
fn damaged_streams_lose_only_b_pictures_and_never_panic() {
    use common::random::{mutate, Rng};
    let e = encode("speed-preset=veryfast", "byte-stream", (320, 180, 60));
    let seeds = std::env::var("ROBUST_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40u64);
    let mut dropped = 0;
    for seed in 1..=seeds {
        let mut rng = Rng(seed);
        let mut k = BSkipper::new();
        k.set_format(Some(Framing::ByteStream), None);
        for (i, b) in e.buffers.iter().enumerate() {
            let mut data = b.map_readable().unwrap().to_vec();
            if rng.below(3) == 0 {
                mutate(&mut rng, &mut data);
            }
            if !k.pass(&data) {
                dropped += 1;
                assert_eq!(
                    slice_type(&data, Framing::ByteStream),
                    Some(1),
                    "seed {seed}, unit {i}"
                );
            }
        }
    }
    // the damage leaves most streams followable
    assert!(dropped > 0);
}
