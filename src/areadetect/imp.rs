use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::video::area::{AreaConfig, AreaDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "areadetect",
        gst::DebugColorFlags::empty(),
        Some("Active picture area detector"),
    )
});

/// The properties are the kernel's config, whose `Default` is every default.
pub struct AreaDetect {
    settings: Mutex<AreaConfig>,
    core: Core<AreaDetector>,
}

impl Default for AreaDetect {
    fn default() -> Self {
        AreaDetect {
            settings: Mutex::new(AreaConfig::default()),
            core: Core::new(*CAT),
        }
    }
}

impl AreaDetect {
    fn settings(&self) -> AreaConfig {
        *glue::lock(&self.settings)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for AreaDetect {
    const NAME: &'static str = "GstAreaDetect";
    type Type = super::AreaDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for AreaDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = AreaConfig::default();
            vec![
                glib::ParamSpecDouble::builder("pixel-threshold")
                    .nick("Pixel threshold")
                    .blurb("Luma at or below which a pixel belongs to a border, as a fraction of the nominal luma range (0 = nominal black, 1 = nominal white)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.pixel_threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("min-border")
                    .nick("Minimum border")
                    .blurb("Borders narrower than this fraction of the picture's width (left, right) or height (top, bottom) count as none")
                    .minimum(0.0)
                    .maximum(0.4)
                    .default_value(d.min_border)
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
            "pixel-threshold" => s.pixel_threshold = value.get().expect("type checked upstream"),
            "min-border" => s.min_border = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            _ => glue::unknown_property(pspec),
        }
        drop(s);
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "pixel-threshold" => s.pixel_threshold.to_value(),
            "min-border" => s.min_border.to_value(),
            "min-duration" => s.min_duration.to_value(),
            _ => glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for AreaDetect {}

impl ElementImpl for AreaDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Active picture area detector",
                "Posts a measurement of each active picture area (inside black borders) the stream holds, and start/end messages while it is away from the expected area (letterbox or pillarbox appearing, vanishing or changing size); passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for AreaDetect {
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

impl VideoFilterImpl for AreaDetect {
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
