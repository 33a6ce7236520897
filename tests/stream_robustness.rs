//! Random streams through the elements the picture and audio drivers leave
//! out: slicecheck (H.264 and HEVC in both framings), tsmonitor (188- and
//! 192-byte packets in arbitrary splits), captiondetect (caption metas of
//! every type with random bytes) and avsyncdetect (video and audio pushed
//! in random order). Their bytes are real encodes made here (x264, x265,
//! mpegtsmux), mutated as a fuzzer would, or random; timestamps missing,
//! repeated, backwards or huge; flushes, late segments, caps changes, gaps
//! and EOS, from fixed seeds. Every buffer must come out unchanged (data,
//! timestamps, flags), every message must read back as its element's typed
//! message, every start must have its end by EOS, and GLib must say no
//! critical. `ROBUST_SEEDS=N` runs more seeds (the suite runs 24 per
//! element).
mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::random::{
    all_closed, check, disturb, mutate, next_pts, no_criticals, seeds, watch_criticals, Rng,
};
use common::*;
use gst::prelude::*;

/// A real encode: its caps and its buffers.
struct Encode {
    caps: gst::Caps,
    buffers: Vec<Vec<u8>>,
}

/// Runs `chain` (a launch line ending in what the element reads) to an
/// appsink and keeps what came out; None when an encoder is missing.
fn encode(chain: &str) -> Option<Encode> {
    let (caps, buffers) = pull_all(chain)?;
    Some(Encode {
        caps,
        buffers: buffers
            .iter()
            .map(|b| b.map_readable().unwrap().to_vec())
            .collect(),
    })
}

const PICTURE: &str =
    "videotestsrc num-buffers=50 pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1";

/// H.264 and HEVC, byte-stream and length-prefixed (each with its caps).
fn coded() -> &'static [Encode] {
    static ENCODES: OnceLock<Vec<Encode>> = OnceLock::new();
    ENCODES.get_or_init(|| {
        [
            "x264enc key-int-max=25 bframes=2 ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au",
            "x264enc key-int-max=25 ! h264parse ! video/x-h264,stream-format=avc,alignment=au",
            "x265enc key-int-max=25 ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au",
            "x265enc key-int-max=25 ! h265parse ! video/x-h265,stream-format=hvc1,alignment=au",
        ]
        .iter()
        .filter_map(|c| encode(&format!("{PICTURE} ! {c}")))
        .collect()
    })
}

/// A transport stream with H.264 and AAC, in 188- and in 192-byte packets.
fn transport() -> &'static [Encode] {
    static ENCODES: OnceLock<Vec<Encode>> = OnceLock::new();
    ENCODES.get_or_init(|| {
        ["", " m2ts-mode=true"]
            .iter()
            .filter_map(|mode| {
                encode(&format!(
                    "audiotestsrc num-buffers=94 ! avenc_aac ! aacparse ! m. \
                     {PICTURE} ! x264enc key-int-max=25 ! h264parse ! mpegtsmux name=m{mode}"
                ))
            })
            .map(|e| Encode {
                // one stream of bytes, to be cut anywhere
                buffers: vec![e.buffers.concat()],
                ..e
            })
            .collect()
    })
}

/// The bytes of the next buffer: the real ones, mutated one time in
/// three, or random one time in ten.
fn bytes(rng: &mut Rng, real: &[u8]) -> Vec<u8> {
    match rng.below(10) {
        0 => (0..rng.below(4000)).map(|_| rng.next() as u8).collect(),
        1..=3 => {
            let mut data = real.to_vec();
            mutate(rng, &mut data);
            data
        }
        _ => real.to_vec(),
    }
}

/// A harness on `factory` with a bus, started with `caps` and a segment in
/// time or (one time in three) in bytes, as from a file.
fn start(factory: &str, caps: &gst::Caps, rng: &mut Rng) -> Run {
    let mut r = Run::new(factory, &[], caps);
    if rng.below(3) == 0 {
        let seg = gst::FormattedSegment::<gst::format::Bytes>::new();
        assert!(r.h.push_event(gst::event::Segment::new(&seg)));
    }
    r
}

