//! Shared test helpers: plugin registration, synthetic pictures, hand-made
//! timed buffers, harnesses with a bus, and message collection.
#![allow(dead_code)]

use std::sync::OnceLock;

use gst::prelude::*;

pub const F: u64 = 40_000_000; // one frame at 25 fps
pub const SECOND: u64 = 1_000_000_000;

pub fn init() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        gst::init().expect("gst::init");
        gstavmonitor::plugin_register_static().expect("register avmonitor");
    });
}

/// A smooth natural-looking texture (sums of sinusoids), big enough to pan over.
pub struct Texture {
    pub size: usize,
    pub data: Vec<u8>,
}

impl Texture {
    pub fn new() -> Self {
        use std::f64::consts::TAU;
        let size = 1024;
        let mut data = vec![0u8; size * size];
        for y in 0..size {
            for x in 0..size {
                let (u, v) = (x as f64, y as f64);
                let l = 120.0
                    + 45.0 * (TAU * u / 37.0).sin() * (TAU * v / 53.0).cos()
                    + 25.0 * (TAU * (u + 2.0 * v) / 91.0).sin()
                    + 15.0 * (TAU * (3.0 * u - v) / 23.0).cos();
                data[y * size + x] = l.clamp(16.0, 235.0) as u8;
            }
        }
        Texture { size, data }
    }

    /// A `w` x `h` window at (`dx`, `dy`) (wrapping), luma scaled by `gain`
    /// about black (16) plus `bias`.
    pub fn window(
        &self,
        w: usize,
        h: usize,
        dx: usize,
        dy: usize,
        gain: f64,
        bias: f64,
    ) -> Vec<u8> {
        let mut out = vec![0u8; w * h];
        for y in 0..h {
            let src = &self.data[((y + dy) % self.size) * self.size..][..self.size];
            for x in 0..w {
                let v = f64::from(src[(x + dx) % self.size]);
                out[y * w + x] = (16.0 + (v - 16.0) * gain + bias).clamp(0.0, 255.0) as u8;
            }
        }
        out
    }
}

/// Adds deterministic grain of amplitude +-`a` (uniform; an LCG seeded by `seed`).
pub fn grain(luma: &mut [u8], seed: u64, a: i32) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for v in luma.iter_mut() {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let n = ((s >> 33) % (2 * a as u64 + 1)) as i32 - a;
        *v = (i32::from(*v) + n).clamp(0, 255) as u8;
    }
}

/// Draws a filled `size` x `size` square of `luma` with its corner at (x, y).
pub fn square(luma: &mut [u8], w: usize, h: usize, x: usize, y: usize, size: usize, value: u8) {
    for yy in y..(y + size).min(h) {
        for xx in x..(x + size).min(w) {
            luma[yy * w + xx] = value;
        }
    }
}

/// Video info for `format` at `w` x `h`, 25 fps.
pub fn info(format: gst_video::VideoFormat, w: u32, h: u32) -> gst_video::VideoInfo {
    init();
    gst_video::VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(25, 1))
        .build()
        .expect("video info")
}

/// An I420 (or other planar 8-bit YUV / GRAY8) buffer with the given luma
/// plane (`w*h`, tightly packed) and neutral chroma.
pub fn yuv_buffer(info: &gst_video::VideoInfo, luma: &[u8]) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    assert_eq!(luma.len(), w * h);
    let mut buf = gst::Buffer::with_size(info.size()).expect("buffer");
    {
        let b = buf.get_mut().unwrap();
        let mut map = b.map_writable().unwrap();
        map.as_mut_slice().fill(128);
        let stride = info.stride()[0] as usize;
        let off = info.offset()[0];
        for y in 0..h {
            map[off + y * stride..off + y * stride + w].copy_from_slice(&luma[y * w..(y + 1) * w]);
        }
    }
    buf
}

