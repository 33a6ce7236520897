//! Audio/video sync (lip-sync) measurement.
//!
//! Both streams are reduced to *events* with times in running time:
//! - video: a **flash** (a tile of the picture jumps to bright) and a
//!   **visual change** (the picture changes far more than it did in the frames
//!   before: a cut, a flash, a motion onset);
//! - audio: a **beep** (a sound starting out of quiet, timed to the sample)
//!   and an **audio change** (a step in level or in spectral tilt, timed to
//!   5 ms).
//!
//! The offset (positive: audio late) is then measured two ways:
//! - **test signal**: each flash is paired with the beep nearest to the
//!   offset expected (the last one measured, else 0) within `max_offset`;
//!   every pair is a measurement. A pair is confident once the pair before
//!   agrees with it, so one chance coincidence never raises an alarm;
//! - **content**: over a sliding `window`, every lag between a visual change
//!   and an audio change within `max_offset` is voted for; the lag most
//!   visual changes agree on wins, refined to the median of its pairs. Its
//!   confidence is how far that lag beats the best lag elsewhere, as a share
//!   of the visual changes: a still picture with music (no visual change) or
//!   unrelated changes give a low confidence, and no alarm.
//!
//! Alarms are start/end events when confident measurements stay outside the
//! tolerance (`max_early` / `max_late`) for `min_duration`; a **stall** is
//! one stream not advancing while the other advances `stall_timeout`.

use std::collections::VecDeque;

use super::audio::samples::{AudioView, Sample};
use super::audio::timing::{frames_to_ns, AudioTime, Blocks};
use super::event::{EndReason, EventTracker, Transition};
use super::video::frame::{LumaPlane, Row};

const MS: u64 = 1_000_000;

/// Which way offsets are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Flash/beep pairs when the content has them, else content correlation.
    Auto,
    /// Flash/beep pairs only.
    TestSignal,
    /// Correlation of visual and audio changes only.
    Content,
}

/// How a measurement was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    TestSignal,
    Content,
    /// Nothing to measure on (no events in the window).
    None,
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::TestSignal => "test-signal",
            Method::Content => "content",
            Method::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "test-signal" => Method::TestSignal,
            "content" => Method::Content,
            "none" => Method::None,
            _ => return None,
        })
    }
}

/// One of the two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Video,
    Audio,
}

impl Media {
    pub fn as_str(&self) -> &'static str {
        match self {
            Media::Video => "video",
            Media::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "video" => Media::Video,
            "audio" => Media::Audio,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        match self {
            Media::Video => 0,
            Media::Audio => 1,
        }
    }

    fn other(self) -> Media {
        match self {
            Media::Video => Media::Audio,
            Media::Audio => Media::Video,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncConfig {
    pub mode: Mode,
    /// How far audio may lead video before an alarm, ns.
    pub max_early: u64,
    /// How far audio may lag video before an alarm, ns.
    pub max_late: u64,
    /// How long the offset must stay out of tolerance before an alarm, ns.
    pub min_duration: u64,
    /// The largest offset searched for, either way, ns.
    pub max_offset: u64,
    /// Content mode: how much media each measurement rests on, ns.
    pub window: u64,
    /// Content mode: time between measurements, ns.
    pub interval: u64,
    /// Measurements below this confidence neither raise nor end an alarm.
    pub min_confidence: f64,
    /// One stream stalls when the other advances this far beyond it, ns.
    pub stall_timeout: u64,
    /// Report measurements (alarms are reported regardless).
    pub measurements: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            mode: Mode::Auto,
            max_early: 40 * MS,
            max_late: 60 * MS,
            min_duration: 0,
            max_offset: 600 * MS,
            window: 10_000 * MS,
            interval: 1000 * MS,
            min_confidence: 0.5,
            stall_timeout: 2000 * MS,
            measurements: true,
        }
    }
}

/// One offset measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// The video instant measured (the flash, or the end of the window), ns.
    pub at: u64,
    /// Audio time minus video time of the same event, ns (positive: audio late).
    pub offset: i64,
    /// 0 (cannot tell) to 1.
    pub confidence: f64,
    /// How many event pairs the measurement rests on.
    pub observations: u32,
    pub method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SyncEvent {
    Measurement(Measurement),
    /// The offset left the tolerance (start) or came back (end); `offset` is
    /// the first offset out of tolerance for a start, the furthest for an end.
    Offset {
        transition: Transition,
        offset: i64,
    },
    /// `media` stopped flowing while the other stream went on (start,
    /// back-dated to where it stopped), or flows again (end).
    Stall {
        media: Media,
        transition: Transition,
    },
}

// ---------------------------------------------------------------- video ---

const GRID_X: usize = 64;
const GRID_Y: usize = 32;
const TILES_X: usize = 16;
const TILES_Y: usize = 8;
/// A flash: a tile's mean luma rises by this much (of the nominal range)...
const FLASH_RISE: f32 = 0.4;
/// ...to at least this.
const FLASH_LEVEL: f32 = 0.6;
/// A visual change: the mean sample difference from the previous frame is
/// at least this (of the nominal range)...
const CHANGE_MIN: f32 = 0.03;
/// ...and this many times the largest of the frames before (so a picture
/// that moves, or repeats every other frame as after a frame-rate
/// conversion, changes only at cuts and onsets)...
const CHANGE_RATIO: f32 = 4.0;
/// ...over this many frames.
const CHANGE_HISTORY: usize = 4;
/// A motion onset: at least this many tiles change their mean by
/// `TILE_MOVED` (of the nominal range), `CHANGE_RATIO` times as many as in
/// any of the frames before (an object starting to move changes the tiles at
/// its edges, too few samples to move the mean difference).
const MOTION_TILES: u32 = 3;
const TILE_MOVED: f32 = 0.02;

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
struct Segment {
    x0: usize,
    x1: usize,
    inv_len: f32,
    /// Its tile column.
    tile: usize,
}

/// Point samples on a 64x32 grid, their 16x8 tile means, and the recent
/// level of frame differences.
#[derive(Debug, Clone, Default)]
pub struct VideoAnalyser {
    dims: (usize, usize),
    samples: Vec<f32>,
    prev: Vec<f32>,
    tiles: Vec<f32>,
    prev_tiles: Vec<f32>,
    counts: Vec<u32>,
    /// The last frame differences, and counts of tiles that changed.
    recent: VecDeque<(f32, u32)>,
    /// The last frame might start a motion (if this one goes on with it).
    candidate: bool,
    /// The row segments sampled, for the current picture width.
    segments: Vec<Segment>,
    scratch: Vec<u16>,
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
            self.segments = (0..gx)
                .map(|i| {
                    let (x0, x1) = (i * w / gx, (i + 1) * w / gx);
                    Segment {
                        x0,
                        x1,
                        inv_len: 1.0 / (x1 - x0) as f32,
                        tile: i * tx / gx,
                    }
                })
                .collect();
        }
        let ty = TILES_Y.min(gy);
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
            // each sample is the mean of its segment of the row (every
            // pixel: motion is not aliased by the sampling)
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
        let mut out = VideoFeatures::default();
        if self.prev.len() == self.samples.len() {
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
        }
        std::mem::swap(&mut self.prev, &mut self.samples);
        std::mem::swap(&mut self.prev_tiles, &mut self.tiles);
        out
    }
}

