use std::sync::{LazyLock, Mutex};

use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;

use crate::analysis::slices::{is_recovery_point, nal_units, Framing, SliceLayout, SliceParser};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "slicecheck",
        gst::DebugColorFlags::empty(),
        Some("Lost H.264 slice finder"),
    )
});

#[derive(Default)]
struct State {
    framing: Option<Framing>,
    layout: SliceLayout,
    parser: SliceParser,
    /// Frames with lost slices, and frames seen.
    lossy: u64,
    frames: u64,
}

#[derive(Default)]
pub struct SliceCheck {
    state: Mutex<State>,
}

impl SliceCheck {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
                "Lost H.264 slice finder",
                "Filter/Analyzer/Video",
                "Finds H.264 slices lost whole before the decoder and marks their frames with a meta that blockdetect reads after the decoder; passes buffers through unchanged",
                "avmonitor developers",
            )
        });
        Some(&*METADATA)
    }

    fn pad_templates() -> &'static [gst::PadTemplate] {
        static TEMPLATES: LazyLock<Vec<gst::PadTemplate>> = LazyLock::new(|| {
            let caps = gst::Caps::builder("video/x-h264")
                .field("alignment", "au")
                .field(
                    "stream-format",
                    gst::List::new(["byte-stream", "avc", "avc3"]),
                )
                .build();
            vec![
                gst::PadTemplate::new(
                    "src",
                    gst::PadDirection::Src,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
                gst::PadTemplate::new(
                    "sink",
                    gst::PadDirection::Sink,
                    gst::PadPresence::Always,
                    &caps,
                )
                .unwrap(),
            ]
        });
        TEMPLATES.as_ref()
    }
}

/// How the units of buffers with `caps` are framed.
fn framing(caps: &gst::Caps) -> Option<Framing> {
    let s = caps.structure(0)?;
    match s.get::<&str>("stream-format").ok()? {
        "byte-stream" => Some(Framing::ByteStream),
        "avc" | "avc3" => {
            // lengthSizeMinusOne in the low two bits of the fifth byte of
            // the AVCDecoderConfigurationRecord; four bytes when it is absent
            let size = s
                .get::<gst::Buffer>("codec_data")
                .ok()
                .and_then(|b| {
                    let m = b.map_readable().ok()?;
                    m.get(4).map(|&v| usize::from(v & 3) + 1)
                })
                .unwrap_or(4);
            Some(Framing::Length(size))
        }
        _ => None,
    }
}

impl BaseTransformImpl for SliceCheck {
    const MODE: gst_base::subclass::BaseTransformMode =
        gst_base::subclass::BaseTransformMode::AlwaysInPlace;
    const PASSTHROUGH_ON_SAME_CAPS: bool = false;
    const TRANSFORM_IP_ON_PASSTHROUGH: bool = false;

    fn set_caps(&self, incaps: &gst::Caps, outcaps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let Some(f) = framing(incaps) else {
            return Err(gst::loggable_error!(CAT, "no stream-format in {incaps}"));
        };
        gst::debug!(CAT, imp = self, "{f:?} from {incaps}");
        let mut st = self.state();
        st.framing = Some(f);
        st.layout.reset();
        st.parser = SliceParser::new();
        if let Ok(cd) = incaps
            .structure(0)
            .and_then(|s| s.get::<gst::Buffer>("codec_data").ok())
            .ok_or(())
        {
            if let Ok(m) = cd.map_readable() {
                st.parser.codec_data(m.as_slice());
            }
        }
        drop(st);
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
        let lost = {
            let mut st = self.state();
            let Some(framing) = st.framing else {
                return Ok(gst::FlowSuccess::Ok);
            };
            let Ok(map) = buf.map_readable() else {
                return Ok(gst::FlowSuccess::Ok);
            };
            let units = nal_units(map.as_slice(), framing);
            let parser = &mut st.parser;
            let slices: Vec<_> = units.iter().filter_map(|u| parser.unit(u)).collect();
            let recovery = units.iter().any(|u| is_recovery_point(u));
            drop(map);
            let loss = st.layout.frame(&slices, recovery);
            st.frames += 1;
            st.lossy += u64::from(!loss.lost.is_empty());
            loss
        };
        if !lost.lost.is_empty() {
            gst::warning!(
                CAT,
                imp = self,
                "frame at {} lost slices (macroblocks from, to): {:?}",
                buf.pts().display(),
                lost.lost
                    .iter()
                    .map(|l| (l.first, l.end))
                    .collect::<Vec<_>>()
            );
        }
        if !lost.is_clean() || lost.qp.is_some() {
            super::add_lost_slices(buf, &lost);
        }
        Ok(gst::FlowSuccess::Ok)
    }
}
