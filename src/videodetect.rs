//! GStreamer glue shared by the picture detectors: caps, how to find luma in
//! each format, buffer timing, the analysed-region properties and message times.

use gst::glib;
use gst::prelude::*;
use gst_video::prelude::*;
use gst_video::{VideoColorRange, VideoFormat, VideoFrameRef, VideoInfo};

use crate::analysis::event::EndReason;
use crate::analysis::video::colour::{
    ColourFormat, ColourModel, ColourPicture, Component, Packing, PlaneData,
};
use crate::analysis::video::frame::{LumaLayout, LumaPlane, LumaRange, Region};
use crate::analysis::VideoDetector;
use crate::glue::ToMessage;

/// Every raw format the picture detectors analyse.
pub const FORMATS: &[VideoFormat] = &[
    VideoFormat::Gray8,
    VideoFormat::Gray16Le,
    VideoFormat::I420,
    VideoFormat::Yv12,
    VideoFormat::Nv12,
    VideoFormat::Nv21,
    VideoFormat::Y41b,
    VideoFormat::Y42b,
    VideoFormat::Y444,
    VideoFormat::Yuy2,
    VideoFormat::Uyvy,
    VideoFormat::Yvyu,
    VideoFormat::Ayuv,
    VideoFormat::V210,
    VideoFormat::I42010le,
    VideoFormat::I42210le,
    VideoFormat::Y44410le,
    VideoFormat::P01010le,
    VideoFormat::Rgbx,
    VideoFormat::Bgrx,
    VideoFormat::Xrgb,
    VideoFormat::Xbgr,
    VideoFormat::Rgba,
    VideoFormat::Bgra,
    VideoFormat::Argb,
    VideoFormat::Abgr,
    VideoFormat::Rgb,
    VideoFormat::Bgr,
];

/// The caps both pad templates use.
pub fn caps() -> gst::Caps {
    gst_video::VideoCapsBuilder::new()
        .format_list(FORMATS.iter().copied())
        .build()
}

/// Sink and source "always" templates with [`caps`].
pub fn pad_templates() -> Vec<gst::PadTemplate> {
    crate::glue::passthrough_templates(&caps())
}

/// Where luma is in a buffer of `info`'s format, and its nominal range.
/// Returns the plane index too; `None` for a format we cannot read.
pub fn luma_format(info: &VideoInfo) -> Option<(u32, LumaLayout, LumaRange)> {
    let f = info.format_info();
    let full = match info.colorimetry().range() {
        VideoColorRange::Range0_255 => true,
        VideoColorRange::Range16_235 => false,
        _ => !f.is_yuv(),
    };
    if info.format() == VideoFormat::V210 {
        return Some((0, LumaLayout::V210, LumaRange::new(10, full)));
    }
    if !FORMATS.contains(&info.format()) {
        return None;
    }
    let step = usize::try_from(*f.pixel_stride().first()?).ok()?;
    let offset = |c: usize| f.poffset().get(c).map(|&o| o as usize);
    if f.is_rgb() {
        let planes = f.plane();
        if f.depth().first() != Some(&8) || planes.iter().take(3).any(|&p| p != 0) {
            return None;
        }
        let layout = LumaLayout::Rgb8 {
            r: offset(0)?,
            g: offset(1)?,
            b: offset(2)?,
            step,
        };
        return Some((0, layout, LumaRange::new(8, full)));
    }
    let plane = *f.plane().first()?;
    let depth = *f.depth().first()?;
    let shift = *f.shift().first()?;
    let layout = if depth + shift > 8 {
        if !f.is_le() {
            return None;
        }
        LumaLayout::U16 {
            offset: offset(0)?,
            step,
            shift,
        }
    } else {
        LumaLayout::U8 {
            offset: offset(0)?,
            step,
        }
    };
    Some((plane, layout, LumaRange::new(depth, full)))
}

/// Whether `info`'s caps say full range (else limited); unknown ranges
/// follow the format (full for RGB and grey, limited for YUV).
fn full_range(info: &VideoInfo) -> bool {
    match info.colorimetry().range() {
        VideoColorRange::Range0_255 => true,
        VideoColorRange::Range16_235 => false,
        _ => !info.format_info().is_yuv(),
    }
}

