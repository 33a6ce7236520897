use std::sync::{LazyLock, Mutex, MutexGuard};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;

use super::messages::AvSyncDetectMessage;
use super::{Mode as ModeProp, Preset};
use crate::analysis::audio::timing::AudioTime;
use crate::analysis::avsync::{AvSync, Media, Mode, SyncConfig, SyncEvent};
use crate::analysis::event::Transition;
use crate::audiodetect::{self, AudioInput};
use crate::messages::{DefectEvent, EventKind, Times};
use crate::videodetect::{self, Skip, VideoInput};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "avsyncdetect",
        gst::DebugColorFlags::empty(),
        Some("Audio/video sync detector"),
    )
});

const MS: u64 = 1_000_000;

type Segment = gst::FormattedSegment<gst::ClockTime>;

#[derive(Debug, Clone, Copy)]
struct Settings {
    sync: SyncConfig,
    preset: Preset,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // EBU R37's bounds (tested against Preset::EbuR37)
            sync: SyncConfig::default(),
            preset: Preset::EbuR37,
        }
    }
}

struct State {
    sync: AvSync,
    video: Option<VideoInput>,
    audio: Option<AudioInput>,
    /// The time segments of the video and the audio stream.
    segments: [Option<Segment>; 2],
    /// Whether upstream is live (asked at the first buffer).
    live: Option<bool>,
}

impl State {
    fn new(config: SyncConfig) -> Self {
        State {
            sync: AvSync::new(config),
            video: None,
            audio: None,
            segments: [None, None],
            live: None,
        }
    }

    fn segment(&self, media: Media) -> Option<&Segment> {
        self.segments[usize::from(media == Media::Audio)].as_ref()
    }

    /// The messages for `events`, with times from the stream they describe.
    fn structures(&self, events: &[SyncEvent]) -> Vec<gst::Structure> {
        events
            .iter()
            .map(|e| {
                match *e {
                    SyncEvent::Measurement(m) => AvSyncDetectMessage::Measurement {
                        at: times(m.at, self.segment(Media::Video)),
                        offset_ms: m.offset as f64 / 1e6,
                        confidence: m.confidence,
                        observations: m.observations,
                        method: m.method,
                    },
                    SyncEvent::Offset { transition, offset } => AvSyncDetectMessage::Offset {
                        event: defect(transition, self.segment(Media::Video)),
                        offset_ms: offset as f64 / 1e6,
                    },
                    SyncEvent::Stall { media, transition } => AvSyncDetectMessage::Stall {
                        event: defect(transition, self.segment(media)),
                        stream: media,
                    },
                }
                .to_structure()
            })
            .collect()
    }
}

/// Buffer time, stream time and running time of running time `rt`.
fn times(rt: u64, segment: Option<&Segment>) -> Times {
    let pos = segment.and_then(|s| s.position_from_running_time(gst::ClockTime::from_nseconds(rt)));
    let stream_time = pos.and_then(|p| segment.and_then(|s| s.to_stream_time(p)));
    Times {
        timestamp: pos.map_or(rt, |p| p.nseconds()),
        stream_time: stream_time.map(|t| t.nseconds()),
        running_time: Some(rt),
    }
}

fn defect(t: Transition, segment: Option<&Segment>) -> DefectEvent {
    let at = times(t.timestamp(), segment);
    let (kind, duration, reason) = match t {
        Transition::Start { .. } => (EventKind::Start, None, None),
        Transition::End { start, end, reason } => (
            EventKind::End,
            Some(end.saturating_sub(start)),
            Some(reason),
        ),
    };
    DefectEvent {
        kind,
        at,
        duration,
        reason,
    }
}

pub struct AvSyncDetect {
    video_sink: gst::Pad,
    video_src: gst::Pad,
    audio_sink: gst::Pad,
    audio_src: gst::Pad,
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// Held from taking the state to posting what it produced, so that the
    /// video and audio threads post their messages in the order the state
    /// made them (an alarm's start before its end).
    order: Mutex<()>,
}

impl AvSyncDetect {
    fn settings(&self) -> Settings {
        *crate::glue::lock(&self.settings)
    }

