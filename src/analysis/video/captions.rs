//! Closed captions that go missing: CEA-608 and CEA-708 caption data
//! carried with each frame (what GStreamer's parsers and decoders attach as
//! `GstVideoCaptionMeta`), followed frame by frame.
//!
//! A stream's captions are *missing* when frames come without any caption
//! data for `min_duration` after captions were seen (or from the start,
//! when captions are `required`), and *padding only* when caption data
//! keeps coming but carries nothing for `padding_duration`: CEA-608 pairs
//! that are null padding (0x80 0x80 with parity) and CEA-708 triplets that
//! are not valid. Each is an event with a start back-dated to the first
//! frame of it and an end at the first frame with captions (or content)
//! again.

use super::super::event::{EndReason, Transition};

/// How caption data is packed, as `GstVideoCaptionType` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptionKind {
    /// CEA-608 byte pairs of field 1.
    Cea608Raw,
    /// CEA-608 in SMPTE ST 334-1 Annex A triplets: a field byte, a pair.
    Cea608S3341a,
    /// CEA-708 `cc_data` triplets (608 in them as cc_type 0 and 1).
    Cea708Raw,
    /// A CEA-708 caption distribution packet (SMPTE ST 334-2).
    Cea708Cdp,
}

/// What one frame's caption data carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptionContent {
    /// Any caption data at all.
    pub present: bool,
    /// CEA-608 data that is not padding, on field 1 and field 2.
    pub cea608: [bool; 2],
    /// Valid CEA-708 (DTVCC) packet data.
    pub cea708: bool,
}

impl CaptionContent {
    /// Anything beyond padding.
    pub fn has_content(&self) -> bool {
        self.cea608[0] || self.cea608[1] || self.cea708
    }

    /// Adds what `data` of `kind` carries.
    pub fn add(&mut self, kind: CaptionKind, data: &[u8]) {
        self.present = true;
        match kind {
            CaptionKind::Cea608Raw => {
                for pair in data.chunks_exact(2) {
                    self.cea608[0] |= is_608_content(pair[0], pair[1]);
                }
            }
            CaptionKind::Cea608S3341a => {
                for t in data.chunks_exact(3) {
                    // bit 7 of the first byte: field 1
                    let field = usize::from(t[0] & 0x80 == 0);
                    self.cea608[field] |= is_608_content(t[1], t[2]);
                }
            }
            CaptionKind::Cea708Raw => self.add_cc_data(data),
            CaptionKind::Cea708Cdp => {
                if let Some(cc) = cdp_cc_data(data) {
                    self.add_cc_data(cc);
                }
            }
        }
    }

    fn add_cc_data(&mut self, data: &[u8]) {
        for t in data.chunks_exact(3) {
            let valid = t[0] & 0x04 != 0;
            if !valid {
                continue;
            }
            match t[0] & 0x03 {
                ty @ (0 | 1) => self.cea608[usize::from(ty)] |= is_608_content(t[1], t[2]),
                // DTVCC packet data or start: a valid triplet is content
                _ => self.cea708 = true,
            }
        }
    }
}

/// A CEA-608 pair that is not null padding (the bytes carry odd parity
/// in bit 7, which is ignored).
fn is_608_content(b1: u8, b2: u8) -> bool {
    (b1 & 0x7f) != 0 || (b2 & 0x7f) != 0
}

/// The `cc_data` triplets of a CDP (SMPTE ST 334-2): after the header
/// (0x96 0x69, length, frame rate, flags, sequence counter) and an optional
/// time code section, the `cc_data` section (0x72, a count in its low five
/// bits, the triplets).
fn cdp_cc_data(cdp: &[u8]) -> Option<&[u8]> {
    if cdp.len() < 7 || cdp[0] != 0x96 || cdp[1] != 0x69 {
        return None;
    }
    let mut at = 7;
    // time code present
    if cdp[4] & 0x80 != 0 {
        at += 5;
    }
    if *cdp.get(at)? != 0x72 {
        return None;
    }
    let count = usize::from(cdp.get(at + 1)? & 0x1f);
    cdp.get(at + 2..at + 2 + 3 * count)
}

/// The tuning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptionConfig {
    /// How long frames without caption data last before it is an event, ns.
    pub min_duration: u64,
    /// Whether the stream must carry captions from the start.
    pub required: bool,
    /// How long caption data may carry only padding, ns.
    pub padding_duration: u64,
}