// ---------------------------------------------------------------- audio ---

const BLOCK: u64 = 5 * MS;
/// Blocks of quiet a beep must follow (100 ms).
const QUIET_BLOCKS: usize = 20;
/// A beep is at least this loud (mean square, dBFS)...
const BEEP_MIN_DB: f32 = -45.0;
/// ...and this much louder than the quiet before it...
const BEEP_RISE_DB: f32 = 25.0;
/// ...which is below this (test signals have silence between beeps; music
/// seldom falls this low between notes).
const BEEP_QUIET_DB: f32 = -60.0;
/// A beep starts at the first sample reaching this share of its block's peak.
const BEEP_EDGE: f32 = 0.3;
/// Blocks each side of a candidate audio change (20 ms).
const SIDE: usize = 4;
/// An audio change: level plus tilt step, dB.
const AUDIO_CHANGE_DB: f32 = 10.0;
/// Changes closer than this are one change.
const REFRACTORY: u64 = 100 * MS;
/// Level floor, dBFS.
const FLOOR_DB: f32 = -70.0;
/// Blocks of history kept.
const HISTORY: usize = QUIET_BLOCKS + 2 * SIDE + 4;

#[derive(Debug, Clone, Copy)]
struct BlockFeatures {
    start: u64,
    /// Level (mean square, dBFS, floored).
    level: f32,
    /// Level of the first difference (a high-pass), dBFS, floored.
    high: f32,
    /// Change at this block's start (once computed).
    change: f32,
}

/// What the audio showed: beeps and changes, with their times and how far
/// the sound rose above the loudest of the 100 ms before (dB; 0 for a change
/// that is not a rise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AudioMark {
    Beep(u64, f32),
    Change(u64, f32),
}

/// The vote of an audio event in content correlation: 10, plus its rise
/// above the 100 ms before in dB, up to 50. A sound starting out of
/// silence outweighs a change within a sound, which may follow it at a
/// steady delay (the syllables of a word).
fn weight(rise_db: f32) -> i32 {
    (10.0 + rise_db.max(0.0)).min(50.0) as i32
}

/// 5 ms blocks: level, high-band level, the sample magnitudes of the last two
/// blocks (to time a beep to the sample), and the change detector.
#[derive(Debug, Clone)]
pub struct AudioAnalyser {
    rate: u32,
    blocks: Blocks,
    energy: f64,
    high: f64,
    count: usize,
    last: Vec<f32>,
    mags: Vec<f32>,
    prev_mags: Vec<f32>,
    prev_start: u64,
    history: VecDeque<BlockFeatures>,
    last_beep: Option<u64>,
    last_change: Option<u64>,
    scratch: Vec<f32>,
}