/// An I420 picture of `info` with the given luma (`w*h`, packed) laid out
/// as libav decodes into its own buffers: rows `w + 64` rounded up to 64
/// bytes, 17 more rows below each plane, all padding white (235): where
/// it is is told only by the buffer's `GstVideoMeta` (a reader that
/// ignores it reads the padding).
pub fn padded_i420(info: &gst_video::VideoInfo, luma: &[u8]) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    assert_eq!(info.format(), gst_video::VideoFormat::I420);
    assert_eq!(luma.len(), w * h);
    let stride = (w + 64).div_ceil(64) * 64;
    let cstride = (w.div_ceil(2) + 64).div_ceil(64) * 64;
    let rows = h + 17;
    let crows = h.div_ceil(2) + 17;
    let offsets = [0, stride * rows, stride * rows + cstride * crows];
    let size = offsets[2] + cstride * crows;
    let mut buf = gst::Buffer::with_size(size).expect("buffer");
    {
        let b = buf.get_mut().unwrap();
        {
            let mut map = b.map_writable().unwrap();
            map.as_mut_slice().fill(235);
            for y in 0..h {
                map[y * stride..y * stride + w].copy_from_slice(&luma[y * w..(y + 1) * w]);
            }
            for plane in [offsets[1], offsets[2]] {
                for y in 0..h.div_ceil(2) {
                    map[plane + y * cstride..plane + y * cstride + w.div_ceil(2)].fill(128);
                }
            }
        }
        gst_video::VideoMeta::add_full(
            b,
            gst_video::VideoFrameFlags::empty(),
            gst_video::VideoFormat::I420,
            w as u32,
            h as u32,
            &offsets,
            &[stride as i32, cstride as i32, cstride as i32],
        )
        .expect("a video meta");
    }
    buf
}

/// A flat-luma buffer of `info` timed `pts..pts+dur`.
pub fn flat(
    info: &gst_video::VideoInfo,
    luma: u8,
    pts: Option<u64>,
    dur: Option<u64>,
) -> gst::Buffer {
    let (w, h) = (info.width() as usize, info.height() as usize);
    timed(yuv_buffer(info, &vec![luma; w * h]), pts, dur)
}

pub fn timed(mut buf: gst::Buffer, pts: Option<u64>, dur: Option<u64>) -> gst::Buffer {
    {
        let b = buf.get_mut().unwrap();
        b.set_pts(pts.map(gst::ClockTime::from_nseconds));
        b.set_duration(dur.map(gst::ClockTime::from_nseconds));
    }
    buf
}

/// A harness around `factory` (properties set from `props`), with a bus to
/// read the element's messages from, started with `caps`.
pub struct Run {
    pub h: gst_check::Harness,
    pub bus: gst::Bus,
}

impl Run {
    pub fn new(factory: &str, props: &[(&str, &dyn ToValue)], caps: &gst::Caps) -> Run {
        init();
        let mut h = gst_check::Harness::new(factory);
        let element = h.element().expect("element");
        for (k, v) in props {
            element.set_property_from_value(k, &v.to_value());
        }
        let bus = gst::Bus::new();
        element.set_bus(Some(&bus));
        h.set_src_caps(caps.clone());
        Run { h, bus }
    }

    pub fn element(&self) -> gst::Element {
        self.h.element().expect("element")
    }

    /// Pushes a buffer, checks it comes out as the very same buffer with the
    /// same data, timestamps and flags, and returns the messages it caused.
    pub fn push(&mut self, buf: gst::Buffer) -> Vec<gst::Structure> {
        pass_unchanged(&mut self.h, buf);
        self.messages()
    }

    pub fn event(&mut self, ev: gst::Event) -> Vec<gst::Structure> {
        assert!(self.h.push_event(ev));
        self.messages()
    }

    /// Element messages posted so far (detector messages only).
    pub fn messages(&self) -> Vec<gst::Structure> {
        bus_messages(&self.bus)
    }

    /// All messages (errors included).
    pub fn all_messages(&self) -> Vec<gst::Message> {
        std::iter::from_fn(|| self.bus.pop()).collect()
    }
}

/// The element's messages at teardown (state changes) would stay queued on
/// the bus, each holding the element, which holds the bus: a cycle that
/// leaks both, and the bus's two descriptors, per run. A flushing bus
/// drops them.
impl Drop for Run {
    fn drop(&mut self) {
        self.bus.set_flushing(true);
    }
}

