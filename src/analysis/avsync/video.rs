//! Video features for sync: flashes (a tile jumps to bright) and visual
//! changes (cuts, flashes, motion onsets), from the luma of each frame.

use std::collections::VecDeque;

use crate::analysis::video::frame::{LumaPlane, Row};

pub(super) const GRID_X: usize = 64;
pub(super) const GRID_Y: usize = 32;
pub(super) const TILES_X: usize = 16;
pub(super) const TILES_Y: usize = 8;
/// A flash: a tile's mean luma rises by this much (of the nominal range)...
pub(super) const FLASH_RISE: f32 = 0.4;
/// ...to at least this.
pub(super) const FLASH_LEVEL: f32 = 0.6;
/// A visual change: the mean sample difference from the previous frame is
/// at least this (of the nominal range)...
pub(super) const CHANGE_MIN: f32 = 0.03;
/// ...and this many times the largest of the frames before (so a picture
/// that moves, or repeats every other frame as after a frame-rate
/// conversion, changes only at cuts and onsets)...
pub(super) const CHANGE_RATIO: f32 = 4.0;
/// ...over this many frames.
pub(super) const CHANGE_HISTORY: usize = 4;
/// A motion onset: at least this many tiles change their mean by
/// `TILE_MOVED` (of the nominal range), `CHANGE_RATIO` times as many as in
/// any of the frames before (an object starting to move changes the tiles at
/// its edges, too few samples to move the mean difference).
pub(super) const MOTION_TILES: u32 = 3;
pub(super) const TILE_MOVED: f32 = 0.02;

/// What one frame shows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VideoFeatures {
    pub flash: bool,
    pub change: bool,
    /// The previous frame started a motion that this frame goes on with.
    pub onset_before: bool,
}

/// A run of pixels of a row averaged into one sample.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) x0: usize,
    pub(super) x1: usize,
    pub(super) inv_len: f32,
    /// Its tile column.
    pub(super) tile: usize,
}

/// Point samples on a 64x32 grid, their 16x8 tile means, and the recent
/// level of frame differences.
#[derive(Debug, Clone, Default)]
pub struct VideoAnalyser {
    pub(super) dims: (usize, usize),
    pub(super) samples: Vec<f32>,
    pub(super) prev: Vec<f32>,
    pub(super) tiles: Vec<f32>,
    pub(super) prev_tiles: Vec<f32>,
    pub(super) counts: Vec<u32>,
    /// The last frame differences, and counts of tiles that changed.
    pub(super) recent: VecDeque<(f32, u32)>,
    /// The last frame might start a motion (if this one goes on with it).
    pub(super) candidate: bool,
    /// The row segments sampled, for the current picture width.
    pub(super) segments: Vec<Segment>,
    pub(super) scratch: Vec<u16>,
}

impl VideoAnalyser {
    pub fn reset(&mut self) {
        self.prev.clear();
        self.prev_tiles.clear();
        self.recent.clear();
        self.candidate = false;
    }

    pub fn push(&mut self, plane: &LumaPlane<'_>) -> VideoFeatures {
        let (w, h) = (plane.width(), plane.height());
        if w == 0 || h == 0 {
            return VideoFeatures::default();
        }
        let gx = GRID_X.min(w);
        let gy = GRID_Y.min(h);
        let tx = TILES_X.min(gx);
        if self.dims != (w, h) {
            self.reset();
            self.dims = (w, h);
            self.segments = segments(w, gx, tx);
        }
        let ty = TILES_Y.min(gy);
        self.sample(plane, gy, tx, ty);
        let out = if self.prev.len() == self.samples.len() {
            self.compare()
        } else {
            VideoFeatures::default()
        };
        std::mem::swap(&mut self.prev, &mut self.samples);
        std::mem::swap(&mut self.prev_tiles, &mut self.tiles);
        out
    }