impl AudioAnalyser {
    pub fn new(rate: u32) -> Self {
        AudioAnalyser {
            rate,
            blocks: Blocks::new(rate.max(1), BLOCK),
            energy: 0.0,
            high: 0.0,
            count: 0,
            last: Vec::new(),
            mags: Vec::new(),
            prev_mags: Vec::new(),
            prev_start: 0,
            history: VecDeque::with_capacity(HISTORY + 1),
            last_beep: None,
            last_change: None,
            scratch: Vec::new(),
        }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Forgets everything (discontinuity, flush).
    pub fn reset(&mut self) {
        *self = AudioAnalyser::new(self.rate);
    }

    /// No audio until `end` (a gap): judged as silence, so a beep right
    /// after it is still a beep.
    pub fn gap(&mut self, end: u64) {
        self.reset();
        let n = HISTORY as u64;
        for k in 0..n {
            self.history.push_back(BlockFeatures {
                start: end.saturating_sub((n - k) * BLOCK),
                level: FLOOR_DB,
                high: FLOOR_DB,
                change: 0.0,
            });
        }
    }

    pub fn push(&mut self, view: &AudioView<'_>, at: AudioTime, out: &mut Vec<AudioMark>) {
        let channels = view.channels();
        if channels == 0 {
            return;
        }
        if self.last.len() != channels {
            self.last = vec![0.0; channels];
        }
        let frames = view.frames();
        let mut blocks = std::mem::replace(&mut self.blocks, Blocks::new(1, 1));
        blocks.feed(at, frames, |f0, f1, done| {
            self.accumulate(view, f0, f1);
            if let Some((start, _)) = done {
                self.block_done(start, out);
            }
        });
        self.blocks = blocks;
    }

    fn accumulate(&mut self, view: &AudioView<'_>, f0: usize, f1: usize) {
        let n = f1 - f0;
        let base = self.mags.len();
        self.mags.resize(base + n, 0.0);
        let mut energy = 0.0f64;
        let mut high = 0.0f64;
        for c in 0..view.channels() {
            let mut last = self.last[c];
            let mags = &mut self.mags[base..];
            let scratch = &mut self.scratch;
            scratch.clear();
            crate::with_sample_type!(view.format(), S => {
                scratch.extend(view.channel::<S>(c, f0, f1).map(|s| {
                    let v = s.to_f32();
                    if v.is_finite() { v } else { 0.0 }
                }));
            });
            let (mut e, mut hsum) = (0.0f32, 0.0f32);
            for (m, &v) in mags.iter_mut().zip(scratch.iter()) {
                e += v * v;
                let d = v - last;
                hsum += d * d;
                last = v;
                *m = m.max(v.abs());
            }
            energy += f64::from(e);
            high += f64::from(hsum);
            self.last[c] = last;
        }
        let ch = view.channels() as f64;
        self.energy += energy / ch;
        self.high += high / ch;
        self.count += n;
    }

    fn block_done(&mut self, start: u64, out: &mut Vec<AudioMark>) {
        let n = self.count.max(1) as f64;
        let db = |e: f64| ((10.0 * (e / n + 1e-12).log10()) as f32).max(FLOOR_DB);
        let block = BlockFeatures {
            start,
            level: db(self.energy),
            high: db(self.high),
            change: 0.0,
        };
        self.energy = 0.0;
        self.high = 0.0;
        self.count = 0;
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(block);
        self.find_beep(out);
        self.prev_mags = std::mem::take(&mut self.mags);
        self.prev_start = start;
        self.find_change(out);
    }

    /// The newest block starts a beep when it is loud and the 100 ms before
    /// the block preceding it were quiet; the onset is the first sample of
    /// the last two blocks that reaches a share of the block's peak.
    fn find_beep(&mut self, out: &mut Vec<AudioMark>) {
        let n = self.history.len();
        if n < QUIET_BLOCKS + 2 {
            return;
        }
        let cur = self.history[n - 1];
        let quiet = (n - 2 - QUIET_BLOCKS..n - 2)
            .map(|i| self.history[i].level)
            .fold(FLOOR_DB, f32::max);
        if cur.level < BEEP_MIN_DB || cur.level - quiet < BEEP_RISE_DB || quiet > BEEP_QUIET_DB {
            return;
        }
        let peak = self.mags.iter().fold(0.0f32, |a, &m| a.max(m));
        let edge = BEEP_EDGE * peak;
        let rate = self.rate.max(1);
        let prev = (self.prev_start + frames_to_ns(self.prev_mags.len() as u64, rate) >= cur.start
            && !self.prev_mags.is_empty())
        .then_some((self.prev_start, &self.prev_mags));
        let onset = prev
            .into_iter()
            .chain(std::iter::once((cur.start, &self.mags)))
            .find_map(|(t0, mags)| {
                mags.iter()
                    .position(|&m| m >= edge)
                    .map(|i| t0 + frames_to_ns(i as u64, rate))
            })
            .unwrap_or(cur.start);
        if self.last_beep.is_some_and(|b| onset < b + REFRACTORY) {
            return;
        }
        self.last_beep = Some(onset);
        out.push(AudioMark::Beep(onset, cur.level - quiet));
    }

    /// Computes the change at the block `SIDE - 1` back (its start is the
    /// boundary between the `SIDE` blocks before and after), then reports the
    /// block `2 * SIDE - 1` back when its change is large and the largest
    /// within `SIDE` blocks either way.
    fn find_change(&mut self, out: &mut Vec<AudioMark>) {
        let n = self.history.len();
        if n < 2 * SIDE {
            return;
        }
        let c = n - SIDE;
        let mean = |a: usize, b: usize, f: fn(&BlockFeatures) -> f32| {
            (a..b).map(|i| f(&self.history[i])).sum::<f32>() / (b - a) as f32
        };
        let (lb, la) = (mean(c - SIDE, c, |b| b.level), mean(c, n, |b| b.level));
        let (hb, ha) = (mean(c - SIDE, c, |b| b.high), mean(c, n, |b| b.high));
        let audible = lb.max(la) > FLOOR_DB + 15.0;
        self.history[c].change = if audible {
            (la - lb).abs() + (ha - hb).abs()
        } else {
            0.0
        };
        if c < 2 * SIDE {
            return;
        }
        let d = c - SIDE;
        let cand = self.history[d];
        if cand.change < AUDIO_CHANGE_DB {
            return;
        }
        let largest = (d - SIDE..=c).all(|i| {
            let ch = self.history[i].change;
            ch < cand.change || (ch == cand.change && i >= d)
        });
        if !largest
            || self
                .last_change
                .is_some_and(|t| cand.start < t + REFRACTORY)
        {
            return;
        }
        self.last_change = Some(cand.start);
        // how far the sound after it rises above the loudest of the 100 ms
        // before: a sound out of silence, not a swell within a sound
        let after = (d..(d + SIDE).min(n))
            .map(|i| self.history[i].level)
            .sum::<f32>()
            / SIDE as f32;
        let before = (d.saturating_sub(QUIET_BLOCKS)..d)
            .map(|i| self.history[i].level)
            .fold(FLOOR_DB, f32::max);
        out.push(AudioMark::Change(cand.start, (after - before).max(0.0)));
    }
}

// ----------------------------------------------------------------- sync ---

/// A measured flash/beep pair.
#[derive(Debug, Clone, Copy)]
struct Pair {
    at: u64,
    offset: i64,
}

/// The sync measurement of one video and one audio stream.
#[derive(Debug, Clone)]
pub struct AvSync {
    config: SyncConfig,
    video: VideoAnalyser,
    audio: Option<AudioAnalyser>,
    /// Flashes waiting for the audio around them.
    flashes: VecDeque<u64>,
    beeps: VecDeque<u64>,
    vchanges: VecDeque<u64>,
    /// Audio changes and their votes.
    achanges: VecDeque<(u64, i32)>,
    /// Where each stream has got to (end of its last buffer or gap).
    pos: [Option<u64>; 2],
    /// Where each stream began.
    first: [Option<u64>; 2],
    ended: [bool; 2],
    stalled: [Option<u64>; 2],
    live: bool,
    frame: u64,
    /// Start of the last frame.
    prev_frame: Option<u64>,
    last_pair: Option<Pair>,
    last_confident_pair: Option<u64>,
    next_content: Option<u64>,
    alarm: EventTracker,
    alarm_first: Option<i64>,
    worst: i64,
    marks: Vec<AudioMark>,
}

impl AvSync {
    pub fn new(config: SyncConfig) -> Self {
        AvSync {
            config,
            video: VideoAnalyser::default(),
            audio: None,
            flashes: VecDeque::new(),
            beeps: VecDeque::new(),
            vchanges: VecDeque::new(),
            achanges: VecDeque::new(),
            pos: [None; 2],
            first: [None; 2],
            ended: [false; 2],
            stalled: [None; 2],
            live: false,
            frame: 40 * MS,
            prev_frame: None,
            last_pair: None,
            last_confident_pair: None,
            next_content: None,
            alarm: EventTracker::new(config.min_duration),
            alarm_first: None,
            worst: 0,
            marks: Vec::new(),
        }
    }

    pub fn config(&self) -> SyncConfig {
        self.config
    }

    pub fn set_config(&mut self, config: SyncConfig) {
        self.alarm.set_min_duration(config.min_duration);
        self.config = config;
    }

