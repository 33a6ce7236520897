//! Pure analysis: detector kernels and the shared event logic.
//!
//! Nothing here depends on GStreamer; times are nanoseconds and pictures are
//! [`frame::LumaPlane`] views, so every kernel is unit tested on its own.

pub mod black;
pub mod blocks;
pub mod clip;
pub mod event;
pub mod frame;
pub mod freeze;
pub mod loudness;
pub mod phase;
pub mod samples;
pub mod silence;

use event::{EndReason, Transition};
use frame::LumaPlane;

/// What every picture detector offers its element.
pub trait VideoDetector {
    /// A start or end event with the detector's measurements.
    type Event;

    /// One frame covering `pts..end` nanoseconds.
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Option<Self::Event>;

    /// Ends a reported defect because the stream was interrupted.
    fn close(&mut self, reason: EndReason) -> Option<Self::Event>;

    /// The start or end an event carries.
    fn transition(event: &Self::Event) -> Transition;
}

impl VideoDetector for black::BlackDetector {
    type Event = black::BlackEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Option<Self::Event> {
        black::BlackDetector::push(self, plane, pts, end)
    }
    fn close(&mut self, reason: EndReason) -> Option<Self::Event> {
        black::BlackDetector::close(self, reason)
    }
    fn transition(event: &Self::Event) -> Transition {
        event.transition
    }
}

impl VideoDetector for freeze::FreezeDetector {
    type Event = freeze::FreezeEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Option<Self::Event> {
        freeze::FreezeDetector::push(self, plane, pts, end)
    }
    fn close(&mut self, reason: EndReason) -> Option<Self::Event> {
        freeze::FreezeDetector::close(self, reason)
    }
    fn transition(event: &Self::Event) -> Transition {
        event.transition
    }
}
