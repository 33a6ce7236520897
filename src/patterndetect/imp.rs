use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::video::pattern::{PatternConfig, PatternDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "patterndetect",
        gst::DebugColorFlags::empty(),
        Some("Test pattern detector"),
    )
});

/// The properties are the kernel's config, whose `Default` is every default.
pub struct PatternDetect {
    settings: Mutex<PatternConfig>,
    core: Core<PatternDetector>,
}

impl Default for PatternDetect {
    fn default() -> Self {
        PatternDetect {
            settings: Mutex::new(PatternConfig::default()),
            core: Core::new(*CAT),
        }
    }
}

impl PatternDetect {
    fn settings(&self) -> PatternConfig {
        *glue::lock(&self.settings)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PatternDetect {
    const NAME: &'static str = "GstPatternDetect";
    type Type = super::PatternDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for PatternDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = PatternConfig::default();
            vec![
                glib::ParamSpecBoolean::builder("still-cards")
                    .nick("Still cards")
                    .blurb("Report still cards (a picture of a few flat colours that does not change) as well as colour bars")
                    .default_value(d.still_cards)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(d.min_duration),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = glue::lock(&self.settings);
        let name = pspec.name();
        match name {
            "still-cards" => s.still_cards = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            _ => glue::unknown_property(pspec),
        }
        drop(s);
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "still-cards" => s.still_cards.to_value(),
            "min-duration" => s.min_duration.to_value(),
            _ => glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for PatternDetect {}

impl ElementImpl for PatternDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Test pattern detector",
                "Posts start/end messages while a test pattern is on air (SMPTE or EBU colour bars, 75% or 100%, or a still card of a few flat colours), with which one; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for PatternDetect {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        self.core.stop();
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        self.core.sink_event(self.obj().upcast_ref(), &event);
        self.parent_sink_event(event)
    }

    fn accept_caps(&self, direction: gst::PadDirection, caps: &gst::Caps) -> bool {
        let accepted = self.parent_accept_caps(direction, caps);
        self.core
            .accept_caps(self.obj().upcast_ref(), caps, accepted)
    }
}

impl VideoFilterImpl for PatternDetect {
    fn set_info(
        &self,
        incaps: &gst::Caps,
        in_info: &gst_video::VideoInfo,
        outcaps: &gst::Caps,
        out_info: &gst_video::VideoInfo,
    ) -> Result<(), gst::LoggableError> {
        self.core
            .set_info(self.obj().upcast_ref(), in_info, self.settings())?;
        self.parent_set_info(incaps, in_info, outcaps, out_info)
    }

    fn transform_frame_ip_passthrough(
        &self,
        frame: &gst_video::VideoFrameRef<&gst::BufferRef>,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.core
            .frame(self.obj().upcast_ref(), frame, self.settings())
    }
}
