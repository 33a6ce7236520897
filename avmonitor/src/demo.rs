//! Built-in generated streams (`demo:1` to `demo:3`), for the default run
//! and for trying the service without media: 20 s each at 25 fps (640x360)
//! with 48 kHz stereo, defects injected by rewriting the generated buffers.
//!
//! - `demo:1`: scrolling colour bars, black 4-7 s, frozen 10-14 s; two tones,
//!   clipped 2-2.5 s, silent 15-18 s.
//! - `demo:2`: a flash/beep sync test pattern (a white frame and a 1 kHz beep
//!   every 2 s), the audio 80 ms late.
//! - `demo:3`: bars and tones whose source fails at 5 s the first time it
//!   runs (the service restarts it; it then plays through).
//! - `demo:0`: a small endless stream without defects (160x90 at 10 fps,
//!   scrolling bars and a tone), light enough to run dozens (cluster tests,
//!   trying a fleet).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;

const FPS: u64 = 25;
const FRAMES: u64 = 20 * FPS;
const RATE: u64 = 48_000;
const W: usize = 640;
const H: usize = 360;

static DEMO3_RUNS: AtomicU32 = AtomicU32::new(0);

/// What `uri` names, if it is a demo stream.
pub fn which(uri: &str) -> Option<u32> {
    uri.strip_prefix("demo:")
        .and_then(|n| n.parse().ok())
        .filter(|n| (0..=3).contains(n))
}

/// The source bin of demo stream `n`, with "video" and "audio" pads.
pub fn source(n: u32) -> Result<gst::Bin, String> {
    let endless = "videotestsrc name=v pattern=smpte horizontal-speed=2 \
         ! video/x-raw,format=I420,width=160,height=90,framerate=10/1 ! identity name=vout \
         audiotestsrc name=a wave=sine volume=0.1 samplesperbuffer=4800 \
         ! audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved ! identity name=aout"
        .to_string();
    let bin = gst::parse::bin_from_description(
        &if n == 0 {
            endless
        } else {
            format!(
                "videotestsrc name=v pattern={} horizontal-speed={} num-buffers={FRAMES} \
             ! video/x-raw,format=I420,width={W},height={H},framerate={FPS}/1 \
             ! identity name=vout \
             audiotestsrc name=a wave=silence samplesperbuffer=1920 num-buffers={} \
             ! audio/x-raw,format=F32LE,rate={RATE},channels=2,layout=interleaved \
             ! identity name=aout",
                if n == 2 { "black" } else { "smpte" },
                if n == 2 { 0 } else { 4 },
                FRAMES * RATE / FPS / 1920
            )
        },
        false,
    )
    .map_err(|e| e.to_string())?;
    bin.set_property("name", format!("demo{n}"));
    for (inner, pad) in [("vout", "video"), ("aout", "audio")] {
        let target = bin
            .by_name(inner)
            .and_then(|e| e.static_pad("src"))
            .ok_or("demo: missing pad")?;
        let ghost = gst::GhostPad::builder_with_target(&target)
            .map_err(|e| e.to_string())?
            .name(pad)
            .build();
        bin.add_pad(&ghost).map_err(|e| e.to_string())?;
    }
    let vpad = bin
        .by_name("v")
        .and_then(|e| e.static_pad("src"))
        .ok_or("demo: no video")?;
    let apad = bin
        .by_name("a")
        .and_then(|e| e.static_pad("src"))
        .ok_or("demo: no audio")?;
    match n {
        1 => {
            video_defects(&vpad, 100..175, 250..350);
            audio(&apad, |i, v| {
                if (15 * RATE..18 * RATE).contains(&i) {
                    0.0
                } else if (2 * RATE..5 * RATE / 2).contains(&i) {
                    (v * 30.0).clamp(-1.0, 1.0)
                } else {
                    v
                }
            });
        }
        2 => {
            flashes(&vpad);
            audio(&apad, |i, _| {
                let t = i as f64 / RATE as f64;
                let dt = t - (t / 2.0).floor() * 2.0 - 0.080;
                if (0.0..0.1).contains(&dt) {
                    0.5 * (std::f64::consts::TAU * 1000.0 * dt).sin()
                } else {
                    0.0
                }
            });
        }
        0 => (),
        _ => {
            audio(&apad, |_, v| v);
            if DEMO3_RUNS.fetch_add(1, Ordering::SeqCst) == 0 {
                fail_at(&vpad, 5 * gst::ClockTime::SECOND);
            }
        }
    }
    Ok(bin)
}

fn frame_index(buf: &gst::BufferRef) -> u64 {
    buf.pts()
        .map_or(0, |t| (t.nseconds() * FPS + 500_000_000) / 1_000_000_000)
}

/// Black frames in `black`, the first frame of `frozen` repeated through it.
fn video_defects(pad: &gst::Pad, black: std::ops::Range<u64>, frozen: std::ops::Range<u64>) {
    let held: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() {
            let i = frame_index(buf);
            if !black.contains(&i) && !frozen.contains(&i) {
                return gst::PadProbeReturn::Ok;
            }
            let b = buf.make_mut();
            if let Ok(mut map) = b.map_writable() {
                let data = map.as_mut_slice();
                if black.contains(&i) {
                    data[..W * H].fill(16);
                    data[W * H..].fill(128);
                } else {
                    let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
                    match held.as_ref() {
                        Some(frame) if frame.len() == data.len() => data.copy_from_slice(frame),
                        _ => *held = Some(data.to_vec()),
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// A white first frame of every 2 s.
fn flashes(pad: &gst::Pad) {
    pad.add_probe(gst::PadProbeType::BUFFER, |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() {
            if frame_index(buf).is_multiple_of(2 * FPS) {
                let b = buf.make_mut();
                if let Ok(mut map) = b.map_writable() {
                    map.as_mut_slice()[..W * H].fill(235);
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// Writes the audio: a 440 Hz tone left and 554 Hz right at -20 dBFS,
/// passed through `f(sample index, value)`.
fn audio(pad: &gst::Pad, f: impl Fn(u64, f64) -> f64 + Send + Sync + 'static) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() {
            let first = buf.offset();
            let b = buf.make_mut();
            if let Ok(mut map) = b.map_writable() {
                for (k, frame) in map.as_mut_slice().chunks_exact_mut(8).enumerate() {
                    let i = first + k as u64;
                    let t = i as f64 / RATE as f64;
                    for (c, hz) in [(0usize, 440.0), (1, 554.37)] {
                        let v = f(i, 0.1 * (std::f64::consts::TAU * hz * t).sin());
                        frame[c * 4..c * 4 + 4].copy_from_slice(&(v as f32).to_le_bytes());
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// The source fails (an error from it, its buffers dropped) from `at` on.
fn fail_at(pad: &gst::Pad, at: gst::ClockTime) {
    let failed = std::sync::atomic::AtomicBool::new(false);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let late = info.buffer().and_then(|b| b.pts()).is_some_and(|t| t >= at);
        if !late {
            return gst::PadProbeReturn::Ok;
        }
        if !failed.swap(true, Ordering::SeqCst) {
            if let Some(el) = pad.parent_element() {
                gst::element_error!(
                    el,
                    gst::ResourceError::Read,
                    ["demo source failed (injected)"]
                );
            }
        }
        gst::PadProbeReturn::Drop
    });
}
