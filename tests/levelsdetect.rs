//! levelsdetect: exact timing on hand-made buffers, limited and full range,
//! 8 and 10 bit, every format, presets, and real pipelines.
mod common;

use common::contract::Spec;
use common::*;
use gst::prelude::*;
use gst_video::VideoFormat;
use gstavmonitor::{LevelsDetectMessage, LevelsStats};

/// Texture panned 3 pixels a frame, pushed up into super-white (248 and
/// above: beyond R103's 241).
fn defect(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    thread_local!(static T: Texture = Texture::new());
    T.with(|t| yuv_buffer(info, &t.window(w, h, 3 * i, 0, 0.1, 230.0)))
}

/// The same texture at legal levels (35 to 205).
fn good(info: &gst_video::VideoInfo, i: usize) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    thread_local!(static T: Texture = Texture::new());
    T.with(|t| yuv_buffer(info, &t.window(w, h, 3 * i, 0, 1.0, 0.0)))
}

const SPEC: Spec = Spec {
    factory: "levelsdetect",
    defect,
    good,
};

contract_tests!(SPEC);

/// A frame of `info` (planar YUV, 8 or 16-bit words) with every luma
/// sample `y` and every chroma sample `u`, `v`.
fn solid(info: &gst_video::VideoInfo, y: u16, u: u16, v: u16) -> gst::Buffer {
    let mut buf = gst::Buffer::with_size(info.size()).unwrap();
    {
        let b = buf.get_mut().unwrap();
        let mut frame = gst_video::VideoFrameRef::from_buffer_ref_writable(b, info).unwrap();
        let wide = info.format_info().depth()[0] > 8;
        for (plane, value) in [(0, y), (1, u), (2, v)] {
            let data = frame.plane_data_mut(plane).unwrap();
            if wide {
                for c in data.chunks_exact_mut(2) {
                    c.copy_from_slice(&value.to_le_bytes());
                }
            } else {
                data.fill(value as u8);
            }
        }
    }
    buf
}

fn with_range(format: VideoFormat, full: bool) -> gst_video::VideoInfo {
    init();
    let range = if full {
        gst_video::VideoColorRange::Range0_255
    } else {
        gst_video::VideoColorRange::Range16_235
    };
    let c = gst_video::VideoColorimetry::new(
        range,
        gst_video::VideoColorMatrix::Bt709,
        gst_video::VideoTransferFunction::Bt709,
        gst_video::VideoColorPrimaries::Bt709,
    );
    gst_video::VideoInfo::builder(format, 64, 48)
        .fps(gst::Fraction::new(25, 1))
        .colorimetry(&c)
        .build()
        .unwrap()
}

fn run(info: &gst_video::VideoInfo, props: &[(&str, &dyn gst::glib::value::ToValue)]) -> Run {
    let mut all: Vec<(&str, &dyn gst::glib::value::ToValue)> =
        vec![("min-duration", &0u64), ("post-messages", &false)];
    all.extend_from_slice(props);
    Run::new("levelsdetect", &all, &info.to_caps().unwrap())
}

/// The stats of the first start `buf` causes, `None` when it is legal.
fn judge(r: &mut Run, buf: gst::Buffer) -> Option<LevelsStats> {
    let m = r.push(timed(buf, Some(0), Some(F)));
    let got = m
        .iter()
        .find_map(|s| match LevelsDetectMessage::from_structure(s).unwrap() {
            LevelsDetectMessage::Illegal { stats, .. } => Some(stats),
            LevelsDetectMessage::Measurement { .. } => None,
        });
    // back to legal for the next call
    r.event(gst::event::FlushStart::new());
    r.event(gst::event::FlushStop::new(true));
    r.event(gst::event::Segment::new(&gst::FormattedSegment::<
        gst::ClockTime,
    >::new()));
    got
}

