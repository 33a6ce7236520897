use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::silence::{SilenceConfig, SilenceDetector, SilenceEvent};
use crate::audiodetect::AudioCore;
use crate::glue::ToMessage;
use crate::messages::{DefectEvent, SilenceDetectMessage};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "silencedetect",
        gst::DebugColorFlags::empty(),
        Some("Silence detector"),
    )
});

const DEFAULT_THRESHOLD_DB: f64 = -60.0;
const DEFAULT_MIN_DURATION: u64 = 2_000_000_000;

impl ToMessage for SilenceEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        SilenceDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            channel: self.channel.map(|c| c as u32),
            level_db: self.level_db,
        }
        .to_structure()
    }
}

pub struct SilenceDetect {
    settings: Mutex<SilenceConfig>,
    core: AudioCore<SilenceDetector>,
}

impl Default for SilenceDetect {
    fn default() -> Self {
        SilenceDetect {
            settings: Mutex::new(SilenceConfig {
                threshold_db: DEFAULT_THRESHOLD_DB,
                min_duration: DEFAULT_MIN_DURATION,
            }),
            core: AudioCore::new(*CAT),
        }
    }
}

impl SilenceDetect {
    fn settings(&self) -> SilenceConfig {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn make(config: SilenceConfig, rate: u32, channels: usize) -> Option<SilenceDetector> {
        Some(SilenceDetector::new(config, rate, channels))
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
            vec![
                glib::ParamSpecDouble::builder("threshold-db")
                    .nick("Threshold")
                    .blurb("Level below which a channel is silent, in dBFS (power of 5 ms blocks)")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(DEFAULT_THRESHOLD_DB)
                    .mutable_playing()
                    .build(),
                crate::glue::min_duration_property(DEFAULT_MIN_DURATION),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        match pspec.name() {
            "threshold-db" => s.threshold_db = value.get().unwrap_or(s.threshold_db),
            "min-duration" => s.min_duration = value.get().unwrap_or(s.min_duration),
            _ => return,
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "threshold-db" => s.threshold_db.to_value(),
            "min-duration" => s.min_duration.to_value(),
            _ => pspec.default_value().clone(),
        }
    }
}

impl SilenceDetect {
    fn metadata_static() -> &'static gst::subclass::ElementMetadata {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Silence detector",
                "Filter/Analyzer/Audio",
                "Posts start/end messages for silence on all channels or on single channels; passes buffers through untouched",
                "avmonitor developers",
            )
        });
        &METADATA
    }
}

crate::audio_detector_impls!(SilenceDetect, SilenceDetector);