    /// Whether `media` has ended (EOS).
    #[cfg(any(test, feature = "internals"))]
    pub fn ended(&self, media: Media) -> bool {
        self.ended[media.index()]
    }

    /// One video frame covering `start..end` (running time, ns).
    pub fn push_video(
        &mut self,
        plane: &LumaPlane<'_>,
        start: u64,
        end: u64,
        out: &mut Vec<SyncEvent>,
    ) {
        let end = end.max(start);
        if end > start {
            self.frame = end - start;
        }
        let f = self.video.push(plane);
        if f.flash {
            self.flashes.push_back(start);
        }
        if let Some(prev) = self.prev_frame.filter(|_| f.onset_before) {
            self.vchanges.push_back(prev);
        }
        if f.change {
            self.vchanges.push_back(start);
        }
        self.prev_frame = Some(start);
        self.flowed(Media::Video, start, end, out);
        self.advance(out);
    }

    /// One audio buffer whose first frame is at `at` (running time) at `rate`.
    pub fn push_audio(
        &mut self,
        view: &AudioView<'_>,
        at: AudioTime,
        rate: u32,
        out: &mut Vec<SyncEvent>,
    ) {
        let audio = match &mut self.audio {
            Some(a) if a.rate() == rate => a,
            slot => slot.insert(AudioAnalyser::new(rate)),
        };
        self.marks.clear();
        audio.push(view, at, &mut self.marks);
        for m in &self.marks {
            match *m {
                AudioMark::Beep(t, db) => {
                    self.beeps.push_back(t);
                    self.achanges.push_back((t, weight(db)));
                }
                AudioMark::Change(t, db) => {
                    // a beep is already a change
                    if self
                        .achanges
                        .back()
                        .is_none_or(|&(b, _)| b + REFRACTORY <= t)
                    {
                        self.achanges.push_back((t, weight(db)));
                    }
                }
            }
        }
        let end = at.frame(view.frames(), rate.max(1));
        self.flowed(Media::Audio, at.frame(0, rate.max(1)), end, out);
        self.advance(out);
    }

    /// `media` has no data from `start` to `end` (a gap event): it is not
    /// stalled, and audio after it is judged as after silence.
    pub fn gap(&mut self, media: Media, start: u64, end: u64, out: &mut Vec<SyncEvent>) {
        if media == Media::Audio {
            if let Some(a) = &mut self.audio {
                a.gap(end);
            }
        } else {
            self.video.reset();
        }
        self.flowed(media, start, end, out);
        self.advance(out);
    }

    /// `media`'s timestamps jumped: its analysis starts afresh.
    pub fn discont(&mut self, media: Media) {
        match media {
            Media::Video => self.video.reset(),
            Media::Audio => {
                if let Some(a) = &mut self.audio {
                    a.reset();
                }
            }
        }
    }

    /// `media` changed format: its analysis starts afresh and an alarm ends
    /// (reason caps-change).
    pub fn caps_change(&mut self, media: Media, out: &mut Vec<SyncEvent>) {
        self.discont(media);
        if media == Media::Audio {
            self.audio = None;
        }
        self.close_alarm(EndReason::CapsChange, out);
    }

    /// End of stream on `media`: neither stream is judged stalled any more,
    /// and an alarm ends (reason eos) once no more pairs can be made: at
    /// once when both streams have ended, else when the other stream has
    /// gone past what could still pair with this one's last data (streams
    /// read from files run ahead of each other, so one ends first).
    pub fn eos(&mut self, media: Media, out: &mut Vec<SyncEvent>) {
        self.ended[media.index()] = true;
        self.close_stalls(EndReason::Eos, out);
        self.advance(out);
        if self.ended.iter().all(|&e| e) {
            self.finish(out);
        }
    }

    /// Nothing more can pair: an alarm ends (reason eos).
    fn finish(&mut self, out: &mut Vec<SyncEvent>) {
        self.close_alarm(EndReason::Eos, out);
        self.flashes.clear();
        self.next_content = None;
    }

    /// A flushing seek: everything open ends (reason flush), everything
    /// measured is forgotten.
    pub fn flush(&mut self, out: &mut Vec<SyncEvent>) {
        self.close_alarm(EndReason::Flush, out);
        self.close_stalls(EndReason::Flush, out);
        let live = self.live;
        *self = AvSync::new(self.config);
        self.live = live;
    }

    fn close_alarm(&mut self, reason: EndReason, out: &mut Vec<SyncEvent>) {
        if let Some(t) = self.alarm.close(reason) {
            out.push(SyncEvent::Offset {
                transition: t,
                offset: self.worst,
            });
        }
        self.alarm_first = None;
    }

    fn close_stalls(&mut self, reason: EndReason, out: &mut Vec<SyncEvent>) {
        for media in [Media::Video, Media::Audio] {
            if let Some(start) = self.stalled[media.index()].take() {
                let end = self.pos[media.index()].unwrap_or(start).max(start);
                out.push(SyncEvent::Stall {
                    media,
                    transition: Transition::End { start, end, reason },
                });
            }
        }
    }

    /// `media` has data from `start` to `end`. A hole of `stall_timeout`
    /// or more since its last data was a stall (reported now, start and
    /// end); a stall seen live ends. Live, the other stream is stalled once
    /// this one has advanced `stall_timeout` beyond it. (Not when the media
    /// is not live: streams read from files run ahead of each other by as
    /// much as the queues after them hold.)
    fn flowed(&mut self, media: Media, start: u64, end: u64, out: &mut Vec<SyncEvent>) {
        let i = media.index();
        self.ended[i] = false;
        let timeout = self.config.stall_timeout;
        let hole_from = self.pos[i].filter(|&p| start >= p.saturating_add(timeout));
        let stalled = self.stalled[i].take().or_else(|| {
            hole_from.inspect(|&p| {
                out.push(SyncEvent::Stall {
                    media,
                    transition: Transition::Start { start: p },
                })
            })
        });
        if let Some(s) = stalled {
            out.push(SyncEvent::Stall {
                media,
                transition: Transition::End {
                    start: s,
                    end: start.max(s),
                    reason: EndReason::Recovered,
                },
            });
        }
        self.first[i].get_or_insert(start);
        self.pos[i] = Some(self.pos[i].map_or(end, |p| p.max(end)));
        let other = media.other();
        let o = other.index();
        if !self.live || self.ended[o] || self.stalled[o].is_some() {
            return;
        }
        let Some(here) = self.pos[i] else { return };
        let since = self.pos[o].or(self.first[i]).unwrap_or(here);
        if here >= since.saturating_add(timeout) {
            self.stalled[o] = Some(since);
            out.push(SyncEvent::Stall {
                media: other,
                transition: Transition::Start { start: since },
            });
        }
    }

