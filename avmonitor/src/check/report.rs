//! `avmonitor check --report out.html`: one self-contained page (no script,
//! no font, no request: charts are inline SVG drawn with `plotters`,
//! thumbnails inline JPEG, the page from a `minijinja` template). Per file:
//! the verdict and every rule at the top, the events with timecodes and
//! thumbnails, then charts on one shared time axis with the events shaded
//! on each. Each chart's series is reduced to at most [`MAX_POINTS`]
//! points, keeping each stretch's minimum and maximum, so a long file's
//! report stays light.

use plotters::prelude::*;
use serde::Serialize;

use super::profile::Profile;
use super::Checked;

/// Points kept per series at most.
pub const MAX_POINTS: usize = 2000;
/// Frames shown per file at most (those of its first events).
pub const MAX_THUMBNAILS: usize = 100;

const WIDTH: u32 = 1100;
const HEIGHT: u32 = 170;
/// Left margin of every chart, so that their time axes line up.
const Y_LABELS: u32 = 60;

/// `points` (time-ordered) reduced to at most `max` points: the span cut
/// into `max / 2` stretches of equal time, each kept as its minimum and
/// maximum in time order; fewer points are kept as they are.
pub fn reduce(points: &[[f64; 2]], max: usize) -> Vec<[f64; 2]> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let buckets = max / 2;
    let (t0, t1) = (points[0][0], points[points.len() - 1][0]);
    let span = (t1 - t0).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(max);
    let mut i = 0;
    for b in 0..buckets {
        let end = t0 + span * (b + 1) as f64 / buckets as f64;
        let start = i;
        while i < points.len() && (points[i][0] <= end || b == buckets - 1) {
            i += 1;
        }
        let bucket = &points[start..i];
        let (Some(lo), Some(hi)) = (
            bucket.iter().min_by(|a, b| a[1].total_cmp(&b[1])),
            bucket.iter().max_by(|a, b| a[1].total_cmp(&b[1])),
        ) else {
            continue;
        };
        if lo[0] <= hi[0] {
            out.push(*lo);
            if hi != lo {
                out.push(*hi);
            }
        } else {
            out.push(*hi);
            out.push(*lo);
        }
    }
    out
}

/// One line on a chart.
struct Line<'a> {
    name: String,
    points: &'a [[f64; 2]],
    color: RGBColor,
}

/// A band of acceptable values drawn behind a chart.
struct Band {
    lo: f64,
    hi: f64,
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// The shading colour of a detector's events.
fn shade(detector: &str) -> RGBColor {
    match detector {
        "blackdetect" => RGBColor(60, 60, 60),
        "freezedetect" => RGBColor(31, 119, 180),
        "blockdetect" => RGBColor(214, 39, 40),
        "areadetect" => RGBColor(44, 160, 44),
        "cadencedetect" => RGBColor(227, 119, 194),
        "levelsdetect" => RGBColor(23, 190, 207),
        "patterndetect" => RGBColor(140, 86, 75),
        "silencedetect" => RGBColor(148, 103, 189),
        "clipdetect" => RGBColor(255, 127, 14),
        "loudnessmeter" => RGBColor(188, 189, 34),
        _ => RGBColor(127, 127, 127),
    }
}

/// One chart as SVG: `lines` over `0..duration` s, the band behind, the
/// events of `c` shaded.
fn chart(title: &str, unit: &str, c: &Checked, lines: &[Line], band: Option<Band>) -> String {
    let mut svg = String::new();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for l in lines {
        for p in l.points {
            lo = lo.min(p[1]);
            hi = hi.max(p[1]);
        }
    }
    if let Some(b) = &band {
        lo = lo.min(b.lo);
        hi = hi.max(b.hi);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return svg;
    }
    let pad = ((hi - lo) * 0.08).max(0.5);
    let (lo, hi) = (lo - pad, hi + pad);
    let end = c.duration_s.max(0.001);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut ch) = ChartBuilder::on(&root)
            .margin(6)
            .caption(format!("{title} ({unit})"), ("sans-serif", 13))
            .x_label_area_size(22)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(0f64..end, lo..hi)
        else {
            return String::new();
        };
        let _ = ch
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|t| super::timecode(*t, 1.0)[..8].to_string())
            .draw();
        for e in &c.events {
            let col = shade(e.detector);
            let to = if e.end_s > e.start_s {
                e.end_s
            } else {
                e.start_s + end / 500.0
            };
            let _ = ch.draw_series(std::iter::once(Rectangle::new(
                [(e.start_s, lo), (to, hi)],
                col.mix(0.18).filled(),
            )));
        }
        if let Some(b) = band {
            let _ = ch.draw_series(std::iter::once(Rectangle::new(
                [(0.0, b.lo), (end, b.hi)],
                RGBColor(44, 160, 44).mix(0.12).filled(),
            )));
        }
        for l in lines {
            let color = l.color;
            if let Ok(s) = ch.draw_series(LineSeries::new(
                l.points.iter().map(|p| (p[0], p[1])),
                color.stroke_width(1),
            )) {
                s.label(l.name.clone()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                });
            }
        }
        let _ = ch
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 11))
            .draw();
        let _ = root.present();
    }
    svg
}

