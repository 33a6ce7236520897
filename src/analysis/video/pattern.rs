//! Test patterns on air: colour bars (SMPTE and EBU layouts, 75% and 100%)
//! and still cards (a static slate or card of a few flat colours).
//!
//! Bars are found line by line. Each of nine lines across the picture is
//! cut into runs of near-constant colour. A run at least a 24th of the
//! width is a bar candidate, and its colour is turned into R'G'B' through
//! the stream's matrix. Colour bars are seven such runs side by side whose
//! R', G' and B' are each either off or at one common amplitude, in the
//! bar order: white (or grey), yellow, cyan, green, magenta, red, blue, of
//! nearly equal widths. Striped content, flags and graphics rarely hold all
//! seven colours in that order, flat and saturated at one level. Where the
//! bars run from top to bottom (and end in a black bar) the pattern is EBU
//! bars; where they fill the upper part of the picture only (SMPTE's
//! bottom rows hold other patches) it is SMPTE bars.
//!
//! A still card is a picture that does not change for `min_duration`, with
//! at least 80% of the sampled pixels in at most four flat colours, not
//! mostly black (that is black, for blackdetect). A frozen programme
//! picture (freezedetect's) has texture and gradients and is not a card.

use crate::analysis::event::{EndReason, EventTracker, Transition};
use crate::analysis::video::colour::{ColourModel, ColourPicture, Rows};

/// Heights of the lines read, as fractions of the picture height.
const LINES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/// Lines in the upper part (SMPTE bars fill it) and in the lower.
const UPPER: std::ops::Range<usize> = 0..5;
const LOWER: std::ops::Range<usize> = 7..9;
/// The bars in order, as R'G'B' bits (4 = R, 2 = G, 1 = B).
const BAR_ORDER: [u8; 7] = [7, 6, 3, 2, 5, 4, 1];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// SMPTE bars: seven bars in the upper part of the picture, other
    /// patches below (SMPTE EG 1 and RP 219 layouts).
    SmpteBars,
    /// EBU bars: the bars (with a black bar after blue) top to bottom.
    EbuBars,
    /// Seven bars in the bar order in another layout.
    Bars,
    /// A still picture of a few flat colours (a slate, a card).
    StillCard,
}

