//! Block corruption detection (damage from lost or broken coded data) and a
//! compression blockiness score.
//!
//! Error concealment after packet loss or bit errors leaves blocks that do
//! not fit their neighbours: smeared or misplaced macroblocks, slices shifted
//! against the rows above, grey where a reference picture or a slice is
//! missing. The damage sits on the coding grid (16x16 macroblocks), so the
//! detector measures every 16-pixel *segment* of the grid lines: the excess
//! step across the line, `2|b - c| - |a - b| - |c - d|` over `a b | c d`
//! (large where the picture steps between two pixels and is smooth beside
//! them), on every other row or column along the segment. The same excess is
//! kept for every other line of the picture, so a grid segment can be
//! compared with what is around it. A segment is *broken* ([`Verdict`]) when
//! its mean excess
//!
//! - reaches `threshold` of the nominal luma range;
//! - is `masking` times the strongest across other lines of the same
//!   orientation within 12 pixels (content edges lie anywhere, damage on the
//!   grid);
//! - is `texture` times the mean gradient inside the blocks either side
//!   (coarsely coded texture or noise is blocky but busy);
//! - was not in the previous frame within 6 pixels with the same sign and
//!   half to twice the size (content that moved there);
//! - does not carry on a straight edge of one sign along three or more
//!   segments of the line (a graphic lying on the grid).
//!
//! A corruption starts when at least `min_breaks` segments break at once,
//! that is `sudden` times the stream's running mean (ordinary blocking is
//! there frame after frame), and the blocks beside them bunch into a group
//! of at least five side by side (coding artefacts break a segment here
//! and there over the picture; concealment gone wrong damages a region),
//! with a confidence (a tenth of the breaks over the running mean before
//! the frame, plus one) of at least `min_confidence` (real camera footage
//! at ordinary rates breaks a group now and then at 2 to 3 times its mean),
//! or when a tenth of the analysed macroblocks turn
//! flat mid-grey from another level (what decoders put where a reference or
//! slice is missing; an encoder short of bits flattens a block to its own
//! mean, so texture already averaging mid-grey turning flat is not
//! counted). It continues while the damaged blocks stay broken or grey, or
//! segments break within two macroblocks of them (a step the picture
//! already had before the corruption, such as a graphic's edge, does not
//! keep it going, nor do segments breaking elsewhere in the picture, as
//! coding artefacts do frame after frame). A frame where most macroblocks
//! changed texture (a scene cut) is not judged, except for grey; a
//! corruption open at such a frame (often the key frame that ends it, or
//! brings new damage) is held over it with the damage of the frame before,
//! and judged again on the next. A buffer the decoder flagged as corrupted
//! counts too, and so do frames missing from a steady frame rate
//! ([`Cadence`]) and frames that lost slices in the coded stream, or are
//! predicted from one that did ([`crate::analysis::coded::slices`], set before each frame
//! with [`BlockDetector::set_lost_slices`]); each event says which evidence
//! raised it.
//!
//! Separately, [`blockiness`] measures ordinary compression blocking: the
//! mean gradient across the 8-pixel grid over the mean gradient off it (1.0
//! = none, flat pictures included).
//!
//! The kernel in pieces: [`grid`] measures the steps across the coding grid
//! and the texture beside them, [`evidence`] names what raised a corruption,
//! [`cadence`] tells frames missing from a steady rate, and [`decision`]
//! judges each frame's segments and blocks; this module holds the detector
//! and its events.

use crate::analysis::coded::slices::SliceLoss;
use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::frame::{LumaPlane, Region};

mod cadence;
mod decision;
mod evidence;
mod grid;
#[cfg(test)]
mod tests;

