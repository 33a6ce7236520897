use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::audio::silence::{SilenceConfig, SilenceDetector};
use crate::audiodetect::{self, AudioCore};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "silencedetect",
        gst::DebugColorFlags::empty(),
        Some("Silence detector"),
    )
});

pub struct SilenceDetect {
    settings: Mutex<SilenceConfig>,
    core: AudioCore<SilenceDetector>,
}

impl Default for SilenceDetect {
    fn default() -> Self {
        SilenceDetect {
            settings: Mutex::new(SilenceConfig::default()),
            core: AudioCore::new(*CAT),
        }
    }
}

impl SilenceDetect {
    fn settings(&self) -> SilenceConfig {
        *crate::glue::lock(&self.settings)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for SilenceDetect {
    const NAME: &'static str = "GstSilenceDetect";
    type Type = super::SilenceDetect;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for SilenceDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = SilenceConfig::default();
            vec![
                glib::ParamSpecDouble::builder("threshold-db")
                    .nick("Threshold")
                    .blurb("Level below which a channel is silent, in dBFS (power of 5 ms blocks)")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(d.threshold_db)
                    .mutable_playing()
                    .build(),
                crate::glue::min_duration_property(d.min_duration),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        match pspec.name() {
            "threshold-db" => s.threshold_db = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "threshold-db" => s.threshold_db.to_value(),
            "min-duration" => s.min_duration.to_value(),
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for SilenceDetect {}

impl ElementImpl for SilenceDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            audiodetect::metadata(
                "Silence detector",
                "Posts start/end messages for silence on all channels or on single channels; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        audiodetect::pad_templates_static()
    }
}

// BaseTransform, not AudioFilter: AudioFilter clips buffers to the segment
// (and sets missing durations), and a monitor must never change a buffer.
impl BaseTransformImpl for SilenceDetect {
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

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        self.core
            .set_caps(self.obj().upcast_ref(), incaps, self.settings())?;
        self.parent_set_caps(incaps, outcaps)
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.core
            .buffer(self.obj().upcast_ref(), buf, self.settings())
    }
}