    /// Whether the media is live (judged against the other stream as it comes).
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    /// Pairs the flashes whose audio has been seen, and measures content.
    fn advance(&mut self, out: &mut Vec<SyncEvent>) {
        let (Some(vpos), Some(apos)) = (self.pos[0], self.pos[1]) else {
            return;
        };
        let max = self.config.max_offset;
        // audio events are reported up to 2 * SIDE blocks late
        let settle = (2 * SIDE as u64 + 2) * BLOCK;
        let audio_seen = apos.saturating_sub(settle);
        let audio_ended = self.ended[Media::Audio.index()];
        if self.config.mode != Mode::Content {
            while let Some(&f) = self.flashes.front() {
                if f.saturating_add(max) > audio_seen {
                    if !audio_ended {
                        break;
                    }
                    // its beep may lie past the audio's end
                    self.flashes.pop_front();
                    continue;
                }
                self.flashes.pop_front();
                if let Some(m) = self.pair(f) {
                    self.measured(m, out);
                }
            }
        } else {
            self.flashes.clear();
        }
        // what can no longer pair with anything
        let keep_from = vpos
            .min(self.flashes.front().copied().unwrap_or(u64::MAX))
            .saturating_sub(max + settle);
        while self.beeps.front().is_some_and(|&b| b < keep_from) {
            self.beeps.pop_front();
        }
        // content
        let horizon = vpos.min(audio_seen.saturating_sub(max));
        let next = *self
            .next_content
            .get_or_insert(horizon.saturating_add(self.config.interval));
        if horizon >= next && self.config.mode != Mode::TestSignal {
            let recent_pairs = self
                .last_confident_pair
                .is_some_and(|t| t + self.config.window > horizon);
            if !(self.config.mode == Mode::Auto && recent_pairs) {
                let m = self.correlate(horizon);
                self.measured(m, out);
            }
            let steps = (horizon - next) / self.config.interval.max(1) + 1;
            self.next_content = Some(next + steps * self.config.interval.max(1));
        }
        let from = horizon.saturating_sub(self.config.window);
        while self.vchanges.front().is_some_and(|&v| v < from) {
            self.vchanges.pop_front();
        }
        while self.achanges.front().is_some_and(|&(a, _)| a + max < from) {
            self.achanges.pop_front();
        }
        // one stream ended and the other has gone past all it could pair with
        let video_ended = self.ended[Media::Video.index()];
        let past = (video_ended && horizon >= vpos)
            || (audio_ended && vpos.saturating_add(max) >= audio_seen);
        if past && self.flashes.is_empty() {
            self.finish(out);
        }
    }

    /// The beep nearest the expected offset within `max_offset` of flash `f`.
    fn pair(&mut self, f: u64) -> Option<Measurement> {
        let max = self.config.max_offset as i64;
        let expected = self
            .last_pair
            .filter(|p| p.at + self.config.window > f)
            .map_or(0, |p| p.offset);
        let mut candidates = 0u32;
        let mut best: Option<i64> = None;
        for &b in &self.beeps {
            let off = b as i64 - f as i64;
            if off.abs() > max {
                continue;
            }
            candidates += 1;
            if best.is_none_or(|x| (off - expected).abs() < (x - expected).abs()) {
                best = Some(off);
            }
        }
        let offset = best?;
        // agreement with the pair before (a drift moves far less than this)
        let agree = (self.frame as i64).max(20 * MS as i64);
        let confident = self
            .last_pair
            .is_some_and(|p| p.at + self.config.window > f && (p.offset - offset).abs() <= agree);
        self.last_pair = Some(Pair { at: f, offset });
        let mut confidence = if confident { 1.0 } else { 0.3 };
        if candidates > 1 {
            confidence *= 0.5;
        }
        if confidence >= self.config.min_confidence {
            self.last_confident_pair = Some(f);
        }
        Some(Measurement {
            at: f,
            offset,
            confidence,
            observations: 1 + u32::from(confident),
            method: Method::TestSignal,
        })
    }