use cadence::Cadence;
use decision::{qstep, Break, MISSING_CONFIDENCE};
pub use evidence::{BoxPx, Evidence};
use grid::{blockiness, depth_shift};
// the grid and the verdicts are open to the benches and the corpus test
use decision::NOMINAL_8BIT;
#[cfg(not(feature = "internals"))]
use grid::BoundaryMap;
#[cfg(feature = "internals")]
pub use {decision::Verdict, grid::BoundaryMap};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockConfig {
    /// Smallest excess step across a grid segment that can be damage, as a
    /// fraction of the nominal luma range.
    pub threshold: f64,
    /// How many times the strongest step across other lines of the same
    /// orientation within 12 pixels a step must exceed (content masking).
    pub masking: f64,
    /// How many times the mean gradient inside the blocks beside it a step
    /// must exceed (texture masking).
    pub texture: f64,
    /// Newly broken segments a frame needs to start a corruption.
    pub min_breaks: u32,
    /// How many times its running mean of newly broken segments a frame must
    /// have (plus one) to start a corruption.
    pub sudden: f64,
    /// Smallest confidence at which broken segments alone start a
    /// corruption (see [`Damage::confidence`]); other evidence starts one
    /// whatever.
    pub min_confidence: f64,
    /// Whether frames missing from a steady frame rate are evidence of
    /// corruption (see [`Cadence`]).
    pub missing_frames: bool,
    /// For frames whose quantiser is known (the H.264 slice QP that
    /// `slicecheck` reads): how many quantiser steps ([`qstep`]) the excess
    /// step across a segment must reach (0: off). A step the quantiser
    /// alone could leave between two blocks is no evidence of damage.
    pub qp_masking: f64,
    /// Nanoseconds a corruption must last to be reported (0: one frame).
    pub min_duration: u64,
    /// Nanoseconds between blockiness measurements (0: none).
    pub interval: u64,
    /// The analysed part of the picture (whole macroblocks inside it).
    pub region: Region,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            threshold: 0.075,
            masking: 1.5,
            texture: 1.0,
            min_breaks: 8,
            sudden: 3.0,
            min_confidence: 0.3,
            missing_frames: true,
            qp_masking: 1.0,
            min_duration: 0,
            interval: 1_000_000_000,
            region: Region::default(),
        }
    }
}

/// The damage of a frame or of a whole corruption.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Damage {
    /// Damaged macroblocks (most in one frame, for a whole corruption).
    pub blocks: u32,
    /// `blocks` as a fraction of the analysed macroblocks.
    pub fraction: f64,
    /// Bounding box of the damaged macroblocks (union over the corruption).
    pub area: BoxPx,
    pub evidence: Evidence,
    /// How sure the evidence is that this is damage, 0 to 1 (the highest
    /// of its frames, for a whole corruption): 1 for data known lost
    /// (`bitstream`, `decoder`), 0.9 for missing frames and decoder grey,
    /// 0.2 to 0.8 for broken segments by how sudden they are.
    pub confidence: f64,
}

impl Damage {
    /// No damage seen.
    const NONE: Damage = Damage {
        blocks: 0,
        fraction: 0.0,
        area: BoxPx {
            x: 0,
            y: 0,
            width: 0,
            height: 0,
        },
        evidence: Evidence::NONE,
        confidence: 0.0,
    };
}

/// A blockiness measurement over one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMeasurement {
    /// End of the interval, ns.
    pub timestamp: u64,
    /// Mean gradient across the 8-pixel grid over the mean gradient off it
    /// (1.0: no blocking; ordinary H.264 at good quality stays near 1).
    pub blockiness: f64,
    /// Frames measured, and of them frames judged corrupted.
    pub frames: u64,
    pub corrupted_frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BlockEvent {
    /// Start or end of a corruption, with its damage so far: the most
    /// damaged blocks of one frame, and the union of the areas (for the
    /// default `min_duration` of 0, a start has its first frame's damage).
    Corruption {
        transition: Transition,
        damage: Damage,
    },
    Measurement(BlockMeasurement),
}

