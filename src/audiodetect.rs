//! GStreamer glue shared by the audio detectors: caps, buffer mapping,
//! timing from sample counts, and the handling of EOS, flushes, gaps and
//! caps changes.

use gst_audio::{AudioFormat, AudioInfo, AudioLayout};
use gst_base::prelude::*;

use crate::analysis::audio::samples::{AudioView, SampleFormat};
use crate::analysis::audio::timing::AudioTime;
use crate::analysis::event::EndReason;
use crate::analysis::AudioDetector;
use crate::glue::ToMessage;

/// The raw formats the audio detectors analyse.
pub const FORMATS: &[AudioFormat] = &[
    AudioFormat::S16le,
    AudioFormat::S24le,
    AudioFormat::S2432le,
    AudioFormat::S32le,
    AudioFormat::F32le,
    AudioFormat::F64le,
];

/// Sink and source "always" templates with [`caps`].
pub fn pad_templates() -> Vec<gst::PadTemplate> {
    crate::glue::passthrough_templates(&caps())
}

/// Caps of both pads: the formats above, interleaved or not, 1 to 64
/// channels, 8 to 192 kHz.
pub fn caps() -> gst::Caps {
    gst_audio::AudioCapsBuilder::new()
        .format_list(FORMATS.iter().copied())
        .layout_list([AudioLayout::Interleaved, AudioLayout::NonInterleaved])
        .channels_range(1..=64)
        .rate_range(8000..=192_000)
        .build()
}

fn sample_format(f: AudioFormat) -> Option<SampleFormat> {
    Some(match f {
        AudioFormat::S16le => SampleFormat::S16,
        AudioFormat::S24le => SampleFormat::S24,
        AudioFormat::S2432le => SampleFormat::S24In32,
        AudioFormat::S32le => SampleFormat::S32,
        AudioFormat::F32le => SampleFormat::F32,
        AudioFormat::F64le => SampleFormat::F64,
        _ => return None,
    })
}

/// Timestamps further than this from the sample count re-anchor the clock.
const TOLERANCE: u64 = 1_000_000;

/// Buffer timing from timestamps and sample counts.
#[derive(Debug, Clone, Copy, Default)]
struct AudioClock {
    /// Time of the next buffer's first frame, from the last timestamp plus
    /// the frames since.
    next: Option<AudioTime>,
}

impl AudioClock {
    /// Where `buffer` starts: its PTS when it disagrees with the sample count
    /// (or nothing is known yet), else the sample count. Without any PTS yet,
    /// counting starts at `origin`. Also says whether time went backwards.
    pub fn timing(
        &self,
        buffer: &gst::BufferRef,
        rate: u32,
        origin: impl FnOnce() -> u64,
    ) -> (AudioTime, bool) {
        let counted = self.next;
        let at = match (buffer.pts().map(|t| t.nseconds()), counted) {
            (Some(pts), Some(c)) if c.frame(0, rate).abs_diff(pts) <= TOLERANCE => c,
            (Some(pts), _) => AudioTime::at(pts),
            (None, Some(c)) => c,
            (None, None) => AudioTime::at(origin()),
        };
        let backwards = counted.is_some_and(|c| at.frame(0, rate) + TOLERANCE < c.frame(0, rate));
        (at, backwards)
    }

    /// The buffer at `at` held `frames` frames.
    pub fn advance(&mut self, at: AudioTime, frames: usize) {
        self.next = Some(AudioTime {
            base: at.base,
            offset: at.offset + frames as u64,
        });
    }

    /// The next buffer starts at `t` (after a gap).
    pub fn set(&mut self, t: u64) {
        self.next = Some(AudioTime::at(t));
    }

    pub fn reset(&mut self) {
        self.next = None;
    }
}

