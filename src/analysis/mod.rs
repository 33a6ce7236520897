//! Pure analysis: detector kernels and the shared event logic.
//!
//! Nothing here depends on GStreamer; times are nanoseconds and pictures are
//! [`frame::LumaPlane`] views, so every kernel is unit tested on its own.

pub mod avsync;
pub mod black;
pub mod block;
pub mod blocks;
pub mod clip;
pub mod event;
pub mod frame;
pub mod freeze;
pub mod loudness;
pub mod phase;
pub mod samples;
pub mod silence;
pub mod slices;

use blocks::AudioTime;
use event::EndReason;
use frame::LumaPlane;
use samples::AudioView;

/// What every picture detector offers its element.
pub trait VideoDetector {
    /// A start or end event with the detector's measurements.
    type Event;

    /// One frame covering `pts..end` nanoseconds; events go to `out`.
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>);

    /// Ends a reported defect because the stream was interrupted.
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>);

    /// Whether the decoder flagged the next frame as corrupted.
    fn decoder_flag(&mut self, _corrupted: bool) {}

    /// Whether [`VideoDetector::lost_slices`] is used (the glue looks for
    /// the meta only then).
    const READS_LOST_SLICES: bool = false;

    /// What the next frame lost in the coded stream, as `slicecheck` found
    /// it before the decoder.
    fn lost_slices(&mut self, _loss: &slices::SliceLoss) {}

    /// A new segment began without a flush: frame times before it say
    /// nothing about the ones after it.
    fn new_segment(&mut self) {}
}

impl VideoDetector for black::BlackDetector {
    type Event = black::BlackEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        out.extend(black::BlackDetector::push(self, plane, pts, end));
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        out.extend(black::BlackDetector::close(self, reason));
    }
}

impl VideoDetector for freeze::FreezeDetector {
    type Event = freeze::FreezeEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        out.extend(freeze::FreezeDetector::push(self, plane, pts, end));
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        out.extend(freeze::FreezeDetector::close(self, reason));
    }
}

impl VideoDetector for block::BlockDetector {
    type Event = block::BlockEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        out.extend(block::BlockDetector::push(self, plane, pts, end));
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        out.extend(block::BlockDetector::close(self, reason));
    }
    fn decoder_flag(&mut self, corrupted: bool) {
        self.set_decoder_flag(corrupted);
    }
    const READS_LOST_SLICES: bool = true;
    fn lost_slices(&mut self, loss: &slices::SliceLoss) {
        self.set_lost_slices(loss);
    }
    fn new_segment(&mut self) {
        self.forget_cadence();
    }
}

/// What every audio detector offers its element.
pub trait AudioDetector {
    type Event;

    /// One buffer whose first frame is `at`.
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event>;

    /// No data from `pts` for `duration` ns (a gap event).
    fn gap(&mut self, _pts: u64, _duration: u64) -> Vec<Self::Event> {
        Vec::new()
    }

    /// Ends what is open because the stream was interrupted.
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event>;

    /// A flushing seek: ends what is open (reason flush) and forgets history.
    fn flush(&mut self) -> Vec<Self::Event> {
        self.close(EndReason::Flush)
    }
}

impl AudioDetector for silence::SilenceDetector {
    type Event = silence::SilenceEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        silence::SilenceDetector::push(self, view, at)
    }
    fn gap(&mut self, pts: u64, duration: u64) -> Vec<Self::Event> {
        silence::SilenceDetector::gap(self, pts, duration)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        silence::SilenceDetector::close(self, reason)
    }
}

impl AudioDetector for clip::ClipDetector {
    type Event = clip::ClipEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        clip::ClipDetector::push(self, view, at)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        clip::ClipDetector::close(self, reason)
    }
}

impl AudioDetector for phase::PhaseDetector {
    type Event = phase::PhaseEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        phase::PhaseDetector::push(self, view, at)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        phase::PhaseDetector::close(self, reason)
    }
}

impl AudioDetector for loudness::LoudnessMeter {
    type Event = loudness::LoudnessEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        loudness::LoudnessMeter::push(self, view, at)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        loudness::LoudnessMeter::close(self, reason)
    }
    fn flush(&mut self) -> Vec<Self::Event> {
        let out = loudness::LoudnessMeter::close(self, EndReason::Flush);
        self.reset();
        out
    }
}
