use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::audio::phase::{PhaseConfig, PhaseDetector};
use crate::audiodetect::{self, AudioCore};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "phasedetect",
        gst::DebugColorFlags::empty(),
        Some("Phase detector"),
    )
});

pub struct PhaseDetect {
    settings: Mutex<PhaseConfig>,
    core: AudioCore<PhaseDetector>,
}

impl Default for PhaseDetect {
    fn default() -> Self {
        PhaseDetect {
            settings: Mutex::new(PhaseConfig::default()),
            core: AudioCore::new(*CAT),
        }
    }
}

impl PhaseDetect {
    fn settings(&self) -> PhaseConfig {
        *crate::glue::lock(&self.settings)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for PhaseDetect {
    const NAME: &'static str = "GstPhaseDetect";
    type Type = super::PhaseDetect;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for PhaseDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = PhaseConfig::default();
            vec![
                glib::ParamSpecUInt::builder("channel-a")
                    .nick("Channel A")
                    .blurb("First channel of the pair (index from 0)")
                    .maximum(63)
                    .default_value(d.channel_a as u32)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("channel-b")
                    .nick("Channel B")
                    .blurb("Second channel of the pair (index from 0)")
                    .maximum(63)
                    .default_value(d.channel_b as u32)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Correlation threshold")
                    .blurb("Correlation (-1..0) at or below which the pair is out of phase")
                    .minimum(-1.0)
                    .maximum(0.0)
                    .default_value(d.threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("silence-db")
                    .nick("Silence level")
                    .blurb("Level below which a channel is silent and not judged, in dBFS")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(d.silence_db)
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
            "channel-a" => s.channel_a = value.get::<u32>().map_or(s.channel_a, |v| v as usize),
            "channel-b" => s.channel_b = value.get::<u32>().map_or(s.channel_b, |v| v as usize),
            "threshold" => s.threshold = value.get().expect("type checked upstream"),
            "silence-db" => s.silence_db = value.get().expect("type checked upstream"),
            "min-duration" => s.min_duration = value.get().expect("type checked upstream"),
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "channel-a" => (s.channel_a as u32).to_value(),
            "channel-b" => (s.channel_b as u32).to_value(),
            "threshold" => s.threshold.to_value(),
            "silence-db" => s.silence_db.to_value(),
            "min-duration" => s.min_duration.to_value(),
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for PhaseDetect {}

impl ElementImpl for PhaseDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            audiodetect::metadata(
                "Phase detector",
                "Posts start/end messages for out-of-phase and mono-in-stereo channel pairs; passes buffers through untouched",
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
impl BaseTransformImpl for PhaseDetect {
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
        let s = self.settings();
        if let Ok(info) = gst_audio::AudioInfo::from_caps(incaps) {
            if s.channel_a.max(s.channel_b) >= info.channels() as usize {
                gst::warning!(
                    CAT,
                    imp = self,
                    "channels {} and {} of {}: the pair is not there, nothing will be analysed",
                    s.channel_a,
                    s.channel_b,
                    info.channels()
                );
            }
        }
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
