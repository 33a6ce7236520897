//! One stream's pipeline: a source (any URI GStreamer plays, or a built-in
//! demo stream), then per medium a converter, the configured
//! detectors (and `avsyncdetect` across both), and a sink whose pad counts
//! what flows.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gstavmonitor::EventKind;

use super::config::{self, AUDIO_DETECTORS, SYNC_DETECTOR, TRANSPORT_MONITOR, VIDEO_DETECTORS};
use super::metrics::Metrics;
use crate::{demo, loadgen};

/// A built pipeline and what its sinks report.
pub struct Built {
    pub pipeline: gst::Pipeline,
    /// Set once media reaches a sink.
    pub flowing: Arc<AtomicBool>,
    /// When media last reached a sink (Unix ms).
    pub last_media_ms: Arc<AtomicU64>,
    /// The sinks' pads.
    pub sinks: Arc<Mutex<Vec<gst::Pad>>>,
    /// For thumbnails: the frame each video detector was analysing when it
    /// posted a start, by the message's sequence number.
    pub snapshots: Snapshots,
}

/// A frame and its caps.
pub type Frame = (gst::Buffer, gst::Caps);
pub type Snapshots = Arc<Mutex<std::collections::BTreeMap<gst::Seqnum, Frame>>>;
/// The frame a detector is analysing.
type Current = Arc<Mutex<Option<Frame>>>;