/// The samples of a mapped buffer; `None` when it does not hold them.
fn view<'a>(
    abuf: &'a gst_audio::AudioBufferRef<&'a gst::BufferRef>,
    format: SampleFormat,
    channels: usize,
) -> Option<AudioView<'a>> {
    if abuf.n_planes() == 1 {
        abuf.plane_data(0)
            .ok()
            .and_then(|d| AudioView::interleaved(d, format, channels).ok())
    } else {
        let planes: Option<Vec<&[u8]>> = (0..abuf.n_planes())
            .map(|p| abuf.plane_data(p).ok())
            .collect();
        planes.and_then(|p| AudioView::planar(p, format, abuf.n_samples()).ok())
    }
}

/// One audio stream as every audio element reads it (the single-stream
/// detectors and `avsyncdetect` alike): the negotiated format, its samples,
/// and buffer timing from timestamps and sample counts.
pub struct AudioInput {
    pub info: AudioInfo,
    format: SampleFormat,
    clock: AudioClock,
}

impl AudioInput {
    /// The input for caps `info`; `None` for a sample format not analysed.
    pub fn new(info: &AudioInfo) -> Option<Self> {
        Some(AudioInput {
            info: info.clone(),
            format: sample_format(info.format())?,
            clock: AudioClock::default(),
        })
    }

    /// Where `buffer` starts (see [`AudioClock::timing`]), and whether time
    /// went backwards.
    pub fn timing(
        &self,
        buffer: &gst::BufferRef,
        origin: impl FnOnce() -> u64,
    ) -> (AudioTime, bool) {
        self.clock.timing(buffer, self.info.rate(), origin)
    }

