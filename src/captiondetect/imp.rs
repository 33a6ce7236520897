use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use super::messages::CaptionDetectMessage;
use crate::analysis::event::{next_due, EndReason};
use crate::analysis::video::captions::{
    CaptionConfig, CaptionContent, CaptionDetector, CaptionKind,
};
use crate::glue::Measurements;
use crate::messages::Times;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "captiondetect",
        gst::DebugColorFlags::empty(),
        Some("Missing closed captions detector"),
    )
});

#[derive(Debug, Clone, Copy, Default)]
struct Settings {
    config: CaptionConfig,
    measurements: Measurements,
}

/// The detector and the measurement under way.
struct State {
    detector: CaptionDetector,
    frames: u64,
    with_captions: u64,
    /// Where the next measurement falls due (ns), once frames came.
    next: Option<u64>,
}

impl State {
    fn new(config: CaptionConfig) -> Self {
        State {
            detector: CaptionDetector::new(config),
            frames: 0,
            with_captions: 0,
            next: None,
        }
    }
}

pub struct CaptionDetect {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

impl Default for CaptionDetect {
    fn default() -> Self {
        CaptionDetect {
            settings: Mutex::new(Settings::default()),
            state: Mutex::new(State::new(CaptionConfig::default())),
        }
    }
}

/// What a buffer's caption metas carry.
fn content(buf: &gst::BufferRef) -> CaptionContent {
    let mut c = CaptionContent::default();
    for meta in buf.iter_meta::<gst_video::VideoCaptionMeta>() {
        let kind = match meta.caption_type() {
            gst_video::VideoCaptionType::Cea608Raw => CaptionKind::Cea608Raw,
            gst_video::VideoCaptionType::Cea608S3341a => CaptionKind::Cea608S3341a,
            gst_video::VideoCaptionType::Cea708Raw => CaptionKind::Cea708Raw,
            gst_video::VideoCaptionType::Cea708Cdp => CaptionKind::Cea708Cdp,
            _ => continue,
        };
        c.add(kind, meta.data());
    }
    c
}

impl CaptionDetect {
    fn close(&self, reason: EndReason) {
        let mut events = Vec::new();
        crate::glue::lock(&self.state)
            .detector
            .close(reason, &mut events);
        crate::glue::post(self.obj().upcast_ref(), *CAT, &events);
    }

    fn frame(&self, buf: &gst::BufferRef) {
        let Some(pts) = buf.pts().map(|t| t.nseconds()) else {
            return;
        };
        let end = pts + buf.duration().map_or(0, |d| d.nseconds());
        let settings = *crate::glue::lock(&self.settings);
        let c = content(buf);
        let mut events = Vec::new();
        let measurement = {
            let mut st = crate::glue::lock(&self.state);
            st.detector.set_config(settings.config);
            st.detector.push(c, pts, end, &mut events);
            st.frames += 1;
            st.with_captions += u64::from(c.present);
            match (settings.measurements.every(), st.next) {
                (Some(every), None) => {
                    st.next = Some(pts.saturating_add(every.max(1)));
                    None
                }
                (Some(every), Some(next)) if end >= next => {
                    st.next = Some(next_due(next, end, every));
                    let m = (end, st.frames, st.with_captions, st.detector.seen());
                    st.frames = 0;
                    st.with_captions = 0;
                    Some(m)
                }
                _ => None,
            }
        };
        let obj = self.obj();
        crate::glue::post(obj.upcast_ref(), *CAT, &events);
        if let Some((at, frames, with, seen)) = measurement {
            let s = CaptionDetectMessage::Measurement {
                at: Times::in_segment(at, &obj.segment()),
                frames,
                frames_with_captions: with,
                services: seen.into(),
            }
            .to_structure();
            gst::debug!(CAT, imp = self, "posting {s}");
            let _ = obj.post_message(gst::message::Element::builder(s).src(&*obj).build());
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for CaptionDetect {
    const NAME: &'static str = "GstCaptionDetect";
    type Type = super::CaptionDetectElement;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for CaptionDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            let mut v = vec![
                crate::glue::min_duration_property(d.config.min_duration),
                glib::ParamSpecBoolean::builder("required")
                    .nick("Required")
                    .blurb("The stream must carry captions: none from the start is an event")
                    .default_value(d.config.required)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("padding-duration")
                    .nick("Padding duration")
                    .blurb("How long caption data may carry only padding before it is reported, in nanoseconds")
                    .maximum(u64::MAX - 1)
                    .default_value(d.config.padding_duration)
                    .mutable_playing()
                    .build(),
            ];
            v.extend(Measurements::properties(
                "the frames with captions and the services seen",
                "off by default: the events say what matters",
            ));
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        match pspec.name() {
            "min-duration" => s.config.min_duration = value.get().expect("type checked upstream"),
            "required" => s.config.required = value.get().expect("type checked upstream"),
            "padding-duration" => {
                s.config.padding_duration = value.get().expect("type checked upstream")
            }
            name => {
                if !s.measurements.set(name, value) {
                    crate::glue::unknown_property(pspec)
                }
            }
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = *crate::glue::lock(&self.settings);
        match pspec.name() {
            "min-duration" => s.config.min_duration.to_value(),
            "required" => s.config.required.to_value(),
            "padding-duration" => s.config.padding_duration.to_value(),
            name => s
                .measurements
                .get(name)
                .unwrap_or_else(|| crate::glue::unknown_property_value(pspec)),
        }
    }
}

impl GstObjectImpl for CaptionDetect {}

impl ElementImpl for CaptionDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Missing closed captions detector",
                "Filter/Analyzer/Video",
                "Watches the CEA-608/708 caption data decoders and parsers attach to frames (GstVideoCaptionMeta); posts start/end messages when captions go missing (or never come, when required) or carry only padding, with the services seen; passes buffers through untouched",
                "avmonitor developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let mut caps = gst::Caps::builder("video/x-raw").build();
            caps.merge(gst::Caps::builder("video/x-raw").any_features().build());
            crate::glue::passthrough_templates(&caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for CaptionDetect {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let config = crate::glue::lock(&self.settings).config;
        *crate::glue::lock(&self.state) = State::new(config);
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        match event.view() {
            gst::EventView::Eos(_) => self.close(EndReason::Eos),
            gst::EventView::FlushStop(_) => {
                self.close(EndReason::Flush);
                let config = crate::glue::lock(&self.settings).config;
                *crate::glue::lock(&self.state) = State::new(config);
            }
            _ => {}
        }
        self.parent_sink_event(event)
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.frame(buf);
        Ok(gst::FlowSuccess::Ok)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.frame(buf);
        Ok(gst::FlowSuccess::Ok)
    }
}