/// Pushes `buf` through `h` and checks it comes out as the very same
/// buffer with the same data, timestamps and flags.
pub fn pass_unchanged(h: &mut gst_check::Harness, buf: gst::Buffer) {
    let before = buf.as_ptr();
    let pts = buf.pts();
    let dur = buf.duration();
    let flags = buf.flags();
    let data = buf.map_readable().unwrap().as_slice().to_vec();
    assert_eq!(h.push(buf), Ok(gst::FlowSuccess::Ok));
    let out = h.pull().expect("buffer out");
    assert_eq!(out.as_ptr(), before, "the same buffer must come out");
    assert_eq!(out.pts(), pts);
    assert_eq!(out.duration(), dur);
    assert_eq!(out.flags(), flags);
    assert!(
        out.map_readable().unwrap().as_slice() == data.as_slice(),
        "data changed"
    );
}

/// Element messages posted on `bus` so far (detector messages only).
pub fn bus_messages(bus: &gst::Bus) -> Vec<gst::Structure> {
    let mut out = Vec::new();
    while let Some(m) = bus.pop() {
        if let gst::MessageView::Element(e) = m.view() {
            if let Some(s) = e.structure() {
                out.push(s.to_owned());
            }
        }
    }
    out
}

/// One event as read back: kind, timestamp, and (for an end) duration and reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub kind: &'static str,
    pub ts: u64,
    pub running: Option<u64>,
    pub duration: Option<u64>,
    pub reason: Option<&'static str>,
}

/// Reads the shared fields of a detector message through the typed messages.
pub fn ev(s: &gst::StructureRef) -> Ev {
    use gstavmonitor::*;
    let m = Message::from_structure(s)
        .unwrap_or_else(|| panic!("unexpected message {}", s.name()))
        .unwrap_or_else(|e| panic!("malformed {}: {e}", s.name()));
    let e: DefectEvent = *m.defect().expect("a measurement is not an event");
    Ev {
        kind: match e.kind {
            EventKind::Start => "start",
            EventKind::End => "end",
        },
        ts: e.at.timestamp,
        running: e.at.running_time,
        duration: e.duration,
        reason: e.reason.map(|r| r.as_str()),
    }
}

/// The starts and ends among `msgs`, read with [`ev`].
pub fn events(msgs: &[gst::Structure]) -> Vec<Ev> {
    msgs.iter()
        .filter(|s| !is_measurement(s))
        .map(|s| ev(s))
        .collect()
}

/// A meter's periodic measurement rather than a start or end.
pub fn is_measurement(s: &gst::StructureRef) -> bool {
    s.get::<&str>("event") == Ok("measurement")
}

pub fn start(ts: u64) -> (&'static str, u64) {
    ("start", ts)
}

/// Messages as (kind, timestamp) pairs.
pub fn kinds(msgs: &[gst::Structure]) -> Vec<(&'static str, u64)> {
    msgs.iter()
        .map(|s| {
            let e = ev(s);
            (e.kind, e.ts)
        })
        .collect()
}

pub mod audio;
pub mod avsync;
pub mod contract;
pub mod footage;
pub mod random;

/// Where `scripts/footage.sh` put the real footage
/// (`$AVMONITOR_FOOTAGE`, else `~/.cache/avmonitor/footage`); panics
/// naming the script when one of `files` is not there.
pub fn footage_dir(files: &[&str]) -> std::path::PathBuf {
    let dir = std::env::var_os("AVMONITOR_FOOTAGE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/avmonitor/footage")
        });
    for f in files {
        assert!(
            dir.join(f).is_file(),
            "{} is missing: run scripts/footage.sh (scripts/test.sh does)",
            dir.join(f).display()
        );
    }
    dir
}

/// The running time of `t` in the segment `pad` last saw (0 without one):
/// times compared across elements that shift timestamps (encoders,
/// demuxers applying edit lists).
pub fn running_time(pad: &gst::Pad, t: Option<gst::ClockTime>) -> u64 {
    use gst::prelude::*;
    let segment = pad
        .sticky_event::<gst::event::Segment>(0)
        .and_then(|s| s.segment().clone().downcast::<gst::ClockTime>().ok());
    t.and_then(|t| segment?.to_running_time(t))
        .map_or(0, |t| t.nseconds())
}