impl Default for CaptionConfig {
    fn default() -> Self {
        CaptionConfig {
            min_duration: 10_000_000_000,
            required: false,
            padding_duration: 60_000_000_000,
        }
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptionProblem {
    /// No caption data: captions that were there went away, or (required)
    /// never came.
    Missing,
    /// Caption data with nothing in it but padding.
    PaddingOnly,
}

impl CaptionProblem {
    pub fn as_str(&self) -> &'static str {
        match self {
            CaptionProblem::Missing => "missing",
            CaptionProblem::PaddingOnly => "padding-only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "missing" => Some(CaptionProblem::Missing),
            "padding-only" => Some(CaptionProblem::PaddingOnly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptionEvent {
    pub problem: CaptionProblem,
    pub transition: Transition,
    /// What the captions carried before the problem (for a start) or carry
    /// again (for an end).
    pub seen: CaptionContent,
}

/// One run of bad frames, pending or reported.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    last_end: u64,
    reported: bool,
}

/// Follows a stream's captions frame by frame.
#[derive(Debug)]
pub struct CaptionDetector {
    config: CaptionConfig,
    /// Whether caption data was ever seen.
    ever: bool,
    /// What the captions carried, accumulated since the last event.
    seen: CaptionContent,
    missing: Option<Run>,
    padding: Option<Run>,
}

impl CaptionDetector {
    pub fn new(config: CaptionConfig) -> Self {
        CaptionDetector {
            config,
            ever: false,
            seen: CaptionContent::default(),
            missing: None,
            padding: None,
        }
    }

    pub fn set_config(&mut self, config: CaptionConfig) {
        self.config = config;
    }

    /// What the captions have carried so far.
    pub fn seen(&self) -> CaptionContent {
        self.seen
    }

    /// One frame covering `pts..end` with `content` (`present` false: no
    /// caption data at all).
    pub fn push(
        &mut self,
        content: CaptionContent,
        pts: u64,
        end: u64,
        out: &mut Vec<CaptionEvent>,
    ) {
        let watch_missing = self.ever || self.config.required;
        if content.present {
            self.ever = true;
            self.seen.present = true;
            self.seen.cea608[0] |= content.cea608[0];
            self.seen.cea608[1] |= content.cea608[1];
            self.seen.cea708 |= content.cea708;
        }
        let seen = self.seen;
        let mut here = Vec::new();
        step(
            &mut self.missing,
            watch_missing && !content.present,
            self.config.min_duration,
            CaptionProblem::Missing,
            (pts, end),
            seen,
            &mut here,
        );
        step(
            &mut self.padding,
            content.present && !content.has_content(),
            self.config.padding_duration,
            CaptionProblem::PaddingOnly,
            (pts, end),
            seen,
            &mut here,
        );
        // one problem ends before the other starts on the same frame (found
        // by tests/stream_robustness.rs: padding, then nothing at all)
        here.sort_by_key(|e| matches!(e.transition, Transition::Start { .. }));
        out.append(&mut here);
    }

    /// Ends what was reported (EOS, flush, caps change); forgets what was
    /// pending.
    pub fn close(&mut self, reason: EndReason, out: &mut Vec<CaptionEvent>) {
        for (run, problem) in [
            (self.missing.take(), CaptionProblem::Missing),
            (self.padding.take(), CaptionProblem::PaddingOnly),
        ] {
            if let Some(r) = run.filter(|r| r.reported) {
                out.push(CaptionEvent {
                    problem,
                    transition: Transition::End {
                        start: r.start,
                        end: r.last_end,
                        reason,
                    },
                    seen: self.seen,
                });
            }
        }
    }
}

/// One frame of one problem's run: `bad` continues or starts it, a good
/// frame ends it.
fn step(
    run: &mut Option<Run>,
    bad: bool,
    min: u64,
    problem: CaptionProblem,
    (pts, end): (u64, u64),
    seen: CaptionContent,
    out: &mut Vec<CaptionEvent>,
) {
    if bad {
        let r = run.get_or_insert(Run {
            start: pts,
            last_end: end,
            reported: false,
        });
        r.last_end = end;
        if !r.reported && end.saturating_sub(r.start) >= min {
            r.reported = true;
            out.push(CaptionEvent {
                problem,
                transition: Transition::Start { start: r.start },
                seen,
            });
        }
    } else if let Some(r) = run.take() {
        if r.reported {
            out.push(CaptionEvent {
                problem,
                transition: Transition::End {
                    start: r.start,
                    end: pts,
                    reason: EndReason::Recovered,
                },
                seen,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: u64 = 40_000_000;

    fn with(kind: CaptionKind, data: &[u8]) -> CaptionContent {
        let mut c = CaptionContent::default();
        c.add(kind, data);
        c
    }

    fn run(d: &mut CaptionDetector, frames: &[CaptionContent], first: u64) -> Vec<CaptionEvent> {
        let mut out = Vec::new();
        for (i, c) in frames.iter().enumerate() {
            let t = (first + i as u64) * F;
            d.push(*c, t, t + F, &mut out);
        }
        out
    }

    #[test]
    fn what_each_packing_carries() {
        // "He" in 608 with parity, and padding
        assert_eq!(
            with(CaptionKind::Cea608Raw, &[0xc8, 0xe5]).cea608,
            [true, false]
        );
        assert!(!with(CaptionKind::Cea608Raw, &[0x80, 0x80]).has_content());
        assert!(with(CaptionKind::Cea608Raw, &[0x80, 0x80]).present);
        // S334-1A: field 2 in the second triplet
        let c = with(
            CaptionKind::Cea608S3341a,
            &[0x80, 0x80, 0x80, 0x00, 0xc8, 0xe5],
        );
        assert_eq!(c.cea608, [false, true]);
        // cc_data: a valid 608 field 1 pair, an invalid DTVCC triplet
        let c = with(
            CaptionKind::Cea708Raw,
            &[0xfc, 0xc8, 0xe5, 0xfa, 0x00, 0x00],
        );
        assert_eq!((c.cea608, c.cea708), ([true, false], false));
        let c = with(CaptionKind::Cea708Raw, &[0xfe, 0x01, 0x02]);
        assert!(c.cea708);
        // a CDP around two triplets
        let cdp = [
            0x96, 0x69, 0x10, 0x4f, 0x43, 0x00, 0x01, 0x72, 0xe2, 0xfc, 0x80, 0x80, 0xfe, 0x41,
            0x42, 0x74, 0x00, 0x01, 0x00,
        ];
        let c = with(CaptionKind::Cea708Cdp, &cdp);
        assert_eq!((c.cea608, c.cea708), ([false, false], true));
        assert!(!with(CaptionKind::Cea708Cdp, &[0x96, 0x69, 1]).has_content());
    }

    #[test]
    fn captions_that_stop_are_missing_from_the_first_frame_without() {
        let cc = with(CaptionKind::Cea608Raw, &[0xc8, 0xe5]);
        let none = CaptionContent::default();
        let mut d = CaptionDetector::new(CaptionConfig {
            min_duration: 10 * F,
            ..CaptionConfig::default()
        });
        let mut frames = vec![cc; 20];
        frames.extend([none; 30]);
        frames.extend([cc; 5]);
        let out = run(&mut d, &frames, 0);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].problem, CaptionProblem::Missing);
        assert_eq!(out[0].transition, Transition::Start { start: 20 * F });
        assert_eq!(out[0].seen.cea608, [true, false]);
        assert_eq!(
            out[1].transition,
            Transition::End {
                start: 20 * F,
                end: 50 * F,
                reason: EndReason::Recovered
            }
        );
        // nine frames short of the duration: nothing
        let mut d = CaptionDetector::new(CaptionConfig {
            min_duration: 10 * F,
            ..CaptionConfig::default()
        });
        let mut frames = vec![cc; 5];
        frames.extend([none; 9]);
        frames.extend([cc; 5]);
        assert!(run(&mut d, &frames, 0).is_empty());
    }

    #[test]
    fn a_stream_without_captions_is_missing_only_when_they_are_required() {
        let none = CaptionContent::default();
        let config = CaptionConfig {
            min_duration: 10 * F,
            ..CaptionConfig::default()
        };
        let mut d = CaptionDetector::new(config);
        assert!(run(&mut d, &[none; 100], 0).is_empty());
        let mut d = CaptionDetector::new(CaptionConfig {
            required: true,
            ..config
        });
        let mut out = run(&mut d, &[none; 100], 0);
        assert_eq!(out[0].transition, Transition::Start { start: 0 });
        d.close(EndReason::Eos, &mut out);
        assert_eq!(
            out[1].transition,
            Transition::End {
                start: 0,
                end: 100 * F,
                reason: EndReason::Eos
            }
        );
    }

    #[test]
    fn one_problem_ends_before_the_other_starts() {
        let pad = with(CaptionKind::Cea608Raw, &[0x80, 0x80]);
        let none = CaptionContent::default();
        let mut d = CaptionDetector::new(CaptionConfig {
            min_duration: 0,
            required: true,
            padding_duration: 0,
        });
        let out = run(&mut d, &[pad, pad, none, none, pad], 0);
        let got: Vec<_> = out
            .iter()
            .map(|e| {
                let start = matches!(e.transition, Transition::Start { .. });
                (e.problem, start)
            })
            .collect();
        use CaptionProblem::{Missing, PaddingOnly};
        assert_eq!(
            got,
            [
                (PaddingOnly, true),
                (PaddingOnly, false),
                (Missing, true),
                (Missing, false),
                (PaddingOnly, true),
            ]
        );
    }

    #[test]
    fn padding_only_for_long_is_its_own_event() {
        let pad = with(CaptionKind::Cea608Raw, &[0x80, 0x80]);
        let cc = with(CaptionKind::Cea608Raw, &[0xc8, 0xe5]);
        let mut d = CaptionDetector::new(CaptionConfig {
            min_duration: 10 * F,
            required: true,
            padding_duration: 25 * F,
        });
        let mut frames = vec![cc; 3];
        frames.extend([pad; 40]);
        frames.push(cc);
        let out = run(&mut d, &frames, 0);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].problem, CaptionProblem::PaddingOnly);
        assert_eq!(out[0].transition, Transition::Start { start: 3 * F });
        assert!(matches!(out[1].transition, Transition::End { end, .. } if end == 43 * F));
    }
}