    /// See `order`; released before pushing anything downstream.
    fn in_order(&self) -> MutexGuard<'_, ()> {
        crate::glue::lock(&self.order)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::glue::lock(&self.state)
    }

    fn post(&self, structures: Vec<gst::Structure>) {
        let obj = self.obj();
        for s in structures {
            gst::debug!(CAT, imp = self, "posting {s}");
            let _ = obj.post_message(gst::message::Element::builder(s).src(&*obj).build());
        }
    }

    fn media(&self, pad: &gst::Pad) -> Media {
        if pad == &self.video_sink || pad == &self.video_src {
            Media::Video
        } else {
            Media::Audio
        }
    }

    /// The other pad of `pad`'s pair.
    fn partner(&self, pad: &gst::Pad) -> &gst::Pad {
        if pad == &self.video_sink {
            &self.video_src
        } else if pad == &self.video_src {
            &self.video_sink
        } else if pad == &self.audio_sink {
            &self.audio_src
        } else {
            &self.audio_sink
        }
    }

    fn not_negotiated(&self) -> Result<gst::FlowSuccess, gst::FlowError> {
        gst::element_imp_error!(
            self,
            gst::CoreError::Negotiation,
            ["Received a buffer before caps"]
        );
        Err(gst::FlowError::NotNegotiated)
    }

    /// Asks upstream of both sink pads whether the media is live (call
    /// without the state lock: the query travels upstream).
    fn check_live(&self) -> bool {
        let live = [&self.video_sink, &self.audio_sink].iter().any(|pad| {
            let mut q = gst::query::Latency::new();
            pad.peer_query(&mut q) && q.result().0
        });
        gst::debug!(CAT, imp = self, "upstream is live: {live}");
        live
    }

    /// The state for a buffer: liveness known, settings brought up to date.
    fn streaming(&self) -> MutexGuard<'_, State> {
        let config = self.settings().sync;
        let mut state = self.lock();
        if state.live.is_none() {
            // once, with the lock released: the query travels upstream
            drop(state);
            let live = self.check_live();
            state = self.lock();
            state.live = Some(live);
            state.sync.set_live(live);
        }
        if state.sync.config() != config {
            state.sync.set_config(config);
        }
        state
    }

    fn video_chain(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let order = self.in_order();
        let mut events = Vec::new();
        let structures = {
            let mut guard = self.streaming();
            let state = &mut *guard;
            let Some(video) = state.video.as_mut() else {
                drop(guard);
                return self.not_negotiated();
            };
            match video.timing(&buffer) {
                None => {
                    if video.untimed % 1000 == 1 {
                        gst::warning!(
                            CAT,
                            imp = self,
                            "video buffer without PTS and no earlier frame to extrapolate from: not analysed ({} so far)",
                            video.untimed
                        );
                    }
                }
                Some((pts, end)) => {
                    if video.went_back(pts) {
                        state.sync.discont(Media::Video);
                    }
                    let seg = state.segments[0].as_ref();
                    let rt = |t: u64| {
                        seg.and_then(|s| s.to_running_time(gst::ClockTime::from_nseconds(t)))
                    };
                    match (
                        rt(pts),
                        gst_video::VideoFrameRef::from_buffer_ref_readable(
                            buffer.as_ref(),
                            &video.info,
                        ),
                    ) {
                        (Some(start), Ok(frame)) => match video.luma(&frame) {
                            Ok(plane) => {
                                let end = rt(end).map_or(start.nseconds(), |t| t.nseconds());
                                state
                                    .sync
                                    .push_video(&plane, start.nseconds(), end, &mut events);
                            }
                            Err(Skip::BadFrame(why)) => {
                                gst::warning!(CAT, imp = self, "frame not analysed: {why}")
                            }
                            Err(Skip::NoTimestamp) => (),
                        },
                        (None, _) => {
                            gst::trace!(CAT, imp = self, "frame outside the segment: not analysed")
                        }
                        (_, Err(e)) => gst::warning!(CAT, imp = self, "frame not analysed: {e}"),
                    }
                }
            }
            state.structures(&events)
        };
        self.post(structures);
        drop(order);
        self.video_src.push(buffer)
    }

    fn audio_chain(&self, buffer: gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let order = self.in_order();
        let mut events = Vec::new();
        let structures = {
            let mut guard = self.streaming();
            let state = &mut *guard;
            let seg = state.segments[1].clone();
            let Some(audio) = state.audio.as_mut() else {
                drop(guard);
                return self.not_negotiated();
            };
            let rate = audio.info.rate();
            let origin = || {
                seg.as_ref()
                    .and_then(|s| s.start())
                    .map_or(0, |t| t.nseconds())
            };
            let (at, backwards) = audio.timing(&buffer, origin);
            if backwards {
                state.sync.discont(Media::Audio);
            }
            let sync = &mut state.sync;
            let (frames, analysed) = audio.analyse(buffer.as_ref(), |view| {
                let base = seg
                    .as_ref()
                    .and_then(|s| s.to_running_time(gst::ClockTime::from_nseconds(at.base)));
                match base {
                    Some(base) => {
                        let at = AudioTime {
                            base: base.nseconds(),
                            offset: at.offset,
                        };
                        sync.push_audio(view, at, rate, &mut events);
                    }
                    None => gst::trace!(CAT, imp = self, "audio outside the segment: not analysed"),
                }
            });
            if let Err(why) = analysed {
                gst::warning!(CAT, imp = self, "audio {why}");
            }
            audio.advance(at, frames);
            state.structures(&events)
        };
        self.post(structures);
        drop(order);
        self.audio_src.push(buffer)
    }

    /// New caps on `media`'s sink pad; false when they cannot be analysed.
    fn set_caps(
        &self,
        state: &mut State,
        media: Media,
        caps: &gst::CapsRef,
        events: &mut Vec<SyncEvent>,
    ) -> bool {
        match media {
            Media::Video => {
                let Ok(info) = gst_video::VideoInfo::from_caps(caps) else {
                    return false;
                };
                if state.video.as_ref().is_some_and(|v| v.info == info) {
                    return true;
                }
                let Ok(input) = VideoInput::new(&info) else {
                    return false;
                };
                if state.video.is_some() {
                    state.sync.caps_change(Media::Video, events);
                }
                gst::debug!(CAT, imp = self, "analysing video {info:?}");
                state.video = Some(input);
            }
            Media::Audio => {
                let Ok(info) = gst_audio::AudioInfo::from_caps(caps) else {
                    return false;
                };
                if state.audio.as_ref().is_some_and(|a| a.info == info) {
                    return true;
                }
                let Some(input) = AudioInput::new(&info) else {
                    return false;
                };
                if state.audio.is_some() {
                    state.sync.caps_change(Media::Audio, events);
                }
                gst::debug!(CAT, imp = self, "analysing audio {info:?}");
                state.audio = Some(input);
            }
        }
        true
    }

    fn sink_event(&self, pad: &gst::Pad, event: gst::Event) -> bool {
        let media = self.media(pad);
        let i = usize::from(media == Media::Audio);
        let mut events = Vec::new();
        let mut ok = true;
        let order = self.in_order();
        let structures = {
            let mut guard = self.lock();
            let state = &mut *guard;
            match event.view() {
                gst::EventView::Caps(c) => {
                    ok = self.set_caps(state, media, c.caps(), &mut events);
                }
                gst::EventView::Segment(s) => {
                    state.segments[i] = s.segment().downcast_ref::<gst::ClockTime>().cloned();
                }
                gst::EventView::Gap(g) => {
                    let (ts, dur) = g.get();
                    if let (Some(seg), Some(dur)) = (state.segments[i].as_ref(), dur) {
                        let end = ts.saturating_add(dur);
                        if let (Some(a), Some(b)) =
                            (seg.to_running_time(ts), seg.to_running_time(end))
                        {
                            state
                                .sync
                                .gap(media, a.nseconds(), b.nseconds(), &mut events);
                        }
                        match media {
                            Media::Video => {
                                if let Some(v) = state.video.as_mut() {
                                    v.reset_clock();
                                }
                            }
                            Media::Audio => {
                                if let Some(a) = state.audio.as_mut() {
                                    a.resume_at(end.nseconds());
                                }
                            }
                        }
                    }
                }
                gst::EventView::Eos(_) => state.sync.eos(media, &mut events),
                gst::EventView::FlushStop(_) => {
                    state.sync.flush(&mut events);
                    if let Some(v) = state.video.as_mut() {
                        v.reset();
                    }
                    if let Some(a) = state.audio.as_mut() {
                        a.reset();
                    }
                }
                _ => (),
            }
            state.structures(&events)
        };
        self.post(structures);
        drop(order);
        if !ok {
            if let gst::EventView::Caps(c) = event.view() {
                gst::warning!(CAT, imp = self, "refusing caps {}", c.caps());
            }
            return false;
        }
        gst::Pad::event_default(pad, Some(&*self.obj()), event)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for AvSyncDetect {
    const NAME: &'static str = "GstAvSyncDetect";
    type Type = super::AvSyncDetect;
    type ParentType = gst::Element;

    fn with_class(klass: &Self::Class) -> Self {
        let pad = |name: &str, sink: Option<bool>| {
            // the templates are the element's own; without one (which cannot
            // happen) the pad is still made, only not tied to a template
            let builder = match klass.pad_template(name) {
                Some(templ) => gst::Pad::builder_from_template(&templ),
                None => gst::Pad::builder(if sink.is_some() {
                    gst::PadDirection::Sink
                } else {
                    gst::PadDirection::Src
                })
                .name(name),
            }
            .iterate_internal_links_function(|pad, parent| {
                AvSyncDetect::catch_panic_pad_function(
                    parent,
                    || gst::Iterator::from_vec(vec![]),
                    |imp| gst::Iterator::from_vec(vec![imp.partner(pad).clone()]),
                )
            })
            .flags(
                gst::PadFlags::PROXY_CAPS
                    | gst::PadFlags::PROXY_ALLOCATION
                    | gst::PadFlags::PROXY_SCHEDULING,
            );
            match sink {
                None => builder.build(),
                Some(video) => builder
                    .chain_function(move |_pad, parent, buffer| {
                        AvSyncDetect::catch_panic_pad_function(
                            parent,
                            || Err(gst::FlowError::Error),
                            |imp| {
                                if video {
                                    imp.video_chain(buffer)
                                } else {
                                    imp.audio_chain(buffer)
                                }
                            },
                        )
                    })
                    .event_function(|pad, parent, event| {
                        AvSyncDetect::catch_panic_pad_function(
                            parent,
                            || false,
                            |imp| imp.sink_event(pad, event),
                        )
                    })
                    .build(),
            }
        };
        AvSyncDetect {
            video_sink: pad("video_sink", Some(true)),
            video_src: pad("video_src", None),
            audio_sink: pad("audio_sink", Some(false)),
            audio_src: pad("audio_src", None),
            settings: Mutex::new(Settings::default()),
            state: Mutex::new(State::new(Settings::default().sync)),
            order: Mutex::new(()),
        }
    }
}

fn mode_to_kernel(m: ModeProp) -> Mode {
    match m {
        ModeProp::Auto => Mode::Auto,
        ModeProp::TestSignal => Mode::TestSignal,
        ModeProp::Content => Mode::Content,
        ModeProp::Stall => Mode::Stall,
    }
}

fn mode_from_kernel(m: Mode) -> ModeProp {
    match m {
        Mode::Auto => ModeProp::Auto,
        Mode::TestSignal => ModeProp::TestSignal,
        Mode::Content => ModeProp::Content,
        Mode::Stall => ModeProp::Stall,
    }
}

fn duration_property(
    name: &str,
    nick: &str,
    blurb: &str,
    min: u64,
    max: u64,
    default: u64,
) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder(name)
        .nick(nick)
        .blurb(blurb)
        .minimum(min)
        .maximum(max)
        .default_value(default)
        .mutable_playing()
        .build()
}