/// Message names of the detectors.
pub const DETECTORS: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "blockdetect",
    "areadetect",
    "cadencedetect",
    "levelsdetect",
    "patterndetect",
    "captiondetect",
    "silencedetect",
    "clipdetect",
    "phasedetect",
    "loudnessmeter",
];

/// Plays `p` to EOS (or error: panics) and returns the detector events, in order.
pub fn run_to_eos(p: &gst::Element) -> Vec<Ev> {
    run_named(p).into_iter().map(|(_, e)| e).collect()
}

/// Like [`run_to_eos`], with the name of the detector that posted each event.
pub fn run_named(p: &gst::Element) -> Vec<(String, Ev)> {
    run_structures(p)
        .iter()
        .filter(|s| s.get::<&str>("event") != Ok("measurement"))
        .map(|s| (s.name().to_string(), ev(s)))
        .collect()
}

/// Plays `p` to EOS (or error: panics) and returns every detector message.
pub fn run_structures(p: &gst::Element) -> Vec<gst::Structure> {
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut out = Vec::new();
    for m in bus.iter_timed(gst::ClockTime::from_seconds(300)) {
        match m.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => {
                p.set_state(gst::State::Null).unwrap();
                panic!("pipeline error: {} {:?}", e.error(), e.debug());
            }
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure() {
                    if DETECTORS.contains(&s.name().as_str()) {
                        out.push(s.to_owned());
                    }
                }
            }
            _ => (),
        }
    }
    p.set_state(gst::State::Null).unwrap();
    out
}

/// Runs `frames` (timed buffers of `caps`) through `appsrc ! {chain} ! fakesink`
/// and returns the detector events with the name of their detector.
pub fn run_frames(caps: &gst::Caps, frames: Vec<gst::Buffer>, chain: &str) -> Vec<(String, Ev)> {
    let p = appsrc_pipeline(caps, frames, chain);
    run_named(&p)
}

/// `appsrc ! {chain} ! fakesink` with `frames` queued and EOS after them.
pub fn appsrc_pipeline(caps: &gst::Caps, frames: Vec<gst::Buffer>, chain: &str) -> gst::Element {
    init();
    let p = gst::parse::launch(&format!("appsrc name=src format=time ! {chain} ! fakesink"))
        .unwrap_or_else(|e| panic!("{chain}: {e}"));
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let src = bin
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    src.set_caps(Some(caps));
    src.set_max_bytes(0);
    src.set_property("block", false);
    for f in frames {
        src.push_buffer(f).unwrap();
    }
    src.end_of_stream().unwrap();
    p
}

/// The header of a slice unit (H.264) or a slice segment (HEVC, its
/// address left at 0: that needs the parameter sets), if it is one.
pub fn slice_of(unit: &[u8], hevc: bool) -> Option<gstavmonitor::analysis::coded::slices::Slice> {
    use gstavmonitor::analysis::coded::slices::{hevc_segment, slice, Slice};
    if !hevc {
        return slice(unit);
    }
    hevc_segment(unit).map(|(intra, reference)| Slice {
        first_mb: 0,
        intra,
        reference,
        qp: None,
        frame_num: None,
    })
}