/// How to read all components of buffers of `info`'s format, and what
/// they mean (model, matrix, depth, range); `None` for a format we cannot
/// read. An unknown matrix is BT.709 above 576 lines, else BT.601.
pub fn colour_format(info: &VideoInfo) -> Option<ColourFormat> {
    use gst_video::VideoColorMatrix as M;
    if !FORMATS.contains(&info.format()) {
        return None;
    }
    let f = info.format_info();
    let full_range = full_range(info);
    let depth = *f.depth().first()?;
    let model = if f.is_gray() {
        ColourModel::Gray
    } else if f.is_rgb() {
        ColourModel::Rgb
    } else {
        match info.colorimetry().matrix() {
            M::Bt601 | M::Fcc | M::Smpte240m => ColourModel::BT601,
            M::Bt2020 => ColourModel::BT2020,
            M::Bt709 | M::Rgb => ColourModel::BT709,
            _ if info.height() > 576 => ColourModel::BT709,
            _ => ColourModel::BT601,
        }
    };
    if info.format() == VideoFormat::V210 {
        return Some(ColourFormat {
            model,
            packing: Packing::V210,
            depth: 10,
            full_range,
        });
    }
    let comp = |c: usize| -> Option<Component> {
        let bits = *f.depth().get(c)? + *f.shift().get(c)?;
        let wide = bits > 8;
        let mut offset = *f.poffset().get(c)? as usize;
        if wide && offset % 2 == 1 {
            // GStreamer 1.22 gives P010's V offset as 1, in 16-bit words:
            // a wide sample never starts on an odd byte
            offset *= 2;
        }
        Some(Component {
            plane: *f.plane().get(c)? as usize,
            offset,
            step: usize::try_from(*f.pixel_stride().get(c)?).ok()?,
            wide,
            shift: *f.shift().get(c)?,
            w_sub: *f.w_sub().get(c)?,
            h_sub: *f.h_sub().get(c)?,
        })
    };
    if (depth + f.shift().first()? > 8 && !f.is_le()) || (f.is_rgb() && depth != 8) {
        return None;
    }
    let first = comp(0)?;
    let packing = if model == ColourModel::Gray {
        Packing::Components([first; 3])
    } else {
        Packing::Components([first, comp(1)?, comp(2)?])
    };
    Some(ColourFormat {
        model,
        packing,
        depth,
        full_range,
    })
}

/// The colour components of a mapped frame of `format`.
fn colour_picture<'a>(
    format: ColourFormat,
    frame: &'a VideoFrameRef<&gst::BufferRef>,
) -> Result<ColourPicture<'a>, Skip> {
    let mut planes = [PlaneData {
        data: &[],
        stride: 0,
    }; 4];
    for (i, p) in planes
        .iter_mut()
        .enumerate()
        .take(frame.n_planes() as usize)
    {
        let data = frame
            .plane_data(i as u32)
            .map_err(|e| Skip::BadFrame(e.to_string()))?;
        let stride = frame
            .plane_stride()
            .get(i)
            .and_then(|&s| usize::try_from(s).ok())
            .ok_or_else(|| Skip::BadFrame("negative or missing stride".into()))?;
        *p = PlaneData { data, stride };
    }
    ColourPicture::new(
        format,
        &planes,
        frame.width() as usize,
        frame.height() as usize,
    )
    .map_err(|e| Skip::BadFrame(e.to_string()))
}

/// How to read luma from buffers of one negotiated format.
#[derive(Debug, Clone, Copy)]
struct LumaReader {
    plane: u32,
    layout: LumaLayout,
    range: LumaRange,
}

impl LumaReader {
    pub fn new(info: &VideoInfo) -> Result<Self, gst::LoggableError> {
        let (plane, layout, range) = luma_format(info).ok_or_else(|| {
            gst::loggable_error!(
                gst::CAT_RUST,
                "cannot analyse luma of format {}",
                info.format()
            )
        })?;
        Ok(LumaReader {
            plane,
            layout,
            range,
        })
    }

    /// The luma plane of a mapped frame.
    pub fn read<'a>(
        &self,
        frame: &'a VideoFrameRef<&gst::BufferRef>,
    ) -> Result<LumaPlane<'a>, Skip> {
        let data = frame
            .plane_data(self.plane)
            .map_err(|e| Skip::BadFrame(e.to_string()))?;
        let stride = frame
            .plane_stride()
            .get(self.plane as usize)
            .and_then(|&s| usize::try_from(s).ok())
            .ok_or_else(|| Skip::BadFrame("negative or missing stride".into()))?;
        LumaPlane::new(
            data,
            stride,
            frame.width() as usize,
            frame.height() as usize,
            self.layout,
            self.range,
        )
        .map_err(|e| Skip::BadFrame(e.to_string()))
    }
}