#[test]
fn limited_and_full_range_8_and_10_bit() {
    // limited 8 bit: 241 is the highest legal luma, 242 is not; 14 the lowest
    let lim = with_range(VideoFormat::I420, false);
    let mut r = run(&lim, &[]);
    assert!(judge(&mut r, solid(&lim, 241, 128, 128)).is_none());
    let s = judge(&mut r, solid(&lim, 242, 128, 128)).expect("super-white");
    assert_eq!(s.luma_share, 1.0);
    assert!((s.luma_max - 226.0 / 219.0).abs() < 1e-6, "{s:?}");
    assert!(judge(&mut r, solid(&lim, 14, 128, 128)).is_none());
    assert!(judge(&mut r, solid(&lim, 13, 128, 128)).is_some());
    // full range: 255 is nominal white, 0 nominal black, both legal
    let full = with_range(VideoFormat::I420, true);
    let mut r = run(&full, &[]);
    assert!(judge(&mut r, solid(&full, 255, 128, 128)).is_none());
    assert!(judge(&mut r, solid(&full, 0, 128, 128)).is_none());
    // limited 10 bit: 64 + 1.03 * 876 = 966.3
    let lim10 = with_range(VideoFormat::I42010le, false);
    let mut r = run(&lim10, &[]);
    assert!(judge(&mut r, solid(&lim10, 966, 512, 512)).is_none());
    let s = judge(&mut r, solid(&lim10, 967, 512, 512)).expect("10-bit super-white");
    assert_eq!(s.luma_share, 1.0);
    // full 10 bit: 1023 is white
    let full10 = with_range(VideoFormat::I42010le, true);
    let mut r = run(&full10, &[]);
    assert!(judge(&mut r, solid(&full10, 1023, 512, 512)).is_none());
}

#[test]
fn saturated_chroma_is_out_of_gamut_with_legal_luma() {
    let info = with_range(VideoFormat::I420, false);
    let mut r = run(&info, &[]);
    // mid grey with Cr at its top: R' = 0.5 + 1.5748 * 0.5 = 1.29
    let s = judge(&mut r, solid(&info, 126, 128, 240)).expect("out of gamut");
    assert_eq!((s.luma_share, s.rgb_share), (0.0, 1.0));
    assert!((s.cr_max - 0.5).abs() < 1e-6 && s.rgb_max > 1.28, "{s:?}");
    // the same chroma on a darker picture stays in gamut: R' = 0.2 + 0.16
    assert!(judge(&mut r, solid(&info, 60, 128, 150)).is_none());
}

#[test]
fn presets_set_the_limits_and_read_back() {
    let info = with_range(VideoFormat::I420, false);
    let mut r = run(&info, &[]);
    let e = r.element();
    assert_eq!(
        e.property_value("preset")
            .get::<gstavmonitor::LevelsPreset>()
            .unwrap(),
        gstavmonitor::LevelsPreset::EbuR103
    );
    // 240 is legal under R103, not under the nominal house rule
    assert!(judge(&mut r, solid(&info, 240, 128, 128)).is_none());
    e.set_property_from_str("preset", "nominal");
    assert_eq!(e.property::<f64>("luma-max"), 1.0);
    assert!(judge(&mut r, solid(&info, 240, 128, 128)).is_some());
    assert!(judge(&mut r, solid(&info, 235, 128, 128)).is_none());
    // R103 v3: 246 legal, 247 not
    e.set_property_from_str("preset", "ebu-r103-v3");
    assert!(judge(&mut r, solid(&info, 246, 128, 128)).is_none());
    assert!(judge(&mut r, solid(&info, 247, 128, 128)).is_some());
    e.set_property("luma-max", 1.2f64);
    e.set_property("rgb-max", 1.2f64);
    assert_eq!(
        e.property_value("preset")
            .get::<gstavmonitor::LevelsPreset>()
            .unwrap(),
        gstavmonitor::LevelsPreset::Custom
    );
    assert!(judge(&mut r, solid(&info, 250, 128, 128)).is_none());
}

