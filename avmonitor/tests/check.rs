//! `avmonitor check`: the verdict, the exit status and the events on files
//! with known defects; a profile of one's own; missing and undecodable
//! files said clearly while the others are still checked.

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

/// Runs `avmonitor check ARGS`: exit status, stdout, stderr.
fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .output()
        .expect("avmonitor runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn json_file(p: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The rule of `file` whose text starts with `starts`.
fn rule<'a>(file: &'a Value, starts: &str) -> &'a Value {
    file["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"].as_str().unwrap().starts_with(starts))
        .unwrap_or_else(|| panic!("no rule {starts}: {}", file["rules"]))
}

#[test]
fn a_file_with_defects_fails_on_the_rules_it_breaks() {
    if !have(&["videotestsrc", "audiotestsrc"]) {
        return;
    }
    let json = config_file("demo1-check.json", "");
    // demo:1: clipped 2-2.5 s, black 4-7 s, frozen 10-14 s, silent 15-18 s
    let (code, out, err) = check(&["demo:1", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.starts_with("FAIL  demo:1"), "{out}");
    assert!(
        out.contains("FAIL  black over 2 s outside the first and last 1 s\n        00:00:04:00 4.000-7.000 s (3.0 s)"),
        "{out}"
    );
    let doc = json_file(&json);
    assert_eq!(doc["profile"], "broadcast");
    let f = &doc["files"][0];
    assert_eq!(f["verdict"], "fail");
    assert_eq!(f["frame-rate"], 25.0);
    assert!(
        (f["duration-s"].as_f64().unwrap() - 20.0).abs() < 0.2,
        "{}",
        f["duration-s"]
    );
    let events: Vec<(String, f64, f64)> = f["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["detector"].as_str().unwrap().to_string(),
                e["start-s"].as_f64().unwrap(),
                e["end-s"].as_f64().unwrap(),
            )
        })
        .collect();
    let has = |d: &str, s: f64, e: f64| {
        events
            .iter()
            .any(|(x, a, b)| x == d && (a - s).abs() < 0.05 && (b - e).abs() < 0.05)
    };
    assert!(has("clipdetect", 2.0, 2.5), "{events:?}");
    assert!(has("blackdetect", 4.0, 7.0), "{events:?}");
    assert!(has("freezedetect", 10.0, 14.0), "{events:?}");
    assert!(has("silencedetect", 15.0, 18.0), "{events:?}");
    // each failed rule names its events, by index
    for (starts, detector) in [
        ("black", "blackdetect"),
        ("freeze", "freezedetect"),
        ("silence", "silencedetect"),
        ("any clipping", "clipdetect"),
    ] {
        let r = rule(f, starts);
        assert_eq!(r["pass"], false, "{r}");
        let i = r["events"][0].as_u64().unwrap() as usize;
        assert_eq!(f["events"][i]["detector"], detector);
    }
    assert_eq!(rule(f, "any block corruption")["pass"], true);
    // the loudness judged on what the meter measured
    let loud = rule(f, "integrated loudness");
    assert_eq!(loud["value"], f["loudness"]["integrated-lufs"]);
    assert!(f["series"]["short-term-lufs"].as_array().unwrap().len() >= 15);
    // luma and freeze difference per frame (percent of the nominal range),
    // each point at the end of its frame
    let series = |k: &str| -> Vec<(f64, f64)> {
        f["series"][k]
            .as_array()
            .unwrap_or_else(|| panic!("no series {k}"))
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let at = |k: &str, t: f64| {
        series(k)
            .into_iter()
            .find(|p| (p.0 - t).abs() < 0.001)
            .unwrap_or_else(|| panic!("{k} has no point at {t}"))
            .1
    };
    assert_eq!(series("luma-mean").len(), 500);
    assert_eq!(series("luma-mean")[0].0, 0.04);
    assert!(at("luma-max", 5.52) < 1.0 && at("luma-mean", 5.52).abs() < 1.0);
    assert!(at("luma-mean", 8.52) > 10.0 && at("luma-max", 8.52) > 90.0);
    assert!(at("luma-min", 8.52) < at("luma-mean", 8.52));
    // frame 0 is compared with nothing
    assert_eq!(series("freeze-difference").len(), 499);
    assert_eq!(at("freeze-difference", 12.0), 0.0);
    assert!(at("freeze-difference", 9.0) > 2.0);
    // no progress bar when stderr is not a terminal
    assert!(!err.contains('['), "{err}");
}

