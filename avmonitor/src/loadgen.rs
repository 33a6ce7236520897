//! Live load generators for the scale benchmark (`bench:raw`, `bench:h264`):
//! 1080p25 video and 48 kHz stereo audio made once and pushed again in real
//! time, so that generating many streams costs next to nothing.
//!
//! - `bench:raw`: two raw I420 frames of moving texture in turn (so nothing
//!   is frozen or black) and a tone, in 10 ms buffers.
//! - `bench:h264`: one 2 s group of pictures of the same texture, encoded
//!   once by x264 for the whole process, decoded by `avdec_h264` in each
//!   stream; the same audio.
//!
//! One thread feeds every source: it pushes each buffer (a new reference to
//! the same memory, with its own timestamps) when its time comes.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use gst::prelude::*;

const W: u32 = 1920;
const H: u32 = 1080;
const FPS: u64 = 25;
const FRAME: u64 = 1_000_000_000 / FPS;
const AUDIO: u64 = 10_000_000;
const RATE: u64 = 48_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Raw,
    H264,
}

pub fn which(uri: &str) -> Option<Kind> {
    match uri {
        "bench:raw" => Some(Kind::Raw),
        "bench:h264" => Some(Kind::H264),
        _ => None,
    }
}

/// A source being fed: what it pushes in turn, every `step` ns.
struct Feed {
    src: gst::glib::WeakRef<gst_app::AppSrc>,
    buffers: Vec<gst::Buffer>,
    step: u64,
    next: u64,
    started: Option<Instant>,
}

fn feeds() -> &'static Mutex<Vec<Feed>> {
    static FEEDS: OnceLock<Mutex<Vec<Feed>>> = OnceLock::new();
    FEEDS.get_or_init(|| {
        std::thread::Builder::new()
            .name("avmonitor-loadgen".into())
            .spawn(feed_loop)
            .expect("a thread for the load generator");
        Mutex::default()
    })
}

/// Every 5 ms, pushes what is due; drops sources that are gone.
fn feed_loop() {
    loop {
        std::thread::sleep(Duration::from_millis(5));
        let mut feeds = feeds().lock().unwrap_or_else(|e| e.into_inner());
        feeds.retain_mut(|f| {
            let Some(src) = f.src.upgrade() else {
                return false;
            };
            if src.current_state() != gst::State::Playing {
                return true;
            }
            let started = *f.started.get_or_insert_with(Instant::now);
            let now = started.elapsed().as_nanos() as u64;
            while f.next <= now {
                let i = (f.next / f.step) as usize % f.buffers.len();
                let mut b = f.buffers[i].copy();
                {
                    let b = b.make_mut();
                    b.set_pts(gst::ClockTime::from_nseconds(f.next));
                    b.set_duration(gst::ClockTime::from_nseconds(f.step));
                    if i != 0 {
                        b.unset_flags(gst::BufferFlags::DISCONT);
                    }
                }
                if src.push_buffer(b).is_err() {
                    return false;
                }
                f.next += f.step;
            }
            true
        });
    }
}

fn texture(dx: u32) -> Vec<u8> {
    let (w, h) = (W as usize, H as usize);
    let mut data = vec![128u8; w * h * 3 / 2];
    for y in 0..h {
        for x in 0..w {
            let (u, v) = ((x as u32 + dx) as f64, y as f64);
            let l = 120.0
                + 45.0
                    * (u / 37.0 * std::f64::consts::TAU).sin()
                    * (v / 53.0 * std::f64::consts::TAU).cos()
                + 25.0 * ((u + 2.0 * v) / 91.0 * std::f64::consts::TAU).sin();
            data[y * w + x] = l.clamp(16.0, 235.0) as u8;
        }
    }
    data
}

fn raw_frames() -> &'static [gst::Buffer] {
    static FRAMES: OnceLock<Vec<gst::Buffer>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        [0, 4]
            .into_iter()
            .map(|dx| gst::Buffer::from_mut_slice(texture(dx)))
            .collect()
    })
}

fn audio_buffers() -> &'static [gst::Buffer] {
    static AUDIO_BUFS: OnceLock<Vec<gst::Buffer>> = OnceLock::new();
    AUDIO_BUFS.get_or_init(|| {
        // 100 buffers of 10 ms: one second of a 440/554 Hz pair, which loops cleanly
        let per = (RATE * AUDIO / 1_000_000_000) as usize;
        (0..100)
            .map(|k| {
                let mut d = Vec::with_capacity(per * 8);
                for i in 0..per {
                    let t = (k * per + i) as f64 / RATE as f64;
                    for hz in [440.0, 554.0] {
                        let v = 0.1 * (std::f64::consts::TAU * hz * t).sin();
                        d.extend((v as f32).to_le_bytes());
                    }
                }
                gst::Buffer::from_mut_slice(d)
            })
            .collect()
    })
}