/// Every chart the file's series allow, in a fixed order.
fn charts(c: &Checked, p: &Profile) -> Vec<String> {
    let reduced: std::collections::BTreeMap<&str, Vec<[f64; 2]>> = c
        .series
        .iter()
        .map(|(k, v)| (k.as_str(), reduce(v, MAX_POINTS)))
        .collect();
    let get = |name: &str| reduced.get(name).map(Vec::as_slice).unwrap_or(&[]);
    let lines = |names: &[(&str, &str)]| -> Vec<Line> {
        names
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| !get(k).is_empty())
            .map(|(i, (k, label))| Line {
                name: label.to_string(),
                points: get(k),
                color: COLORS[i % COLORS.len()],
            })
            .collect()
    };
    let mut out = Vec::new();
    let mut push = |title: &str, unit: &str, l: Vec<Line>, band: Option<Band>| {
        if !l.is_empty() {
            out.push(chart(title, unit, c, &l, band));
        }
    };
    push(
        "Luma per frame",
        "% of nominal range (0 = black, 100 = white)",
        lines(&[
            ("luma-min", "minimum"),
            ("luma-mean", "mean"),
            ("luma-max", "maximum"),
        ]),
        None,
    );
    push(
        "Freeze difference per frame (freezes shaded)",
        "% of nominal luma range",
        lines(&[("freeze-difference", "difference")]),
        None,
    );
    push(
        "Blockiness (block corruption shaded)",
        "ratio",
        lines(&[
            ("blockiness", "blockiness"),
            ("corrupted-frames", "corrupted frames"),
        ]),
        None,
    );
    push(
        "Loudness",
        "LUFS",
        lines(&[
            ("momentary-lufs", "momentary"),
            ("short-term-lufs", "short-term"),
        ]),
        p.loudness_target.map(|t| Band {
            lo: t - p.loudness_tolerance,
            hi: t + p.loudness_tolerance,
        }),
    );
    push(
        "True peak",
        "dBTP",
        lines(&[("true-peak-dbtp", "true peak")]),
        p.true_peak_max.map(|m| Band {
            lo: -60f64.min(m - 20.0),
            hi: m,
        }),
    );
    let mut levels: Vec<(&str, String)> = reduced
        .keys()
        .filter(|k| k.starts_with("peak-db-ch"))
        .map(|k| (*k, format!("channel {}", &k["peak-db-ch".len()..])))
        .collect();
    levels.sort_by_key(|(k, _)| k["peak-db-ch".len()..].parse::<u32>().unwrap_or(0));
    let names: Vec<(&str, &str)> = levels.iter().map(|(k, l)| (*k, l.as_str())).collect();
    push(
        "Level per channel (silence and clipping shaded)",
        "dBFS sample peak",
        lines(&names),
        None,
    );
    push(
        "A/V offset (positive: audio late)",
        "ms",
        lines(&[("av-offset-ms", "offset")]),
        match (p.av_offset_min_ms, p.av_offset_max_ms) {
            (Some(lo), Some(hi)) => Some(Band { lo, hi }),
            _ => None,
        },
    );
    // (a file with no offset found has nothing behind its confidences)
    let offsets = !get("av-offset-ms").is_empty();
    push(
        "A/V offset confidence",
        "0 to 1",
        if offsets {
            lines(&[("av-confidence", "confidence")])
        } else {
            Vec::new()
        },
        None,
    );
    out
}

#[derive(Serialize)]
struct FilePage<'a> {
    input: &'a str,
    verdict: &'a str,
    error: Option<&'a str>,
    duration: String,
    rules: Vec<RuleRow>,
    events: Vec<EventRow>,
    charts: Vec<String>,
    legend: Vec<(String, String)>,
}

#[derive(Serialize)]
struct RuleRow {
    rule: String,
    pass: bool,
    value: String,
    events: String,
}

#[derive(Serialize)]
struct EventRow {
    timecode: String,
    start: String,
    duration: String,
    detector: String,
    details: String,
    thumbnail: Option<String>,
}

const TEMPLATE: &str = include_str!("report.html");

