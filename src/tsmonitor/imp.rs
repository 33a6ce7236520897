use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;

use super::Checker;
use crate::analysis::event::EndReason;
use crate::analysis::transport::monitor::TsConfig;
use crate::glue::Measurements;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "tsmonitor",
        gst::DebugColorFlags::empty(),
        Some("Transport stream monitor (TR 101 290)"),
    )
});

/// The kernel's limits, and the measurements as the properties say them
/// (the kernel holds `None` when they are off).
#[derive(Debug, Clone, Copy)]
struct Settings {
    config: TsConfig,
    measurements: Measurements,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            config: TsConfig::default(),
            measurements: Measurements {
                post: true,
                ..Measurements::default()
            },
        }
    }
}

impl Settings {
    fn kernel(&self) -> TsConfig {
        TsConfig {
            measure: self.measurements.every(),
            ..self.config
        }
    }
}

pub struct TsMonitor {
    settings: Mutex<Settings>,
    checker: Mutex<Checker>,
    /// Whether the segment is in time (buffers' times are arrival times).
    in_time: AtomicBool,
}

impl Default for TsMonitor {
    fn default() -> Self {
        let settings = Settings::default();
        TsMonitor {
            checker: Mutex::new(Checker::new(settings.kernel())),
            settings: Mutex::new(settings),
            in_time: AtomicBool::new(false),
        }
    }
}

impl TsMonitor {
    /// The kernel's config, as the properties are now.
    pub(super) fn kernel_config(&self) -> TsConfig {
        crate::glue::lock(&self.settings).kernel()
    }

    fn buffer(&self, buf: &gst::BufferRef) {
        let in_time = self.in_time.load(Ordering::Relaxed);
        let out = crate::glue::lock(&self.checker).buffer(buf, in_time, || self.obj().segment());
        self.post(out);
    }

    fn post(&self, structures: Vec<gst::Structure>) {
        for s in structures {
            gst::debug!(CAT, imp = self, "posting {s}");
            let obj = self.obj();
            let _ = obj.post_message(gst::message::Element::builder(s).src(&*obj).build());
        }
    }
}

fn duration(name: &str, nick: &str, blurb: &str, default: u64) -> glib::ParamSpec {
    glib::ParamSpecUInt64::builder(name)
        .nick(nick)
        .blurb(blurb)
        .minimum(1)
        .maximum(u64::MAX - 1)
        .default_value(default)
        .mutable_playing()
        .build()
}

#[glib::object_subclass]
impl ObjectSubclass for TsMonitor {
    const NAME: &'static str = "GstTsMonitor";
    type Type = super::TsMonitorElement;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for TsMonitor {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = Settings::default();
            let c = d.config;
            let mut v = vec![
                duration("hold", "Hold", "How long an error class must stay away from a PID before its event ends, in nanoseconds", c.hold),
                duration("pat-interval", "PAT interval", "Longest gap between PAT sections (TR 101 290 1.3), in nanoseconds", c.pat_interval),
                duration("pmt-interval", "PMT interval", "Longest gap between PMT sections on a PMT PID (1.5), in nanoseconds", c.pmt_interval),
                duration("pid-timeout", "PID timeout", "Longest silence of a PID a PMT names (1.6), in nanoseconds", c.pid_timeout),
                duration("pcr-interval", "PCR interval", "Longest gap between PCRs on a program's PCR PID (2.3a), in nanoseconds", c.pcr_interval),
                duration("pcr-jump", "PCR jump", "Largest step between PCRs without the discontinuity indicator (2.3b), in nanoseconds", c.pcr_jump),
                glib::ParamSpecUInt64::builder("pcr-accuracy")
                    .nick("PCR accuracy")
                    .blurb("Largest PCR inaccuracy on a constant-rate multiplex (2.4, PCR_AC), in nanoseconds (0 = not measured)")
                    .maximum(u64::MAX - 1)
                    .default_value(c.pcr_accuracy)
                    .mutable_playing()
                    .build(),
                duration("pts-interval", "PTS interval", "Longest gap between PTSs on an elementary stream (2.5), in nanoseconds", c.pts_interval),
            ];
            v.extend(Measurements::properties_from(
                d.measurements,
                "the error counts per class and the packets and bitrate per PID",
                "on by default: the counts are kept anyway",
            ));
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let kernel = {
            let mut s = crate::glue::lock(&self.settings);
            let c = &mut s.config;
            match pspec.name() {
                "hold" => c.hold = value.get().expect("type checked upstream"),
                "pat-interval" => c.pat_interval = value.get().expect("type checked upstream"),
                "pmt-interval" => c.pmt_interval = value.get().expect("type checked upstream"),
                "pid-timeout" => c.pid_timeout = value.get().expect("type checked upstream"),
                "pcr-interval" => c.pcr_interval = value.get().expect("type checked upstream"),
                "pcr-jump" => c.pcr_jump = value.get().expect("type checked upstream"),
                "pcr-accuracy" => c.pcr_accuracy = value.get().expect("type checked upstream"),
                "pts-interval" => c.pts_interval = value.get().expect("type checked upstream"),
                name => {
                    if !s.measurements.set(name, value) {
                        crate::glue::unknown_property(pspec)
                    }
                }
            }
            s.kernel()
        };
        crate::glue::lock(&self.checker).set_config(kernel);
        gst::info!(CAT, imp = self, "{} set to {value:?}", pspec.name());
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = *crate::glue::lock(&self.settings);
        let c = s.config;
        match pspec.name() {
            "hold" => c.hold.to_value(),
            "pat-interval" => c.pat_interval.to_value(),
            "pmt-interval" => c.pmt_interval.to_value(),
            "pid-timeout" => c.pid_timeout.to_value(),
            "pcr-interval" => c.pcr_interval.to_value(),
            "pcr-jump" => c.pcr_jump.to_value(),
            "pcr-accuracy" => c.pcr_accuracy.to_value(),
            "pts-interval" => c.pts_interval.to_value(),
            name => s
                .measurements
                .get(name)
                .unwrap_or_else(|| crate::glue::unknown_property_value(pspec)),
        }
    }
}