/// demo:2's audio is 80 ms late: outside EBU R37's 60 ms, inside the
/// streaming profile's 80 ms; the offset and its confidence are series.
#[test]
fn a_late_audio_track_fails_broadcast_lip_sync() {
    if !have(&["videotestsrc", "audiotestsrc"]) {
        return;
    }
    let json = config_file("demo2-check.json", "");
    let (code, out, err) = check(&["demo:2", "--json", json.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    let doc = json_file(&json);
    let f = &doc["files"][0];
    let av = rule(f, "A/V offset");
    assert_eq!(av["pass"], false, "{av}");
    let offset = av["value"].as_f64().unwrap();
    assert!((offset - 80.0).abs() <= 5.0, "{av}");
    let confidence = f["series"]["av-confidence"].as_array().unwrap();
    assert!(!confidence.is_empty());
    assert!(confidence
        .iter()
        .all(|p| (0.0..=1.0).contains(&p[1].as_f64().unwrap())));
    assert!(!f["series"]["av-offset-ms"].as_array().unwrap().is_empty());
}

#[test]
fn a_profile_of_ones_own_and_a_clean_file_pass() {
    if !have(&["videotestsrc", "x264enc", "mp4mux", "avdec_h264", "qtdemux"]) {
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clean.mp4");
    let made = Command::new("gst-launch-1.0")
        .args([
            "-q",
            "videotestsrc",
            "num-buffers=75",
            "pattern=ball",
            "!",
            "video/x-raw,width=320,height=240,framerate=25/1",
            "!",
            "x264enc",
            "!",
            "mp4mux",
            "!",
            "filesink",
        ])
        .arg(format!("location={}", file.display()))
        .status()
        .unwrap();
    assert!(made.success());
    let conf = config_file(
        "check-profiles.toml",
        "[profile.picture]\ndetectors = [\"blackdetect\", \"freezedetect\", \"blockdetect\"]\nfreeze-max-ms = 1000\n",
    );
    let (code, out, err) = check(&[
        file.to_str().unwrap(),
        "--config",
        conf.to_str().unwrap(),
        "--profile",
        "picture",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("PASS  "), "{out}");
    assert!(out.contains("pass  freeze over 1 s"), "{out}");
    assert!(!out.contains("loudness"), "{out}");
    // an unknown profile, or a bad one, is a usage error
    let (code, _, err) = check(&[file.to_str().unwrap(), "--profile", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no profile \"nope\""), "{err}");
    let bad = config_file(
        "check-bad.toml",
        "[profile.x]\ndetectors = [\"blakdetect\"]\n",
    );
    let (code, _, err) = check(&[file.to_str().unwrap(), "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("profile.x.detectors: unknown detector \"blakdetect\""),
        "{err}"
    );
}

#[test]
fn missing_and_undecodable_files_are_errors_and_the_others_are_still_checked() {
    if !have(&["videotestsrc", "audiotestsrc"]) {
        return;
    }
    let junk = config_file("junk.mp4", "this is not a video file at all\n");
    let (code, out, err) = check(&[
        "/no/such/file.mp4",
        junk.to_str().unwrap(),
        "demo:1",
        "--profile",
        "streaming",
    ]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        out.contains("ERROR  /no/such/file.mp4  (0.0 s)\n  error: /no/such/file.mp4: no such file"),
        "{out}"
    );
    assert!(out.contains(&format!("ERROR  {}", junk.display())), "{out}");
    assert!(out.contains("FAIL  demo:1"), "{out}");
    let (code, _, err) = check(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("no file to check"), "{err}");
}

/// The URLs a page asked for (not chromium's own requests, which have no
/// origin, nor `file:` and `data:`), from a chromium net log.
fn page_requests(netlog: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(netlog).unwrap_or_default();
    let log: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .unwrap_or(Value::Null);
    let start = &log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"];
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == *start)
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| !u.starts_with("file:") && !u.starts_with("data:"))
        .map(String::from)
        .collect()
}

/// Chromium as Debian names it, if installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_report_renders_offline_in_a_real_browser() {
    if !have(&["videotestsrc", "audiotestsrc"]) {
        return;
    }
    let Some(browser) = chromium() else {
        panic!("chromium is needed for this test (scripts/setup.sh installs it)");
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.html");
    let (code, out, err) = check(&["demo:1", "demo:2", "--report", report.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}\n{err}");
    let html = std::fs::read_to_string(&report).unwrap();
    // self-contained: nothing to fetch, no script
    for outside in ["src=\"http", "href=\"http", "<script", "@import", "url("] {
        assert!(!html.contains(outside), "{outside} in the report");
    }
    // what the page asks of the network and says on the console, and its
    // DOM (or a screenshot, with `extra`)
    let browse = |page: &std::path::Path, extra: &[&str]| -> (String, Vec<String>, Vec<String>) {
        let netlog = dir.join("net.json");
        let out = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
                "--window-size=1200,2400",
                "--disable-background-networking",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("--log-net-log={}", netlog.display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let console = stderr
            .lines()
            .filter(|l| l.contains("CONSOLE"))
            .map(String::from)
            .collect();
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            console,
            page_requests(&netlog),
        )
    };
    // the test can fail: a page that fetches an image is caught
    let bad = dir.join("bad.html");
    std::fs::write(
        &bad,
        html.replacen("<body>", "<body><img src=\"http://127.0.0.1:9/x.png\">", 1),
    )
    .unwrap();
    let (_, console, requests) = browse(&bad, &["--dump-dom"]);
    assert!(
        !console.is_empty() || !requests.is_empty(),
        "a fetching page not caught"
    );
    let (dom, console, requests) = browse(&report, &["--dump-dom"]);
    assert!(console.is_empty(), "console: {console:#?}");
    assert!(requests.is_empty(), "requests: {requests:?}");
    // the verdicts, rules, event rows and charts are in the rendered page
    assert_eq!(
        dom.matches("class=\"file\"").count(),
        2,
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.matches("<tr class=\"event\">").count() >= 6);
    assert!(dom.matches("<tr class=\"rule\">").count() >= 16);
    assert!(dom.matches("<svg").count() >= 8);
    assert!(dom.contains("data:image/jpeg;base64,"));
    // a screenshot for a person to look at
    let png = dir.join("report.png");
    browse(&report, &[&format!("--screenshot={}", png.display())]);
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "no screenshot");
    eprintln!("report screenshot: {}", png.display());
}