impl Pattern {
    pub fn as_str(&self) -> &'static str {
        match self {
            Pattern::SmpteBars => "smpte-bars",
            Pattern::EbuBars => "ebu-bars",
            Pattern::Bars => "bars",
            Pattern::StillCard => "still-card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Pattern::SmpteBars,
            Pattern::EbuBars,
            Pattern::Bars,
            Pattern::StillCard,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternConfig {
    /// Nanoseconds a pattern must stay before an event starts.
    pub min_duration: u64,
    /// Whether still cards are reported (bars always are).
    pub still_cards: bool,
}

impl Default for PatternConfig {
    fn default() -> Self {
        PatternConfig {
            min_duration: 2_000_000_000,
            still_cards: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatternEvent {
    pub transition: Transition,
    /// The pattern of the stretch's first frame.
    pub pattern: Pattern,
    /// Bars: the amplitude of the coloured bars (0.75 for 75% bars, 1.0 for
    /// 100%), a fraction of the nominal range; 0 for a still card.
    pub amplitude: f64,
}

/// One run of near-constant colour along a line: chroma samples
/// `start..end`, its mean Y' (0 black, 1 white) and Cb, Cr (-0.5 to 0.5).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    start: usize,
    end: usize,
    y: f64,
    cb: f64,
    cr: f64,
}

impl Run {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Colour bars found on one line: chroma samples `start..end`, and the
/// amplitude of the coloured bars.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BarsLine {
    start: usize,
    end: usize,
    amplitude: f64,
    /// A black bar follows the blue one.
    black_after: bool,
}

/// Y'CbCr (normalised) to R'G'B' with luma coefficients `kr`, `kb`.
fn rgb(kr: f64, kb: f64, y: f64, cb: f64, cr: f64) -> [f64; 3] {
    let kg = 1.0 - kr - kb;
    let r = y + 2.0 * (1.0 - kr) * cr;
    let b = y + 2.0 * (1.0 - kb) * cb;
    let g = (y - kr * r - kb * b) / kg;
    [r, g, b]
}

/// The bar a colour is: its R'G'B' bits and amplitude, when each of R', G'
/// and B' is either near 0 or near the amplitude (else `None`).
fn bar_colour(c: [f64; 3]) -> Option<(u8, f64)> {
    let a = c.iter().copied().fold(f64::MIN, f64::max);
    if a < 0.3 {
        return None;
    }
    let mut bits = 0u8;
    for (i, &v) in c.iter().enumerate() {
        if (v - a).abs() <= 0.12 * a + 0.02 {
            bits |= 4 >> i;
        } else if v.abs() > 0.12 * a + 0.02 {
            return None;
        }
    }
    Some((bits, a))
}

/// Cuts a line of normalised samples into runs of near-constant colour.
fn runs(y: &[f64], cb: &[f64], cr: &[f64], out: &mut Vec<Run>) {
    out.clear();
    let n = y.len().min(cb.len()).min(cr.len());
    let mut i = 0;
    while i < n {
        let (y0, u0, v0) = (y[i], cb[i], cr[i]);
        let mut j = i + 1;
        let (mut sy, mut su, mut sv) = (y0, u0, v0);
        while j < n
            && (y[j] - y0).abs() < 0.04
            && (cb[j] - u0).abs() < 0.04
            && (cr[j] - v0).abs() < 0.04
        {
            sy += y[j];
            su += cb[j];
            sv += cr[j];
            j += 1;
        }
        let k = (j - i) as f64;
        out.push(Run {
            start: i,
            end: j,
            y: sy / k,
            cb: su / k,
            cr: sv / k,
        });
        i = j;
    }
}

/// Colour bars on one line of runs `width` samples wide, if it holds them.
fn bars(runs: &[Run], width: usize, kr: f64, kb: f64) -> Option<BarsLine> {
    let min_len = (width / 24).max(2);
    let long: Vec<&Run> = runs.iter().filter(|r| r.len() >= min_len).collect();
    let max_gap = (width / 40).max(2);
    'start: for s in 0..long.len() {
        if long.len() - s < BAR_ORDER.len() {
            break;
        }
        let seq = &long[s..s + BAR_ORDER.len()];
        let mut amplitude = None;
        for (k, (r, &want)) in seq.iter().zip(&BAR_ORDER).enumerate() {
            if k > 0 && r.start - seq[k - 1].end > max_gap {
                continue 'start;
            }
            let Some((bits, a)) = bar_colour(rgb(kr, kb, r.y, r.cb, r.cr)) else {
                continue 'start;
            };
            if bits != want {
                continue 'start;
            }
            // the first bar may be brighter (EBU 100/0/75/0 puts 100% white
            // beside 75% colours); the coloured ones share one amplitude
            if k > 0 {
                let first = *amplitude.get_or_insert(a);
                if (a - first).abs() > 0.1 * first {
                    continue 'start;
                }
            }
        }
        let mut widths: Vec<usize> = seq.iter().map(|r| r.len()).collect();
        widths.sort_unstable();
        let median = widths[widths.len() / 2] as f64;
        if seq
            .iter()
            .any(|r| (r.len() as f64 - median).abs() > 0.35 * median)
        {
            continue;
        }
        let last = seq[BAR_ORDER.len() - 1];
        let black_after = long.get(s + BAR_ORDER.len()).is_some_and(|r| {
            r.start - last.end <= max_gap
                && r.y.abs() < 0.05
                && r.cb.abs() < 0.04
                && r.cr.abs() < 0.04
        });
        return Some(BarsLine {
            start: seq[0].start,
            end: last.end,
            amplitude: amplitude.unwrap_or(0.0),
            black_after,
        });
    }
    None
}

/// What one frame shows, before persistence is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FrameLook {
    bars: Option<(Pattern, f64)>,
    /// Share of sampled pixels in the four most common flat colours, and
    /// whether those are mostly black.
    flat_share: f64,
    mostly_black: bool,
}

/// The detector.
#[derive(Debug, Clone)]
pub struct PatternDetector {
    config: PatternConfig,
    tracker: EventTracker,
    /// The pattern and amplitude of the stretch under way.
    current: Option<(Pattern, f64)>,
    /// The previous frame's span and whether it was a still card: a still
    /// picture begins with the frame before its first repeat.
    last: Option<(u64, u64, bool)>,
    /// The lines read from the previous frame (Y' code values), to tell a
    /// still picture: one whose lines differ from them by at most one
    /// 8-bit code value on average (a static card through a lossy codec
    /// changes that little at a key frame).
    previous: Vec<u16>,
    lines: Vec<u16>,
    rows: Rows,
    runs: Vec<Run>,
    norm: [Vec<f64>; 3],
    /// Flat colours (quantised Y', Cb, Cr) and their samples, this frame.
    colours: Vec<([i32; 3], usize)>,
}

impl PatternDetector {
    pub fn new(config: PatternConfig) -> Self {
        PatternDetector {
            config,
            tracker: EventTracker::new(config.min_duration),
            current: None,
            last: None,
            previous: Vec::new(),
            lines: Vec::new(),
            rows: Rows::default(),
            runs: Vec::new(),
            norm: Default::default(),
            colours: Vec::new(),
        }
    }

    pub fn config(&self) -> PatternConfig {
        self.config
    }

    pub fn set_config(&mut self, config: PatternConfig) {
        self.tracker.set_min_duration(config.min_duration);
        self.config = config;
    }

    /// Reads the frame's lines: bars per line, the flat colours and
    /// whether the picture is the same as the previous one.
    fn look(&mut self, picture: &ColourPicture<'_>) -> (FrameLook, bool) {
        let f = *picture.format();
        let (w, h) = (picture.width(), picture.height());
        let (kr, kb) = match f.model {
            ColourModel::Yuv { kr, kb } => (kr, kb),
            _ => (0.2126, 0.0722),
        };
        let depth = f.depth.clamp(1, 16);
        let n = f.nominal();
        let (black, mid) = (f64::from(n.black), f64::from(n.mid));
        let (span, cspan) = (1.0 / f64::from(n.luma), 1.0 / f64::from(n.chroma));
        let (w_sub, _) = f.chroma_sub();
        let mut found = [None; LINES.len()];
        let colours = &mut self.colours;
        colours.clear();
        let (mut samples, mut black_samples) = (0usize, 0usize);
        self.lines.clear();
        if w == 0 || h == 0 {
            return (
                FrameLook {
                    bars: None,
                    flat_share: 0.0,
                    mostly_black: false,
                },
                false,
            );
        }
        for (li, frac) in LINES.iter().enumerate() {
            let y = ((h as f64 * frac) as usize).min(h - 1);
            picture.read_row(y, &mut self.rows);
            self.lines.extend_from_slice(&self.rows.c[0]);
            let [ny, ncb, ncr] = &mut self.norm;
            for v in [&mut *ny, &mut *ncb, &mut *ncr] {
                v.clear();
            }
            match f.model {
                ColourModel::Yuv { .. } => {
                    let k = 1usize << w_sub;
                    let [yr, cb, cr] = &self.rows.c;
                    for (i, (&u, &v)) in cb.iter().zip(cr).enumerate() {
                        let ys = &yr[(i * k).min(yr.len())..((i + 1) * k).min(yr.len())];
                        let yv =
                            ys.iter().map(|&s| f64::from(s)).sum::<f64>() / ys.len().max(1) as f64;
                        ny.push((yv - black) / span);
                        ncb.push((f64::from(u) - mid) / cspan);
                        ncr.push((f64::from(v) - mid) / cspan);
                    }
                }
                ColourModel::Rgb => {
                    let [r, g, b] = &self.rows.c;
                    for ((&r, &g), &b) in r.iter().zip(g).zip(b) {
                        let n = |v: u16| (f64::from(v) - black) / span;
                        let (r, g, b) = (n(r), n(g), n(b));
                        let yv = kr * r + (1.0 - kr - kb) * g + kb * b;
                        ny.push(yv);
                        ncb.push((b - yv) / (2.0 * (1.0 - kb)));
                        ncr.push((r - yv) / (2.0 * (1.0 - kr)));
                    }
                }
                ColourModel::Gray => {
                    for &v in &self.rows.c[0] {
                        ny.push((f64::from(v) - black) / span);
                        ncb.push(0.0);
                        ncr.push(0.0);
                    }
                }
            }
            runs(ny, ncb, ncr, &mut self.runs);
            found[li] = bars(&self.runs, ny.len(), kr, kb);
            // flat colours: runs of 8 samples or more, quantised
            for r in &self.runs {
                samples += r.len();
                if r.y < 0.08 {
                    black_samples += r.len();
                }
                if r.len() < 8 {
                    continue;
                }
                let key = [
                    (r.y * 50.0).round() as i32,
                    (r.cb * 50.0).round() as i32,
                    (r.cr * 50.0).round() as i32,
                ];
                match colours.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += r.len(),
                    None => colours.push((key, r.len())),
                }
            }
        }
        colours.sort_unstable_by_key(|c| std::cmp::Reverse(c.1));
        let top: usize = colours.iter().take(4).map(|c| c.1).sum();
        let flat_share = if samples == 0 {
            0.0
        } else {
            top as f64 / samples as f64
        };
        let mostly_black = samples > 0 && black_samples * 10 >= samples * 9;
        let still = self.previous.len() == self.lines.len()
            && !self.lines.is_empty()
            && self
                .previous
                .iter()
                .zip(&self.lines)
                .map(|(&a, &b)| u64::from(a.abs_diff(b)))
                .sum::<u64>()
                <= (self.lines.len() as u64) * (1u64 << depth.saturating_sub(8));
        std::mem::swap(&mut self.previous, &mut self.lines);
        let upper = UPPER.clone().filter(|&i| found[i].is_some()).count();
        let lower = LOWER.clone().filter(|&i| found[i].is_some()).count();
        let amplitude = found.iter().flatten().map(|b| b.amplitude).next();
        let black_after = found.iter().flatten().any(|b| b.black_after);
        let bars = amplitude.and_then(|a| {
            if upper < 3 {
                return None;
            }
            let p = if lower == LOWER.len() && black_after {
                Pattern::EbuBars
            } else if lower == 0 {
                Pattern::SmpteBars
            } else {
                Pattern::Bars
            };
            Some((p, a))
        });
        (
            FrameLook {
                bars,
                flat_share,
                mostly_black,
            },
            still,
        )
    }

    /// One frame covering `pts..end`; events go to `out`.
    pub fn push(
        &mut self,
        picture: &ColourPicture<'_>,
        pts: u64,
        end: u64,
        out: &mut Vec<PatternEvent>,
    ) {
        let (look, still) = self.look(picture);
        let card = self.config.still_cards && still && look.flat_share >= 0.8 && !look.mostly_black;
        let seen = look
            .bars
            .or_else(|| card.then_some((Pattern::StillCard, 0.0)));
        if let (Some((p0, e0, false)), true, None) = (self.last, card, look.bars) {
            if !self.tracker.in_defect() {
                self.push_seen(seen, p0, e0, out);
            }
        }
        self.last = Some((pts, end, card && look.bars.is_none()));
        self.push_seen(seen, pts, end, out);
    }

    /// One frame's finding (see [`PatternDetector::look`]).
    fn push_seen(
        &mut self,
        seen: Option<(Pattern, f64)>,
        pts: u64,
        end: u64,
        out: &mut Vec<PatternEvent>,
    ) {
        if !self.tracker.in_defect() {
            self.current = seen;
        }
        if let Some(transition) = self.tracker.push(seen.is_some(), pts, end) {
            let (pattern, amplitude) = self.current.or(seen).unwrap_or((Pattern::Bars, 0.0));
            out.push(PatternEvent {
                transition,
                pattern,
                amplitude,
            });
        }
        if !self.tracker.in_defect() {
            self.current = None;
        }
    }

    /// The stream was interrupted: a pattern on air ends with `reason`.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<PatternEvent>) {
        if let Some(transition) = self.tracker.close(reason) {
            let (pattern, amplitude) = self.current.unwrap_or((Pattern::Bars, 0.0));
            out.push(PatternEvent {
                transition,
                pattern,
                amplitude,
            });
        }
        self.current = None;
        self.last = None;
        self.previous.clear();
    }
}