    /// Maps `buffer` and hands its samples to `analyse`. Returns the frames
    /// the buffer held, and why it was not analysed when it was not.
    pub fn analyse(
        &self,
        buffer: &gst::BufferRef,
        analyse: impl FnOnce(&AudioView<'_>),
    ) -> (usize, Result<(), String>) {
        let by_size = buffer.size() / self.info.bpf().max(1) as usize;
        // (GStreamer's map asserts a planar buffer has its meta: a critical,
        // not an error, so it is checked here first)
        if self.info.layout() == gst_audio::AudioLayout::NonInterleaved
            && buffer.meta::<gst_audio::AudioMeta>().is_none()
        {
            return (
                by_size,
                Err("planar buffer without an audio meta: not analysed".into()),
            );
        }
        match gst_audio::AudioBufferRef::from_buffer_ref_readable(buffer, &self.info) {
            Ok(abuf) => match view(&abuf, self.format, self.info.channels() as usize) {
                Some(v) => {
                    analyse(&v);
                    (v.frames(), Ok(()))
                }
                None => (
                    by_size,
                    Err("buffer does not hold its samples: not analysed".into()),
                ),
            },
            Err(e) => (by_size, Err(format!("buffer not analysed: {e}"))),
        }
    }

    /// The buffer at `at` held `frames` frames.
    pub fn advance(&mut self, at: AudioTime, frames: usize) {
        self.clock.advance(at, frames);
    }

    /// The next buffer starts at `t` (after a gap).
    pub fn resume_at(&mut self, t: u64) {
        self.clock.set(t);
    }

    /// Forgets the time (flush).
    pub fn reset(&mut self) {
        self.clock.reset();
    }
}

/// The per-stream state of a single-stream audio detector element: its
/// kernel and its input.
pub struct AudioStream<D> {
    pub detector: D,
    pub input: AudioInput,
}

pub struct AudioCore<D> {
    state: std::sync::Mutex<Option<AudioStream<D>>>,
    cat: gst::DebugCategory,
}

impl<D> AudioCore<D>
where
    D: AudioDetector,
    D::Event: ToMessage,
{
    pub fn new(cat: gst::DebugCategory) -> Self {
        AudioCore {
            state: std::sync::Mutex::new(None),
            cat,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<AudioStream<D>>> {
        crate::glue::lock(&self.state)
    }

    fn post(&self, element: &gst_base::BaseTransform, events: &[D::Event]) {
        crate::glue::post(element, self.cat, events);
    }

    /// New caps: a different format ends what is open (`caps-change`) and
    /// starts afresh with a detector made from `config`.
    pub fn set_caps(
        &self,
        element: &gst_base::BaseTransform,
        incaps: &gst::Caps,
        config: D::Config,
    ) -> Result<(), gst::LoggableError> {
        let info = AudioInfo::from_caps(incaps)
            .map_err(|_| gst::loggable_error!(self.cat, "cannot parse caps {incaps}"))?;
        let info = &info;
        let mut state = self.lock();
        if state.as_ref().is_some_and(|s| &s.input.info == info) {
            return Ok(());
        }
        let closed = state
            .as_mut()
            .map(|s| s.detector.close(EndReason::CapsChange))
            .unwrap_or_default();
        let input = AudioInput::new(info);
        let detector = D::new(config, info.rate(), info.channels() as usize);
        let new = match (input, detector) {
            (Some(input), Some(detector)) => Some(AudioStream { detector, input }),
            _ => None,
        };
        let ok = new.is_some();
        *state = new;
        drop(state);
        self.post(element, &closed);
        if ok {
            gst::debug!(self.cat, obj = element, "analysing {info:?}");
            Ok(())
        } else {
            Err(gst::loggable_error!(self.cat, "cannot analyse {info:?}"))
        }
    }

    /// One buffer: the detector is brought up to date with `config`, then
    /// the buffer is analysed and any event posted.
    pub fn buffer(
        &self,
        element: &gst_base::BaseTransform,
        buffer: &gst::BufferRef,
        config: D::Config,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        // only asked for when nothing else gives the time (the segment is copied under a lock)
        let origin = || {
            element
                .segment()
                .downcast_ref::<gst::ClockTime>()
                .and_then(|s| s.start())
                .map_or(0, |t| t.nseconds())
        };
        let mut state = self.lock();
        let Some(stream) = state.as_mut() else {
            drop(state);
            gst::element_error!(
                element,
                gst::CoreError::Negotiation,
                ["Received a buffer before caps"]
            );
            return Err(gst::FlowError::NotNegotiated);
        };
        if stream.detector.config() != config {
            stream.detector.set_config(config);
        }
        let (at, backwards) = stream.input.timing(buffer, origin);
        let mut events = Vec::new();
        if backwards {
            events.extend(stream.detector.close(EndReason::Discont));
        }
        let detector = &mut stream.detector;
        let (frames, analysed) = stream
            .input
            .analyse(buffer, |v| events.extend(detector.push(v, at)));
        if let Err(why) = analysed {
            gst::warning!(self.cat, obj = element, "{why}");
        }
        stream.input.advance(at, frames);
        drop(state);
        self.post(element, &events);
        Ok(gst::FlowSuccess::Ok)
    }

    /// Handles the sink events that matter to a detector, before the base
    /// class sees them (while the segment still holds).
    pub fn sink_event(&self, element: &gst_base::BaseTransform, event: &gst::Event) {
        let events = {
            let mut state = self.lock();
            let Some(stream) = state.as_mut() else {
                return;
            };
            match event.view() {
                gst::EventView::Eos(_) => stream.detector.close(EndReason::Eos),
                gst::EventView::FlushStop(_) => {
                    stream.input.reset();
                    stream.detector.flush()
                }
                gst::EventView::Gap(g) => {
                    let (ts, dur) = g.get();
                    match dur {
                        Some(d) => {
                            let ts = ts.nseconds();
                            let d = d.nseconds();
                            stream.input.resume_at(ts + d);
                            stream.detector.gap(ts, d)
                        }
                        None => Vec::new(),
                    }
                }
                _ => Vec::new(),
            }
        };
        self.post(element, &events);
    }

    pub fn stop(&self) {
        *self.lock() = None;
    }
}

/// The element metadata of an audio detector: klass `Filter/Analyzer/Audio`.
pub fn metadata(long_name: &str, description: &str) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(
        long_name,
        "Filter/Analyzer/Audio",
        description,
        "avmonitor developers",
    )
}

/// The pad templates every audio detector has (built once).
pub fn pad_templates_static() -> &'static [gst::PadTemplate] {
    static TEMPLATES: std::sync::LazyLock<Vec<gst::PadTemplate>> =
        std::sync::LazyLock::new(pad_templates);
    TEMPLATES.as_ref()
}