#[test]
fn max_share_and_measurements() {
    let info = info(VideoFormat::I420, 64, 64);
    let mut r = Run::new(
        "levelsdetect",
        &[
            ("min-duration", &(2 * F)),
            ("line-step", &1u32),
            ("interval", &(4 * F)),
        ],
        &info.to_caps().unwrap(),
    );
    // one super-white row of 64 (1.6%) is over the 1% share, and starts
    // after 2 frames, back-dated; four frames make one measurement
    let mut luma = vec![126u8; 64 * 64];
    luma[..64].fill(250);
    let mut got = Vec::new();
    for i in 0..4u64 {
        for s in r.push(timed(yuv_buffer(&info, &luma), Some(i * F), Some(F))) {
            got.push((i, LevelsDetectMessage::from_structure(&s).unwrap()));
        }
    }
    assert_eq!(got.len(), 2, "{got:?}");
    let (1, LevelsDetectMessage::Illegal { event, stats }) = got[0] else {
        panic!("{got:?}")
    };
    assert_eq!(event.at.timestamp, 0);
    assert!((stats.luma_share - 1.0 / 64.0).abs() < 1e-9);
    let (
        3,
        LevelsDetectMessage::Measurement {
            at,
            stats,
            frames,
            illegal_frames,
        },
    ) = got[1]
    else {
        panic!("{got:?}")
    };
    assert_eq!((at.timestamp, frames, illegal_frames), (4 * F, 4, 4));
    assert!((stats.luma_max - 234.0 / 219.0).abs() < 1e-6);
    // with a 2% share allowed the same picture is legal
    r.element().set_property("max-share", 0.02f64);
    let m = r.push(timed(yuv_buffer(&info, &luma), Some(4 * F), Some(F)));
    let ends: Vec<_> = m
        .iter()
        .filter(|s| !is_measurement(s))
        .map(|s| ev(s))
        .collect();
    assert_eq!(
        ends.iter().map(|e| (e.kind, e.ts)).collect::<Vec<_>>(),
        [("end", 4 * F)]
    );
}

/// An I420 frame with `luma` and every chroma sample `u`, `v`.
fn coloured(info: &gst_video::VideoInfo, luma: &[u8], u: u8, v: u8) -> gst::Buffer {
    let mut b = yuv_buffer(info, luma);
    {
        let b = b.get_mut().unwrap();
        let mut f = gst_video::VideoFrameRef::from_buffer_ref_writable(b, info).unwrap();
        f.plane_data_mut(1).unwrap().fill(u);
        f.plane_data_mut(2).unwrap().fill(v);
    }
    b
}

/// Frames 5 to 14 of 20 `defect`, the others `good`, converted from I420
/// by videoconvert to every format: the formats whose events differ from
/// start 5 / end 15 (YUV formats) or nothing (RGB and grey formats: full
/// range, they clip what is beyond white, and grey drops colour).
fn every_format_with(
    defect: impl Fn(&gst_video::VideoInfo, usize) -> gst::Buffer,
    good: impl Fn(&gst_video::VideoInfo, usize) -> gst::Buffer,
) -> Vec<String> {
    init();
    let base = info(VideoFormat::I420, 96, 64);
    let frames: Vec<gst::Buffer> = (0..20usize)
        .map(|i| {
            let b = if (5..15).contains(&i) {
                defect(&base, i)
            } else {
                good(&base, i)
            };
            timed(b, Some(i as u64 * F), Some(F))
        })
        .collect();
    let caps = base.to_caps().unwrap();
    let mut failures = Vec::new();
    for fmt in gstavmonitor::videodetect::FORMATS {
        let chain = format!(
            "videoconvert ! video/x-raw,format={} ! levelsdetect min-duration={}",
            fmt.to_str(),
            4 * F
        );
        let got: Vec<(&str, u64)> = run_frames(&caps, frames.clone(), &chain)
            .iter()
            .map(|(_, e)| (e.kind, e.ts))
            .collect();
        let name = fmt.to_str();
        let rgb = ["RGB", "BGR", "GRAY"].iter().any(|k| name.contains(k));
        let want = if rgb {
            vec![]
        } else {
            vec![("start", 5 * F), ("end", 15 * F)]
        };
        if got != want {
            failures.push(format!("{name}: {got:?}"));
        }
    }
    failures
}

