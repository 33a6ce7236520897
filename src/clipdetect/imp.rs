use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::clip::{ClipConfig, ClipDetector, ClipEvent};
use crate::audiodetect::AudioCore;
use crate::glue::ToMessage;
use crate::messages::{ClipDetectMessage, DefectEvent};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "clipdetect",
        gst::DebugColorFlags::empty(),
        Some("Clipping detector"),
    )
});

const DEFAULT_LEVEL_DB: f64 = 0.0;
const DEFAULT_MIN_RUN: u32 = 3;
const DEFAULT_MERGE_GAP: u64 = 500_000_000;

impl ToMessage for ClipEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        ClipDetectMessage {
            event: DefectEvent::from_transition(self.transition, segment),
            clipped_samples: self.clipped_samples.iter().map(|&v| v as f64).collect(),
            runs: self.runs.iter().map(|&v| v as f64).collect(),
        }
        .to_structure()
    }
}

pub struct ClipDetect {
    settings: Mutex<ClipConfig>,
    core: AudioCore<ClipDetector>,
}

impl Default for ClipDetect {
    fn default() -> Self {
        ClipDetect {
            settings: Mutex::new(ClipConfig {
                level: 10f64.powf(DEFAULT_LEVEL_DB / 20.0) as f32,
                min_run: DEFAULT_MIN_RUN,
                merge_gap: DEFAULT_MERGE_GAP,
            }),
            core: AudioCore::new(*CAT),
        }
    }
}

impl ClipDetect {
    fn settings(&self) -> ClipConfig {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn make(config: ClipConfig, rate: u32, channels: usize) -> Option<ClipDetector> {
        Some(ClipDetector::new(config, rate, channels))
    }
}

#[glib::object_subclass]
impl ObjectSubclass for ClipDetect {
    const NAME: &'static str = "GstClipDetect";
    type Type = super::ClipDetect;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for ClipDetect {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                glib::ParamSpecDouble::builder("level-db")
                    .nick("Level")
                    .blurb("Level at or beyond which a sample is clipped, in dBFS; 0 means full scale (integer extremes, float magnitude 1.0)")
                    .minimum(-60.0)
                    .maximum(0.0)
                    .default_value(DEFAULT_LEVEL_DB)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("min-run")
                    .nick("Minimum run")
                    .blurb("Consecutive clipped samples of a channel that make a clipping run, in samples")
                    .minimum(1)
                    .maximum(100_000)
                    .default_value(DEFAULT_MIN_RUN)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("merge-gap")
                    .nick("Merge gap")
                    .blurb("Clipping runs closer than this belong to one event, in nanoseconds")
                    .maximum(u64::MAX - 1)
                    .default_value(DEFAULT_MERGE_GAP)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        match pspec.name() {
            "level-db" => {
                if let Ok(db) = value.get::<f64>() {
                    s.level = 10f64.powf(db / 20.0) as f32;
                }
            }
            "min-run" => s.min_run = value.get().unwrap_or(s.min_run),
            "merge-gap" => s.merge_gap = value.get().unwrap_or(s.merge_gap),
            _ => return,
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "level-db" => (20.0 * f64::from(s.level).log10()).to_value(),
            "min-run" => s.min_run.to_value(),
            "merge-gap" => s.merge_gap.to_value(),
            _ => pspec.default_value().clone(),
        }
    }
}

impl ClipDetect {
    fn metadata_static() -> &'static gst::subclass::ElementMetadata {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Clipping detector",
                "Filter/Analyzer/Audio",
                "Posts start/end messages for clipping, with per-channel counts; passes buffers through untouched",
                "avmonitor developers",
            )
        });
        &METADATA
    }
}

crate::audio_detector_impls!(ClipDetect, ClipDetector);
