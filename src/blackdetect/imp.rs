use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::black::{BlackConfig, BlackDetector, BlackEvent};
use crate::glue::{self, ToMessage};
use crate::messages::{BlackDetectMessage, DefectEvent};
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "blackdetect",
        gst::DebugColorFlags::empty(),
        Some("Black picture detector"),
    )
});

const DEFAULT_PIXEL_THRESHOLD: f64 = 0.10;
const DEFAULT_RATIO: f64 = 0.98;
const DEFAULT_MIN_DURATION: u64 = 2_000_000_000;

impl ToMessage for BlackEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        let common = DefectEvent::from_transition(self.transition, segment);
        BlackDetectMessage {
            event: common,
            black_ratio: self.stats.black_ratio,
            mean_luma: self.stats.mean_luma,
        }
        .to_structure()
    }
}

pub struct BlackDetect {
    settings: Mutex<BlackConfig>,
    core: Core<BlackDetector>,
}

impl Default for BlackDetect {
    fn default() -> Self {
        BlackDetect {
            settings: Mutex::new(BlackConfig {
                pixel_threshold: DEFAULT_PIXEL_THRESHOLD,
                ratio: DEFAULT_RATIO,
                min_duration: DEFAULT_MIN_DURATION,
                ..BlackConfig::default()
            }),
            core: Core::new(*CAT),
        }
    }
}

impl BlackDetect {
    fn settings(&self) -> BlackConfig {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[glib::object_subclass]
impl ObjectSubclass for BlackDetect {
    const NAME: &'static str = "GstBlackDetect";
    type Type = super::BlackDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for BlackDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let mut v = vec![
                glib::ParamSpecDouble::builder("pixel-threshold")
                    .nick("Pixel threshold")
                    .blurb("Luma at or below which a pixel is black, as a fraction of the nominal luma range (0 = nominal black, 1 = nominal white)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_PIXEL_THRESHOLD)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("ratio")
                    .nick("Black pixel ratio")
                    .blurb("Fraction of analysed pixels (0..1) that must be black for the frame to be black")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(DEFAULT_RATIO)
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
            "pixel-threshold" => s.pixel_threshold = value.get().unwrap_or(s.pixel_threshold),
            "ratio" => s.ratio = value.get().unwrap_or(s.ratio),
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
            "pixel-threshold" => s.pixel_threshold.to_value(),
            "ratio" => s.ratio.to_value(),
            "min-duration" => s.min_duration.to_value(),
            name => videodetect::region_property(&s.region, name)
                .unwrap_or_else(|| pspec.default_value().clone()),
        }
    }
}

crate::picture_detector_impls!(
    BlackDetect,
    BlackDetector,
    "Black picture detector",
    "Posts start/end messages for stretches of black picture; passes buffers through untouched"
);