/// Frame timing: the PTS, or the end of the previous frame when there is
/// none; the duration, or one frame at the caps' frame rate.
#[derive(Debug, Clone, Copy)]
struct FrameClock {
    frame_duration: Option<u64>,
    next_pts: Option<u64>,
}

impl FrameClock {
    pub fn new(info: &VideoInfo) -> Self {
        let fps = info.fps();
        let frame_duration = (fps.numer() > 0 && fps.denom() > 0).then(|| {
            gst::ClockTime::SECOND
                .mul_div_floor(fps.denom() as u64, fps.numer() as u64)
                .map(|t| t.nseconds())
                .unwrap_or(0)
        });
        FrameClock {
            frame_duration,
            next_pts: None,
        }
    }

    /// The frame's time span, `None` when it has no time and none can be derived.
    pub fn timing(&mut self, buffer: &gst::BufferRef) -> Option<(u64, u64)> {
        let pts = buffer.pts().map(|t| t.nseconds()).or(self.next_pts)?;
        let dur = buffer
            .duration()
            .map(|t| t.nseconds())
            .or(self.frame_duration);
        let end = pts.saturating_add(dur.unwrap_or(0));
        self.next_pts = dur.map(|_| end);
        Some((pts, end))
    }

    /// Forgets the previous frame (flush, EOS).
    pub fn reset(&mut self) {
        self.next_pts = None;
    }
}

/// One video stream as every picture element reads it (the single-stream
/// detectors and `avsyncdetect` alike): the negotiated format, where luma
/// lies in it, and frame timing.
pub struct VideoInput {
    pub info: VideoInfo,
    reader: LumaReader,
    colour: Option<ColourFormat>,
    clock: FrameClock,
    last_pts: Option<u64>,
    /// Frames skipped because they had no time and none could be derived.
    pub untimed: u64,
}

impl VideoInput {
    /// The input for caps `info`; an error when its luma cannot be read.
    pub fn new(info: &VideoInfo) -> Result<Self, gst::LoggableError> {
        Ok(VideoInput {
            info: info.clone(),
            reader: LumaReader::new(info)?,
            colour: colour_format(info),
            clock: FrameClock::new(info),
            last_pts: None,
            untimed: 0,
        })
    }

    /// The frame's span: its PTS (or the previous frame's end) and its end;
    /// `None`, counted in `untimed`, when it has no time and none can be
    /// derived.
    pub fn timing(&mut self, buffer: &gst::BufferRef) -> Option<(u64, u64)> {
        let t = self.clock.timing(buffer);
        if t.is_none() {
            self.untimed += 1;
        }
        t
    }

    /// Whether a frame at `pts` went back before the last one; `pts` is the
    /// last one from now on.
    pub fn went_back(&mut self, pts: u64) -> bool {
        let back = self.last_pts.is_some_and(|last| pts < last);
        self.last_pts = Some(pts);
        back
    }

    /// The luma plane of a mapped frame.
    pub fn luma<'a>(
        &self,
        frame: &'a VideoFrameRef<&gst::BufferRef>,
    ) -> Result<LumaPlane<'a>, Skip> {
        self.reader.read(frame)
    }

    /// All colour components of a mapped frame.
    pub fn colour<'a>(
        &self,
        frame: &'a VideoFrameRef<&gst::BufferRef>,
    ) -> Result<ColourPicture<'a>, Skip> {
        let format = self.colour.ok_or_else(|| {
            Skip::BadFrame(format!("cannot read colour of {}", self.info.format()))
        })?;
        colour_picture(format, frame)
    }

    /// Forgets the previous frame's time (flush, EOS, a gap).
    pub fn reset(&mut self) {
        self.clock.reset();
        self.last_pts = None;
    }

    /// Forgets the previous frame's end only (a gap: frame times after it
    /// are not extrapolated across it).
    pub fn reset_clock(&mut self) {
        self.clock.reset();
    }
}

/// Why a frame was not analysed.
#[derive(Debug)]
pub enum Skip {
    /// No PTS, and no earlier frame to extrapolate from.
    NoTimestamp,
    /// The mapped memory does not hold the picture the caps describe.
    BadFrame(String),
}

/// The per-stream state of a single-stream picture detector element: its
/// kernel and its input.
pub struct Stream<D> {
    pub detector: D,
    pub input: VideoInput,
    /// Frames received, analysed or not (for `frame-step`).
    received: u64,
}

impl<D: VideoDetector> Stream<D> {
    pub fn new(detector: D, info: &VideoInfo) -> Result<Self, gst::LoggableError> {
        Ok(Stream {
            detector,
            input: VideoInput::new(info)?,
            received: 0,
        })
    }