/// Finds block corruption frame by frame; see the module documentation.
#[derive(Debug, Clone)]
pub struct BlockDetector {
    config: BlockConfig,
    tracker: EventTracker,
    map: BoundaryMap,
    /// The previous frame's map, when there is one to compare with.
    prev: Option<BoundaryMap>,
    breaks: Vec<Break>,
    damaged: Vec<bool>,
    flagged: bool,
    /// What the next frame lost in the coded stream.
    lost: SliceLoss,
    cadence: Cadence,
    /// Running mean of newly broken segments per frame, and how many frames
    /// it has seen.
    novel_mean: f64,
    compared: u64,
    /// How much the last frame changed from the one before (see
    /// `BoundaryMap::change`).
    change: f64,
    /// Macroblocks damaged in the previous frame, while in a corruption.
    was_damaged: Vec<bool>,
    /// The steps of the last frame before the current corruption: a step
    /// it already had is content, not damage persisting.
    before: Option<BoundaryMap>,
    /// The damage of the current corruption so far.
    worst: Option<Damage>,
    /// Blockiness sums of the current interval.
    interval_start: Option<u64>,
    grid_sum: u64,
    off_sum: u64,
    grid_n_sum: u64,
    frames: u64,
    corrupted_frames: u64,
    last_damage: Option<Damage>,
}

