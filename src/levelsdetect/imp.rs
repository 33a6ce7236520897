use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use super::Preset;
use crate::analysis::video::levels::{LevelsConfig, LevelsDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "levelsdetect",
        gst::DebugColorFlags::empty(),
        Some("Illegal video levels detector"),
    )
});

/// What `post-messages` measures, and why it is on by default.
const WHAT: &str = "the out-of-range shares and the luma, chroma and R'G'B' extremes";
const WHY: &str = "on by default: every frame is measured anyway";

/// The kernel's config (whose `Default` is every default, EBU R103's
/// limits among them) and whether and how often to measure.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Settings {
    levels: LevelsConfig,
    measure: glue::Measurements,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            levels: LevelsConfig::default(),
            measure: glue::Measurements {
                post: true,
                ..glue::Measurements::default()
            },
        }
    }
}

pub struct LevelsDetect {
    settings: Mutex<Settings>,
    core: Core<LevelsDetector>,
}

impl Default for LevelsDetect {
    fn default() -> Self {
        LevelsDetect {
            settings: Mutex::new(Settings::default()),
            core: Core::new(*CAT),
        }
    }
}

impl LevelsDetect {
    /// The kernel's config, measurements included.
    fn settings(&self) -> LevelsConfig {
        let s = *glue::lock(&self.settings);
        LevelsConfig {
            measurements: s.measure.every(),
            ..s.levels
        }
    }
}

/// A limit property: a fraction of the nominal range.
fn limit(name: &str, nick: &str, blurb: &str, min: f64, max: f64, default: f64) -> glib::ParamSpec {
    glib::ParamSpecDouble::builder(name)
        .nick(nick)
        .blurb(blurb)
        .minimum(min)
        .maximum(max)
        .default_value(default)
        .mutable_playing()
        .build()
}

#[glib::object_subclass]
impl ObjectSubclass for LevelsDetect {
    const NAME: &'static str = "GstLevelsDetect";
    type Type = super::LevelsDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for LevelsDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            let l = d.levels.limits;
            let mut v = vec![
                glib::ParamSpecEnum::builder_with_default("preset", Preset::from_limits(&l))
                    .nick("Preset")
                    .blurb("Sets the four limits to a rule's values; reads custom when they were set otherwise")
                    .mutable_playing()
                    .build(),
                limit("luma-min", "Luma minimum", "Lowest legal luma, as a fraction of the nominal range (0 = black, 1 = white)", -0.5, 1.5, l.luma_min),
                limit("luma-max", "Luma maximum", "Highest legal luma, as a fraction of the nominal range", -0.5, 1.5, l.luma_max),
                limit("rgb-min", "R'G'B' minimum", "Lowest legal R', G' or B' (derived through the caps' matrix), as a fraction of the nominal range", -0.5, 1.5, l.rgb_min),
                limit("rgb-max", "R'G'B' maximum", "Highest legal R', G' or B', as a fraction of the nominal range", -0.5, 1.5, l.rgb_max),
                glib::ParamSpecDouble::builder("max-share")
                    .nick("Maximum share")
                    .blurb("Share of a frame's sampled pixels allowed out of range (in luma, or in R'G'B') before the frame is illegal")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.levels.max_share)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("line-step")
                    .nick("Line step")
                    .blurb("Read one picture line in this many (1 = every line); the lines read move down one each frame")
                    .minimum(1)
                    .maximum(64)
                    .default_value(d.levels.line_step)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(d.levels.min_duration),
            ];
            v.extend(glue::Measurements::properties_from(d.measure, WHAT, WHY));
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut guard = glue::lock(&self.settings);
        let s = &mut *guard;
        let name = pspec.name();
        let get = || value.get::<f64>().expect("type checked upstream");
        let l = &mut s.levels.limits;
        match name {
            "preset" => {
                let p: Preset = value.get().expect("type checked upstream");
                if let Some(limits) = p.limits() {
                    *l = limits;
                }
            }
            "luma-min" => l.luma_min = get(),
            "luma-max" => l.luma_max = get(),
            "rgb-min" => l.rgb_min = get(),
            "rgb-max" => l.rgb_max = get(),
            "max-share" => s.levels.max_share = get(),
            "line-step" => s.levels.line_step = value.get().expect("type checked upstream"),
            "min-duration" => s.levels.min_duration = value.get().expect("type checked upstream"),
            _ if s.measure.set(name, value) => (),
            _ => glue::unknown_property(pspec),
        }
        drop(guard);
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = *glue::lock(&self.settings);
        if let Some(v) = s.measure.get(pspec.name()) {
            return v;
        }
        let l = s.levels.limits;
        match pspec.name() {
            "preset" => Preset::from_limits(&l).to_value(),
            "luma-min" => l.luma_min.to_value(),
            "luma-max" => l.luma_max.to_value(),
            "rgb-min" => l.rgb_min.to_value(),
            "rgb-max" => l.rgb_max.to_value(),
            "max-share" => s.levels.max_share.to_value(),
            "line-step" => s.levels.line_step.to_value(),
            "min-duration" => s.levels.min_duration.to_value(),
            _ => glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for LevelsDetect {}

impl ElementImpl for LevelsDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Illegal video levels detector",
                "Posts start/end messages while more than max-share of the picture has luma or R'G'B' outside the legal range (EBU R103 by default), and the out-of-range shares and the luma, chroma and R'G'B' extremes every interval; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for LevelsDetect {
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

impl VideoFilterImpl for LevelsDetect {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_limits_are_the_default_preset() {
        assert_eq!(
            Preset::from_limits(&Settings::default().levels.limits),
            Preset::EbuR103
        );
    }
}
