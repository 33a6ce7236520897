use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::freeze::{FreezeConfig, FreezeDetector, FreezeEvent};
use crate::glue::{self, ToMessage};
use crate::messages::{DefectEvent, FreezeDetectMessage};
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "freezedetect",
        gst::DebugColorFlags::empty(),
        Some("Frozen picture detector"),
    )
});

const DEFAULT_THRESHOLD: f64 = 0.02;
const DEFAULT_MIN_DURATION: u64 = 2_000_000_000;

impl ToMessage for FreezeEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        let common = DefectEvent::from_transition(self.transition, segment);
        FreezeDetectMessage {
            event: common,
            difference: self.difference,
        }
        .to_structure()
    }
}

pub struct FreezeDetect {
    settings: Mutex<FreezeConfig>,
    core: Core<FreezeDetector>,
}

impl Default for FreezeDetect {
    fn default() -> Self {
        FreezeDetect {
            settings: Mutex::new(FreezeConfig {
                threshold: DEFAULT_THRESHOLD,
                min_duration: DEFAULT_MIN_DURATION,
                ..FreezeConfig::default()
            }),
            core: Core::new(*CAT),
        }
    }
}

impl FreezeDetect {
    fn settings(&self) -> FreezeConfig {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
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
            let mut v = vec![
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Difference threshold")
                    .blurb("Largest difference from the reference frame that still counts as the same picture: mean absolute difference of 4x4-pixel luma means over a 16x16 tile, as a fraction of the nominal luma range")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(DEFAULT_MIN_DURATION),
            ];
            v.extend(videodetect::region_properties());
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let name = pspec.name();
        match name {
            "threshold" => s.threshold = value.get().unwrap_or(s.threshold),
            "min-duration" => s.min_duration = value.get().unwrap_or(s.min_duration),
            _ => {
                if !videodetect::set_region_property(&mut s.region, name, value) {
                    return;
                }
            }
        }
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.settings();
        match pspec.name() {
            "threshold" => s.threshold.to_value(),
            "min-duration" => s.min_duration.to_value(),
            name => videodetect::region_property(&s.region, name)
                .unwrap_or_else(|| pspec.default_value().clone()),
        }
    }
}

crate::picture_detector_impls!(
    FreezeDetect,
    FreezeDetector,
    "Frozen picture detector",
    "Posts start/end messages for stretches of frozen picture; passes buffers through untouched"
);
