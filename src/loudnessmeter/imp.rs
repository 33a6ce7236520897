use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use super::Preset;
use crate::analysis::audio::loudness::{LoudnessConfig, LoudnessMeter as Meter};
use crate::audiodetect::{self, AudioCore};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "loudnessmeter",
        gst::DebugColorFlags::empty(),
        Some("Loudness meter"),
    )
});

/// The meter's settings, and the preset they came from (a way of setting
/// values, not something the meter uses).
#[derive(Debug, Clone, Copy)]
struct Settings {
    meter: LoudnessConfig,
    preset: Preset,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // EBU R128's values (tested against Preset::EbuR128)
            meter: LoudnessConfig::default(),
            preset: Preset::EbuR128,
        }
    }
}

pub struct LoudnessMeter {
    settings: Mutex<Settings>,
    core: AudioCore<Meter>,
}

impl Default for LoudnessMeter {
    fn default() -> Self {
        LoudnessMeter {
            settings: Mutex::new(Settings::default()),
            core: AudioCore::new(*CAT),
        }
    }
}

impl LoudnessMeter {
    fn all_settings(&self) -> Settings {
        *crate::glue::lock(&self.settings)
    }

    fn settings(&self) -> LoudnessConfig {
        self.all_settings().meter
    }
}

#[glib::object_subclass]
impl ObjectSubclass for LoudnessMeter {
    const NAME: &'static str = "GstLoudnessMeter";
    type Type = super::LoudnessMeter;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for LoudnessMeter {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = LoudnessConfig::default();
            vec![
                glib::ParamSpecUInt64::builder("interval")
                    .nick("Interval")
                    .blurb("Time between measurement messages, in nanoseconds (rounded to 100 ms steps)")
                    .minimum(100_000_000)
                    .maximum(u64::MAX - 1)
                    .default_value(d.interval)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post a measurement message every interval (alarms are posted regardless)")
                    .default_value(d.measurements)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("preset", Settings::default().preset)
                    .nick("Preset")
                    .blurb("Target loudness and maximum true peak of a standard")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("target-lufs")
                    .nick("Target")
                    .blurb("Target loudness, in LUFS")
                    .minimum(-70.0)
                    .maximum(0.0)
                    .default_value(d.target_lufs)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("tolerance-lu")
                    .nick("Tolerance")
                    .blurb("Short-term loudness may differ from the target by this much before an alarm, in LU")
                    .minimum(0.0)
                    .maximum(70.0)
                    .default_value(d.tolerance_lu)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("max-true-peak-dbtp")
                    .nick("Maximum true peak")
                    .blurb("True peak above which an alarm is raised, in dBTP")
                    .minimum(-70.0)
                    .maximum(20.0)
                    .default_value(d.max_true_peak_dbtp)
                    .mutable_playing()
                    .build(),
                crate::glue::min_duration_property(d.min_duration),
                glib::ParamSpecBoolean::builder("true-peak")
                    .nick("True peak")
                    .blurb("Measure true peak (4x oversampled below 96 kHz); switched on, from the next samples")
                    .default_value(d.true_peak)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        let m = &mut s.meter;
        match pspec.name() {
            "interval" => m.interval = value.get().expect("type checked upstream"),
            "post-messages" => m.measurements = value.get().expect("type checked upstream"),
            "preset" => {
                let p = value.get::<Preset>().expect("type checked upstream");
                s.preset = p;
                if let Some((target, peak)) = p.values() {
                    s.meter.target_lufs = target;
                    s.meter.max_true_peak_dbtp = peak;
                }
            }
            "target-lufs" => {
                m.target_lufs = value.get().expect("type checked upstream");
                s.preset = Preset::Custom;
            }
            "max-true-peak-dbtp" => {
                m.max_true_peak_dbtp = value.get().expect("type checked upstream");
                s.preset = Preset::Custom;
            }
            "tolerance-lu" => m.tolerance_lu = value.get().expect("type checked upstream"),
            "min-duration" => m.min_duration = value.get().expect("type checked upstream"),
            "true-peak" => m.true_peak = value.get().expect("type checked upstream"),
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = self.all_settings();
        let m = s.meter;
        match pspec.name() {
            "interval" => m.interval.to_value(),
            "post-messages" => m.measurements.to_value(),
            "preset" => s.preset.to_value(),
            "target-lufs" => m.target_lufs.to_value(),
            "tolerance-lu" => m.tolerance_lu.to_value(),
            "max-true-peak-dbtp" => m.max_true_peak_dbtp.to_value(),
            "min-duration" => m.min_duration.to_value(),
            "true-peak" => m.true_peak.to_value(),
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for LoudnessMeter {}

impl ElementImpl for LoudnessMeter {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            audiodetect::metadata(
                "Loudness meter",
                "Posts loudness measurements per EBU R128 / ITU-R BS.1770 every interval (momentary, short-term, integrated, range, sample and true peak per channel) and start/end messages for loudness and true-peak alarms; passes buffers through untouched",
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
impl BaseTransformImpl for LoudnessMeter {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_the_default_preset() {
        let d = LoudnessConfig::default();
        assert_eq!(
            Preset::EbuR128.values(),
            Some((d.target_lufs, d.max_true_peak_dbtp))
        );
        assert_eq!(Settings::default().preset, Preset::EbuR128);
    }
}