impl Built {
    /// Whether upstream of the sinks is live (asked of what feeds them: a
    /// sink answers the pipeline's latency query with whether it syncs).
    pub fn live(&self) -> bool {
        let sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        sinks.iter().any(|p| {
            let mut q = gst::query::Latency::new();
            p.peer_query(&mut q) && q.result().0
        })
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Medium {
    Video,
    Audio,
}

/// The URI for `uri`: as given when it has a scheme, else a file path.
pub fn resolve_uri(uri: &str) -> Result<String, String> {
    if uri.contains("://") || demo::which(uri).is_some() || loadgen::which(uri).is_some() {
        return Ok(uri.to_string());
    }
    let path = std::fs::canonicalize(uri).map_err(|e| format!("{uri}: {e}"))?;
    gst::glib::filename_to_uri(&path, None)
        .map(|u| u.to_string())
        .map_err(|e| format!("{uri}: {e}"))
}

fn make(factory: &str, name: Option<&str>) -> Result<gst::Element, String> {
    let mut b = gst::ElementFactory::make(factory);
    if let Some(n) = name {
        b = b.name(n);
    }
    b.build()
        .map_err(|_| format!("element {factory} is missing (is its plugin installed?)"))
}

/// Builds the pipeline of `conf` (not yet started).
pub fn build(
    conf: &config::Stream,
    metrics: &Arc<Metrics>,
    keep_frames: bool,
) -> Result<Built, String> {
    let pipeline = gst::Pipeline::with_name(&conf.id);
    let flowing = Arc::new(AtomicBool::new(false));
    let last_media_ms = Arc::new(AtomicU64::new(now_ms()));
    let sinks: Arc<Mutex<Vec<gst::Pad>>> = Arc::default();
    let snapshots: Snapshots = Arc::default();
    let current: Arc<Mutex<std::collections::HashMap<String, Current>>> = Arc::default();
    if keep_frames {
        keep_snapshots(&pipeline, current.clone(), snapshots.clone());
    }
    let detectors = conf.detectors();
    let sync = if detectors.iter().any(|d| d == SYNC_DETECTOR) {
        let s = make(SYNC_DETECTOR, Some(SYNC_DETECTOR))?;
        for (k, v) in conf.properties_of(SYNC_DETECTOR) {
            s.set_property_from_str(&k, &v);
        }
        pipeline.add(&s).map_err(|e| e.to_string())?;
        Some(s)
    } else {
        None
    };
    let demo = demo::which(&conf.uri);
    let chain = Chain {
        pipeline: pipeline.downgrade(),
        conf: conf.clone(),
        sync,
        pace: conf.realtime.unwrap_or(demo.is_some()),
        metrics: metrics.clone(),
        flowing: flowing.clone(),
        last_media_ms: last_media_ms.clone(),
        sinks: sinks.clone(),
        current: keep_frames.then(|| current.clone()),
        linked: Arc::default(),
        lags: Arc::default(),
    };
    let generated = match (demo, loadgen::which(&conf.uri)) {
        (Some(n), _) => Some(demo::source(n)?),
        (None, Some(kind)) => Some(loadgen::source(kind)?),
        _ => None,
    };
    match generated {
        Some(src) => add_generated(&pipeline, src.upcast_ref(), &chain)?,
        None => {
            // tsmonitor's limits, for a transport stream the decoder
            // demuxes: an element not linked anywhere, found by name so a
            // property change reaches it while playing
            let ts = make(TRANSPORT_MONITOR, Some(TRANSPORT_MONITOR))?;
            for (k, v) in conf.properties_of(TRANSPORT_MONITOR) {
                ts.set_property_from_str(&k, &v);
            }
            pipeline.add(&ts).map_err(|e| e.to_string())?;
            add_decoder(
                &pipeline,
                chain,
                detectors.iter().any(|d| d == "blockdetect"),
                ts,
            )?
        }
    }
    Ok(Built {
        pipeline,
        flowing,
        last_media_ms,
        sinks,
        snapshots,
    })
}

/// Keeps, in the detector's own thread as it posts a start, the frame it is
/// on (`current`, by element name), under the message's sequence number.
fn keep_snapshots(
    pipeline: &gst::Pipeline,
    current: Arc<Mutex<std::collections::HashMap<String, Current>>>,
    snapshots: Snapshots,
) {
    let Some(bus) = pipeline.bus() else {
        return;
    };
    bus.set_sync_handler(move |_, msg| {
        if let (gst::MessageView::Element(e), Some(src)) = (msg.view(), msg.src()) {
            let start = e
                .structure()
                .and_then(gstavmonitor::Message::from_structure)
                .and_then(Result::ok)
                .is_some_and(|m| m.defect().is_some_and(|d| d.kind == EventKind::Start));
            let frame = start
                .then(|| {
                    current
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(src.name().as_str())
                        .and_then(|c| c.lock().unwrap_or_else(|e| e.into_inner()).clone())
                })
                .flatten();
            if let Some(f) = frame {
                snapshots
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(msg.seqnum(), f);
            }
        }
        gst::BusSyncReply::Pass
    });
}

/// A generated source (`demo:N`, `bench:*`) with its video and audio pads
/// linked to the detector chains.
fn add_generated(
    pipeline: &gst::Pipeline,
    src: &gst::Element,
    chain: &Chain,
) -> Result<(), String> {
    pipeline.add(src).map_err(|e| e.to_string())?;
    for (pad, medium) in [("video", Medium::Video), ("audio", Medium::Audio)] {
        let sink = chain.build(medium)?;
        src.static_pad(pad)
            .ok_or("demo: no pad")?
            .link(&sink)
            .map_err(|e| format!("{}: {e}", chain.conf.uri))?;
    }
    Ok(())
}

/// Threads per software video decoder in the pipelines built from now on;
/// 0 leaves the decoder its own choice.
static DECODER_THREADS: AtomicU32 = AtomicU32::new(0);

/// Decides the threads of the video decoders built from now on, for a
/// process of `streams` streams: `threads` when given, else one per
/// decoder once there are at least as many streams as cores this process
/// may use (each core already has a stream: threads within one add memory
/// and latency and buy nothing), else the decoder's own choice.
pub fn plan_decoder_threads(streams: usize, threads: Option<u32>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let n = threads.unwrap_or(if streams >= cores { 1 } else { 0 });
    DECODER_THREADS.store(n, Ordering::Relaxed);
}

/// `uridecodebin` on the stream's URI, each decoded pad linked to its chain
/// as it comes; with `slices`, slicecheck's work done on the H.264 or HEVC
/// parser it plugs before the decoder (lost slices and the quantiser for
/// blockdetect). Software video decoders get the planned threads (see
/// [`plan_decoder_threads`]) and, when the stream skips frames, skip the
/// non-reference ones.
fn add_decoder(
    pipeline: &gst::Pipeline,
    chain: Chain,
    slices: bool,
    transport: gst::Element,
) -> Result<(), String> {
    let uri = resolve_uri(&chain.conf.uri)?;
    let dec = make("uridecodebin", None)?;
    dec.set_property("uri", &uri);
    // a medium no detector watches is not decoded at all (an audio
    // monitor does not pay for decoding the picture): it leaves
    // uridecodebin coded, for a sink
    let detectors = chain.conf.detectors();
    let watches = |list: &[&str]| {
        detectors
            .iter()
            .any(|d| list.contains(&d.as_str()) || d == SYNC_DETECTOR)
    };
    let unwatched = match (watches(VIDEO_DETECTORS), watches(AUDIO_DETECTORS)) {
        (true, false) => Some("Decoder/Audio"),
        (false, true) => Some("Decoder/Video"),
        _ => None,
    };
    if let Some(klass) = unwatched {
        // instead of plugging that medium's decoder, uridecodebin exposes
        // its coded pad (GST_AUTOPLUG_SELECT_EXPOSE), which goes to a sink
        let choice = gst::glib::Type::from_name("GstAutoplugSelectResult")
            .and_then(gst::glib::EnumClass::with_type);
        if let Some(choice) = choice {
            dec.connect("autoplug-select", false, move |args| {
                let decoder = args
                    .get(3)
                    .and_then(|v| v.get::<gst::ElementFactory>().ok())
                    .and_then(|f| f.metadata("klass").map(|k| k.contains(klass)))
                    .unwrap_or(false);
                choice.to_value(if decoder { 1 } else { 0 })
            });
        }
    }
    let skip = chain.conf.skips_frames();
    let keyframes = chain.conf.keyframes_only;
    let until_still = chain.conf.keyframes_until_still;
    // avsyncdetect cannot time picture changes on skipped frames: it
    // watches stalls only, once an avdec_* decoder skips them (and with
    // keyframes only, pictures a GOP apart are not a stall)
    let stall_only = chain
        .conf
        .sync_mode_when_skipping()
        .and_then(|mode| Some((chain.sync.as_ref()?.downgrade(), mode)));
    let stall_timeout = chain
        .conf
        .stall_timeout_for_keyframes()
        .and_then(|t| Some((chain.sync.as_ref()?.downgrade(), t)));
    let threads = DECODER_THREADS.load(Ordering::Relaxed);
    if let Some(bin) = dec.downcast_ref::<gst::Bin>() {
        bin.connect_deep_element_added(move |_, _, element| {
            let Some(factory) = element.factory() else {
                return;
            };
            let name = factory.name();
            if slices && matches!(name.as_str(), "h264parse" | "h265parse") {
                gstavmonitor::attach_slicecheck_to_parser(element);
            }
            // a transport stream: TR 101 290 before the demuxer (tsmonitor)
            if name == "tsdemux" {
                gstavmonitor::attach_tsmonitor_to_demuxer_with(element, &transport);
            }
            let video = factory
                .metadata("klass")
                .is_some_and(|k| k.contains("Decoder/Video"));
            if !(video && name.starts_with("avdec_")) {
                return;
            }
            if threads > 0 && element.has_property("max-threads") {
                element.set_property("max-threads", threads.min(i32::MAX as u32) as i32);
            }
            if keyframes {
                gstavmonitor::keyframes_only(element);
            } else if until_still {
                gstavmonitor::keyframes_until_still(element);
            } else if skip {
                gstavmonitor::skip_frames(element);
            }
            if skip {
                if let Some((sync, mode)) = &stall_only {
                    if let Some(sync) = sync.upgrade() {
                        sync.set_property_from_str("mode", mode);
                    }
                }
            }
            if let Some((sync, timeout)) = &stall_timeout {
                if let Some(sync) = sync.upgrade() {
                    sync.set_property("stall-timeout", *timeout);
                }
            }
        });
    }
    pipeline.add(&dec).map_err(|e| e.to_string())?;
    let chain = Arc::new(chain);
    let c = chain.clone();
    dec.connect_pad_added(move |_, pad| c.link_decoded(pad));
    dec.connect_no_more_pads(move |_| chain.no_more_pads());
    Ok(())
}

/// Builds and links the per-medium chains.
struct Chain {
    pipeline: gst::glib::WeakRef<gst::Pipeline>,
    conf: config::Stream,
    sync: Option<gst::Element>,
    pace: bool,
    metrics: Arc<Metrics>,
    flowing: Arc<AtomicBool>,
    last_media_ms: Arc<AtomicU64>,
    sinks: Arc<Mutex<Vec<gst::Pad>>>,
    /// Per video detector, the frame it is on (only for thumbnails).
    current: Option<Arc<Mutex<std::collections::HashMap<String, Current>>>>,
    /// Media already given a chain (a second stream of one medium only
    /// goes to a sink).
    linked: Arc<std::sync::Mutex<Vec<Medium>>>,
    /// How far each medium last ran behind the clock.
    lags: Arc<Lags>,
}

/// How far each medium of a stream last ran behind the clock: the stream's
/// lag is its worse medium's. (One gauge written by both sinks showed
/// mostly the sound's, which is cheap and on time, and hid pictures
/// falling behind.)
#[derive(Debug)]
struct Lags([AtomicI64; 2]);

impl Default for Lags {
    fn default() -> Self {
        Lags([AtomicI64::new(i64::MIN), AtomicI64::new(i64::MIN)])
    }
}

impl Lags {
    /// Notes `medium` running `behind` ns behind the clock (negative:
    /// ahead); returns the stream's lag, the larger of the media's.
    fn note(&self, medium: Medium, behind: i64) -> i64 {
        let (own, other) = match medium {
            Medium::Video => (&self.0[0], &self.0[1]),
            Medium::Audio => (&self.0[1], &self.0[0]),
        };
        own.store(behind, Ordering::Relaxed);
        behind.max(other.load(Ordering::Relaxed))
    }
}

impl Chain {
    /// Every decoded stream has come: a medium the source lacks (a camera
    /// without sound) is ended at avsyncdetect, so that it is not judged
    /// stalled.
    fn no_more_pads(&self) {
        let Some(sync) = &self.sync else { return };
        let linked = self
            .linked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for (medium, pad) in [(Medium::Video, "video_sink"), (Medium::Audio, "audio_sink")] {
            if linked.contains(&medium) {
                continue;
            }
            if let Some(p) = sync.static_pad(pad) {
                p.send_event(gst::event::StreamStart::new(pad));
                p.send_event(gst::event::Eos::new());
            }
        }
    }

    /// A decoded pad of uridecodebin: its medium's chain.
    fn link_decoded(&self, pad: &gst::Pad) {
        let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
        let name = caps
            .as_ref()
            .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
            .unwrap_or_default();
        let medium = if name == "video/x-raw" {
            Medium::Video
        } else if name == "audio/x-raw" {
            Medium::Audio
        } else {
            // subtitles, data, a medium left coded: to a sink, so the
            // demuxer never sees not-linked
            if let Ok(sink) = self.sink_only() {
                let _ = pad.link(&sink);
            }
            return;
        };
        let first = {
            let mut linked = self.linked.lock().unwrap_or_else(|e| e.into_inner());
            let first = !linked.contains(&medium);
            linked.push(medium);
            first
        };
        let sink = if first {
            self.build(medium)
        } else {
            self.sink_only()
        };
        if let Ok(sink) = sink {
            let _ = pad.link(&sink);
        }
    }

    /// A fakesink alone (for extra streams of a medium already watched, and
    /// streams that are neither video nor audio).
    fn sink_only(&self) -> Result<gst::Pad, String> {
        let pipeline = self.pipeline.upgrade().ok_or("pipeline gone")?;
        let sink = make("fakesink", None)?;
        sink.set_property("sync", self.pace);
        pipeline.add(&sink).map_err(|e| e.to_string())?;
        sink.sync_state_with_parent().map_err(|e| e.to_string())?;
        sink.static_pad("sink").ok_or_else(|| "no sink pad".into())
    }

    /// converter ! detectors ! [avsyncdetect] ! fakesink, added to the
    /// pipeline and started; returns the converter's sink pad.
    fn build(&self, medium: Medium) -> Result<gst::Pad, String> {
        let pipeline = self.pipeline.upgrade().ok_or("pipeline gone")?;
        let (convert, order) = match medium {
            Medium::Video => ("videoconvert", VIDEO_DETECTORS),
            Medium::Audio => ("audioconvert", AUDIO_DETECTORS),
        };
        let detectors = self.conf.detectors();
        // no queue of its own: the detectors run in the decoder's thread
        // (decodebin's multiqueue already parts the media). A queue here
        // cost each medium a thread and a wake-up per buffer, and held
        // decoded pictures: 2 threads and 9.5 MB a 1080p stream
        let mut chain = vec![make(convert, None)?];
        for d in order.iter().filter(|d| detectors.iter().any(|x| x == *d)) {
            let e = make(d, Some(d))?;
            for (k, v) in self.conf.properties_of(d) {
                e.set_property_from_str(&k, &v);
            }
            if let (Some(current), Medium::Video) = (&self.current, medium) {
                self.keep_current(&e, current);
            }
            chain.push(e);
        }
        let sink = make("fakesink", None)?;
        sink.set_property("sync", self.pace);
        // nothing asks for the last buffer: a picture held for nothing
        sink.set_property("enable-last-sample", false);
        let sink_pad = sink.static_pad("sink").ok_or("no sink pad")?;
        if medium == Medium::Video {
            accept_decoders_pictures(&sink_pad);
        }
        self.count(&sink_pad, medium);
        self.sinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sink_pad.clone());
        for e in chain.iter().chain([&sink]) {
            pipeline.add(e).map_err(|e| e.to_string())?;
        }
        gst::Element::link_many(chain.iter()).map_err(|e| e.to_string())?;
        let last = chain.last().ok_or("empty chain")?;
        match &self.sync {
            Some(s) => {
                let (sink_name, src_name) = match medium {
                    Medium::Video => ("video_sink", "video_src"),
                    Medium::Audio => ("audio_sink", "audio_src"),
                };
                last.link_pads(None, s, Some(sink_name))
                    .map_err(|e| e.to_string())?;
                s.link_pads(Some(src_name), &sink, None)
                    .map_err(|e| e.to_string())?;
                s.sync_state_with_parent().map_err(|e| e.to_string())?;
            }
            None => last.link(&sink).map_err(|e| e.to_string())?,
        }
        for e in chain.iter().chain([&sink]).rev() {
            e.sync_state_with_parent().map_err(|e| e.to_string())?;
        }
        chain[0]
            .static_pad("sink")
            .ok_or_else(|| "no converter pad".into())
    }

    /// Keeps the frame `detector` is about to analyse (a reference, no copy).
    fn keep_current(
        &self,
        detector: &gst::Element,
        current: &Arc<Mutex<std::collections::HashMap<String, Current>>>,
    ) {
        let slot: Current = Arc::default();
        current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(detector.name().to_string(), slot.clone());
        if let Some(pad) = detector.static_pad("sink") {
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                if let (Some(buf), Some(caps)) = (info.buffer(), pad.current_caps()) {
                    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((buf.to_owned(), caps));
                }
                gst::PadProbeReturn::Ok
            });
        }
    }

    /// Counts frames or samples reaching `pad`, notes that media flows, and
    /// how far behind the clock it runs.
    fn count(&self, pad: &gst::Pad, medium: Medium) {
        let label = Metrics::stream(&self.conf.id);
        let counter = match medium {
            Medium::Video => self.metrics.frames.get_or_create(&label).clone(),
            Medium::Audio => self.metrics.samples.get_or_create(&label).clone(),
        };
        let lag = self.metrics.lag.get_or_create(&label).clone();
        let lags = self.lags.clone();
        let flowing = self.flowing.clone();
        let last = self.last_media_ms.clone();
        // audio bytes per frame, from the caps event (not parsed per buffer)
        let bpf = AtomicU64::new(0);
        let probes = gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_DOWNSTREAM;
        pad.add_probe(probes, move |pad, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data {
                if let gst::EventView::Caps(c) = ev.view() {
                    let b = gst_audio::AudioInfo::from_caps(c.caps()).map_or(0, |i| i.bpf());
                    bpf.store(u64::from(b), Ordering::Relaxed);
                }
                return gst::PadProbeReturn::Ok;
            }
            let Some(buf) = info.buffer() else {
                return gst::PadProbeReturn::Ok;
            };
            flowing.store(true, Ordering::Relaxed);
            last.store(now_ms(), Ordering::Relaxed);
            let n = match medium {
                Medium::Video => 1,
                Medium::Audio => match bpf.load(Ordering::Relaxed) {
                    0 => 0,
                    b => buf.size() as u64 / b,
                },
            };
            counter.inc_by(n);
            // live or paced: the running time of the clock against the buffer's
            if let (Some(el), Some(pts)) = (pad.parent_element(), buf.pts()) {
                let seg = pad.sticky_event::<gst::event::Segment>(0);
                let rt = seg.and_then(|s| {
                    s.segment()
                        .downcast_ref::<gst::ClockTime>()
                        .and_then(|s| s.to_running_time(pts))
                });
                if let (Some(now), Some(rt)) = (el.current_running_time(), rt) {
                    let behind = now.nseconds() as i64 - rt.nseconds() as i64;
                    lag.set(lags.note(medium, behind) as f64 / 1e9);
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
}

/// Answers the picture chain's allocation query as a video sink does: a
/// pool of the caps' size and `GstVideoMeta`, which the detectors read
/// (they map pictures through it). `avdec_*` then decodes straight into
/// buffers laid out for libav (padded rows, aligned strides) and pushes
/// them as they are; without it, it copies each decoded picture into a
/// buffer of the default layout (`av_frame_copy`: 5% of the CPU of 12
/// H.264 1080p streams on one core).
fn accept_decoders_pictures(sink_pad: &gst::Pad) {
    sink_pad.add_probe(gst::PadProbeType::QUERY_DOWNSTREAM, |_, info| {
        let Some(gst::PadProbeData::Query(q)) = &mut info.data else {
            return gst::PadProbeReturn::Ok;
        };
        let gst::QueryViewMut::Allocation(a) = q.view_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(size) = a
            .get()
            .0
            .and_then(|caps| gst_video::VideoInfo::from_caps(caps).ok())
            .and_then(|v| u32::try_from(v.size()).ok())
        else {
            return gst::PadProbeReturn::Ok;
        };
        a.add_allocation_pool(None::<&gst::BufferPool>, size, 1, 0);
        a.add_allocation_meta::<gst_video::VideoMeta>(None);
        gst::PadProbeReturn::Handled
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::init;

    /// An H.264 file of `frames` 25 fps frames with 3 B-frames between
    /// reference frames (none of them a reference) and AAC stereo, or
    /// `None` without the encoders.
    fn ibbbp_file(name: &str, frames: u32) -> Option<std::path::PathBuf> {
        ibbbp_file_of(name, frames, "ball", "")
    }

    /// As [`ibbbp_file`], the pictures `videotestsrc`'s `pattern`.
    /// `x264` adds x264enc properties.
    fn ibbbp_file_of(
        name: &str,
        frames: u32,
        pattern: &str,
        x264: &str,
    ) -> Option<std::path::PathBuf> {
        gst::init().ok()?;
        for e in ["x264enc", "avdec_h264", "voaacenc", "avdec_aac"] {
            gst::ElementFactory::find(e)?;
        }
        let path =
            std::env::temp_dir().join(format!("avmonitor-{name}-{}.mp4", std::process::id()));
        let p = gst::parse::launch(&format!(
            "videotestsrc num-buffers={frames} pattern={pattern} ! video/x-raw,width=320,height=240,framerate=25/1 \
             ! x264enc speed-preset=ultrafast bframes=3 b-adapt=false b-pyramid=false {x264} ! queue ! m. \
             audiotestsrc num-buffers={} samplesperbuffer=1920 ! audio/x-raw,rate=48000,channels=2 \
             ! voaacenc ! queue ! m. mp4mux name=m ! filesink location={}",
            frames,
            path.display()
        ))
        .ok()?;
        play_to_end(&p);
        Some(path)
    }

    /// Plays `p` to its EOS (left in PLAYING, for a look inside).
    fn play(p: &gst::Element) {
        p.set_state(gst::State::Playing).unwrap();
        let bus = p.bus().unwrap();
        for m in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
            match m.view() {
                gst::MessageView::Eos(_) => break,
                gst::MessageView::Error(e) => panic!("{}", e.error()),
                _ => (),
            }
        }
    }

    fn play_to_end(p: &gst::Element) {
        play(p);
        p.set_state(gst::State::Null).unwrap();
    }

    /// Frames the video chain of `conf` saw, played to the end.
    fn frames_seen(conf: &config::Stream) -> u64 {
        played_to_end(conf).1
    }

    /// The pipeline of `conf` played to its end (and stopped), and the
    /// frames its video chain saw.
    fn played_to_end(conf: &config::Stream) -> (gst::Pipeline, u64) {
        init();
        let metrics = Arc::new(Metrics::new());
        metrics.add_stream(&conf.id);
        let built = build(conf, &metrics, false).unwrap();
        play_to_end(built.pipeline.upcast_ref());
        let label = crate::service::metrics::StreamLabel {
            stream: conf.id.clone(),
        };
        let seen = metrics.frames.get_or_create(&label).get();
        (built.pipeline, seen)
    }

    /// A stream `id` of `file` watched by blackdetect and silencedetect,
    /// as fast as it decodes, with the service's own choice of skipping.
    fn black_and_silence(id: &str, file: &std::path::Path) -> config::Stream {
        config::Stream {
            id: id.into(),
            uri: file.display().to_string(),
            detectors: Some(vec!["blackdetect".into(), "silencedetect".into()]),
            properties: Default::default(),
            realtime: Some(false),
            skip_frames: None,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        }
    }

    /// The decoders' own formats go to the detectors: I420 from avdec_h264,
    /// planar F32 from avdec_aac; the converters stay in passthrough.
    #[test]
    fn converters_stay_in_passthrough_for_the_decoders_formats() {
        use gst_base::prelude::*;
        let Some(file) = ibbbp_file("passthrough", 25) else {
            return;
        };
        init();
        let conf = black_and_silence("p", &file);
        let metrics = Arc::new(Metrics::new());
        let built = build(&conf, &metrics, false).unwrap();
        let p = built.pipeline;
        play(p.upcast_ref());
        let mut converters = Vec::new();
        for e in p.iterate_recurse().into_iter().flatten() {
            let name = match e.type_().name() {
                "GstVideoConvert" => "videoconvert".to_string(),
                "GstAudioConvert" => "audioconvert".to_string(),
                _ => continue,
            };
            {
                let t = e.downcast_ref::<gst_base::BaseTransform>().unwrap();
                converters.push((name, t.is_passthrough()));
            }
        }
        p.set_state(gst::State::Null).unwrap();
        converters.sort();
        assert_eq!(
            converters,
            [
                ("audioconvert".to_string(), true),
                ("videoconvert".to_string(), true)
            ]
        );
        let _ = std::fs::remove_file(file);
    }

    /// The detectors run in the decoder's own thread: no queue of the
    /// chain's adds a thread (and a wake-up per buffer) to a stream.
    #[test]
    fn the_detectors_run_in_the_decoders_thread() {
        let Some(file) = ibbbp_file("threads", 25) else {
            return;
        };
        init();
        let conf = black_and_silence("t", &file);
        let metrics = Arc::new(Metrics::new());
        let p = build(&conf, &metrics, false).unwrap().pipeline;
        // per pad watched, the threads its buffers came on
        type Threads =
            Arc<Mutex<std::collections::HashMap<&'static str, Vec<std::thread::ThreadId>>>>;
        let threads: Threads = Arc::default();
        let seen = threads.clone();
        p.connect_deep_element_added(move |_, _, element| {
            // by type (gst-libav's types are named as its factories) and by
            // the name the service gives its detectors: not by factory, as
            // tests registering the plugin again meanwhile replace ours
            let (key, pad) = match (element.type_().name(), element.name().as_str()) {
                ("avdec_h264", _) => ("avdec_h264", "src"),
                ("avdec_aac", _) => ("avdec_aac", "src"),
                (_, "blackdetect") => ("blackdetect", "sink"),
                (_, "silencedetect") => ("silencedetect", "sink"),
                _ => return,
            };
            let seen = seen.clone();
            element
                .static_pad(pad)
                .unwrap()
                .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                    let mut seen = seen.lock().unwrap();
                    let list = seen.entry(key).or_default();
                    let me = std::thread::current().id();
                    if !list.contains(&me) {
                        list.push(me);
                    }
                    gst::PadProbeReturn::Ok
                });
        });
        play_to_end(p.upcast_ref());
        p.set_state(gst::State::Null).unwrap();
        let threads = threads.lock().unwrap();
        for (decoder, detector) in [
            ("avdec_h264", "blackdetect"),
            ("avdec_aac", "silencedetect"),
        ] {
            let (Some(d), Some(a)) = (threads.get(decoder), threads.get(detector)) else {
                panic!("{decoder} or {detector} saw no buffer: {threads:?}");
            };
            assert_eq!(d.len(), 1, "{decoder}: {d:?}");
            assert_eq!(a, d, "{detector} runs apart from {decoder}");
        }
        assert_ne!(threads["avdec_h264"], threads["avdec_aac"]);
        let _ = std::fs::remove_file(file);
    }

    /// A stream runs as far behind as its worse medium: pictures falling
    /// behind show though the sound, noted more often, is on time.
    #[test]
    fn a_stream_lags_as_its_worse_medium() {
        let lags = Lags::default();
        assert_eq!(lags.note(Medium::Audio, 10), 10);
        assert_eq!(lags.note(Medium::Video, 2_000_000_000), 2_000_000_000);
        assert_eq!(lags.note(Medium::Audio, -5), 2_000_000_000);
        assert_eq!(lags.note(Medium::Audio, 0), 2_000_000_000);
        // the pictures catch up: the sound's lag again
        assert_eq!(lags.note(Medium::Video, -40_000_000), 0);
        assert_eq!(lags.note(Medium::Audio, 3), 3);
    }

    /// The decoders a played stream had, by klass.
    fn decoders_of(conf: &config::Stream) -> (bool, bool, u64) {
        init();
        let metrics = Arc::new(Metrics::new());
        metrics.add_stream(&conf.id);
        let built = build(conf, &metrics, false).unwrap();
        let p = built.pipeline;
        play(p.upcast_ref());
        let klass = |k: &str| {
            p.iterate_recurse()
                .into_iter()
                .flatten()
                .any(|e| e.metadata("klass").is_some_and(|m| m.contains(k)))
        };
        let found = (klass("Decoder/Video"), klass("Decoder/Audio"));
        p.set_state(gst::State::Null).unwrap();
        let label = crate::service::metrics::StreamLabel {
            stream: conf.id.clone(),
        };
        let samples = metrics.samples.get_or_create(&label).get();
        (found.0, found.1, samples)
    }

    /// A medium no detector watches is not decoded: an audio monitor gets
    /// no video decoder, a picture monitor no audio decoder.
    #[test]
    fn an_unwatched_medium_is_not_decoded() {
        let Some(file) = ibbbp_file("unwatched", 25) else {
            return;
        };
        let conf = |detectors: &[&str]| config::Stream {
            id: "u".into(),
            uri: file.display().to_string(),
            detectors: Some(detectors.iter().map(|d| d.to_string()).collect()),
            properties: Default::default(),
            realtime: Some(false),
            skip_frames: None,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        let (video, audio, samples) = decoders_of(&conf(&["silencedetect", "loudnessmeter"]));
        assert!(
            !video && audio && samples > 40_000,
            "{video} {audio} {samples}"
        );
        let (video, audio, _) = decoders_of(&conf(&["blackdetect"]));
        assert!(video && !audio);
        let (video, audio, _) = decoders_of(&conf(&["blackdetect", "silencedetect"]));
        assert!(video && audio);
        let _ = std::fs::remove_file(file);
    }

    #[test]
    fn black_and_freeze_streams_skip_the_non_reference_frames() {
        let Some(file) = ibbbp_file("skip", 100) else {
            return;
        };
        let conf = |id: &str, detectors: &[&str], skip: Option<bool>| config::Stream {
            id: id.into(),
            uri: file.display().to_string(),
            detectors: Some(detectors.iter().map(|d| d.to_string()).collect()),
            properties: Default::default(),
            realtime: Some(false),
            skip_frames: skip,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        let picture = conf("a", &["blackdetect", "freezedetect"], None);
        assert!(picture.skips_frames());
        let skipped = frames_seen(&picture);
        // 100 frames, 3 in 4 of them non-reference B-frames
        assert!((20..=35).contains(&skipped), "{skipped} frames");
        // blockdetect needs them all; so does the setting
        let block = conf("b", &["blackdetect", "blockdetect"], None);
        assert!(!block.skips_frames());
        assert_eq!(frames_seen(&block), 100);
        assert_eq!(frames_seen(&conf("c", &["freezedetect"], Some(false))), 100);
        let _ = std::fs::remove_file(file);
    }

    /// Frames analysed, and avsyncdetect's mode once played to the end.
    fn frames_and_sync_mode(conf: &config::Stream) -> (u64, String) {
        let (p, seen) = played_to_end(conf);
        let sync = p
            .by_name(SYNC_DETECTOR)
            .expect("avsyncdetect in the pipeline");
        let mode = gst::glib::EnumValue::from_value(&sync.property_value("mode"))
            .map(|(_, v)| v.nick().to_string())
            .unwrap();
        (seen, mode)
    }

    /// The decoder pushes the pictures it decoded into, laid out for libav
    /// and told by a `GstVideoMeta`, rather than a copy of each (the
    /// picture chain's sink answers the allocation query); blackdetect
    /// reads them through the meta and finds the whole file black.
    #[test]
    fn the_decoders_own_pictures_reach_the_detectors() {
        let Some(file) = ibbbp_file_of("black", 50, "black", "") else {
            return;
        };
        init();
        let conf = config::Stream {
            id: "dr".into(),
            uri: file.display().to_string(),
            detectors: Some(vec!["blackdetect".into()]),
            properties: [(
                "blackdetect".to_string(),
                [("min-duration".to_string(), toml::Value::from(0))]
                    .into_iter()
                    .collect(),
            )]
            .into_iter()
            .collect(),
            realtime: Some(false),
            skip_frames: Some(false),
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        let metrics = Arc::new(Metrics::new());
        metrics.add_stream(&conf.id);
        let p = build(&conf, &metrics, false).unwrap().pipeline;
        // pictures with a meta whose chroma is not where the caps put it
        let laid_out = Arc::new(Mutex::new(Vec::new()));
        let seen = laid_out.clone();
        p.connect_deep_element_added(move |_, _, element| {
            if element.name() != "blackdetect" {
                return;
            }
            let seen = seen.clone();
            let pad = element.static_pad("sink").unwrap();
            pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
                let (Some(buf), Some(caps)) = (info.buffer(), pad.current_caps()) else {
                    return gst::PadProbeReturn::Ok;
                };
                let info = gst_video::VideoInfo::from_caps(&caps).unwrap();
                let own = buf
                    .meta::<gst_video::VideoMeta>()
                    .is_some_and(|m| m.offset()[1] != info.offset()[1]);
                seen.lock().unwrap().push(own);
                gst::PadProbeReturn::Ok
            });
        });
        p.set_state(gst::State::Playing).unwrap();
        let mut black = Vec::new();
        for m in p
            .bus()
            .unwrap()
            .iter_timed(gst::ClockTime::from_seconds(60))
        {
            match m.view() {
                gst::MessageView::Eos(_) => break,
                gst::MessageView::Error(e) => panic!("{}", e.error()),
                gst::MessageView::Element(e) => {
                    if let Some(s) = e.structure().filter(|s| s.name() == "blackdetect") {
                        black.push(s.get::<String>("event").unwrap());
                    }
                }
                _ => (),
            }
        }
        p.set_state(gst::State::Null).unwrap();
        let laid_out = laid_out.lock().unwrap();
        assert_eq!(laid_out.len(), 50);
        assert!(laid_out.iter().all(|&own| own), "{laid_out:?}");
        assert_eq!(black, ["start", "end"]);
        let _ = std::fs::remove_file(file);
    }

    /// The default detectors skip B-frames: avsyncdetect, among them,
    /// watches stalls only; decoding every frame, it measures offsets.
    #[test]
    fn lip_sync_is_measured_where_every_frame_is_decoded() {
        let Some(file) = ibbbp_file("sync", 100) else {
            return;
        };
        let conf = |id: &str, skip: Option<bool>, mode: Option<&str>| config::Stream {
            id: id.into(),
            uri: file.display().to_string(),
            detectors: None,
            properties: mode
                .map(|m| {
                    let p = [("mode".to_string(), toml::Value::from(m))];
                    [(SYNC_DETECTOR.to_string(), p.into_iter().collect())]
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default(),
            realtime: Some(false),
            skip_frames: skip,
            keyframes_only: false,
            keyframes_until_still: false,
            looped: false,
        };
        let (seen, mode) = frames_and_sync_mode(&conf("d", None, None));
        assert!((20..=35).contains(&seen), "{seen} frames");
        assert_eq!(mode, "stall");
        assert_eq!(
            frames_and_sync_mode(&conf("e", Some(false), None)),
            (100, "auto".to_string())
        );
        assert_eq!(
            frames_and_sync_mode(&conf("c", None, Some("content"))),
            (100, "content".to_string())
        );
        let _ = std::fs::remove_file(file);
    }

    /// Keyframes only, with the default detectors: a picture a GOP reaches
    /// them (4 of 100 frames, a keyframe each 25), and avsyncdetect watches
    /// stalls with the longer timeout, or the stream's own.
    #[test]
    fn a_keyframes_only_stream_sees_a_picture_a_gop() {
        let Some(file) = ibbbp_file_of("keyframes", 100, "ball", "key-int-max=25") else {
            return;
        };
        let conf = |id: &str, timeout: Option<u64>| config::Stream {
            id: id.into(),
            uri: file.display().to_string(),
            detectors: None,
            properties: timeout
                .map(|t| {
                    let p = [("stall-timeout".to_string(), toml::Value::from(t as i64))];
                    [(SYNC_DETECTOR.to_string(), p.into_iter().collect())]
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default(),
            realtime: Some(false),
            skip_frames: None,
            keyframes_only: true,
            keyframes_until_still: false,
            looped: false,
        };
        let timeout = |p: &gst::Pipeline| {
            p.by_name(SYNC_DETECTOR)
                .unwrap()
                .property::<u64>("stall-timeout")
        };
        let (p, seen) = played_to_end(&conf("k", None));
        assert_eq!(seen, 4);
        assert_eq!(timeout(&p), config::KEYFRAMES_STALL_TIMEOUT);
        let (p, seen) = played_to_end(&conf("t", Some(3_000_000_000)));
        assert_eq!(seen, 4);
        assert_eq!(timeout(&p), 3_000_000_000);
        let (_, mode) = frames_and_sync_mode(&conf("m", None));
        assert_eq!(mode, "stall");
        let _ = std::fs::remove_file(file);
    }

    /// Keyframes until still, with the default detectors: a moving picture
    /// is seen a picture a GOP (4 of 100 frames), a black one at every I and
    /// P frame, as the default decoding sees it; avsyncdetect watches
    /// stalls with the longer timeout. (Not colour bars: x264 spends their
    /// P frames sharpening the still picture, kilobytes each, as it does a
    /// freeze's.)
    #[test]
    fn a_keyframes_until_still_stream_sees_every_still_picture() {
        let Some(moving) = ibbbp_file_of("until-moving", 100, "ball", "key-int-max=25") else {
            return;
        };
        let Some(still) = ibbbp_file_of("until-still", 100, "black", "key-int-max=25") else {
            return;
        };
        let conf = |id: &str, file: &std::path::Path, until_still: bool| config::Stream {
            id: id.into(),
            uri: file.display().to_string(),
            detectors: None,
            properties: Default::default(),
            realtime: Some(false),
            skip_frames: None,
            keyframes_only: false,
            keyframes_until_still: until_still,
            looped: false,
        };
        let (p, seen) = played_to_end(&conf("m", &moving, true));
        assert_eq!(seen, 4);
        assert_eq!(
            p.by_name(SYNC_DETECTOR)
                .unwrap()
                .property::<u64>("stall-timeout"),
            config::KEYFRAMES_STALL_TIMEOUT
        );
        let (_, default) = played_to_end(&conf("d", &still, false));
        let (_, seen) = played_to_end(&conf("s", &still, true));
        assert!(default > 20 && default < 100, "{default}");
        assert_eq!(seen, default);
        let _ = std::fs::remove_file(moving);
        let _ = std::fs::remove_file(still);
    }
}
