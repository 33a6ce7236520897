//! Pictures left out before the decoder, on real x264 encodes.
//!
//! B pictures (`gstavmonitor::skip_frames`, the `bskip` kernel): the stream
//! whose P pictures never refer to a B picture loses every B picture and
//! decodes every other picture exactly as a full decode does; the stream
//! whose P pictures may refer to one keeps them, and its pictures are
//! exact too.
//!
//! Keyframes only (`gstavmonitor::keyframes_only`): each keyframe comes out
//! of the decoder before the next goes in, exactly as a full decode has it,
//! and nothing else comes out. Keyframes until still
//! (`gstavmonitor::keyframes_until_still`): the same for moving GOPs, and
//! GOPs with still pictures decoded as the default decoding has them.

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
fn encode(x264: &str, format: &str, shape: (u32, u32, u32)) -> Encode {
    encode_with_black(x264, format, shape, 0..0)
}

/// As [`encode`], the pictures `black` (by index) made black before x264.
fn encode_with_black(
    x264: &str,
    format: &str,
    (width, height, frames): (u32, u32, u32),
    black: std::ops::Range<usize>,
) -> Encode {
    encode_chain(
        &format!(
            "x264enc key-int-max=50 bframes=3 threads=1 {x264} \
             ! h264parse ! video/x-h264,stream-format={format},alignment=au"
        ),
        (width, height, frames),
        black,
    )
}

/// The camera clip's first `frames` pictures at `width` by `height`, the
/// pictures `black` (by index) made black, through `chain` (an encoder and
/// its parser).
fn encode_chain(
    chain: &str,
    (width, height, frames): (u32, u32, u32),
    black: std::ops::Range<usize>,
) -> Encode {
    let dir = common::footage_dir(&["bikes.mp4"]);
    let desc = format!(
        "filesrc location={} ! decodebin ! identity name=first ! videoconvert ! videoscale \
         ! video/x-raw,format=I420,width={width},height={height} ! identity name=inject ! {chain}",
        dir.join("bikes.mp4").display()
    );
    let luma = (width * height) as usize;
    let (caps, buffers) = common::pull_all_with(&desc, |bin| {
        common::end_after(bin, "first", frames as usize);
        common::inject(bin, move |i, map| {
            if black.contains(&i) {
                map[..luma].fill(16);
                map[luma..].fill(128);
            }
        });
    })
    .expect("an encode");
    // the same pictures every run: the first `frames`, no more
    assert_eq!(
        buffers.len(),
        frames as usize,
        "{chain}: the encode's pictures"
    );
    Encode { caps, buffers }
}

/// The PTS of an encode's keyframes.
fn keyframe_times(e: &Encode) -> Vec<u64> {
    e.buffers
        .iter()
        .filter(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT))
        .map(|b| b.pts().unwrap().nseconds())
        .collect()
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

/// A decoding pipeline: `avdec_h264` or `avdec_h265` (one thread) between an app source
/// with the encode's caps and an app sink, `economy` applied to the decoder.
fn decoder(
    e: &Encode,
    economy: Option<fn(&gst::Element)>,
) -> (gst::Element, gst_app::AppSrc, gst_app::AppSink) {
    let hevc = e.caps.structure(0).unwrap().name() == "video/x-h265";
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src format=time ! avdec_{} name=dec max-threads=1 ! appsink name=out sync=false",
        if hevc { "h265" } else { "h264" }
    ))
    .unwrap();
    let bin = pipeline.downcast_ref::<gst::Bin>().unwrap();
    if let Some(economy) = economy {
        economy(&bin.by_name("dec").unwrap());
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
    (pipeline, src, sink)
}

/// (PTS, picture bytes) of a decoded sample.
fn picture(sample: &gst::Sample) -> (u64, Vec<u8>) {
    let b = sample.buffer().unwrap();
    (
        b.pts().unwrap().nseconds(),
        b.map_readable().unwrap().to_vec(),
    )
}