    /// Votes over the lags between visual and audio changes in the window
    /// ending at `horizon`.
    fn correlate(&self, horizon: u64) -> Measurement {
        let none = Measurement {
            at: horizon,
            offset: 0,
            confidence: 0.0,
            observations: 0,
            method: Method::None,
        };
        let from = horizon.saturating_sub(self.config.window);
        let visual: Vec<u64> = self
            .vchanges
            .iter()
            .copied()
            .filter(|&v| v >= from && v <= horizon)
            .collect();
        if visual.is_empty() || self.achanges.is_empty() {
            return none;
        }
        let max_ms = (self.config.max_offset / MS) as i64;
        let tol_ms = ((self.frame / 2 + BLOCK) / MS) as i64;
        let bins = (2 * max_ms + 1) as usize;
        let mut diff = vec![0i32; bins + 1];
        for &v in &visual {
            for &(a, w) in &self.achanges {
                let lag = (a as i64 - v as i64) / MS as i64;
                if lag.abs() > max_ms {
                    continue;
                }
                let lo = (lag - tol_ms + max_ms).clamp(0, bins as i64 - 1) as usize;
                let hi = (lag + tol_ms + max_ms).clamp(0, bins as i64 - 1) as usize;
                diff[lo] += w;
                diff[hi + 1] -= w;
            }
        }
        let mut score = Vec::with_capacity(bins);
        let mut run = 0;
        for d in &diff[..bins] {
            run += d;
            score.push(run);
        }
        let top = *score.iter().max().unwrap_or(&0);
        if top <= 0 {
            return none;
        }
        // the middle of the first plateau at the top
        let a = score.iter().position(|&s| s == top).unwrap_or(0);
        let b = a + score[a..].iter().take_while(|&&s| s == top).count() - 1;
        let lag = ((a + b) / 2) as i64 - max_ms;
        let exclude = 2 * tol_ms + (self.frame / MS) as i64;
        let second = score
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as i64 - max_ms - lag).abs() > exclude)
            .map(|(_, &s)| s)
            .max()
            .unwrap_or(0);
        // the pairs that voted for it, refined to their median
        let mut offsets: Vec<i64> = visual
            .iter()
            .filter_map(|&v| {
                self.achanges
                    .iter()
                    .map(|&(a, _)| a as i64 - v as i64)
                    .filter(|off| (off / MS as i64 - lag).abs() <= tol_ms)
                    .min_by_key(|off| (off / MS as i64 - lag).abs())
            })
            .collect();
        offsets.sort_unstable();
        let offset = offsets
            .get(offsets.len() / 2)
            .copied()
            .unwrap_or(lag * MS as i64);
        let matched = offsets.len() as u32;
        let confidence = if matched < 3 {
            0.0
        } else {
            (f64::from(top - second) / f64::from(top)).clamp(0.0, 1.0)
        };
        Measurement {
            at: horizon,
            offset,
            confidence,
            observations: matched,
            method: Method::Content,
        }
    }

    /// Reports a measurement and judges it against the tolerance.
    fn measured(&mut self, m: Measurement, out: &mut Vec<SyncEvent>) {
        if self.config.measurements {
            out.push(SyncEvent::Measurement(m));
        }
        if m.method == Method::None || m.confidence < self.config.min_confidence {
            return;
        }
        let outside =
            m.offset < -(self.config.max_early as i64) || m.offset > self.config.max_late as i64;
        if outside {
            if self.alarm_first.is_none() && !self.alarm.in_defect() {
                self.alarm_first = Some(m.offset);
                self.worst = m.offset;
            }
            if m.offset.abs() > self.worst.abs() {
                self.worst = m.offset;
            }
        }
        match self.alarm.push(outside, m.at, m.at) {
            Some(t @ Transition::Start { .. }) => out.push(SyncEvent::Offset {
                transition: t,
                offset: self.alarm_first.unwrap_or(m.offset),
            }),
            Some(t @ Transition::End { .. }) => {
                out.push(SyncEvent::Offset {
                    transition: t,
                    offset: self.worst,
                });
                self.alarm_first = None;
            }
            None => {
                if !self.alarm.in_defect() {
                    self.alarm_first = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::audio::samples::SampleFormat;

    const RATE: u32 = 48_000;
    const W: usize = 64;
    const H: usize = 36;

    /// Drives a sync measurement with generated media: `picture(t)` gives the
    /// luma of the frame starting at `t`, `sound(t)` the sample at `t` (ns),
    /// frames of `frame` ns, audio in 10 ms buffers, interleaved in time.
    struct Sim {
        sync: AvSync,
        frame: f64,
        vt: u64,
        vi: u64,
        ai: u64,
        events: Vec<SyncEvent>,
    }

    impl Sim {
        fn new(config: SyncConfig, fps: f64) -> Self {
            Sim {
                sync: AvSync::new(config),
                frame: 1e9 / fps,
                vt: 0,
                vi: 0,
                ai: 0,
                events: Vec::new(),
            }
        }

        fn run(
            &mut self,
            until: u64,
            picture: impl Fn(u64) -> Vec<u8>,
            sound: impl Fn(f64) -> f32,
        ) {
            loop {
                let at = frames_to_ns(self.ai, RATE);
                if self.vt >= until && at >= until {
                    break;
                }
                if self.vt <= at && self.vt < until {
                    self.frame(&picture);
                } else {
                    self.audio(&sound);
                }
            }
        }

        /// Video alone up to `until`, then its end of stream.
        fn video_to_eos(&mut self, until: u64, picture: impl Fn(u64) -> Vec<u8>) {
            while self.vt < until {
                self.frame(&picture);
            }
            self.sync.eos(Media::Video, &mut self.events);
        }

        /// Audio alone up to `until`, then its end of stream.
        fn audio_to_eos(&mut self, until: u64, sound: impl Fn(f64) -> f32) {
            while frames_to_ns(self.ai, RATE) < until {
                self.audio(&sound);
            }
            self.sync.eos(Media::Audio, &mut self.events);
        }

        fn frame(&mut self, picture: &impl Fn(u64) -> Vec<u8>) {
            let luma = picture(self.vt);
            let plane = LumaPlane::gray8(&luma, W, H).unwrap();
            self.vi += 1;
            let end = (self.vi as f64 * self.frame).round() as u64;
            self.sync.push_video(&plane, self.vt, end, &mut self.events);
            self.vt = end;
        }

        fn audio(&mut self, sound: &impl Fn(f64) -> f32) {
            let n = 480;
            let data: Vec<u8> = (0..n)
                .flat_map(|i| {
                    let t = (self.ai + i) as f64 / f64::from(RATE);
                    sound(t).to_le_bytes()
                })
                .collect();
            let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
            let at = AudioTime::at(frames_to_ns(self.ai, RATE));
            self.sync.push_audio(&view, at, RATE, &mut self.events);
            self.ai += n;
        }

        fn measurements(&self) -> Vec<Measurement> {
            self.events
                .iter()
                .filter_map(|e| match e {
                    SyncEvent::Measurement(m) => Some(*m),
                    _ => None,
                })
                .collect()
        }

        fn alarms(&self) -> Vec<SyncEvent> {
            self.events
                .iter()
                .filter(|e| !matches!(e, SyncEvent::Measurement(_)))
                .copied()
                .collect()
        }
    }

    fn flat(v: u8) -> Vec<u8> {
        vec![v; W * H]
    }

    /// A 1 kHz beep of 100 ms every `period` s, `offset` s after the flash at
    /// the start of each period.
    fn beeps(period: f64, offset: impl Fn(f64) -> f64) -> impl Fn(f64) -> f32 {
        move |t: f64| {
            let k = (t / period).round();
            let start = k * period + offset(k * period);
            let dt = t - start;
            if (0.0..0.1).contains(&dt) {
                (0.5 * (2.0 * std::f64::consts::PI * 1000.0 * dt).sin()) as f32
            } else {
                0.0
            }
        }
    }

    #[test]
    fn beep_onset_is_timed_to_the_sample() {
        let mut a = AudioAnalyser::new(RATE);
        let onset = 0.5123; // s, not on a block or buffer boundary
        let mut marks = Vec::new();
        for b in 0..100u64 {
            let data: Vec<u8> = (0..480u64)
                .flat_map(|i| {
                    let t = (b * 480 + i) as f64 / 48_000.0 - onset;
                    let v = if t >= 0.0 {
                        0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                    } else {
                        0.0
                    };
                    (v as f32).to_le_bytes()
                })
                .collect();
            let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
            a.push(
                &view,
                AudioTime {
                    base: 0,
                    offset: b * 480,
                },
                &mut marks,
            );
        }
        let beeps: Vec<u64> = marks
            .iter()
            .filter_map(|m| match m {
                AudioMark::Beep(t, _) => Some(*t),
                _ => None,
            })
            .collect();
        assert_eq!(beeps.len(), 1, "{marks:?}");
        // 0.3 of the peak is reached 0.11 ms into a 440 Hz sine
        assert!(beeps[0].abs_diff(512_300_000) < 200_000, "{beeps:?}");
    }

    #[test]
    fn flash_and_beep_give_the_offset_at_every_rate() {
        for fps in [25.0, 30000.0 / 1001.0, 50.0, 60.0] {
            for off_ms in [
                -500.0, -200.0, -80.0, -40.0, 0.0, 17.0, 40.0, 80.0, 200.0, 500.0,
            ] {
                let frame = 1e9 / fps;
                // the flash is at the first frame of each 2 s period
                let mut sim = Sim::new(SyncConfig::default(), fps);
                let flash_at = move |k: f64| (((k * 1e9) / frame).ceil() * frame).round() / 1e9 - k;
                sim.run(
                    9 * 1_000_000_000,
                    move |t| {
                        let k = ((t as f64) / 2e9).floor();
                        let first = (((k * 2e9) / frame).ceil() * frame).round() as u64;
                        flat(if t == first { 235 } else { 16 })
                    },
                    beeps(2.0, move |k| flash_at(k) + off_ms / 1000.0),
                );
                let ms = sim.measurements();
                let pairs: Vec<_> = ms
                    .iter()
                    .filter(|m| m.method == Method::TestSignal)
                    .collect();
                assert!(pairs.len() >= 3, "{fps} {off_ms}: {ms:?}");
                for m in &pairs {
                    let err = (m.offset as f64 / 1e6 - off_ms).abs();
                    assert!(
                        err < 1.0,
                        "{fps} fps, {off_ms} ms: measured {} ms",
                        m.offset as f64 / 1e6
                    );
                }
                assert!(pairs[1..].iter().all(|m| m.confidence == 1.0), "{pairs:?}");
            }
        }
    }

    /// A flash at the first frame of each `period`-second period, at `fps`.
    fn flash_pictures(period: f64, fps: f64) -> impl Fn(u64) -> Vec<u8> {
        let frame = 1e9 / fps;
        move |t| {
            let k = ((t as f64) / (period * 1e9)).floor();
            let first = (((k * period * 1e9) / frame).ceil() * frame).round() as u64;
            flat(if t == first { 235 } else { 16 })
        }
    }

    #[test]
    fn a_drift_is_followed() {
        // -90 ms drifting to +150 ms over 24 s, at 25 fps
        let drift = |t: f64| -0.09 + 0.01 * t;
        let mut sim = Sim::new(SyncConfig::default(), 25.0);
        sim.run(
            25 * 1_000_000_000,
            flash_pictures(2.0, 25.0),
            beeps(2.0, drift),
        );
        let ms: Vec<_> = sim
            .measurements()
            .into_iter()
            .filter(|m| m.method == Method::TestSignal)
            .collect();
        // the first beep (at -90 ms) is before the audio starts
        assert_eq!(ms.len(), 12, "{ms:?}");
        for m in &ms {
            let want = drift(m.at as f64 / 1e9) * 1e3;
            assert!(
                (m.offset as f64 / 1e6 - want).abs() < 1.0,
                "{m:?} want {want}"
            );
        }
        // EBU R37: -70 ms at 2 s is out, but the first pair is not trusted
        // yet; -50 at 4 s starts an alarm, -30 at 6 s ends it; +70 at 16 s
        // starts another, open at the end
        let alarms: Vec<_> = sim
            .alarms()
            .into_iter()
            .map(|e| match e {
                SyncEvent::Offset { transition, offset } => {
                    (transition.timestamp() / MS, (offset as f64 / 1e6).round())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(alarms, vec![(4000, -50.0), (6000, -50.0), (16000, 70.0)]);
    }

    #[test]
    fn alarm_starts_and_ends_at_the_measurements() {
        let offset = |t: f64| if (4.0..10.0).contains(&t) { -0.08 } else { 0.0 };
        let mut sim = Sim::new(SyncConfig::default(), 25.0);
        sim.run(
            14 * 1_000_000_000,
            flash_pictures(2.0, 25.0),
            beeps(2.0, offset),
        );
        // offsets to the nearest ms (a beep's onset is found 0.05 ms in)
        let alarms: Vec<_> = sim
            .alarms()
            .into_iter()
            .map(|e| match e {
                SyncEvent::Offset { transition, offset } => {
                    (transition, (offset as f64 / 1e6).round())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        // pairs at 4, 6 and 8 s are 80 ms early (EBU R37 allows 40): the pair
        // at 4 s is the first after a change, so not yet trusted; the one at
        // 6 s agrees with it and starts the alarm; the pair at 10 s is back in
        // sync but not yet trusted, the one at 12 s ends the alarm
        assert_eq!(
            alarms,
            vec![
                (
                    Transition::Start {
                        start: 6_000_000_000
                    },
                    -80.0
                ),
                (
                    Transition::End {
                        start: 6_000_000_000,
                        end: 12_000_000_000,
                        reason: EndReason::Recovered
                    },
                    -80.0
                ),
            ],
            "{:?}",
            sim.measurements()
        );
    }

    /// Files run ahead of each other: whichever stream ends first, the
    /// alarm lasts to the last pair, as when both end together (it ended at
    /// the first end of stream and started again on the pairs after it).
    #[test]
    fn an_alarm_lasts_to_the_last_pair_whichever_stream_ends_first() {
        let end = 20 * 1_000_000_000;
        let late = |_: f64| 0.08;
        let mut together = Sim::new(SyncConfig::default(), 25.0);
        together.run(end, flash_pictures(2.0, 25.0), beeps(2.0, late));
        together.sync.eos(Media::Video, &mut together.events);
        together.sync.eos(Media::Audio, &mut together.events);
        let expected = together.alarms();
        let Some(SyncEvent::Offset {
            transition: Transition::End {
                end: last, reason, ..
            },
            ..
        }) = expected.last().copied()
        else {
            panic!("{expected:?}");
        };
        assert_eq!(expected.len(), 2, "{expected:?}");
        assert_eq!(reason, EndReason::Eos);
        // the flash at 18 s pairs with its beep at 18.08 s
        assert_eq!(last, 18_000_000_000);
        for audio_first in [true, false] {
            let mut sim = Sim::new(SyncConfig::default(), 25.0);
            if audio_first {
                sim.audio_to_eos(end, beeps(2.0, late));
                sim.video_to_eos(end, flash_pictures(2.0, 25.0));
            } else {
                sim.video_to_eos(end, flash_pictures(2.0, 25.0));
                sim.audio_to_eos(end, beeps(2.0, late));
            }
            assert_eq!(sim.alarms(), expected, "audio first: {audio_first}");
        }
    }

    /// Scenes cut at irregular times; each has its own picture and its own
    /// sound (tone and level), the sound switching `offset` s after the picture.
    fn scenes(offset: f64) -> (impl Fn(u64) -> Vec<u8>, impl Fn(f64) -> f32) {
        const CUTS: [f64; 12] = [
            0.0, 1.3, 2.9, 3.7, 5.6, 6.4, 8.1, 9.5, 10.2, 12.0, 13.1, 14.9,
        ];
        let scene = |t: f64| CUTS.iter().rposition(|&c| c <= t).unwrap_or(0);
        let picture = move |t: u64| {
            let k = scene(t as f64 / 1e9);
            (0..W * H)
                .map(|i| (40 + (k * 37 + (i % W) * (k + 1) * 3 + (i / W) * 5) % 180) as u8)
                .collect()
        };
        let sound = move |t: f64| {
            let k = scene((t - offset).max(0.0));
            let f = [220.0, 1800.0, 440.0, 3000.0, 660.0][k % 5];
            let a = [0.3, 0.05, 0.2, 0.1, 0.4][k % 5];
            (a * (2.0 * std::f64::consts::PI * f * t).sin()) as f32
        };
        (picture, sound)
    }

    #[test]
    fn content_gives_the_offset_within_a_frame() {
        for off_ms in [-200.0, -40.0, 0.0, 17.0, 80.0, 200.0] {
            let (picture, sound) = scenes(off_ms / 1000.0);
            let config = SyncConfig {
                mode: Mode::Content,
                ..SyncConfig::default()
            };
            let mut sim = Sim::new(config, 25.0);
            sim.run(16 * 1_000_000_000, picture, sound);
            let ms = sim.measurements();
            let sure: Vec<_> = ms.iter().filter(|m| m.confidence >= 0.5).collect();
            assert!(sure.len() >= 8, "{off_ms}: {ms:?}");
            for m in sure {
                assert_eq!(m.method, Method::Content);
                let err = (m.offset as f64 / 1e6 - off_ms).abs();
                assert!(err <= 40.0, "{off_ms} ms: {m:?}");
            }
        }
    }

    /// Notes at irregular times, each with its own pitch.
    fn music(t: f64) -> f32 {
        let note = (t * 3.3 + (t * 0.7).sin()).floor();
        let f = 220.0 * 2f64.powf((note * 7.0 % 12.0) / 12.0);
        let into = (t * 3.3 + (t * 0.7).sin()).fract();
        (0.3 * (-4.0 * into).exp() * (2.0 * std::f64::consts::PI * f * t).sin()) as f32
    }

    #[test]
    fn still_picture_with_music_cannot_tell() {
        let mut sim = Sim::new(SyncConfig::default(), 25.0);
        let (picture, _) = scenes(0.0);
        let still = picture(0);
        sim.run(20 * 1_000_000_000, |_| still.clone(), music);
        let ms = sim.measurements();
        assert!(ms.len() >= 15, "{ms:?}");
        assert!(
            ms.iter()
                .all(|m| m.confidence == 0.0 && m.observations == 0),
            "{ms:?}"
        );
        assert!(sim.alarms().is_empty());
    }

    #[test]
    fn unrelated_cuts_and_music_give_no_alarm() {
        let mut sim = Sim::new(SyncConfig::default(), 25.0);
        let (picture, _) = scenes(0.0);
        sim.run(20 * 1_000_000_000, picture, music);
        let ms = sim.measurements();
        assert!(ms.iter().all(|m| m.confidence < 0.5), "{ms:?}");
        assert!(sim.alarms().is_empty(), "{:?}", sim.alarms());
    }

    /// Video at 25 fps for 10 s; audio (in 10 ms buffers) stops after 3 s
    /// and comes back at 8 s. The stall events, each with the video time
    /// when it came.
    fn audio_stall(live: bool) -> Vec<(u64, SyncEvent)> {
        let mut sync = AvSync::new(SyncConfig::default());
        sync.set_live(live);
        let mut got = Vec::new();
        let data = vec![0u8; 480 * 4];
        let view = AudioView::interleaved(&data, SampleFormat::F32, 1).unwrap();
        let luma = flat(16);
        let plane = LumaPlane::gray8(&luma, W, H).unwrap();
        let f = 40 * MS;
        for i in 0..250u64 {
            let t = i * f;
            let mut out = Vec::new();
            sync.push_video(&plane, t, t + f, &mut out);
            if !(3000 * MS..8000 * MS).contains(&t) {
                for k in 0..4 {
                    let at = AudioTime::at(t + k * 10 * MS);
                    sync.push_audio(&view, at, RATE, &mut out);
                }
            }
            got.extend(
                out.into_iter()
                    .filter(|e| matches!(e, SyncEvent::Stall { .. }))
                    .map(|e| (t, e)),
            );
        }
        got
    }

    fn audio_stall_events(start_seen: u64) -> Vec<(u64, SyncEvent)> {
        let start = Transition::Start { start: 3000 * MS };
        let end = Transition::End {
            start: 3000 * MS,
            end: 8000 * MS,
            reason: EndReason::Recovered,
        };
        let ev = |transition| SyncEvent::Stall {
            media: Media::Audio,
            transition,
        };
        vec![(start_seen, ev(start)), (8000 * MS, ev(end))]
    }

    #[test]
    fn a_live_stall_is_reported_once_the_other_stream_is_ahead() {
        // video's frame at 4.96 s takes it to 5 s, 2 s past the audio
        assert_eq!(audio_stall(true), audio_stall_events(4960 * MS));
    }

    #[test]
    fn a_hole_in_the_timestamps_is_a_stall() {
        // from files, streams run ahead of each other by what the queues
        // after them hold: only the hole tells, when audio comes back
        assert_eq!(audio_stall(false), audio_stall_events(8000 * MS));
    }
}
