//! Pure analysis: detector kernels and the shared event logic.
//!
//! Nothing here depends on GStreamer; times are nanoseconds and pictures are
//! [`frame::LumaPlane`] views, so every kernel is unit tested on its own.

pub mod audio;
pub mod avsync;
pub mod coded;
pub mod event;
pub mod transport;
pub mod video;

use audio::{clip, loudness, phase, silence};
use coded::slices;
use video::{area, black, block, cadence, freeze, levels, pattern};

use audio::samples::AudioView;
use audio::timing::AudioTime;
use event::EndReason;
use video::colour::ColourPicture;
use video::frame::LumaPlane;

/// What every picture detector offers its element.
pub trait VideoDetector: Sized {
    /// Its tuning: the element's properties map onto it, and its `Default`
    /// is every property's default.
    type Config: Copy + PartialEq + Default;
    /// A start or end event with the detector's measurements.
    type Event;

    fn new(config: Self::Config) -> Self;
    fn config(&self) -> Self::Config;
    /// New tuning, taken from the next frame on.
    fn set_config(&mut self, config: Self::Config);

    /// Whether the detector reads all three colour components of each
    /// frame ([`VideoDetector::push_colour`]) rather than its luma
    /// ([`VideoDetector::push`]); the glue calls the one it reads, and the
    /// detector implements that one.
    const READS_COLOUR: bool = false;

    /// One frame covering `pts..end` nanoseconds; events go to `out`.
    fn push(&mut self, _plane: &LumaPlane<'_>, _pts: u64, _end: u64, _out: &mut Vec<Self::Event>) {}

    /// One frame's colour components, when [`VideoDetector::READS_COLOUR`].
    fn push_colour(
        &mut self,
        _picture: &ColourPicture<'_>,
        _pts: u64,
        _end: u64,
        _out: &mut Vec<Self::Event>,
    ) {
    }

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

    /// Analyse one frame in this many (the others pass unlooked at).
    fn frame_step(_config: &Self::Config) -> u32 {
        1
    }
}

impl VideoDetector for black::BlackDetector {
    type Config = black::BlackConfig;
    fn new(config: Self::Config) -> Self {
        black::BlackDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        black::BlackDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        black::BlackDetector::set_config(self, config)
    }
    type Event = black::BlackEvent;
    fn frame_step(config: &Self::Config) -> u32 {
        config.frame_step
    }
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        black::BlackDetector::push(self, plane, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        out.extend(black::BlackDetector::close(self, reason));
    }
}

impl VideoDetector for freeze::FreezeDetector {
    type Config = freeze::FreezeConfig;
    fn new(config: Self::Config) -> Self {
        freeze::FreezeDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        freeze::FreezeDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        freeze::FreezeDetector::set_config(self, config)
    }
    type Event = freeze::FreezeEvent;
    fn frame_step(config: &Self::Config) -> u32 {
        config.frame_step
    }
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        freeze::FreezeDetector::push(self, plane, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        out.extend(freeze::FreezeDetector::close(self, reason));
    }
}

impl VideoDetector for area::AreaDetector {
    type Config = area::AreaConfig;
    fn new(config: Self::Config) -> Self {
        area::AreaDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        area::AreaDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        area::AreaDetector::set_config(self, config)
    }
    type Event = area::AreaEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        area::AreaDetector::push(self, plane, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        area::AreaDetector::close(self, reason, out);
    }
}

impl VideoDetector for cadence::CadenceDetector {
    type Config = cadence::CadenceConfig;
    fn new(config: Self::Config) -> Self {
        cadence::CadenceDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        cadence::CadenceDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        cadence::CadenceDetector::set_config(self, config)
    }
    type Event = cadence::CadenceEvent;
    fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64, out: &mut Vec<Self::Event>) {
        cadence::CadenceDetector::push(self, plane, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        cadence::CadenceDetector::close(self, reason, out);
    }
}

impl VideoDetector for levels::LevelsDetector {
    type Config = levels::LevelsConfig;
    fn new(config: Self::Config) -> Self {
        levels::LevelsDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        levels::LevelsDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        levels::LevelsDetector::set_config(self, config)
    }
    type Event = levels::LevelsEvent;
    const READS_COLOUR: bool = true;
    fn push_colour(
        &mut self,
        picture: &ColourPicture<'_>,
        pts: u64,
        end: u64,
        out: &mut Vec<Self::Event>,
    ) {
        levels::LevelsDetector::push(self, picture, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        levels::LevelsDetector::close(self, reason, out);
    }
}

impl VideoDetector for pattern::PatternDetector {
    type Config = pattern::PatternConfig;
    fn new(config: Self::Config) -> Self {
        pattern::PatternDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        pattern::PatternDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        pattern::PatternDetector::set_config(self, config)
    }
    type Event = pattern::PatternEvent;
    const READS_COLOUR: bool = true;
    fn push_colour(
        &mut self,
        picture: &ColourPicture<'_>,
        pts: u64,
        end: u64,
        out: &mut Vec<Self::Event>,
    ) {
        pattern::PatternDetector::push(self, picture, pts, end, out);
    }
    fn close(&mut self, reason: EndReason, out: &mut Vec<Self::Event>) {
        pattern::PatternDetector::close(self, reason, out);
    }
}

impl VideoDetector for block::BlockDetector {
    type Config = block::BlockConfig;
    fn new(config: Self::Config) -> Self {
        block::BlockDetector::new(config)
    }
    fn config(&self) -> Self::Config {
        block::BlockDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        block::BlockDetector::set_config(self, config)
    }
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
pub trait AudioDetector: Sized {
    /// Its tuning: the element's properties map onto it, and its `Default`
    /// is every property's default.
    type Config: Copy + PartialEq + Default;
    type Event;

