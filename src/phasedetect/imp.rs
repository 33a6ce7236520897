use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::phase::{PhaseConfig, PhaseDetector, PhaseEvent};
use crate::audiodetect::AudioCore;
use crate::glue::ToMessage;
use crate::messages::{DefectEvent, PhaseDetectMessage};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "phasedetect",
        gst::DebugColorFlags::empty(),
        Some("Phase detector"),
    )
});

const DEFAULT_THRESHOLD: f64 = -0.5;
const DEFAULT_SILENCE_DB: f64 = -60.0;
const DEFAULT_MIN_DURATION: u64 = 2_000_000_000;

impl ToMessage for PhaseEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        PhaseDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            kind: self.kind.as_str().to_string(),
            correlation: self.correlation,
            channel_a: self.channels.0 as u32,
            channel_b: self.channels.1 as u32,
        }
        .to_structure()
    }
}

pub struct PhaseDetect {
    settings: Mutex<PhaseConfig>,
    core: AudioCore<PhaseDetector>,
}

impl Default for PhaseDetect {
    fn default() -> Self {
        PhaseDetect {
            settings: Mutex::new(PhaseConfig {
                channel_a: 0,
                channel_b: 1,
                threshold: DEFAULT_THRESHOLD,
                silence_db: DEFAULT_SILENCE_DB,
                min_duration: DEFAULT_MIN_DURATION,
            }),
            core: AudioCore::new(*CAT),
        }
    }
}

impl PhaseDetect {
    fn settings(&self) -> PhaseConfig {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn make(config: PhaseConfig, rate: u32, channels: usize) -> Option<PhaseDetector> {
        if config.channel_a.max(config.channel_b) >= channels {
            gst::warning!(
                CAT,
                "channels {} and {} of {channels}: the pair is not there, nothing will be analysed",
                config.channel_a,
                config.channel_b
            );
        }
        Some(PhaseDetector::new(config, rate))
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
            vec![
                glib::ParamSpecUInt::builder("channel-a")
                    .nick("Channel A")
                    .blurb("First channel of the pair (index from 0)")
                    .maximum(63)
                    .default_value(0)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("channel-b")
                    .nick("Channel B")
                    .blurb("Second channel of the pair (index from 0)")
                    .maximum(63)
                    .default_value(1)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Correlation threshold")
                    .blurb("Correlation (-1..0) at or below which the pair is out of phase")
                    .minimum(-1.0)
                    .maximum(0.0)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("silence-db")
                    .nick("Silence level")
                    .blurb("Level below which a channel is silent and not judged, in dBFS")
                    .minimum(-200.0)
                    .maximum(0.0)
                    .default_value(DEFAULT_SILENCE_DB)
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
            "channel-a" => s.channel_a = value.get::<u32>().map_or(s.channel_a, |v| v as usize),
            "channel-b" => s.channel_b = value.get::<u32>().map_or(s.channel_b, |v| v as usize),
            "threshold" => s.threshold = value.get().unwrap_or(s.threshold),
            "silence-db" => s.silence_db = value.get().unwrap_or(s.silence_db),
            "min-duration" => s.min_duration = value.get().unwrap_or(s.min_duration),
            _ => return,
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
            _ => pspec.default_value().clone(),
        }
    }
}

impl PhaseDetect {
    fn metadata_static() -> &'static gst::subclass::ElementMetadata {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Phase detector",
                "Filter/Analyzer/Audio",
                "Posts start/end messages for out-of-phase and mono-in-stereo channel pairs; passes buffers through untouched",
                "avmonitor developers",
            )
        });
        &METADATA
    }
}

crate::audio_detector_impls!(PhaseDetect, PhaseDetector);
