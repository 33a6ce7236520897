//! What fails a file: a profile names the detectors to run and the rules,
//! and a verdict is the rules judged on what the detectors found.
//!
//! Built in: `broadcast` (EBU R128 loudness, EBU R37 lip-sync) and
//! `streaming` (delivery to streaming platforms: -16 LUFS, and longer
//! black at the edges allowed). A configuration file's `[profile.NAME]`
//! tables add profiles of one's own: a key not given there takes the
//! `broadcast` value, and a rule goes with its detector (leave the
//! detector out of `detectors` and its rules are not judged).

use serde::{Deserialize, Serialize};

/// The rules, each off when `None`. Durations in ms; loudness in LUFS and
/// LU; peaks in dBTP; offsets in ms (positive: audio late).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    /// The detectors to run.
    pub detectors: Vec<String>,
    /// Black longer than this fails, outside `black-edges-ms` at either end.
    pub black_max_ms: Option<u64>,
    /// Black within this of the start or the end is allowed (fades, slates).
    pub black_edges_ms: u64,
    /// A freeze longer than this fails.
    pub freeze_max_ms: Option<u64>,
    /// Silence (any channel) longer than this fails.
    pub silence_max_ms: Option<u64>,
    /// Any block corruption fails.
    pub no_corruption: bool,
    /// Any clipping fails.
    pub no_clipping: bool,
    /// Integrated loudness outside `loudness-target` ± `loudness-tolerance`
    /// fails.
    pub loudness_target: Option<f64>,
    pub loudness_tolerance: f64,
    /// A true peak above this fails.
    pub true_peak_max: Option<f64>,
    /// A measured A/V offset outside [min, max] fails.
    pub av_offset_min_ms: Option<f64>,
    pub av_offset_max_ms: Option<f64>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile::broadcast()
    }
}

const VIDEO_AND_AUDIO: &[&str] = &[
    "blackdetect",
    "freezedetect",
    "blockdetect",
    "silencedetect",
    "clipdetect",
    "loudnessmeter",
    "avsyncdetect",
];

impl Profile {
    /// Broadcast delivery: EBU R128 (-23 LUFS ± 1 LU, true peak -1 dBTP),
    /// EBU R37 lip-sync (audio at most 40 ms early, 60 ms late), black over
    /// 2 s outside the first and last second, any freeze over 2 s, silence
    /// over 2 s, any block corruption or clipping.
    pub fn broadcast() -> Profile {
        Profile {
            detectors: VIDEO_AND_AUDIO.iter().map(|s| s.to_string()).collect(),
            black_max_ms: Some(2000),
            black_edges_ms: 1000,
            freeze_max_ms: Some(2000),
            silence_max_ms: Some(2000),
            no_corruption: true,
            no_clipping: true,
            loudness_target: Some(-23.0),
            loudness_tolerance: 1.0,
            true_peak_max: Some(-1.0),
            av_offset_min_ms: Some(-40.0),
            av_offset_max_ms: Some(60.0),
        }
    }

    /// Streaming delivery: -16 LUFS ± 1 LU, true peak -1 dBTP; black over
    /// 2 s outside the first and last 3 s; freeze and silence over 3 s; any
    /// block corruption; A/V offset within ± 80 ms.
    pub fn streaming() -> Profile {
        Profile {
            black_edges_ms: 3000,
            freeze_max_ms: Some(3000),
            silence_max_ms: Some(3000),
            no_clipping: false,
            loudness_target: Some(-16.0),
            av_offset_min_ms: Some(-80.0),
            av_offset_max_ms: Some(80.0),
            ..Profile::broadcast()
        }
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<Profile> {
        match name {
            "broadcast" => Some(Profile::broadcast()),
            "streaming" => Some(Profile::streaming()),
            _ => None,
        }
    }
}

/// What a check found in one file, as the rules need it.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// The file's length, s (0 when unknown).
    pub duration_s: f64,
    pub events: Vec<Found>,
    /// The last integrated loudness, LUFS (None when never defined).
    pub integrated: Option<f64>,
    /// The highest true peak of any channel, dBTP.
    pub true_peak: Option<f64>,
    /// Measured A/V offsets with confidence of at least a half, ms.
    pub av_offsets: Vec<f64>,
}