    /// A detector for `channels` channels at `rate`; `None` when it cannot
    /// analyse them.
    fn new(config: Self::Config, rate: u32, channels: usize) -> Option<Self>;
    fn config(&self) -> Self::Config;
    /// New tuning, taken from the next buffer on.
    fn set_config(&mut self, config: Self::Config);

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
    type Config = silence::SilenceConfig;
    fn new(config: Self::Config, rate: u32, channels: usize) -> Option<Self> {
        Some(silence::SilenceDetector::new(config, rate, channels))
    }
    fn config(&self) -> Self::Config {
        silence::SilenceDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        silence::SilenceDetector::set_config(self, config)
    }
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
    type Config = clip::ClipConfig;
    fn new(config: Self::Config, rate: u32, channels: usize) -> Option<Self> {
        Some(clip::ClipDetector::new(config, rate, channels))
    }
    fn config(&self) -> Self::Config {
        clip::ClipDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        clip::ClipDetector::set_config(self, config)
    }
    type Event = clip::ClipEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        clip::ClipDetector::push(self, view, at)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        clip::ClipDetector::close(self, reason)
    }
}

impl AudioDetector for phase::PhaseDetector {
    type Config = phase::PhaseConfig;
    // a pair that is not there is analysed as nothing (the element warns)
    fn new(config: Self::Config, rate: u32, _channels: usize) -> Option<Self> {
        Some(phase::PhaseDetector::new(config, rate))
    }
    fn config(&self) -> Self::Config {
        phase::PhaseDetector::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        phase::PhaseDetector::set_config(self, config)
    }
    type Event = phase::PhaseEvent;
    fn push(&mut self, view: &AudioView<'_>, at: AudioTime) -> Vec<Self::Event> {
        phase::PhaseDetector::push(self, view, at)
    }
    fn close(&mut self, reason: EndReason) -> Vec<Self::Event> {
        phase::PhaseDetector::close(self, reason)
    }
}

impl AudioDetector for loudness::LoudnessMeter {
    type Config = loudness::LoudnessConfig;
    fn new(config: Self::Config, rate: u32, channels: usize) -> Option<Self> {
        loudness::LoudnessMeter::new(config, rate, channels)
    }
    fn config(&self) -> Self::Config {
        loudness::LoudnessMeter::config(self)
    }
    fn set_config(&mut self, config: Self::Config) {
        loudness::LoudnessMeter::set_config(self, config)
    }
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