impl ObjectImpl for AvSyncDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = SyncConfig::default();
            vec![
                glib::ParamSpecEnum::builder_with_default("mode", mode_from_kernel(d.mode))
                    .nick("Mode")
                    .blurb("How the offset is measured: flash/beep test signals, content, or test signals when present (auto); or not at all, stalls only (stall: the picture may skip frames)")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("preset", Settings::default().preset)
                    .nick("Preset")
                    .blurb("Sync tolerance of a standard (sets max-audio-early and max-audio-late)")
                    .mutable_playing()
                    .build(),
                duration_property("max-audio-early", "Maximum audio lead", "How far audio may lead video before an alarm, in nanoseconds", 0, 10_000 * MS, d.max_early),
                duration_property("max-audio-late", "Maximum audio lag", "How far audio may lag video before an alarm, in nanoseconds", 0, 10_000 * MS, d.max_late),
                crate::glue::min_duration_property(d.min_duration),
                duration_property("max-offset", "Maximum offset", "Largest offset looked for either way, in nanoseconds (a test pattern's period must exceed twice this)", 40 * MS, 10_000 * MS, d.max_offset),
                duration_property("window", "Window", "Content mode: how much media each measurement rests on, in nanoseconds", 1000 * MS, 600_000 * MS, d.window),
                duration_property("interval", "Interval", "Content mode: time between measurements, in nanoseconds", 100 * MS, 600_000 * MS, d.interval),
                glib::ParamSpecDouble::builder("min-confidence")
                    .nick("Minimum confidence")
                    .blurb("Measurements below this confidence (0 to 1) neither raise nor end an alarm")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.min_confidence)
                    .mutable_playing()
                    .build(),
                duration_property("stall-timeout", "Stall timeout", "A stream stalls when the other advances this far beyond its last buffer, in nanoseconds", MS, u64::MAX - 1, d.stall_timeout),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post measurement messages (alarms are posted regardless)")
                    .default_value(d.measurements)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        let c = &mut s.sync;
        match pspec.name() {
            "mode" => c.mode = mode_to_kernel(value.get().expect("type checked upstream")),
            "preset" => {
                let p = value.get::<Preset>().expect("type checked upstream");
                s.preset = p;
                if let Some((early, late)) = p.bounds() {
                    s.sync.max_early = early;
                    s.sync.max_late = late;
                }
            }
            "max-audio-early" => {
                c.max_early = value.get().expect("type checked upstream");
                s.preset = Preset::Custom;
            }
            "max-audio-late" => {
                c.max_late = value.get().expect("type checked upstream");
                s.preset = Preset::Custom;
            }
            "min-duration" => c.min_duration = value.get().expect("type checked upstream"),
            "max-offset" => c.max_offset = value.get().expect("type checked upstream"),
            "window" => c.window = value.get().expect("type checked upstream"),
            "interval" => c.interval = value.get().expect("type checked upstream"),
            "min-confidence" => c.min_confidence = value.get().expect("type checked upstream"),
            "stall-timeout" => c.stall_timeout = value.get().expect("type checked upstream"),
            "post-messages" => c.measurements = value.get().expect("type checked upstream"),
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        let c = s.sync;
        match pspec.name() {
            "mode" => mode_from_kernel(c.mode).to_value(),
            "preset" => s.preset.to_value(),
            "max-audio-early" => c.max_early.to_value(),
            "max-audio-late" => c.max_late.to_value(),
            "min-duration" => c.min_duration.to_value(),
            "max-offset" => c.max_offset.to_value(),
            "window" => c.window.to_value(),
            "interval" => c.interval.to_value(),
            "min-confidence" => c.min_confidence.to_value(),
            "stall-timeout" => c.stall_timeout.to_value(),
            "post-messages" => c.measurements.to_value(),
            _ => crate::glue::unknown_property_value(pspec),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        for pad in [
            &self.video_sink,
            &self.video_src,
            &self.audio_sink,
            &self.audio_src,
        ] {
            // adding a fresh pad with a unique name to its own element cannot fail
            let _ = obj.add_pad(pad);
        }
    }
}