/// The whole report.
pub fn html(profile_name: &str, profile: &Profile, files: &[Checked]) -> Result<String, String> {
    let pages: Vec<FilePage> = files
        .iter()
        .map(|c| FilePage {
            input: &c.input,
            verdict: c.verdict,
            error: c.error.as_deref(),
            duration: format!(
                "{} ({:.1} s)",
                super::timecode(c.duration_s, c.frame_rate.unwrap_or(25.0)),
                c.duration_s
            ),
            rules: c
                .rules
                .iter()
                .map(|r| RuleRow {
                    rule: r.rule.clone(),
                    pass: r.pass,
                    value: r.value.map_or(String::new(), |v| format!("{v:.1}")),
                    events: r
                        .events
                        .iter()
                        .filter_map(|i| c.events.get(*i))
                        .map(|e| e.timecode.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            events: c
                .events
                .iter()
                .map(|e| EventRow {
                    timecode: e.timecode.clone(),
                    start: format!("{:.3}", e.start_s),
                    duration: format!(
                        "{:.3}{}",
                        e.duration_s,
                        if e.open_at_end { " (to the end)" } else { "" }
                    ),
                    detector: e.detector.to_string(),
                    details: details(&e.details),
                    thumbnail: e.thumbnail.clone(),
                })
                .collect(),
            charts: charts(c, profile),
            legend: c
                .events
                .iter()
                .map(|e| e.detector)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|d| {
                    let RGBColor(r, g, b) = shade(d);
                    (d.to_string(), format!("rgba({r},{g},{b},0.35)"))
                })
                .collect(),
        })
        .collect();
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let t = env.get_template("report.html").map_err(|e| e.to_string())?;
    t.render(minijinja::context! {
        profile => profile_name,
        files => pages,
        passed => files.iter().filter(|c| c.verdict == "pass").count(),
        total => files.len(),
    })
    .map_err(|e| e.to_string())
}

/// A detector's fields in a line: `name value` pairs.
fn details(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(f) if n.is_f64() => format!("{k} {f:.3}"),
                    _ => format!("{k} {n}"),
                },
                serde_json::Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_every_stretchs_minimum_and_maximum() {
        // 2 hours at 25 fps: a slow wave, one dip and one spike
        let mut points: Vec<[f64; 2]> = (0..180_000)
            .map(|i| {
                let t = i as f64 / 25.0;
                [t, (t / 60.0).sin() * 10.0]
            })
            .collect();
        points[12_345][1] = -500.0;
        points[170_001][1] = 900.0;
        let r = reduce(&points, MAX_POINTS);
        assert!(r.len() <= MAX_POINTS, "{}", r.len());
        assert!(r.len() >= MAX_POINTS - 4, "{}", r.len());
        assert!(r.contains(&points[12_345]));
        assert!(r.contains(&points[170_001]));
        assert!(r.windows(2).all(|w| w[0][0] <= w[1][0]), "time order");
        let (lo, hi) = r
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
        assert_eq!((lo, hi), (-500.0, 900.0));
        // short series as they are
        assert_eq!(reduce(&points[..100], MAX_POINTS), points[..100].to_vec());
    }

    #[test]
    fn a_two_hour_files_report_stays_under_5_mb() {
        let frames = 2 * 3600 * 25;
        let per = |n: usize, step: f64, f: &dyn Fn(f64) -> f64| -> Vec<[f64; 2]> {
            (0..n)
                .map(|i| [i as f64 * step, f(i as f64 * step)])
                .collect()
        };
        let mut series = std::collections::BTreeMap::new();
        for (name, n, step) in [
            ("luma-min", frames, 0.04),
            ("luma-mean", frames, 0.04),
            ("luma-max", frames, 0.04),
            ("freeze-difference", frames, 0.04),
            ("blockiness", 7200, 1.0),
            ("momentary-lufs", 72_000, 0.1),
            ("short-term-lufs", 72_000, 0.1),
            ("true-peak-dbtp", 72_000, 0.1),
            ("peak-db-ch1", 72_000, 0.1),
            ("peak-db-ch2", 72_000, 0.1),
            ("av-offset-ms", 7200, 1.0),
            ("av-confidence", 7200, 1.0),
        ] {
            series.insert(
                name.to_string(),
                per(n, step, &|t| (t * 0.37).sin() * 20.0 - 23.0),
            );
        }
        // 300 events, frames for the first 100 (8 KB JPEGs)
        let jpeg = format!("data:image/jpeg;base64,{}", "A".repeat(8 * 1024 * 4 / 3));
        let events = (0..300)
            .map(|i| super::super::Event {
                detector: "blackdetect",
                start_s: i as f64 * 24.0,
                end_s: i as f64 * 24.0 + 3.0,
                duration_s: 3.0,
                timecode: super::super::timecode(i as f64 * 24.0, 25.0),
                open_at_end: false,
                details: serde_json::json!({"black-ratio": 1.0, "mean-luma": 16.0}),
                thumbnail: (i < MAX_THUMBNAILS).then(|| jpeg.clone()),
            })
            .collect();
        let c = Checked {
            input: "two-hours.mp4".into(),
            verdict: "fail",
            error: None,
            duration_s: 7200.0,
            frame_rate: Some(25.0),
            rules: crate::check::profile::judge(&Profile::broadcast(), &Default::default()),
            events,
            loudness: Default::default(),
            series,
        };
        let page = html("broadcast", &Profile::broadcast(), &[c]).unwrap();
        eprintln!("a two-hour file's report: {} bytes", page.len());
        assert!(page.len() < 5 << 20, "{} bytes", page.len());
        assert_eq!(page.matches("<svg").count(), 8);
    }
}
