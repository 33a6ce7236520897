use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::video::freeze::{FreezeConfig, FreezeDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "freezedetect",
        gst::DebugColorFlags::empty(),
        Some("Frozen picture detector"),
    )
});

/// What `post-messages` measures.
const WHAT: &str = "the largest picture difference from frame to frame";

/// Why `post-messages` is off by default: not the cost, which is a message
/// a second, but the bus traffic nobody asked for.
const COST: &str =
    "off by default to keep the bus quiet; it costs little, as the difference is computed anyway";

/// The properties are the kernel's config, whose `Default` is every
/// default, and whether and how often to measure.
pub struct FreezeDetect {
    settings: Mutex<(FreezeConfig, glue::Measurements)>,
    core: Core<FreezeDetector>,
}

impl Default for FreezeDetect {
    fn default() -> Self {
        FreezeDetect {
            settings: Mutex::new(Default::default()),
            core: Core::new(*CAT),
        }
    }
}

impl FreezeDetect {
    /// The kernel's config, measurements included.
    fn settings(&self) -> FreezeConfig {
        let (config, measure) = *crate::glue::lock(&self.settings);
        FreezeConfig {
            measurements: measure.every(),
            ..config
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for FreezeDetect {
    const NAME: &'static str = "GstFreezeDetect";
    type Type = super::FreezeDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for FreezeDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = FreezeConfig::default();
            let mut v = vec![
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Difference threshold")
                    .blurb("Largest difference from the reference frame that still counts as the same picture: mean absolute difference of 4x4-pixel luma means over a 16x16 tile, as a fraction of the nominal luma range")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.threshold)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(d.min_duration),
            ];
            v.extend(videodetect::region_properties());
            v.push(videodetect::frame_step_property());
            v.extend(glue::Measurements::properties(WHAT, COST));
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut guard = crate::glue::lock(&self.settings);
        let (s, measure) = &mut *guard;
        let name = pspec.name();
        match name {
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            "frame-step" => s.frame_step = value.get().expect("type checked upstream"),
            "region-x" | "region-y" | "region-width" | "region-height" => {
                videodetect::set_region_property(&mut s.region, name, value)
            }
            _ if measure.set(name, value) => (),
            _ => crate::glue::unknown_property(pspec),
        }
        drop(guard);
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let (s, measure) = *crate::glue::lock(&self.settings);
        if let Some(v) = measure.get(pspec.name()) {
            return v;
        }
        match pspec.name() {
            "threshold" => s.threshold.to_value(),
            "min-duration" => s.min_duration.to_value(),
            "frame-step" => s.frame_step.to_value(),
            name @ ("region-x" | "region-y" | "region-width" | "region-height") => {
                videodetect::region_property(&s.region, name)
            }
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for FreezeDetect {}

impl ElementImpl for FreezeDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Frozen picture detector",
                "Posts start/end messages for stretches of frozen picture, and difference measurements when post-messages is on; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for FreezeDetect {
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

impl VideoFilterImpl for FreezeDetect {
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