impl GstObjectImpl for TsMonitor {}

impl ElementImpl for TsMonitor {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Transport stream monitor",
                "Filter/Analyzer/Video",
                "Checks an MPEG transport stream before the demuxer for the errors of ETSI TR 101 290 priority 1 and 2 (sync, continuity, PAT, PMT, PIDs, transport errors, CRCs, PCR, PTS, CAT); posts start/end messages per error class and PID, and measurements of counts and PID bitrates; passes buffers through unchanged",
                "avmonitor developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            crate::glue::passthrough_templates(&gst::Caps::builder("video/mpegts").build())
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for TsMonitor {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = true;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = true;

    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let kernel = crate::glue::lock(&self.settings).kernel();
        *crate::glue::lock(&self.checker) = Checker::new(kernel);
        Ok(())
    }

    fn query(&self, direction: gst::PadDirection, query: &mut gst::QueryRef) -> bool {
        if direction == gst::PadDirection::Src {
            if let gst::QueryViewMut::Scheduling(q) = query.view_mut() {
                // a demuxer that pulls would bypass the caps (and a
                // transform pulled from answers not-negotiated): be pushed to
                q.set(gst::SchedulingFlags::SEQUENTIAL, 1, -1, 0);
                q.add_scheduling_modes([gst::PadMode::Push]);
                return true;
            }
        }
        BaseTransformImplExt::parent_query(self, direction, query)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let (size, now) = crate::glue::lock(&self.checker).progress();
        gst::info!(
            CAT,
            imp = self,
            "packets of {size:?} bytes, {} ms of stream",
            now / 1_000_000
        );
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::Segment(s) = event.view() {
            let in_time = s.segment().format() == gst::Format::Time;
            self.in_time.store(in_time, Ordering::Relaxed);
        }
        let reason = match event.view() {
            gst::EventView::Eos(_) => Some(EndReason::Eos),
            gst::EventView::FlushStop(_) => Some(EndReason::Flush),
            _ => None,
        };
        if let Some(reason) = reason {
            let segment = self.obj().segment();
            let out = crate::glue::lock(&self.checker).close(reason, &segment);
            self.post(out);
        }
        self.parent_sink_event(event)
    }

    fn transform_ip_passthrough(
        &self,
        buf: &gst::Buffer,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.buffer(buf);
        Ok(gst::FlowSuccess::Ok)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        self.buffer(buf);
        Ok(gst::FlowSuccess::Ok)
    }
}
