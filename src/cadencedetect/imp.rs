use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::video::cadence::{CadenceConfig, CadenceDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "cadencedetect",
        gst::DebugColorFlags::empty(),
        Some("Frame cadence detector"),
    )
});

/// What `post-messages` measures, and why it is on by default.
const WHAT: &str = "repeated and dropped frames and timestamp faults";
const WHY: &str = "on by default: counting costs nothing";

/// The properties are the kernel's config, whose `Default` is every
/// default, and whether and how often to measure.
pub struct CadenceDetect {
    settings: Mutex<(CadenceConfig, glue::Measurements)>,
    core: Core<CadenceDetector>,
}

/// Measurements on, every second.
fn default_measurements() -> glue::Measurements {
    glue::Measurements {
        post: true,
        ..glue::Measurements::default()
    }
}

impl Default for CadenceDetect {
    fn default() -> Self {
        CadenceDetect {
            settings: Mutex::new((CadenceConfig::default(), default_measurements())),
            core: Core::new(*CAT),
        }
    }
}

impl CadenceDetect {
    /// The kernel's config, measurements included.
    fn settings(&self) -> CadenceConfig {
        let (config, measure) = *glue::lock(&self.settings);
        CadenceConfig {
            measurements: measure.every(),
            ..config
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for CadenceDetect {
    const NAME: &'static str = "GstCadenceDetect";
    type Type = super::CadenceDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for CadenceDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = CadenceConfig::default();
            let mut v = vec![
                glib::ParamSpecDouble::builder("repeat-threshold")
                    .nick("Repeat threshold")
                    .blurb("Largest 16x16 tile difference from the previous frame, as a fraction of the nominal luma range, for a frame to repeat it")
                    .minimum(0.0)
                    .maximum(0.25)
                    .default_value(d.repeat_threshold)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(d.min_duration),
                glib::ParamSpecUInt64::builder("hold")
                    .nick("Hold")
                    .blurb("Nanoseconds without a repeat, drop or timestamp fault that end a fault (occurrences closer than this make one)")
                    .maximum(u64::MAX - 1)
                    .default_value(d.hold)
                    .mutable_playing()
                    .build(),
            ];
            v.extend(glue::Measurements::properties_from(
                default_measurements(),
                WHAT,
                WHY,
            ));
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut guard = glue::lock(&self.settings);
        let (s, measure) = &mut *guard;
        let name = pspec.name();
        match name {
            "repeat-threshold" => s.repeat_threshold = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            "hold" => s.hold = value.get().expect("type checked upstream"),
            _ if measure.set(name, value) => (),
            _ => glue::unknown_property(pspec),
        }
        drop(guard);
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let (s, measure) = *glue::lock(&self.settings);
        if let Some(v) = measure.get(pspec.name()) {
            return v;
        }
        match pspec.name() {
            "repeat-threshold" => s.repeat_threshold.to_value(),
            "min-duration" => s.min_duration.to_value(),
            "hold" => s.hold.to_value(),
            _ => glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for CadenceDetect {}

impl ElementImpl for CadenceDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Frame cadence detector",
                "Posts start/end messages for frames repeated in a regular pattern (judder) or irregularly (stutter), frames dropped and timestamp faults, and their counts every interval; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for CadenceDetect {
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

impl VideoFilterImpl for CadenceDetect {
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
