use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::prelude::*;
use gst_video::subclass::prelude::*;

use crate::analysis::video::block::{BlockConfig, BlockDetector};
use crate::glue;
use crate::videodetect::{self, Core};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "blockdetect",
        gst::DebugColorFlags::empty(),
        Some("Block corruption detector"),
    )
});

const DEFAULT_POST_MESSAGES: bool = true;

#[derive(Debug, Clone, Copy)]
struct Settings {
    config: BlockConfig,
    post_messages: bool,
}

pub struct BlockDetect {
    settings: Mutex<Settings>,
    core: Core<BlockDetector>,
}

impl Default for BlockDetect {
    fn default() -> Self {
        BlockDetect {
            settings: Mutex::new(Settings {
                // the kernel's defaults are the element's
                config: BlockConfig::default(),
                post_messages: DEFAULT_POST_MESSAGES,
            }),
            core: Core::new(*CAT),
        }
    }
}

impl BlockDetect {
    /// The detector's settings; no measurements when `post-messages` is off.
    fn settings(&self) -> BlockConfig {
        let s = *crate::glue::lock(&self.settings);
        BlockConfig {
            interval: if s.post_messages {
                s.config.interval
            } else {
                0
            },
            ..s.config
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for BlockDetect {
    const NAME: &'static str = "GstBlockDetect";
    type Type = super::BlockDetect;
    type ParentType = gst_video::VideoFilter;
}

impl ObjectImpl for BlockDetect {
    fn constructed(&self) {
        self.parent_constructed();
        // VideoFilter turns QoS on, and BaseTransform then drops late
        // buffers: a monitor must never drop one
        self.obj().set_qos(false);
    }

    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            let d = BlockConfig::default();
            let mut v = vec![
                glib::ParamSpecDouble::builder("threshold")
                    .nick("Step threshold")
                    .blurb("Smallest luma step across a macroblock edge, beyond the gradients beside it, that can be damage, as a fraction of the nominal luma range")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.threshold)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("masking")
                    .nick("Content masking")
                    .blurb("How many times the strongest luma step across other lines within 12 pixels a step across a macroblock edge must exceed to be damage")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(d.masking)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("texture")
                    .nick("Texture masking")
                    .blurb("How many times the mean luma gradient inside the blocks beside it a step must exceed to be damage")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(d.texture)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecUInt::builder("min-breaks")
                    .nick("Minimum new breaks")
                    .blurb("Newly broken macroblock edges a frame needs to start a corruption")
                    .minimum(1)
                    .default_value(d.min_breaks)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("min-confidence")
                    .nick("Minimum pixel confidence")
                    .blurb("Confidence (0 to 1) at which broken macroblock edges alone start a corruption; other evidence starts one whatever (see docs/blockdetect.md)")
                    .minimum(0.0)
                    .maximum(1.0)
                    .default_value(d.min_confidence)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("missing-frames")
                    .nick("Missing frames are evidence")
                    .blurb("Count frames missing from a steady frame rate (a decoder drops what it cannot decode) as corruption evidence; off for variable frame rates")
                    .default_value(d.missing_frames)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecDouble::builder("qp-masking")
                    .nick("Quantiser masking")
                    .blurb("Quantiser steps a luma step across a macroblock edge must reach to be damage, for H.264 frames whose slice QP slicecheck read (0 = off)")
                    .minimum(0.0)
                    .maximum(100.0)
                    .default_value(d.qp_masking)
                    .mutable_playing()
                    .build(),
                glue::min_duration_property(d.min_duration),
                glib::ParamSpecUInt64::builder("interval")
                    .nick("Measurement interval")
                    .blurb("Time between blockiness measurements, in nanoseconds")
                    .minimum(1)
                    .default_value(d.interval)
                    .mutable_playing()
                    .build(),
                glib::ParamSpecBoolean::builder("post-messages")
                    .nick("Post measurements")
                    .blurb("Post a blockiness measurement every interval")
                    .default_value(DEFAULT_POST_MESSAGES)
                    .mutable_playing()
                    .build(),
            ];
            v.extend(videodetect::region_properties());
            v
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut s = crate::glue::lock(&self.settings);
        let name = pspec.name();
        let c = &mut s.config;
        match name {
            "threshold" => c.threshold = value.get().expect("type checked upstream"),
            "masking" => c.masking = value.get().expect("type checked upstream"),
            "texture" => c.texture = value.get().expect("type checked upstream"),
            "min-breaks" => c.min_breaks = value.get().expect("type checked upstream"),
            "min-confidence" => c.min_confidence = value.get().expect("type checked upstream"),
            "missing-frames" => c.missing_frames = value.get().expect("type checked upstream"),
            "qp-masking" => c.qp_masking = value.get().expect("type checked upstream"),
            "min-duration" => c.min_duration = value.get().expect("type checked upstream"),
            "interval" => c.interval = value.get().expect("type checked upstream"),
            "post-messages" => s.post_messages = value.get().expect("type checked upstream"),
            "region-x" | "region-y" | "region-width" | "region-height" => {
                videodetect::set_region_property(&mut c.region, name, value)
            }
            _ => crate::glue::unknown_property(pspec),
        }
        gst::info!(CAT, imp = self, "{name} set to {value:?}");
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let s = *crate::glue::lock(&self.settings);
        let c = s.config;
        match pspec.name() {
            "threshold" => c.threshold.to_value(),
            "masking" => c.masking.to_value(),
            "texture" => c.texture.to_value(),
            "min-breaks" => c.min_breaks.to_value(),
            "min-confidence" => c.min_confidence.to_value(),
            "missing-frames" => c.missing_frames.to_value(),
            "qp-masking" => c.qp_masking.to_value(),
            "min-duration" => c.min_duration.to_value(),
            "interval" => c.interval.to_value(),
            "post-messages" => s.post_messages.to_value(),
            name @ ("region-x" | "region-y" | "region-width" | "region-height") => {
                videodetect::region_property(&c.region, name)
            }
            _ => crate::glue::unknown_property_value(pspec),
        }
    }
}

impl GstObjectImpl for BlockDetect {}

impl ElementImpl for BlockDetect {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            videodetect::metadata(
                "Block corruption detector",
                "Experimental: posts start/end messages for block corruption from lost or damaged data (it misses some and raises some false alarms on very low bitrates), and blockiness measurements; passes buffers through untouched",
            )
        });
        Some(&METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        videodetect::pad_templates_static()
    }
}

impl BaseTransformImpl for BlockDetect {
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

impl VideoFilterImpl for BlockDetect {
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