    /// Samples `gy` rows of the picture, each as the means of its segments
    /// (every pixel: motion is not aliased by the sampling), as fractions of
    /// the nominal range, and the `tx` by `ty` tile means of the samples.
    fn sample(&mut self, plane: &LumaPlane<'_>, gy: usize, tx: usize, ty: usize) {
        let (w, h) = (plane.width(), plane.height());
        let range = plane.range();
        let black = range.black as f32;
        let scale = 1.0 / (range.white as f32 - black).max(1.0);
        self.samples.clear();
        self.tiles.clear();
        self.tiles.resize(tx * ty, 0.0);
        self.counts.clear();
        self.counts.resize(tx * ty, 0);
        for j in 0..gy {
            let y = (2 * j + 1) * h / (2 * gy);
            let trow = (j * ty / gy) * tx;
            let row = match plane.row_u8(y, 0, w) {
                Some(r) => Row::U8(r),
                None => plane.row(y, 0, w, &mut self.scratch),
            };
            for seg in &self.segments {
                let (x0, x1) = (seg.x0, seg.x1);
                let sum: u32 = match &row {
                    // 16-bit sums vectorise twice as wide; a segment of up to
                    // 257 pixels cannot overflow them
                    Row::U8(r) if x1 - x0 <= 257 => {
                        u32::from(r[x0..x1].iter().map(|&v| u16::from(v)).sum::<u16>())
                    }
                    Row::U8(r) => r[x0..x1].iter().map(|&v| u32::from(v)).sum(),
                    Row::U16(r) => r[x0..x1].iter().map(|&v| u32::from(v)).sum(),
                };
                let v = (sum as f32 * seg.inv_len - black) * scale;
                self.samples.push(v);
                let t = trow + seg.tile;
                self.tiles[t] += v;
                self.counts[t] += 1;
            }
        }
        for (t, &n) in self.tiles.iter_mut().zip(&self.counts) {
            *t /= n.max(1) as f32;
        }
    }

    /// This frame's samples and tiles against the previous frame's: a
    /// flash, a change, a motion onset.
    fn compare(&mut self) -> VideoFeatures {
        let mut out = VideoFeatures::default();
        // some tile jumps to bright and none falls as far (an object
        // moving brightens the tiles it enters and darkens those it leaves)
        let (mut rose, mut fell, mut moved) = (false, false, 0u32);
        for (&t, &p) in self.tiles.iter().zip(&self.prev_tiles) {
            rose |= t >= FLASH_LEVEL && t - p >= FLASH_RISE;
            fell |= p - t >= FLASH_RISE;
            moved += u32::from((t - p).abs() >= TILE_MOVED);
        }
        out.flash = rose && !fell;
        let sum: f32 = self
            .samples
            .iter()
            .zip(&self.prev)
            .map(|(a, b)| (a - b).abs())
            .sum();
        let d = sum / self.samples.len() as f32;
        let (d0, m0) = self
            .recent
            .iter()
            .fold((0.0f32, 0u32), |(a, b), &(d, m)| (a.max(d), b.max(m)));
        let cut = d >= CHANGE_MIN && d >= CHANGE_RATIO * d0;
        out.change = out.flash || cut;
        // a motion onset: tiles start to change after frames with far
        // fewer, and go on changing in the next frame (a single frame
        // that changes is noise, or the coding of a key frame)
        out.onset_before = self.candidate && moved >= MOTION_TILES;
        self.candidate =
            !out.change && moved >= MOTION_TILES && moved as f32 >= CHANGE_RATIO * m0 as f32;
        if self.recent.len() == CHANGE_HISTORY {
            self.recent.pop_front();
        }
        self.recent.push_back((d, moved));
        out
    }
}

/// The `gx` row segments of a picture `w` wide, each in one of `tx` tile
/// columns.
fn segments(w: usize, gx: usize, tx: usize) -> Vec<Segment> {
    (0..gx)
        .map(|i| {
            let (x0, x1) = (i * w / gx, (i + 1) * w / gx);
            Segment {
                x0,
                x1,
                inv_len: 1.0 / (x1 - x0) as f32,
                tile: i * tx / gx,
            }
        })
        .collect()
}