/// A byte-stream H.264 or HEVC access unit without its `n`th slice (from
/// 0), with the timing and flags of `buf` (a slice lost whole), and the
/// header of the slice taken out (see [`slice_of`]; `None`: the unit has no
/// such slice, and comes back unchanged).
pub fn without_slice(
    buf: &gst::Buffer,
    n: usize,
    hevc: bool,
) -> (
    gst::Buffer,
    Option<gstavmonitor::analysis::coded::slices::Slice>,
) {
    use gstavmonitor::analysis::coded::slices::{nal_units, Framing};
    let map = buf.map_readable().unwrap();
    let mut out = Vec::new();
    let mut k = 0;
    let mut taken = None;
    for u in nal_units(map.as_slice(), Framing::ByteStream) {
        if let Some(s) = slice_of(u, hevc) {
            k += 1;
            if k == n + 1 {
                taken = Some(s);
                continue;
            }
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(u);
    }
    drop(map);
    (in_place_of(out, buf), taken)
}

/// `data` as a buffer with the timing and flags of `buf`, to put in its
/// place (damaged coded data).
pub fn in_place_of(data: Vec<u8>, buf: &gst::Buffer) -> gst::Buffer {
    let mut nb = gst::Buffer::from_mut_slice(data);
    {
        let m = nb.get_mut().unwrap();
        m.set_pts(buf.pts());
        m.set_dts(buf.dts());
        m.set_duration(buf.duration());
        m.set_flags(buf.flags());
    }
    nb
}

/// The source pad of the element named `name` in `pipeline`.
pub fn src_pad(pipeline: &gst::Element, name: &str) -> gst::Pad {
    pipeline
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name(name)
        .unwrap_or_else(|| panic!("no element {name}"))
        .static_pad("src")
        .unwrap()
}

/// What [`lose_slice`] took: the PTS of its frame and the slice's header.
pub type Lost =
    std::sync::Arc<std::sync::Mutex<Option<(u64, gstavmonitor::analysis::coded::slices::Slice)>>>;

/// Takes slice `n` (from 0) out of the `frame`th access unit (from 0) that
/// leaves the element named `name` in `pipeline` (byte-stream H.264, or
/// HEVC, in access units), as a network that lost it whole; what it took,
/// once it has.
pub fn lose_slice(pipeline: &gst::Element, name: &str, frame: u32, n: usize, hevc: bool) -> Lost {
    let lost = Lost::default();
    let l = lost.clone();
    let count = std::sync::Mutex::new(0u32);
    src_pad(pipeline, name).add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let k = {
            let mut c = count.lock().unwrap();
            *c += 1;
            *c - 1
        };
        if k == frame {
            let (nb, taken) = without_slice(buf, n, hevc);
            *l.lock().unwrap() = taken.map(|s| (buf.pts().unwrap().nseconds(), s));
            *buf = nb;
        }
        gst::PadProbeReturn::Ok
    });
    lost
}

/// How visible the damage in `damaged` is against `clean` (8-bit luma
/// planes `w` wide, tightly packed), per whole macroblock, row-major: the
/// mean absolute difference less the clean block's own texture (its mean
/// absolute gradient across columns or down rows, whichever is larger), so
/// that a difference hidden in busy texture counts for less, as it does to
/// the eye, whatever the texture's direction. With `masked` false, the
/// plain mean absolute difference.
pub fn block_visibility(clean: &[u8], damaged: &[u8], w: usize, masked: bool) -> Vec<u32> {
    let h = clean.len() / w;
    let mut out = Vec::with_capacity((w / 16) * (h / 16));
    for r in 0..h / 16 {
        for c in 0..w / 16 {
            let (mut diff, mut texture, mut vtexture) = (0u32, 0u32, 0u32);
            for y in 0..16 {
                let i = (r * 16 + y) * w + c * 16;
                for x in 0..16 {
                    diff += (i32::from(clean[i + x]) - i32::from(damaged[i + x])).unsigned_abs();
                    if x > 0 {
                        texture +=
                            (i32::from(clean[i + x]) - i32::from(clean[i + x - 1])).unsigned_abs();
                    }
                    if y > 0 {
                        vtexture +=
                            (i32::from(clean[i + x]) - i32::from(clean[i + x - w])).unsigned_abs();
                    }
                }
            }
            // the texture along whichever direction it is stronger: damage
            // that only moves texture by a pixel either way is not visible
            let (diff, texture) = (diff / 256, texture.max(vtexture) / 240);
            out.push(if masked {
                diff.saturating_sub(texture)
            } else {
                diff
            });
        }
    }
    out
}