impl BlockDetector {
    pub fn new(config: BlockConfig) -> Self {
        BlockDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            map: BoundaryMap::default(),
            prev: None,
            breaks: Vec::new(),
            damaged: Vec::new(),
            flagged: false,
            lost: SliceLoss::default(),
            cadence: Cadence::default(),
            novel_mean: 0.0,
            compared: 0,
            change: 0.0,
            was_damaged: Vec::new(),
            before: None,
            worst: None,
            interval_start: None,
            grid_sum: 0,
            off_sum: 0,
            grid_n_sum: 0,
            frames: 0,
            corrupted_frames: 0,
            last_damage: None,
        }
    }

    pub fn config(&self) -> BlockConfig {
        self.config
    }

    pub fn set_config(&mut self, config: BlockConfig) {
        if config.region != self.config.region {
            self.prev = None;
        }
        self.config = config;
        self.tracker.set_min_duration(config.min_duration);
    }

    /// The decoder flagged the next frame as corrupted (or not).
    pub fn set_decoder_flag(&mut self, corrupted: bool) {
        self.flagged = corrupted;
    }

    /// What the next frame lost in the coded stream (slices that never
    /// reached the decoder, by macroblock address in the coded picture, rows
    /// of `ceil(width / 16)` macroblocks; or prediction from a picture that
    /// lost some: see [`crate::analysis::coded::slices`]).
    pub fn set_lost_slices(&mut self, loss: &SliceLoss) {
        self.lost.clone_from(loss);
    }

    /// The grid segments of the last frame that stepped by at least the
    /// threshold, with what they were judged to be. For diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_breaks(&self) -> &[Break] {
        &self.breaks
    }

    /// How much the last frame's texture changed from the one before: 0 the
    /// same, 1 entirely new. For diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_change(&self) -> f64 {
        self.change
    }

    /// Macroblocks of the last frame that were flat decoder grey. For
    /// diagnostics.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_grey_blocks(&self) -> usize {
        self.prev
            .as_ref()
            .map_or(0, |p| p.grey.iter().filter(|&&g| g).count())
    }

    /// The damage found in the last frame, if it was corrupted.
    #[cfg(any(test, feature = "internals"))]
    pub fn last_damage(&self) -> Option<Damage> {
        self.last_damage
    }

    /// One frame covering `pts..end` nanoseconds.
    pub fn push(&mut self, plane: &LumaPlane<'_>, pts: u64, end: u64) -> Vec<BlockEvent> {
        let mut out = Vec::new();
        let range = plane.range();
        // in code values as the map measures them (at most 12 bits)
        let span = f64::from(range.white.saturating_sub(range.black).max(1))
            / f64::from(1u32 << depth_shift(range.depth));
        let mut t = (self.config.threshold * span).max(1.0);
        if let Some(qp) = self.lost.qp {
            // a step the quantiser alone could leave is no evidence
            t = t.max(self.config.qp_masking * qstep(qp) * span / NOMINAL_8BIT);
        }
        self.map.compute(plane);
        // blockiness over the interval (before find_damage keeps the map)
        let start = *self.interval_start.get_or_insert(pts);
        self.grid_sum += self.map.grid8;
        self.off_sum += self.map.off8;
        self.grid_n_sum += self.map.grid_n;
        let seen = self.find_damage(plane.width(), plane.height(), t);
        let gap_start = self.cadence.last_end();
        let (missing, short) = self.cadence.push(pts, end);
        let bitstream = seen.is_some_and(|d| d.evidence.bitstream);
        let evidence = Evidence {
            pixels: seen.is_some_and(|d| d.evidence.pixels),
            decoder: std::mem::take(&mut self.flagged),
            // a long gap only where the coded stream shows data lost
            missing_frames: self.config.missing_frames && missing > 0 && (short || bitstream),
            bitstream,
        };
        let damage = evidence.any().then(|| {
            let d = seen.unwrap_or(Damage::NONE);
            let mut confidence = d.confidence;
            if evidence.decoder {
                confidence = 1.0;
            }
            if evidence.missing_frames {
                confidence = confidence.max(MISSING_CONFIDENCE);
            }
            Damage {
                evidence,
                confidence,
                ..d
            }
        });
        self.last_damage = damage;

        self.frames += 1;
        self.corrupted_frames += u64::from(damage.is_some());

        // a corruption shown by missing frames began with the first of them
        let from = match gap_start {
            Some(g) if evidence.missing_frames => g.min(pts),
            _ => pts,
        };
        let tr = self.tracker.push(damage.is_some(), from, end);
        if let Some(d) = damage {
            // `worst` holds only while a corruption is open
            self.worst = Some(match self.worst {
                Some(w) => Damage {
                    blocks: w.blocks.max(d.blocks),
                    fraction: w.fraction.max(d.fraction),
                    area: w.area.union(d.area),
                    evidence: w.evidence.union(d.evidence),
                    confidence: w.confidence.max(d.confidence),
                },
                _ => d,
            });
        }
        if let Some(tr) = tr {
            out.push(self.corruption(tr));
        }
        if !self.tracker.in_defect() {
            self.worst = None;
            self.before = None;
        }
        if self.config.interval > 0 && end.saturating_sub(start) >= self.config.interval {
            out.push(self.measurement(end));
        }
        out
    }

    fn corruption(&self, transition: Transition) -> BlockEvent {
        BlockEvent::Corruption {
            transition,
            damage: self.worst.unwrap_or(Damage {
                evidence: Evidence::PIXELS,
                ..Damage::NONE
            }),
        }
    }

    fn measurement(&mut self, end: u64) -> BlockEvent {
        let m = BlockMeasurement {
            timestamp: end,
            blockiness: blockiness(self.grid_sum, self.off_sum, self.grid_n_sum),
            frames: self.frames,
            corrupted_frames: self.corrupted_frames,
        };
        self.interval_start = None;
        self.grid_sum = 0;
        self.off_sum = 0;
        self.grid_n_sum = 0;
        self.frames = 0;
        self.corrupted_frames = 0;
        BlockEvent::Measurement(m)
    }

    /// Forgets the frame times that tell missing frames (a new segment).
    pub fn forget_cadence(&mut self) {
        self.cadence = Cadence::default();
    }

    /// Ends a reported corruption because the stream was interrupted, and
    /// forgets the previous frame.
    pub fn close(&mut self, reason: EndReason) -> Vec<BlockEvent> {
        self.prev = None;
        self.cadence = Cadence::default();
        let out = self
            .tracker
            .close(reason)
            .map(|t| self.corruption(t))
            .into_iter()
            .collect();
        self.worst = None;
        self.before = None;
        out
    }
}
