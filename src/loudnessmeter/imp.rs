use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use super::Preset;
use crate::analysis::loudness::{LoudnessConfig, LoudnessEvent, LoudnessMeter as Meter};
use crate::audiodetect::AudioCore;
use crate::glue::ToMessage;
use crate::messages::{segment_times, DefectEvent, LoudnessMeterMessage};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "loudnessmeter",
        gst::DebugColorFlags::empty(),
        Some("Loudness meter"),
    )
});

const DEFAULT_INTERVAL: u64 = 1_000_000_000;
const DEFAULT_TOLERANCE_LU: f64 = 5.0;
const DEFAULT_MIN_DURATION: u64 = 10_000_000_000;

impl ToMessage for LoudnessEvent {
    fn structure(&self, segment: &gst::Segment) -> gst::Structure {
        match self {
            LoudnessEvent::Measurement(m) => {
                let (stream_time, running_time) = segment_times(m.timestamp, segment);
                LoudnessMeterMessage::Measurement {
                    timestamp: m.timestamp,
                    stream_time,
                    running_time,
                    momentary: m.momentary,
                    short_term: m.short_term,
                    integrated: m.integrated,
                    loudness_range: m.range,
                    sample_peak_db: m.sample_peak_db.clone(),
                    true_peak_db: m.true_peak_db.clone(),
                }
            }
            LoudnessEvent::Alarm {
                kind,
                transition,
                value,
            } => LoudnessMeterMessage::Alarm {
                event: DefectEvent::from_transition(*transition, segment),
                alarm: kind.as_str().to_string(),
                value: *value,
            },
        }
        .to_structure()
    }
}

/// The meter's settings, and the preset they came from (a way of setting
/// values, not something the meter uses).
#[derive(Debug, Clone, Copy)]
struct Settings {
    meter: LoudnessConfig,
    preset: Preset,
}

pub struct LoudnessMeter {
    settings: Mutex<Settings>,
    core: AudioCore<Meter>,
}

impl Default for LoudnessMeter {
    fn default() -> Self {
        let (target, peak) = Preset::EbuR128.values().unwrap_or((-23.0, -1.0));
        LoudnessMeter {
            settings: Mutex::new(Settings {
                meter: LoudnessConfig {
                    interval: DEFAULT_INTERVAL,
                    target_lufs: target,
                    tolerance_lu: DEFAULT_TOLERANCE_LU,
                    max_true_peak_dbtp: peak,
                    min_duration: DEFAULT_MIN_DURATION,
                    true_peak: true,
                    measurements: true,
                },
                preset: Preset::EbuR128,
            }),
            core: AudioCore::new(*CAT),
        }
    }
}

impl LoudnessMeter {
    fn all_settings(&self) -> Settings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn settings(&self) -> LoudnessConfig {
        self.all_settings().meter
    }

    fn make(config: LoudnessConfig, rate: u32, channels: usize) -> Option<Meter> {
        Meter::new(config, rate, channels)
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
            vec![
                glib::ParamSpecUInt64::builder("interval")
                    .nick("Interval")
                    .blurb("Time between measurement messages, in nanoseconds (rounded to 100 ms steps)")
                    .minimum(100_000_000)
                    .maximum(u64::MAX - 1)
                    .default_value(DEFAULT_INTERVAL)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post messages")
                    .blurb("Post a measurement message every interval (alarms are posted regardless)")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("preset", Preset::EbuR128)
                    .nick("Preset")
                    .blurb("Target loudness and maximum true peak of a standard")
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("target-lufs")
                    .nick("Target")
                    .blurb("Target loudness, in LUFS")
                    .minimum(-70.0)
                    .maximum(0.0)
                    .default_value(-23.0)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("tolerance-lu")
                    .nick("Tolerance")
                    .blurb("Short-term loudness may differ from the target by this much before an alarm, in LU")
                    .minimum(0.0)
                    .maximum(70.0)
                    .default_value(DEFAULT_TOLERANCE_LU)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("max-true-peak-dbtp")
                    .nick("Maximum true peak")
                    .blurb("True peak above which an alarm is raised, in dBTP")
                    .minimum(-70.0)
                    .maximum(20.0)
                    .default_value(-1.0)
                    .mutable_playing()
                    .build(),
                crate::glue::min_duration_property(DEFAULT_MIN_DURATION),
                glib::ParamSpecBoolean::builder("true-peak")
                    .nick("True peak")
                    .blurb("Measure true peak (4x oversampled); changing it restarts the measurement")
                    .default_value(true)
                    .mutable_playing()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let m = &mut s.meter;
        match pspec.name() {
            "interval" => m.interval = value.get().unwrap_or(m.interval),
            "post-messages" => m.measurements = value.get().unwrap_or(m.measurements),
            "preset" => {
                if let Ok(p) = value.get::<Preset>() {
                    s.preset = p;
                    if let Some((target, peak)) = p.values() {
                        s.meter.target_lufs = target;
                        s.meter.max_true_peak_dbtp = peak;
                    }
                }
            }
            "target-lufs" => {
                m.target_lufs = value.get().unwrap_or(m.target_lufs);
                s.preset = Preset::Custom;
            }
            "max-true-peak-dbtp" => {
                m.max_true_peak_dbtp = value.get().unwrap_or(m.max_true_peak_dbtp);
                s.preset = Preset::Custom;
            }
            "tolerance-lu" => m.tolerance_lu = value.get().unwrap_or(m.tolerance_lu),
            "min-duration" => m.min_duration = value.get().unwrap_or(m.min_duration),
            "true-peak" => m.true_peak = value.get().unwrap_or(m.true_peak),
            _ => return,
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
            _ => pspec.default_value().clone(),
        }
    }
}

impl LoudnessMeter {
    fn metadata_static() -> &'static gst::subclass::ElementMetadata {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Loudness meter",
                "Filter/Analyzer/Audio",
                "Measures loudness per EBU R128 / ITU-R BS.1770 and raises loudness and true-peak alarms; passes buffers through untouched",
                "avmonitor developers",
            )
        });
        &METADATA
    }
}

crate::audio_detector_impls!(LoudnessMeter, Meter);