/// Corruption events as `(start, end, evidence)`: an end carries the
/// evidence of the whole corruption, an open one ends at `u64::MAX` with its
/// start's.
pub fn corruptions(
    events: &[gstavmonitor::BlockDetectMessage],
) -> Vec<(u64, u64, gstavmonitor::Evidence)> {
    let mut out = Vec::new();
    let mut open = None;
    for m in events {
        if let gstavmonitor::BlockDetectMessage::Corruption {
            event, evidence, ..
        } = m
        {
            match event.kind {
                gstavmonitor::EventKind::Start => open = Some((event.at.timestamp, *evidence)),
                gstavmonitor::EventKind::End => {
                    if let Some((s, _)) = open.take() {
                        out.push((s, event.at.timestamp, *evidence));
                    }
                }
            }
        }
    }
    out.extend(open.map(|(s, e)| (s, u64::MAX, e)));
    out
}

/// The luma plane of a decoded 8-bit picture, without its row padding.
pub fn packed_luma(buf: &gst::BufferRef, info: &gst_video::VideoInfo) -> Vec<u8> {
    use gst_video::prelude::*;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buf, info).unwrap();
    let (w, h) = (info.width() as usize, info.height() as usize);
    let stride = frame.plane_stride()[0] as usize;
    let data = frame.plane_data(0).unwrap();
    let mut l = Vec::with_capacity(w * h);
    for y in 0..h {
        l.extend_from_slice(&data[y * stride..y * stride + w]);
    }
    l
}

/// Runs `chain` (a launch line) into an appsink to its end: the caps last
/// seen and every buffer, timestamps and flags kept. None when the line
/// does not parse (an element missing) or nothing came out.
pub fn pull_all(chain: &str) -> Option<(gst::Caps, Vec<gst::Buffer>)> {
    pull_all_with(chain, |_| ())
}

/// Ends the stream after the first `frames` buffers leave the element
/// named `name` in `bin`: each later buffer is dropped and its push answered
/// `EOS`, so the demuxer upstream ends the stream. Added before any other
/// probe on that pad, so they see the first `frames` only. (`identity
/// eos-after` let through a varying number of the pictures the decoder
/// drains at the end, one to four more by load, so two encodes of the same
/// clip in one test differed.)
pub fn end_after(bin: &gst::Bin, name: &str, frames: usize) {
    let count = std::sync::atomic::AtomicUsize::new(0);
    bin.by_name(name)
        .unwrap_or_else(|| panic!("an element named {name}"))
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < frames {
                return gst::PadProbeReturn::Ok;
            }
            // taken and dropped with `info`, the push answered EOS
            info.flow_res = Err(gst::FlowError::Eos);
            gst::PadProbeReturn::Handled
        });
}

/// Has `change` see each picture leaving the element named `inject` in
/// `bin`, with its index (from 0), writable: defects injected before an
/// encoder.
pub fn inject(bin: &gst::Bin, change: impl Fn(usize, &mut [u8]) + Send + Sync + 'static) {
    let index = std::sync::atomic::AtomicUsize::new(0);
    bin.by_name("inject")
        .expect("an element named inject")
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let i = index.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(gst::PadProbeData::Buffer(buf)) = &mut info.data {
                let mut map = buf.make_mut().map_writable().unwrap();
                change(i, &mut map);
            }
            gst::PadProbeReturn::Ok
        });
}

/// As [`pull_all`], `prepare` given the pipeline (to add probes) before it
/// plays.
pub fn pull_all_with(
    chain: &str,
    prepare: impl FnOnce(&gst::Bin),
) -> Option<(gst::Caps, Vec<gst::Buffer>)> {
    init();
    let pipeline = gst::parse::launch(&format!("{chain} ! appsink name=out sync=false")).ok()?;
    let bin = pipeline.downcast_ref::<gst::Bin>()?;
    prepare(bin);
    let sink = bin.by_name("out")?.downcast::<gst_app::AppSink>().ok()?;
    let mut buffers = Vec::new();
    let mut caps = None;
    if pipeline.set_state(gst::State::Playing).is_ok() {
        while let Ok(sample) = sink.pull_sample() {
            caps = sample.caps().map(|c| c.to_owned());
            buffers.extend(sample.buffer_owned());
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    Some((caps?, buffers))
}