impl GstObjectImpl for AvSyncDetect {}

impl ElementImpl for AvSyncDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Audio/video sync detector",
                "Filter/Analyzer/Audio/Video",
                "Posts audio/video offset (lip-sync) measurements from flash/beep test signals or from content, and start/end messages for offsets outside a tolerance and for one stream stalling; passes both streams through untouched",
                "avmonitor developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let video = videodetect::caps();
            let audio = audiodetect::caps();
            [
                ("video_sink", gst::PadDirection::Sink, &video),
                ("video_src", gst::PadDirection::Src, &video),
                ("audio_sink", gst::PadDirection::Sink, &audio),
                ("audio_src", gst::PadDirection::Src, &audio),
            ]
            .into_iter()
            .filter_map(|(name, dir, caps)| {
                gst::PadTemplate::new(name, dir, gst::PadPresence::Always, caps).ok()
            })
            .collect()
        });
        TEMPLATES.as_ref()
    }

    fn change_state(
        &self,
        transition: gst::StateChange,
    ) -> Result<gst::StateChangeSuccess, gst::StateChangeError> {
        if transition == gst::StateChange::ReadyToPaused {
            *self.lock() = State::new(self.settings().sync);
        }
        let ret = self.parent_change_state(transition)?;
        if transition == gst::StateChange::PausedToReady {
            *self.lock() = State::new(self.settings().sync);
        }
        Ok(ret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_the_default_preset() {
        let d = SyncConfig::default();
        assert_eq!(Preset::EbuR37.bounds(), Some((d.max_early, d.max_late)));
        assert_eq!(Settings::default().preset, Preset::EbuR37);
    }
}