/// Super-white frames among legal ones: YUV formats keep super-white and
/// are judged alike.
#[test]
fn every_format() {
    let failures = every_format_with(defect, good);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Frames of a red too strong for R'G'B' (Y' 160, Cb 100, Cr 200: R'
/// 116%) among legal ones of a muted red (Cr 150: R' 81%): every YUV format
/// reads both chroma components (semi-planar, packed, 10-bit words, v210).
/// It did not show P010's Cr read from the wrong byte; the hand-made P010
/// test below does.
#[test]
fn every_format_reads_chroma() {
    let flat = |info: &gst_video::VideoInfo| vec![160u8; (info.width() * info.height()) as usize];
    let failures = every_format_with(
        |info, _| coloured(info, &flat(info), 100, 200),
        |info, _| coloured(info, &flat(info), 100, 150),
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Real pipelines through videotestsrc: 75% and 100% colour bars, a
/// gradient, a ball, snow, white, a pinwheel and a zone plate are legal;
/// videotestsrc's `gamut` pattern (made to be out of gamut), its `colors`
/// pattern (a walk through Y'CbCr), its `smpte` pattern (the -I and +Q
/// patches are outside R'G'B', the PLUGE's -4% bar below black) and grey
/// pushed up by videobalance are not.
#[test]
fn real_pipelines() {
    init();
    let launch = |pattern: &str, extra: &str| {
        let p = gst::parse::launch(&format!(
            "videotestsrc pattern={pattern} num-buffers=50 ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
             {extra} ! levelsdetect min-duration=400000000 ! fakesink"
        ))
        .unwrap();
        run_to_eos(&p)
            .iter()
            .map(|e| (e.kind, e.ts, e.reason))
            .collect::<Vec<_>>()
    };
    for pattern in [
        "smpte75",
        "smpte100",
        "gradient",
        "ball",
        "snow",
        "white",
        "pinwheel",
        "zone-plate",
    ] {
        assert_eq!(launch(pattern, ""), [], "{pattern}");
    }
    let whole = [("start", 0, None), ("end", 2 * SECOND, Some("eos"))];
    for pattern in ["gamut", "colors", "smpte"] {
        assert_eq!(launch(pattern, ""), whole, "{pattern}");
    }
    assert_eq!(
        launch(
            "solid-color foreground-color=0xff808080",
            "! videobalance brightness=0.9"
        ),
        whole
    );
}

/// P010 made by hand (10-bit values in the high bits of 16-bit words, Cb
/// and Cr interleaved): Cr is read from its own word, at byte 2 of each
/// pair. GStreamer 1.22's format info gives its offset as 1; read there,
/// Cr comes out as garbage and both frames below turn illegal.
#[test]
fn p010_chroma_is_read_from_its_own_word() {
    let info = with_range(VideoFormat::P01010le, false);
    let frame = |cr: u16| {
        let mut buf = gst::Buffer::with_size(info.size()).unwrap();
        {
            let b = buf.get_mut().unwrap();
            let mut f = gst_video::VideoFrameRef::from_buffer_ref_writable(b, &info).unwrap();
            for c in f.plane_data_mut(0).unwrap().chunks_exact_mut(2) {
                c.copy_from_slice(&(640u16 << 6).to_le_bytes());
            }
            for c in f.plane_data_mut(1).unwrap().chunks_exact_mut(4) {
                c[..2].copy_from_slice(&(400u16 << 6).to_le_bytes());
                c[2..].copy_from_slice(&(cr << 6).to_le_bytes());
            }
        }
        buf
    };
    let mut r = run(&info, &[]);
    // Y' 640 (0.658), Cb 400, Cr 800 (0.321): R' 116%
    let s = judge(&mut r, frame(800)).expect("an over-strong red");
    assert!((s.cr_max - 288.0 / 896.0).abs() < 1e-6, "{s:?}");
    assert_eq!((s.luma_share, s.rgb_share), (0.0, 1.0));
    // Cr 600 (0.098): R' 81%, legal
    assert!(judge(&mut r, frame(600)).is_none());
}
