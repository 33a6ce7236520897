use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::audio::clip::{ClipConfig, ClipDetector};
use crate::audiodetect::{self, AudioCore};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "clipdetect",
        gst::DebugColorFlags::empty(),
        Some("Clipping detector"),
    )
});

/// The kernel's config, and `level-db` as it was written (the kernel holds
/// the level as a fraction of full scale, which would not read back exactly).
#[derive(Debug, Clone, Copy)]
struct Settings {
    config: ClipConfig,
    level_db: f64,
}

impl Default for Settings {
    fn default() -> Self {
        let config = ClipConfig::default();
        Settings {
            config,
            level_db: fraction_to_db(config.level),
        }
    }
}

fn fraction_to_db(level: f32) -> f64 {
    20.0 * f64::from(level).log10()
}

fn db_to_fraction(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

pub struct ClipDetect {
    settings: Mutex<Settings>,
    core: AudioCore<ClipDetector>,
}

impl Default for ClipDetect {
    fn default() -> Self {
        ClipDetect {
            settings: Mutex::new(Settings::default()),
            core: AudioCore::new(*CAT),
        }
    }
}

impl ClipDetect {
    fn settings(&self) -> ClipConfig {
        crate::glue::lock(&self.settings).config
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
            let d = ClipConfig::default();
            let d_level_db = Settings::default().level_db;
            vec![
                glib::ParamSpecDouble::builder("level-db")
                    .nick("Level")
                    .blurb("Level at or beyond which a sample is clipped, in dBFS; 0 means full scale (integer extremes, float magnitude 1.0)")
                    .minimum(-60.0)
                    .maximum(0.0)
                    .default_value(d_level_db)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("min-run")
                    .nick("Minimum run")
                    .blurb("Consecutive clipped samples of a channel that make a clipping run, in samples")
                    .minimum(1)
                    .maximum(100_000)
                    .default_value(d.min_run)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt64::builder("merge-gap")
                    .nick("Merge gap")
                    .blurb("Clipping runs closer than this belong to one event, in nanoseconds")
                    .maximum(u64::MAX - 1)
                    .default_value(d.merge_gap)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        match pspec.name() {
            "level-db" => {
                s.level_db = value.get().expect("type checked upstream");
                s.config.level = db_to_fraction(s.level_db);
            }
            "min-run" => s.config.min_run = value.get().expect("type checked upstream"),
            "merge-gap" => s.config.merge_gap = value.get().expect("type checked upstream"),
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = *crate::glue::lock(&self.settings);
        match pspec.name() {
            "level-db" => s.level_db.to_value(),
            "min-run" => s.config.min_run.to_value(),
            "merge-gap" => s.config.merge_gap.to_value(),
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for ClipDetect {}

impl ElementImpl for ClipDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            audiodetect::metadata(
                "Clipping detector",
                "Posts start/end messages for clipping, with per-channel counts; passes buffers through untouched",
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
impl BaseTransformImpl for ClipDetect {
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