/// Decodes an encode, every picture or with `skip_frames`: (PTS, picture
/// bytes) of each decoded picture.
fn decode(e: &Encode, skip: bool) -> Vec<(u64, Vec<u8>)> {
    let economy: Option<fn(&gst::Element)> = skip.then_some(gstavmonitor::skip_frames);
    let (pipeline, src, sink) = decoder(e, economy);
    for b in &e.buffers {
        src.push_buffer(b.copy()).unwrap();
    }
    src.end_of_stream().unwrap();
    let mut out = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        out.push(picture(&sample));
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
    let mut times: Vec<u64> = full.iter().map(|(pts, _)| *pts).collect();
    times.sort_unstable();
    times.dedup();
    assert_eq!(
        times.len(),
        full.len(),
        "each picture has a time of its own (pictures are matched by time)"
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

/// Keyframes only: an encode with a keyframe each second (no scene cuts)
/// and 3 B-frames, fed a picture at a time. Each keyframe's picture comes
/// out before the next picture goes in (the decoder drained after it: libav
/// would hold it back two keyframes otherwise), it equals the full decode's
/// picture of that time, and no other picture comes out.
#[test]
fn keyframes_only_decodes_each_keyframe_at_once_and_exactly() {
    let e = encode(
        "speed-preset=veryfast option-string=scenecut=0 key-int-max=25",
        "avc",
        (320, 180, 150),
    );
    let keyframes = keyframe_times(&e);
    assert!(keyframes.len() >= 6, "a keyframe a second: {keyframes:?}");
    let full = decode(&e, false);
    let (pipeline, src, sink) = decoder(&e, Some(gstavmonitor::keyframes_only));
    let mut out = Vec::new();
    for b in &e.buffers {
        src.push_buffer(b.copy()).unwrap();
        if b.flags().contains(gst::BufferFlags::DELTA_UNIT) {
            continue;
        }
        let sample = sink
            .try_pull_sample(gst::ClockTime::from_seconds(10))
            .unwrap_or_else(|| panic!("keyframe {} held back", b.pts().display()));
        out.push(picture(&sample));
    }
    src.end_of_stream().unwrap();
    // nothing left in the decoder at the end either
    assert!(sink.pull_sample().is_err(), "a picture after the keyframes");
    pipeline.set_state(gst::State::Null).unwrap();
    let pts: Vec<u64> = out.iter().map(|(p, _)| *p).collect();
    assert_eq!(pts, keyframes);
    for (pts, data) in &out {
        let (_, f) = full.iter().find(|(p, _)| p == pts).unwrap();
        assert!(
            f == data,
            "the keyframe at {pts} differs from the full decode"
        );
    }
}

/// Keyframes until still: a moving GOP gives its keyframe alone, each at
/// once; a GOP with still pictures (black from picture 60 to 89, a keyframe
/// each 25) gives every picture the default decoding (`skip_frames`) gives,
/// from its keyframe on, bit for bit; the keyframe passed again comes out
/// once, and the pictures come out in order. Also with constant-bitrate
/// filler data (x264 `nal-hrd=cbr`), which pads each black picture to its
/// share of 1 Mb/s: only the slices count.
#[test]
fn keyframes_until_still_decodes_still_gops_whole_and_exactly() {
    for x264 in [
        "speed-preset=veryfast option-string=scenecut=0 key-int-max=25",
        "speed-preset=veryfast bitrate=1000 option-string=scenecut=0:nal-hrd=cbr key-int-max=25",
    ] {
        let e = encode_with_black(x264, "avc", (320, 180, 150), 60..90);
        until_still(&e, x264, true);
    }
}

/// The same on HEVC (x265, open GOPs: each keyframe a CRA picture whose
/// leading pictures, shown before it, refer to the GOP before). A GOP
/// decoded whole gives the default's pictures but for the leading
/// pictures of the keyframe after it (the decoder is drained at that
/// keyframe, and libav skips leading pictures whose references it lost),
/// bit for bit, in order, once.
#[test]
fn keyframes_until_still_on_hevc_open_gops() {
    let e = encode_chain(
        "x265enc key-int-max=25 speed-preset=veryfast option-string=bframes=3:scenecut=0:frame-threads=1:pools=none \
         ! h265parse ! video/x-h265,stream-format=hvc1,alignment=au",
        (320, 180, 150),
        60..90,
    );
    until_still(&e, "x265", false);
}

/// Keyframes until still on `e` (black from picture 60 to 89, a keyframe
/// each 25); `exact`: a GOP decoded whole gives all the default's pictures
/// (else at least its keyframe and one more, all of them the default's).
fn until_still(e: &Encode, x264: &str, exact: bool) {
    // the black pictures (from 2.4 s) of the CBR encode carry filler
    let black_sizes: Vec<usize> = e
        .buffers
        .iter()
        .filter(|b| {
            (2_600_000_000..3_400_000_000)
                .contains(&(b.pts().unwrap().nseconds() % 1_000_000_000_000))
        })
        .map(|b| b.size())
        .collect();
    println!("{x264}: black pictures of {black_sizes:?} bytes");
    let keyframes = keyframe_times(e);
    assert!(keyframes.len() >= 6, "a keyframe each 25: {keyframes:?}");
    let gop = |pts: u64| keyframes.iter().rposition(|k| *k <= pts).unwrap();
    let full = decode(e, false);
    let skipped = decode(e, true);
    let (pipeline, src, sink) = decoder(e, Some(gstavmonitor::keyframes_until_still));
    let mut out = Vec::new();
    for b in &e.buffers {
        src.push_buffer(b.copy()).unwrap();
        // a moving GOP's keyframe comes out before anything else goes in
        let pts = b.pts().unwrap().nseconds();
        if !b.flags().contains(gst::BufferFlags::DELTA_UNIT) && ![2, 3].contains(&gop(pts)) {
            let sample = sink
                .try_pull_sample(gst::ClockTime::from_seconds(10))
                .unwrap_or_else(|| panic!("keyframe {} held back", b.pts().display()));
            out.push(picture(&sample));
        }
        while let Some(sample) = sink.try_pull_sample(gst::ClockTime::ZERO) {
            out.push(picture(&sample));
        }
    }
    src.end_of_stream().unwrap();
    while let Ok(sample) = sink.pull_sample() {
        out.push(picture(&sample));
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let pts: Vec<u64> = out.iter().map(|(p, _)| *p).collect();
    assert!(
        pts.windows(2).all(|w| w[0] < w[1]),
        "out of order or twice: {pts:?}"
    );
    // GOPs 2 and 3 (pictures 50 to 99) hold the black: decoded as the
    // default decodes them; each other GOP gives its keyframe, or is whole
    // where a picture is still by its size (rate control may starve one)
    let whole = |g: usize| -> Vec<u64> {
        skipped
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| gop(*p) == g)
            .collect()
    };
    let mut alone = 0;
    for (g, key) in keyframes.iter().enumerate() {
        let got: Vec<u64> = pts.iter().copied().filter(|p| gop(*p) == g).collect();
        if got == [*key] && ![2, 3].contains(&g) {
            alone += 1;
        } else {
            assert!(got.len() > 1, "{x264}: GOP {g} gave {got:?}");
            if exact {
                assert_eq!(got, whole(g), "{x264}: GOP {g}");
            } else {
                assert!(got.iter().all(|p| whole(g).contains(p)), "{x264}: GOP {g}");
            }
        }
    }
    assert!(alone * 2 >= keyframes.len(), "{x264}: {alone} GOPs moving");
    for (pts, data) in &out {
        let (_, f) = full.iter().find(|(p, _)| p == pts).unwrap();
        assert!(
            f == data,
            "the picture at {pts} differs from the full decode"
        );
    }
}