/// A defect found: which detector, where (s), and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub detector: &'static str,
    pub start_s: f64,
    /// Where it ended (the file's end when it never did).
    pub end_s: f64,
}

impl Found {
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// One rule judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Judged {
    /// What the rule says, e.g. "black over 2 s (outside the first and last 1 s)".
    pub rule: String,
    pub pass: bool,
    /// The events (indexes into the file's events) that broke it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<usize>,
    /// The measured value it judged, when it judges one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

fn secs(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    format!("{s} s")
}

/// Judges every rule of `p` on `f`.
pub fn judge(p: &Profile, f: &Findings) -> Vec<Judged> {
    let mut out = Vec::new();
    let runs = |d: &str| p.detectors.iter().any(|x| x == d);
    let longer = |detector: &str, max_ms: u64, edges_ms: u64| -> Vec<usize> {
        let (max, edge) = (max_ms as f64 / 1000.0, edges_ms as f64 / 1000.0);
        f.events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.detector == detector)
            .filter(|(_, e)| {
                // the part outside the edges
                let from = e.start_s.max(edge);
                let to = if f.duration_s > 0.0 {
                    e.end_s.min(f.duration_s - edge)
                } else {
                    e.end_s
                };
                to - from > max
            })
            .map(|(i, _)| i)
            .collect()
    };
    if let (true, Some(max)) = (runs("blackdetect"), p.black_max_ms) {
        let events = longer("blackdetect", max, p.black_edges_ms);
        let edges = if p.black_edges_ms > 0 {
            format!(" outside the first and last {}", secs(p.black_edges_ms))
        } else {
            String::new()
        };
        out.push(Judged {
            rule: format!("black over {}{edges}", secs(max)),
            pass: events.is_empty(),
            events,
            value: None,
        });
    }
    for (detector, max, what) in [
        ("freezedetect", p.freeze_max_ms, "freeze"),
        ("silencedetect", p.silence_max_ms, "silence"),
    ] {
        if let (true, Some(max)) = (runs(detector), max) {
            let events = longer(detector, max, 0);
            out.push(Judged {
                rule: format!("{what} over {}", secs(max)),
                pass: events.is_empty(),
                events,
                value: None,
            });
        }
    }
    for (detector, on, what) in [
        ("blockdetect", p.no_corruption, "any block corruption"),
        ("clipdetect", p.no_clipping, "any clipping"),
    ] {
        if runs(detector) && on {
            let events: Vec<usize> = f
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.detector == detector)
                .map(|(i, _)| i)
                .collect();
            out.push(Judged {
                rule: what.into(),
                pass: events.is_empty(),
                events,
                value: None,
            });
        }
    }
    if runs("loudnessmeter") {
        if let Some(target) = p.loudness_target {
            let tol = p.loudness_tolerance;
            out.push(Judged {
                rule: format!("integrated loudness {target} LUFS ± {tol} LU"),
                pass: f.integrated.is_some_and(|i| (i - target).abs() <= tol),
                events: Vec::new(),
                value: f.integrated,
            });
        }
        if let Some(max) = p.true_peak_max {
            out.push(Judged {
                rule: format!("true peak at most {max} dBTP"),
                pass: f.true_peak.is_none_or(|t| t <= max),
                events: Vec::new(),
                value: f.true_peak,
            });
        }
    }
    if runs("avsyncdetect") {
        if let (Some(lo), Some(hi)) = (p.av_offset_min_ms, p.av_offset_max_ms) {
            // the measured offset furthest out of the band's middle
            let mid = (lo + hi) / 2.0;
            let worst = f
                .av_offsets
                .iter()
                .copied()
                .max_by(|a, b| (a - mid).abs().total_cmp(&(b - mid).abs()));
            out.push(Judged {
                rule: format!("A/V offset within {lo} to {hi} ms (positive: audio late)"),
                pass: worst.is_none_or(|w| (lo..=hi).contains(&w)),
                events: Vec::new(),
                value: worst,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(detector: &'static str, start_s: f64, end_s: f64) -> Found {
        Found {
            detector,
            start_s,
            end_s,
        }
    }

    fn rule<'a>(judged: &'a [Judged], starts: &str) -> &'a Judged {
        judged
            .iter()
            .find(|j| j.rule.starts_with(starts))
            .unwrap_or_else(|| panic!("no rule {starts} in {judged:?}"))
    }

    #[test]
    fn black_counts_only_outside_the_edges() {
        let p = Profile::broadcast();
        let f = Findings {
            duration_s: 60.0,
            events: vec![
                // 2.5 s at the very start: 1.5 s outside the first second
                found("blackdetect", 0.0, 2.5),
                // 2.5 s at the end: the same
                found("blackdetect", 57.5, 60.0),
                // 2.1 s in the middle
                found("blackdetect", 30.0, 32.1),
                // 1.9 s
                found("blackdetect", 40.0, 41.9),
            ],
            integrated: Some(-23.0),
            ..Findings::default()
        };
        let j = judge(&p, &f);
        let black = rule(&j, "black over 2 s outside the first and last 1 s");
        assert!(!black.pass);
        assert_eq!(black.events, [2]);
    }

    #[test]
    fn durations_loudness_peaks_and_offsets() {
        let p = Profile::broadcast();
        let mut f = Findings {
            duration_s: 20.0,
            events: vec![
                found("freezedetect", 10.0, 14.0),
                found("silencedetect", 15.0, 17.0),
                found("clipdetect", 2.0, 2.5),
            ],
            integrated: Some(-24.5),
            true_peak: Some(-0.5),
            av_offsets: vec![10.0, 80.0, -20.0],
        };
        let j = judge(&p, &f);
        assert_eq!(rule(&j, "freeze").events, [0]);
        // exactly 2 s is not over 2 s
        assert!(rule(&j, "silence").pass);
        assert_eq!(rule(&j, "any clipping").events, [2]);
        assert!(rule(&j, "any block corruption").pass);
        let loud = rule(&j, "integrated loudness -23 LUFS ± 1 LU");
        assert_eq!((loud.pass, loud.value), (false, Some(-24.5)));
        assert!(!rule(&j, "true peak").pass);
        let av = rule(&j, "A/V offset");
        assert_eq!((av.pass, av.value), (false, Some(80.0)));

        f.integrated = Some(-22.2);
        f.true_peak = Some(-1.0);
        f.av_offsets = vec![55.0, -38.0];
        let j = judge(&p, &f);
        assert!(rule(&j, "integrated").pass);
        assert!(rule(&j, "true peak").pass);
        assert!(rule(&j, "A/V offset").pass);
        // loudness never defined (no audio): fails; no offset measured: passes
        f.integrated = None;
        f.av_offsets.clear();
        let j = judge(&p, &f);
        assert!(!rule(&j, "integrated").pass);
        assert!(rule(&j, "A/V offset").pass);
    }

    #[test]
    fn rules_follow_the_detectors_and_the_profile() {
        let mut p = Profile::streaming();
        p.detectors = vec!["blackdetect".into(), "loudnessmeter".into()];
        let f = Findings {
            duration_s: 10.0,
            events: vec![found("freezedetect", 1.0, 9.0)],
            integrated: Some(-16.4),
            ..Findings::default()
        };
        let j = judge(&p, &f);
        let rules: Vec<&str> = j.iter().map(|j| j.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "black over 2 s outside the first and last 3 s",
                "integrated loudness -16 LUFS ± 1 LU",
                "true peak at most -1 dBTP"
            ]
        );
        assert!(j.iter().all(|j| j.pass));
    }
}