fn slicecheck(seed: u64) {
    init();
    watch_criticals();
    let encodes = coded();
    assert!(!encodes.is_empty(), "no H.264 or HEVC encoder");
    let mut rng = Rng::seeded(seed);
    let mut enc = &encodes[rng.below(encodes.len() as u64) as usize];
    let mut r = start("slicecheck", &enc.caps, &mut rng);
    let (mut open, mut t, mut i) = (HashMap::new(), 0, rng.below(50) as usize);
    for _ in 0..60 {
        if disturb(&mut rng, &mut r.h, &r.bus, &mut open, seed, &mut t, true) {
            enc = &encodes[rng.below(encodes.len() as u64) as usize];
            r.h.set_src_caps(enc.caps.clone());
        }
        // the next frame, or one from elsewhere (a splice)
        i = if rng.below(8) == 0 {
            rng.below(50) as usize
        } else {
            i + 1
        };
        let data = bytes(&mut rng, &enc.buffers[i % enc.buffers.len()]);
        let buf = timed(
            gst::Buffer::from_mut_slice(data),
            next_pts(&mut rng, &mut t, F),
            Some(F),
        );
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
}

fn tsmonitor(seed: u64) {
    init();
    watch_criticals();
    let encodes = transport();
    assert!(!encodes.is_empty(), "no transport stream");
    let mut rng = Rng::seeded(seed);
    let mut enc = &encodes[rng.below(encodes.len() as u64) as usize];
    let mut r = start("tsmonitor", &enc.caps, &mut rng);
    let (mut open, mut t) = (HashMap::new(), 0);
    let mut at = 0;
    for _ in 0..80 {
        if disturb(&mut rng, &mut r.h, &r.bus, &mut open, seed, &mut t, true) {
            enc = &encodes[rng.below(encodes.len() as u64) as usize];
            at = 0;
        }
        let all = &enc.buffers[0];
        // a piece of any length from anywhere near, packets cut anywhere
        let len = match rng.below(4) {
            0 => 1 + rng.below(200) as usize,
            _ => 1 + rng.below(20_000) as usize,
        };
        if rng.below(10) == 0 {
            at = rng.below(all.len() as u64) as usize;
        }
        let end = (at + len).min(all.len());
        let data = bytes(&mut rng, &all[at..end]);
        at = if end == all.len() { 0 } else { end };
        let pts = if rng.below(2) == 0 {
            None
        } else {
            next_pts(&mut rng, &mut t, F)
        };
        let buf = timed(gst::Buffer::from_mut_slice(data), pts, None);
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
}

/// cc_data of `n` triplets, each field 1 CEA-608, field 2, or 708 (valid
/// or not).
fn cc_data(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|_| {
            let marker = [0xfc, 0xfd, 0xfe, 0xff, 0xf8][rng.below(5) as usize];
            [marker, rng.next() as u8, rng.next() as u8]
        })
        .collect()
}

fn captiondetect(seed: u64) {
    use gst_video::VideoCaptionType as T;
    init();
    watch_criticals();
    let mut rng = Rng::seeded(seed);
    let caps = |rng: &mut Rng| {
        gst_video::VideoInfo::builder(
            gst_video::VideoFormat::I420,
            1 + rng.below(64) as u32,
            1 + rng.below(64) as u32,
        )
        .fps(
            [
                gst::Fraction::new(25, 1),
                gst::Fraction::new(30000, 1001),
                gst::Fraction::new(0, 1),
            ][rng.below(3) as usize],
        )
        .build()
        .unwrap()
        .to_caps()
        .unwrap()
    };
    let min = rng.below(5) * F;
    let mut r = Run::new("captiondetect", &[("min-duration", &min)], &caps(&mut rng));
    let (mut open, mut t) = (HashMap::new(), 0);
    for _ in 0..60 {
        if disturb(&mut rng, &mut r.h, &r.bus, &mut open, seed, &mut t, true) {
            r.h.set_src_caps(caps(&mut rng));
        }
        // any size: captiondetect reads the metas, not the picture
        let mut buf = gst::Buffer::from_mut_slice(vec![0x80u8; rng.below(1000) as usize]);
        {
            let b = buf.get_mut().unwrap();
            for _ in 0..rng.below(3) {
                let (ty, data) = match rng.below(5) {
                    0 => (
                        T::Cea608Raw,
                        (0..rng.below(6)).map(|_| rng.next() as u8).collect(),
                    ),
                    1 => (
                        T::Cea608S3341a,
                        (0..rng.below(9)).map(|_| rng.next() as u8).collect(),
                    ),
                    2 => {
                        let n = rng.below(40) as usize;
                        (T::Cea708Raw, cc_data(&mut rng, n))
                    }
                    3 => (
                        T::Cea708Cdp,
                        (0..rng.below(120)).map(|_| rng.next() as u8).collect(),
                    ),
                    _ => (T::Cea708Raw, {
                        let mut d = cc_data(&mut rng, 20);
                        mutate(&mut rng, &mut d);
                        d
                    }),
                };
                if !data.is_empty() {
                    gst_video::VideoCaptionMeta::add(b, ty, &data);
                }
            }
        }
        let buf = timed(
            buf,
            next_pts(&mut rng, &mut t, F),
            (rng.below(4) != 0).then_some(F),
        );
        check(&r.push(buf), &mut open, seed);
    }
    check(&r.event(gst::event::Eos::new()), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
}

fn avsyncdetect(seed: u64) {
    use gst_audio::AudioFormat as A;
    init();
    watch_criticals();
    let mut rng = Rng::seeded(seed);
    let video_caps = |rng: &mut Rng| {
        let formats = gstavmonitor::videodetect::FORMATS;
        let format = formats[rng.below(formats.len() as u64) as usize];
        gst_video::VideoInfo::builder(format, 1 + rng.below(160) as u32, 1 + rng.below(120) as u32)
            .fps([gst::Fraction::new(25, 1), gst::Fraction::new(0, 1)][rng.below(2) as usize])
            .build()
            .unwrap()
    };
    let audio_caps = |rng: &mut Rng| {
        let format = [A::S16le, A::S32le, A::F32le, A::F64le][rng.below(4) as usize];
        let rate = [8000, 44_100, 48_000, 96_000][rng.below(4) as usize];
        gst_audio::AudioInfo::builder(format, rate, 1 + rng.below(8) as u32)
            .build()
            .unwrap()
    };
    let mut vinfo = video_caps(&mut rng);
    let mut ainfo = audio_caps(&mut rng);
    let mode = ["auto", "content", "test-signal"][rng.below(3) as usize];
    let mut v =
        gst_check::Harness::with_padnames("avsyncdetect", Some("video_sink"), Some("video_src"));
    let element = v.element().unwrap();
    let bus = gst::Bus::new();
    element.set_bus(Some(&bus));
    element.set_property_from_str("mode", mode);
    // (measurements from one second of content, every 100 ms)
    element.set_property("window", SECOND);
    element.set_property("interval", 100_000_000u64);
    let mut a = gst_check::Harness::with_element(&element, Some("audio_sink"), Some("audio_src"));
    v.set_src_caps(vinfo.to_caps().unwrap());
    a.set_src_caps(ainfo.to_caps().unwrap());
    let mut open = HashMap::new();
    let (mut tv, mut ta) = (0, 0);
    for _ in 0..120 {
        if rng.below(2) == 0 {
            if disturb(&mut rng, &mut v, &bus, &mut open, seed, &mut tv, false) {
                vinfo = video_caps(&mut rng);
                v.set_src_caps(vinfo.to_caps().unwrap());
            }
            // flat pictures, dark or bright (flashes), or noise
            let size = vinfo.size();
            let data = match rng.below(3) {
                0 => vec![16; size],
                1 => vec![235; size],
                _ => (0..size).map(|_| rng.next() as u8).collect(),
            };
            let pts = next_pts(&mut rng, &mut tv, F);
            pass_unchanged(
                &mut v,
                timed(gst::Buffer::from_mut_slice(data), pts, Some(F)),
            );
        } else {
            if disturb(&mut rng, &mut a, &bus, &mut open, seed, &mut ta, false) {
                ainfo = audio_caps(&mut rng);
                a.set_src_caps(ainfo.to_caps().unwrap());
            }
            // silence, a full-scale burst (a beep to the detector), or noise
            let frames = rng.below(2400) as usize;
            let size = frames * ainfo.bpf() as usize;
            let data = match rng.below(3) {
                0 => vec![0; size],
                1 => (0..size)
                    .map(|i| if (i / 64) % 2 == 0 { 0x7f } else { 0x80 })
                    .collect(),
                _ => (0..size).map(|_| rng.next() as u8).collect(),
            };
            let dur = frames as u64 * SECOND / u64::from(ainfo.rate());
            let pts = next_pts(&mut rng, &mut ta, dur);
            pass_unchanged(
                &mut a,
                timed(gst::Buffer::from_mut_slice(data), pts, Some(dur)),
            );
        }
        check(&bus_messages(&bus), &mut open, seed);
    }
    assert!(v.push_event(gst::event::Eos::new()));
    assert!(a.push_event(gst::event::Eos::new()));
    check(&bus_messages(&bus), &mut open, seed);
    all_closed(&open, seed);
    no_criticals(seed);
    // (what teardown posts is dropped: see `Run`'s drop)
    bus.set_flushing(true);
}

#[test]
fn slicecheck_random_streams() {
    for seed in 0..seeds() {
        slicecheck(seed);
    }
}

#[test]
fn tsmonitor_random_streams() {
    for seed in 0..seeds() {
        tsmonitor(seed);
    }
}

#[test]
fn captiondetect_random_streams() {
    for seed in 0..seeds() {
        captiondetect(seed);
    }
}

#[test]
fn avsyncdetect_random_streams() {
    for seed in 0..seeds() {
        avsyncdetect(seed);
    }
}
