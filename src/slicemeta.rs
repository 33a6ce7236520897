//! The custom meta that carries what `slicecheck` found in the coded stream
//! (slices lost whole, frames tainted by them, the slice quantiser) through
//! the decoder to `blockdetect`. Both sides meet here, so neither element's
//! module reaches into the other's.

use gst::prelude::*;

use crate::analysis::coded::slices::{LostRange, SliceLoss};

/// The name of the custom meta carrying a frame's lost macroblocks.
pub const LOST_SLICES_META: &str = "GstAvmonitorLostSlicesMeta";

/// `end-mbs` value for a run reaching the end of the picture.
const TO_END: u32 = u32::MAX;

/// Registers [`LOST_SLICES_META`] (once per process).
pub fn register_meta() {
    if !gst::meta::CustomMeta::is_registered(LOST_SLICES_META) {
        gst::meta::CustomMeta::register(LOST_SLICES_META, &[]);
    }
}

/// Attaches `loss` to `buffer` as [`LOST_SLICES_META`].
pub fn add_lost_slices(buffer: &mut gst::BufferRef, loss: &SliceLoss) {
    let lost = &loss.lost;
    register_meta();
    let Ok(mut meta) = gst::meta::CustomMeta::add(buffer, LOST_SLICES_META) else {
        return;
    };
    let s = meta.mut_structure();
    s.set_name("lost-slices");
    s.set(
        "first-mbs",
        gst::Array::new(lost.iter().map(|l| l.first.to_send_value())),
    );
    s.set(
        "end-mbs",
        gst::Array::new(lost.iter().map(|l| l.end.unwrap_or(TO_END).to_send_value())),
    );
    s.set("tainted", loss.tainted);
    s.set("block-size", loss.block.max(1));
    if let Some(qp) = loss.qp {
        s.set("qp", qp);
    }
}

/// The loss [`add_lost_slices`] attached to `buffer`, if any (the plugin
/// registers the meta before any element exists).
pub fn lost_slices(buffer: &gst::BufferRef) -> SliceLoss {
    let Ok(meta) = gst::meta::CustomMeta::from_buffer(buffer, LOST_SLICES_META) else {
        return SliceLoss::default();
    };
    let s = meta.structure();
    let tainted = s.get::<bool>("tainted").unwrap_or(false);
    let qp = s.get::<i32>("qp").ok();
    let block = s.get::<u32>("block-size").unwrap_or(16);
    let (Ok(first), Ok(end)) = (
        s.get::<gst::Array>("first-mbs"),
        s.get::<gst::Array>("end-mbs"),
    ) else {
        return SliceLoss {
            lost: Vec::new(),
            tainted,
            qp,
            block,
        };
    };
    let lost = first
        .iter()
        .zip(end.iter())
        .filter_map(|(f, e)| {
            let (f, e) = (f.get::<u32>().ok()?, e.get::<u32>().ok()?);
            Some(LostRange {
                first: f,
                end: (e != TO_END).then_some(e),
            })
        })
        .collect();
    SliceLoss {
        lost,
        tainted,
        qp,
        block,
    }
}
