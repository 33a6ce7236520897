use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use super::Checker;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "slicecheck",
        gst::DebugColorFlags::empty(),
        Some("Lost H.264/HEVC slice finder"),
    )
});

#[derive(Default)]
pub struct SliceCheck {
    state: Mutex<Checker>,
}

impl SliceCheck {
    fn state(&self) -> std::sync::MutexGuard<'_, Checker> {
        crate::glue::lock(&self.state)
    }
}

#[glib::object_subclass]
impl ObjectSubclass for SliceCheck {
    const NAME: &'static str = "GstSliceCheck";
    type Type = super::SliceCheck;
    type ParentType = gst_base::BaseTransform;
}

impl ObjectImpl for SliceCheck {}

impl GstObjectImpl for SliceCheck {}

impl ElementImpl for SliceCheck {
    fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
        static METADATA: LazyLock<gst::subclass::ElementMetadata> = LazyLock::new(|| {
            gst::subclass::ElementMetadata::new(
                "Lost H.264/HEVC slice finder",
                "Filter/Analyzer/Video",
                "Finds H.264 slices and HEVC slice segments lost whole before the decoder, and reads each H.264 frame's slice quantiser, for blockdetect after the decoder (a meta on the frames); posts no messages; passes buffers through unchanged",
                "avmonitor developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let mut caps = gst::Caps::builder("video/x-h264")
                .field("alignment", "au")
                .field(
                    "stream-format",
                    gst::List::new(["byte-stream", "avc", "avc3"]),
                )
                .build();
            caps.merge(
                gst::Caps::builder("video/x-h265")
                    .field("alignment", "au")
                    .field(
                        "stream-format",
                        gst::List::new(["byte-stream", "hvc1", "hev1"]),
                    )
                    .build(),
            );
            crate::glue::passthrough_templates(&caps)
        });
        TEMPLATES.as_ref()
    }
}

impl BaseTransformImpl for SliceCheck {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        if !self.state().set_caps(incaps) {
            return Err(gst::loggable_error!(
                CAT,
                "no H.264 or HEVC stream-format in {incaps}"
            ));
        }
        gst::debug!(CAT, imp = self, "caps {incaps}");
        self.parent_set_caps(incaps, outcaps)
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        let st = std::mem::take(&mut *self.state());
        gst::info!(
            CAT,
            imp = self,
            "{} of {} frames lost slices",
            st.lossy,
            st.frames
        );
        Ok(())
    }

    fn sink_event(&self, event: gst::Event) -> bool {
        if let gst::EventView::FlushStop(_) = event.view() {
            self.state().layout.reset();
        }
        self.parent_sink_event(event)
    }

    fn transform_ip(&self, buf: &mut gst::BufferRef) -> Result<gst::FlowSuccess, gst::FlowError> {
        let loss = self.state().check_buffer(buf);
        if !loss.lost.is_empty() {
            gst::warning!(
                CAT,
                imp = self,
                "frame at {} lost slices (macroblocks from, to): {:?}",
                buf.pts().display(),
                loss.lost
                    .iter()
                    .map(|l| (l.first, l.end))
                    .collect::<Vec<_>>()
            );
        } else if loss.tainted {
            gst::debug!(
                CAT,
                imp = self,
                "frame at {} refers to a picture that lost slices or was skipped",
                buf.pts().display()
            );
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