    /// Analyses one frame. Timestamps that go backwards end a reported
    /// defect first (reason `discont`), so up to two events come back.
    pub fn push_frame(
        &mut self,
        frame: &VideoFrameRef<&gst::BufferRef>,
    ) -> Result<Vec<D::Event>, Skip> {
        let Some((pts, end)) = self.input.timing(frame.buffer()) else {
            return Err(Skip::NoTimestamp);
        };
        let mut events = Vec::new();
        if self.input.went_back(pts) {
            self.detector.close(EndReason::Discont, &mut events);
        }
        self.detector
            .decoder_flag(frame.buffer().flags().contains(gst::BufferFlags::CORRUPTED));
        if D::READS_LOST_SLICES {
            self.detector
                .lost_slices(&crate::slicemeta::lost_slices(frame.buffer()));
        }
        if D::READS_COLOUR {
            let picture = self.input.colour(frame)?;
            self.detector.push_colour(&picture, pts, end, &mut events);
        } else {
            let plane = self.input.luma(frame)?;
            self.detector.push(&plane, pts, end, &mut events);
        }
        Ok(events)
    }

    /// Ends a reported defect (EOS, flush, caps change) and forgets timing.
    pub fn close(&mut self, reason: EndReason) -> Vec<D::Event> {
        self.input.reset();
        let mut out = Vec::new();
        self.detector.close(reason, &mut out);
        out
    }
}

/// The four analysed-region properties, as fractions of the picture.
pub fn region_properties() -> Vec<glib::ParamSpec> {
    let p = |name: &str, nick: &str, blurb: &str, default: f64| {
        glib::ParamSpecDouble::builder(name)
            .nick(nick)
            .blurb(blurb)
            .minimum(0.0)
            .maximum(1.0)
            .default_value(default)
            .mutable_playing()
            .build()
    };
    vec![
        p(
            "region-x",
            "Region X",
            "Left edge of the analysed region, as a fraction of the picture width (0 = left edge)",
            0.0,
        ),
        p(
            "region-y",
            "Region Y",
            "Top edge of the analysed region, as a fraction of the picture height (0 = top edge)",
            0.0,
        ),
        p(
            "region-width",
            "Region width",
            "Width of the analysed region, as a fraction of the picture width (clipped at the right edge)",
            1.0,
        ),
        p(
            "region-height",
            "Region height",
            "Height of the analysed region, as a fraction of the picture height (clipped at the bottom edge)",
            1.0,
        ),
    ]
}

/// The `frame-step` property of the detectors that may look at fewer frames.
pub fn frame_step_property() -> glib::ParamSpec {
    glib::ParamSpecUInt::builder("frame-step")
        .nick("Frame step")
        .blurb("Analyse one frame in this many (1 = every frame); starts and ends then fall up to frame-step - 1 frames late")
        .minimum(1)
        .maximum(1000)
        .default_value(1)
        .mutable_playing()
        .build()
}

/// Sets one of the four region properties (`region-x`, `region-y`,
/// `region-width`, `region-height`).
pub fn set_region_property(region: &mut Region, name: &str, value: &glib::Value) {
    let v = value.get::<f64>().expect("type checked upstream");
    match name {
        "region-x" => region.x = v,
        "region-y" => region.y = v,
        "region-width" => region.width = v,
        "region-height" => region.height = v,
        _ => unimplemented!("not a region property: {name}"),
    }
}

/// Reads one of the four region properties.
pub fn region_property(region: &Region, name: &str) -> glib::Value {
    match name {
        "region-x" => region.x,
        "region-y" => region.y,
        "region-width" => region.width,
        "region-height" => region.height,
        _ => unimplemented!("not a region property: {name}"),
    }
    .to_value()
}

/// A readable list of the supported formats, for error messages.
pub fn format_names() -> String {
    FORMATS
        .iter()
        .map(|f| f.to_str().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The element metadata of a picture detector: klass `Filter/Analyzer/Video`.
pub fn metadata(long_name: &str, description: &str) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(
        long_name,
        "Filter/Analyzer/Video",
        description,
        "avmonitor developers",
    )
}

/// The pad templates every picture detector has (built once).
pub fn pad_templates_static() -> &'static [gst::PadTemplate] {
    static TEMPLATES: std::sync::LazyLock<Vec<gst::PadTemplate>> =
        std::sync::LazyLock::new(pad_templates);
    TEMPLATES.as_ref()
}