/// One group of pictures of the texture, encoded once.
fn h264_gop() -> Result<&'static [gst::Buffer], String> {
    static GOP: OnceLock<Result<Vec<gst::Buffer>, String>> = OnceLock::new();
    GOP.get_or_init(|| {
        let p = gst::parse::launch(&format!(
            "appsrc name=s format=time caps=video/x-raw,format=I420,width={W},height={H},framerate={FPS}/1 \
             ! x264enc speed-preset=veryfast key-int-max=50 bframes=0 bitrate=6000 \
             ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=k sync=false"
        ))
        .map_err(|e| format!("bench:h264 needs x264enc: {e}"))?
        .downcast::<gst::Pipeline>()
        .map_err(|_| "not a pipeline")?;
        let src = p
            .by_name("s")
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
            .ok_or("no appsrc")?;
        let sink = p
            .by_name("k")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or("no appsink")?;
        p.set_state(gst::State::Playing).map_err(|e| e.to_string())?;
        let frames = raw_frames();
        for i in 0..50u64 {
            let mut b = frames[(i % 2) as usize].copy();
            b.make_mut().set_pts(gst::ClockTime::from_nseconds(i * FRAME));
            src.push_buffer(b).map_err(|e| e.to_string())?;
        }
        let _ = src.end_of_stream();
        let mut out = Vec::new();
        while let Ok(s) = sink.pull_sample() {
            if let Some(b) = s.buffer_owned() {
                out.push(b);
            }
        }
        let _ = p.set_state(gst::State::Null);
        if out.len() != 50 {
            return Err(format!("bench:h264: encoded {} frames, not 50", out.len()));
        }
        Ok(out)
    })
    .as_ref()
    .map(|v| v.as_slice())
    .map_err(|e| e.clone())
}

fn appsrc(caps: &gst::Caps) -> gst_app::AppSrc {
    gst_app::AppSrc::builder()
        .caps(caps)
        .format(gst::Format::Time)
        .is_live(true)
        .max_bytes(0)
        .max_buffers(8)
        .leaky_type(gst_app::AppLeakyType::Downstream)
        .build()
}

/// The source bin for `kind`, with "video" and "audio" pads.
pub fn source(kind: Kind) -> Result<gst::Bin, String> {
    let bin = gst::Bin::new();
    let raw_caps = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, W, H)
        .fps(gst::Fraction::new(FPS as i32, 1))
        .build()
        .and_then(|i| i.to_caps())
        .map_err(|e| e.to_string())?;
    let (video, video_out, buffers) = match kind {
        Kind::Raw => {
            let v = appsrc(&raw_caps);
            (v.clone(), v.upcast::<gst::Element>(), raw_frames().to_vec())
        }
        Kind::H264 => {
            let caps = gst::Caps::builder("video/x-h264")
                .field("stream-format", "byte-stream")
                .field("alignment", "au")
                .field("width", W as i32)
                .field("height", H as i32)
                .field("framerate", gst::Fraction::new(FPS as i32, 1))
                .build();
            let v = appsrc(&caps);
            let dec = gst::ElementFactory::make("avdec_h264")
                .build()
                .map_err(|_| "bench:h264 needs avdec_h264")?;
            bin.add_many([v.upcast_ref::<gst::Element>(), &dec])
                .map_err(|e| e.to_string())?;
            v.link(&dec).map_err(|e| e.to_string())?;
            (v, dec, h264_gop()?.to_vec())
        }
    };
    let acaps = gst_audio::AudioInfo::builder(gst_audio::AudioFormat::F32le, RATE as u32, 2)
        .build()
        .and_then(|i| i.to_caps())
        .map_err(|e| e.to_string())?;
    let audio = appsrc(&acaps);
    if kind == Kind::Raw {
        bin.add(&video).map_err(|e| e.to_string())?;
    }
    bin.add(&audio).map_err(|e| e.to_string())?;
    for (el, name) in [(&video_out, "video"), (audio.upcast_ref(), "audio")] {
        let pad = el.static_pad("src").ok_or("no src pad")?;
        let ghost = gst::GhostPad::builder_with_target(&pad)
            .map_err(|e| e.to_string())?
            .name(name)
            .build();
        bin.add_pad(&ghost).map_err(|e| e.to_string())?;
    }
    let mut feeds = feeds().lock().unwrap_or_else(|e| e.into_inner());
    for (src, buffers, step) in [
        (video, buffers, FRAME),
        (audio, audio_buffers().to_vec(), AUDIO),
    ] {
        feeds.push(Feed {
            src: src.downgrade(),
            buffers,
            step,
            next: 0,
            started: None,
        });
    }
    Ok(bin)
}