/// The streaming-side half of a picture detector element: the stream state
/// behind a lock, and the handling every such element shares (frames,
/// caps changes, EOS, flushes), posting messages once the lock is released.
/// The element keeps its settings and hands the kernel's config in.
pub struct Core<D> {
    state: std::sync::Mutex<Option<Stream<D>>>,
    cat: gst::DebugCategory,
}

impl<D> Core<D>
where
    D: VideoDetector,
    D::Event: ToMessage,
{
    pub fn new(cat: gst::DebugCategory) -> Self {
        Core {
            state: std::sync::Mutex::new(None),
            cat,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stream<D>>> {
        crate::glue::lock(&self.state)
    }

    fn post(&self, element: &gst_base::BaseTransform, events: &[D::Event]) {
        crate::glue::post(element, self.cat, events);
    }

    /// New caps: a different format ends a reported defect (`caps-change`)
    /// and starts afresh with a detector made from `config`.
    pub fn set_info(
        &self,
        element: &gst_base::BaseTransform,
        info: &VideoInfo,
        config: D::Config,
    ) -> Result<(), gst::LoggableError> {
        let mut state = self.lock();
        if state.as_ref().is_some_and(|s| &s.input.info == info) {
            return Ok(());
        }
        let closed = state
            .as_mut()
            .map(|s| s.close(EndReason::CapsChange))
            .unwrap_or_default();
        let new = Stream::new(D::new(config), info);
        let ok = new.is_ok();
        *state = new.ok();
        drop(state);
        self.post(element, &closed);
        if ok {
            gst::debug!(self.cat, obj = element, "analysing {info:?}");
            Ok(())
        } else {
            Err(gst::loggable_error!(
                self.cat,
                "cannot analyse luma of format {}",
                info.format()
            ))
        }
    }

    /// One frame: the detector is brought up to date with `config`, then
    /// the frame is analysed and any event posted.
    pub fn frame(
        &self,
        element: &gst_base::BaseTransform,
        frame: &VideoFrameRef<&gst::BufferRef>,
        config: D::Config,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
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
        let step = u64::from(D::frame_step(&config).max(1));
        stream.received += 1;
        if (stream.received - 1) % step != 0 {
            // passed unlooked at; its time still carries the clock on
            let _ = stream.input.timing(frame.buffer());
            return Ok(gst::FlowSuccess::Ok);
        }
        let result = stream.push_frame(frame);
        let untimed = stream.input.untimed;
        drop(state);
        match result {
            Ok(events) => self.post(element, &events),
            Err(Skip::NoTimestamp) => {
                // once, then on every 1000th, so a stream without times stays readable
                if untimed % 1000 == 1 {
                    gst::warning!(
                        self.cat,
                        obj = element,
                        "buffer without PTS and no earlier frame to extrapolate from: not analysed ({untimed} so far)"
                    );
                }
            }
            Err(Skip::BadFrame(why)) => {
                gst::warning!(self.cat, obj = element, "frame not analysed: {why}");
            }
        }
        Ok(gst::FlowSuccess::Ok)
    }

    /// The stream was interrupted: end a reported defect with `reason`.
    pub fn close(&self, element: &gst_base::BaseTransform, reason: EndReason) {
        let ev = self
            .lock()
            .as_mut()
            .map(|s| s.close(reason))
            .unwrap_or_default();
        self.post(element, &ev);
    }

    /// Handles the sink events that matter to a detector (before the base
    /// class sees them, while the segment still holds).
    pub fn sink_event(&self, element: &gst_base::BaseTransform, event: &gst::Event) {
        match event.view() {
            gst::EventView::Eos(_) => self.close(element, EndReason::Eos),
            gst::EventView::FlushStop(_) => self.close(element, EndReason::Flush),
            gst::EventView::Segment(_) => {
                if let Some(s) = self.lock().as_mut() {
                    s.detector.new_segment();
                }
            }
            _ => (),
        }
    }

    /// Whether the base class accepted `caps` (`accepted`); a refusal of
    /// fixed caps is logged with what is supported (the pad refuses them
    /// before any event handler runs; gst-launch then says it "can't handle
    /// caps").
    pub fn accept_caps(
        &self,
        element: &gst_base::BaseTransform,
        caps: &gst::Caps,
        accepted: bool,
    ) -> bool {
        if !accepted && caps.is_fixed() {
            gst::warning!(
                self.cat,
                obj = element,
                "refusing caps {caps}: raw video in one of {} is supported",
                format_names()
            );
        }
        accepted
    }

    /// Drops the stream state (element stopped).
    pub fn stop(&self) {
        *self.lock() = None;
    }
}
