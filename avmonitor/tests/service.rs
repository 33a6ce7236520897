//! The avmonitor binary, run as a user runs it: its events on stdout, its
//! metrics over HTTP, a bad configuration refused, a live UDP source that
//! the test stops and starts again (stream-down, restart, stream-up) beside
//! a stream that must not notice, SIGTERM, and a file that lost an H.264
//! slice.

#[path = "../../tests/common/mod.rs"]
mod common;

mod support;

use std::io::{BufRead, BufReader, Read, Write};

use gst::prelude::*;
use std::process::Command;
use std::time::Duration;
use support::*;

#[test]
fn a_bad_configuration_is_refused_naming_the_key() {
    let p = config_file(
        "bad.toml",
        "[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n[stream.properties.blackdetect]\nratio = 3.0\n",
    );
    let out = Command::new(BIN)
        .args(["--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("properties.blackdetect.ratio") && err.contains("3.0 is not a valid"),
        "{err}"
    );
    let out = Command::new(BIN).arg("--colour").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

/// The event file after a crash and under log rotation: a half line left
/// at its end (a process killed while writing, or a full disk) is cut off
/// on start; moved away while the service runs, a new file is made at the
/// path at the next line; no line is lost or written twice, and every line
/// of both files is JSON.
#[test]
fn the_event_file_survives_a_half_line_and_rotation() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-rotate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("events.jsonl");
    let before = r#"{"stream":"earlier","detector":"avmonitor","event":"stream-ended"}"#;
    std::fs::write(&log, format!("{before}\n{{\"stream\":\"earlier\",\"detec")).unwrap();
    let conf = config_file(
        "rotate.toml",
        &format!(
            r#"
            [output]
            file = "{}"
            [http]
            enabled = false
            [[stream]]
            id = "bars"
            uri = "demo:1"
            realtime = true
            detectors = ["blackdetect", "freezedetect"]
            "#,
            log.display()
        ),
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    // black at 4 s; moved away (logrotate's rename); the freeze at 10 s
    svc.wait_for(&["blackdetect", "\"event\":\"start\""], 20);
    let rotated = dir.join("events.jsonl.1");
    std::fs::rename(&log, &rotated).unwrap();
    svc.wait_for(&["freezedetect", "\"event\":\"start\""], 20);
    let err = svc.stderr();
    assert!(
        err.contains("cut off a half line at its end (26 bytes)"),
        "{err}"
    );
    let (code, stdout) = svc.stop("-INT");
    assert_eq!(code, 0);
    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&log).unwrap();
    for (name, text) in [("rotated", &old), ("new", &new)] {
        assert!(text.ends_with('\n'), "{name}: {text}");
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("{name}: {e}: {l}"));
        }
    }
    // the line before the crash kept, the half line gone
    assert_eq!(old.lines().next(), Some(before));
    assert!(!old.contains(r#""detec""#) && !old.contains("\"detec\n"));
    // the lines of both files are stdout's lines, each once, in order
    let written: Vec<&str> = old.lines().skip(1).chain(new.lines()).collect();
    let printed: Vec<&str> = stdout
        .iter()
        .map(|l| l.as_str())
        .filter(|l| l.starts_with('{'))
        .collect();
    assert_eq!(written, printed);
    assert!(old.contains("blackdetect") && new.contains("freezedetect"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGKILL while events are being written, ten times over, the service
/// started again on the same file each time: the file stays JSON Lines
/// (every line whole, ending in a newline) and every line there when the
/// process died is still there, in order, after the next start.
#[test]
fn a_kill_while_writing_leaves_whole_lines_and_loses_none() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("events.jsonl");
    // four generated streams at full speed with measurements: hundreds of
    // lines a second
    let streams: String = (1..=4)
        .map(|i| {
            format!(
                "[[stream]]\nid = \"s{i}\"\nuri = \"demo:{}\"\nrealtime = false\n\
                 detectors = [\"blackdetect\", \"freezedetect\", \"loudnessmeter\"]\n",
                1 + i % 3
            )
        })
        .collect();
    let conf = config_file(
        "kill.toml",
        &format!(
            "[output]\nstdout = false\nmeasurements = true\nfile = \"{}\"\n[http]\nenabled = false\n{streams}",
            log.display()
        ),
    );
    // until the file holds 20 kB more than `kept`
    let written = |kept: &str| {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::fs::metadata(&log).map_or(0, |m| m.len()) < kept.len() as u64 + 20_000 {
            assert!(std::time::Instant::now() < end, "nothing written");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let mut kept = String::new();
    let mut half_lines_cut = 0;
    for round in 0..10u64 {
        let svc = Service::start(&["--config", conf.to_str().unwrap()]);
        // wait until this round has written, then kill at an odd moment
        written(&kept);
        std::thread::sleep(std::time::Duration::from_millis(round * 7 % 50));
        let err = svc.stderr();
        half_lines_cut += err.matches("cut off a half line").count();
        let (code, _) = svc.stop("-KILL");
        assert_eq!(code, -1, "round {round}: killed, not exited");
        let text = std::fs::read_to_string(&log).unwrap();
        // what the last round left (a half line at its end cut on start)
        // is still at the head of the file
        assert!(text.starts_with(&kept), "round {round}: lines were lost");
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        for l in whole.lines() {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("round {round}: {e}: {l}"));
        }
        kept = whole.to_string();
    }
    // a last start and a clean stop: the file ends whole
    let svc = Service::start(&["--config", conf.to_str().unwrap()]);
    written(&kept);
    let (code, _) = svc.stop("-INT");
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with(&kept) && text.ends_with('\n'));
    let lines = text.lines().count();
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    eprintln!("{lines} lines after 10 kills, {half_lines_cut} half lines cut on start");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The event file's filesystem fills up (a 64 KiB tmpfs the test mounts,
/// nearly full): the media goes on, the lines that do not fit are lost and
/// said once, and the file keeps every line written before, whole, ending
/// on a newline. Needs root to mount; skipped otherwise.
#[test]
fn a_full_disk_loses_lines_but_never_half_a_line() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs (needs root)");
        let _ = std::fs::remove_dir(&dir);
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _unmount = Unmount(dir.clone());
    // all but one 4 KiB page taken (the two streams print about 6 kB)
    std::fs::write(dir.join("filler"), vec![0u8; 60 * 1024]).unwrap();
    let log = dir.join("events.jsonl");
    let p = config_file(
        "full.toml",
        &format!(
            r#"
            [output]
            file = "{}"
            [http]
            enabled = false
            [[stream]]
            id = "a"
            uri = "demo:1"
            realtime = false
            [[stream]]
            id = "b"
            uri = "demo:1"
            realtime = false
            "#,
            log.display()
        ),
    );
    let out = Command::new(BIN)
        .args(["--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let printed: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with('{'))
        .collect();
    let text = std::fs::read_to_string(&log).unwrap();
    let written: Vec<&str> = text.lines().collect();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    for l in &written {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    // some lines fit, not all (a shorter one may fit after a longer one
    // did not); those that fit are printed lines, whole, in their order
    assert!(
        !written.is_empty() && written.len() < printed.len(),
        "{} of {}",
        written.len(),
        printed.len()
    );
    let mut rest = printed.iter();
    for w in &written {
        assert!(rest.any(|p| p == w), "not printed, or out of order: {w}");
    }
    // the media went on: both streams to their end
    assert_eq!(
        printed
            .iter()
            .filter(|l| l.contains("stream-ended"))
            .count(),
        2
    );
    // said once
    assert_eq!(
        err.matches("cannot write to the event file").count(),
        1,
        "{err}"
    );
    println!(
        "full disk: {} of {} lines written, the rest counted",
        written.len(),
        printed.len()
    );
}

/// A `loop` stream plays its file again from the start at each end, as a
/// new pipeline: a `stream-looped` event counts the ends, and the defect
/// in the file is found once a loop, ended with reason eos at the loop.
#[test]
fn a_looped_file_plays_again_and_its_defects_come_each_time() {
    if !have(&["x264enc", "mp4mux"]) {
        return;
    }
    let path = make_file(
        "loop.mp4",
        "videotestsrc num-buffers=75 pattern=black \
         ! video/x-raw,width=160,height=120,framerate=25/1 ! x264enc speed-preset=faster \
         ! mp4mux ! filesink location={path}",
    );
    let mut svc = serve_file("loop", &path, r#"["blackdetect"]"#, "loop = true");
    for n in 1..=3 {
        let l = svc.wait_for(&["\"stream\":\"file\"", "stream-looped"], 20);
        assert!(l.contains(&format!("\"loops\":{n}")), "{l}");
    }
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    let black = |e: &str| {
        lines
            .iter()
            .take_while(|l| !l.contains("\"loops\":3"))
            .filter(|l| l.contains("blackdetect") && l.contains(e))
            .count()
    };
    // before the third end: three loops, a start and an end (eos) in each
    assert_eq!(black("\"event\":\"start\""), 3, "{lines:?}");
    assert_eq!(black("\"reason\":\"eos\""), 3, "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("stream-ended")));
}

/// The demo streams as fast as they decode: each defect once, a freeze
/// during black reported as black only, the failing stream restarted, an
/// alarm rule, and an unwritable event file that costs nothing but lines.
#[test]
fn demo_streams_events_and_restart() {
    let p = config_file(
        "demo.toml",
        r#"
        [output]
        file = "/proc/avmonitor-cannot-write-here/events.jsonl"
        [http]
        enabled = false
        [restart]
        initial-ms = 200
        [[stream]]
        id = "bars"
        uri = "demo:1"
        realtime = false
        [[stream]]
        id = "sync"
        uri = "demo:2"
        realtime = false
        detectors = ["avsyncdetect"]
        [[stream]]
        id = "failing"
        uri = "demo:3"
        realtime = false
        detectors = ["blackdetect"]
        [[alarm]]
        name = "black"
        detector = "blackdetect"
        severity = "critical"
        "#,
    );
    let out = Command::new(BIN)
        .args(["--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("cannot open event file"), "{err}");
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let count = |parts: &[&str]| {
        lines
            .iter()
            .filter(|l| parts.iter().all(|p| l.contains(p)))
            .count()
    };
    let all = lines.join("\n");
    for det in ["blackdetect", "freezedetect", "silencedetect", "clipdetect"] {
        assert_eq!(
            count(&[
                "\"stream\":\"bars\"",
                &format!("\"detector\":\"{det}\""),
                "\"event\":\"start\""
            ]),
            1,
            "{det}:\n{all}"
        );
    }
    // frozen 10-14 s only: the black (also frozen) 4-7 s is not a freeze
    assert!(all.contains("\"detector\":\"freezedetect\",\"utc\""));
    let freeze = lines
        .iter()
        .find(|l| l.contains("freezedetect") && l.contains("\"start\""))
        .unwrap();
    assert!(freeze.contains("\"timestamp\":10000000000"), "{freeze}");
    assert_eq!(
        count(&[
            "\"stream\":\"bars\"",
            "\"event\":\"alarm\"",
            "\"severity\":\"critical\""
        ]),
        1,
        "{all}"
    );
    // audio 80 ms late
    let sync = lines
        .iter()
        .find(|l| l.contains("\"stream\":\"sync\"") && l.contains("\"alarm\":\"offset\""))
        .unwrap_or_else(|| panic!("{all}"));
    assert!(sync.contains("\"offset-ms\":80.06"), "{sync}");
    // the failing stream: down once, up again, then to its end
    assert_eq!(
        count(&["\"stream\":\"failing\"", "stream-down"]),
        1,
        "{all}"
    );
    assert_eq!(
        count(&["\"stream\":\"failing\"", "\"restarted\":true"]),
        1,
        "{all}"
    );
    for id in ["bars", "sync", "failing"] {
        assert_eq!(count(&[&format!("\"stream\":\"{id}\""), "stream-ended"]), 1);
    }
    assert_eq!(count(&["\"stream\":\"bars\"", "stream-down"]), 0);
}

/// A live MPEG-TS over UDP stream that the test stops and starts: the
/// service reports it down, restarts it with backoff, reports it up; a
/// second stream beside it carries on untouched; metrics and health over
/// HTTP; SIGTERM ends open defects with reason shutdown and exits 0.
#[test]
fn a_live_udp_source_goes_down_and_comes_back() {
    if !have(&[
        "x264enc",
        "mpegtsmux",
        "tsdemux",
        "avdec_h264",
        "udpsink",
        "udpsrc",
    ]) {
        return;
    }
    let port = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let sender = || {
        let p = gst::parse::launch(&format!(
            "videotestsrc is-live=true pattern=black ! video/x-raw,width=320,height=180,framerate=25/1 \
             ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! mpegtsmux alignment=7 \
             ! udpsink host=127.0.0.1 port={port} sync=true"
        ))
        .unwrap();
        p.set_state(gst::State::Playing).unwrap();
        p
    };
    let p = config_file(
        "udp.toml",
        &format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [restart]
            initial-ms = 300
            no-media-ms = 1500
            [[stream]]
            id = "udp"
            uri = "udp://127.0.0.1:{port}"
            detectors = ["blackdetect", "avsyncdetect"]
            [stream.properties.blackdetect]
            min-duration = 500000000
            [[stream]]
            id = "beside"
            uri = "demo:1"
            detectors = ["freezedetect"]
            "#
        ),
    );
    let tx = sender();
    let mut svc = Service::start(&["--config", p.to_str().unwrap()]);
    let addr = svc.http_addr();
    svc.wait_for(&["\"stream\":\"udp\"", "stream-up", "\"live\":true"], 20);
    svc.wait_for(
        &["\"stream\":\"udp\"", "blackdetect", "\"event\":\"start\""],
        10,
    );
    // longer than avsyncdetect's stall-timeout (the source has no sound)
    std::thread::sleep(Duration::from_millis(2500));
    let (code, body) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(metric(&body, "avmonitor_stream_up{stream=\"udp\"}"), 1.0);
    assert_eq!(
        metric(
            &body,
            "avmonitor_defect_active{stream=\"udp\",detector=\"blackdetect\"}"
        ),
        1.0
    );
    let beside_before = metric(&body, "avmonitor_frames_total{stream=\"beside\"}");
    assert_eq!(get(&addr, "/health").0, 200);
    // the sender stops: down, the open black ends with it
    tx.set_state(gst::State::Null).unwrap();
    svc.wait_for(
        &[
            "\"stream\":\"udp\"",
            "blackdetect",
            "\"reason\":\"stream-down\"",
        ],
        10,
    );
    // (the event, not an end the service writes for it: a transport error
    // tsmonitor had open also ends with reason stream-down)
    let down = svc.wait_for(&["\"stream\":\"udp\"", "\"event\":\"stream-down\""], 10);
    assert!(down.contains("no media for 1500 ms"), "{down}");
    let (_, body) = get(&addr, "/metrics");
    assert_eq!(metric(&body, "avmonitor_stream_up{stream=\"udp\"}"), 0.0);
    // still nothing after the restart: down again, the wait doubled
    let again = svc.wait_for(&["\"stream\":\"udp\"", "\"event\":\"stream-down\""], 10);
    assert!(again.contains("\"restart-in-ms\":600"), "{again}");
    // back: restarted, up again
    let tx = sender();
    svc.wait_for(
        &["\"stream\":\"udp\"", "stream-up", "\"restarted\":true"],
        30,
    );
    let (_, body) = get(&addr, "/metrics");
    assert!(metric(&body, "avmonitor_restarts_total{stream=\"udp\"}") >= 1.0);
    assert_eq!(metric(&body, "avmonitor_stream_up{stream=\"udp\"}"), 1.0);
    // the stream beside it went on all along
    assert!(metric(&body, "avmonitor_frames_total{stream=\"beside\"}") > beside_before);
    assert_eq!(
        metric(&body, "avmonitor_restarts_total{stream=\"beside\"}"),
        0.0
    );
    svc.wait_for(
        &["\"stream\":\"udp\"", "blackdetect", "\"event\":\"start\""],
        10,
    );
    let (code, lines) = svc.stop("-TERM");
    tx.set_state(gst::State::Null).unwrap();
    assert_eq!(code, 0);
    let all = lines.join("\n");
    assert!(
        lines.iter().any(|l| l.contains("\"stream\":\"udp\"")
            && l.contains("blackdetect")
            && l.contains("\"reason\":\"shutdown\"")),
        "{all}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("\"stream\":\"beside\"") && l.contains("stream-down")),
        "{all}"
    );
    // the source has no sound: avsyncdetect does not take that for a stall
    assert!(!all.contains("\"alarm\":\"stall\""), "{all}");
}

/// A local HTTP receiver: answers 500 to the first POST, 200 after; the
/// bodies it took.
fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let g = got.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            if n > 0 {
                g.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}

#[test]
fn events_are_delivered_to_a_webhook_with_retries_and_thumbnails_saved() {
    let (url, got) = receiver();
    let dir = std::env::temp_dir().join(format!("avmonitor-thumbs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("events.jsonl");
    let p = config_file(
        "hook.toml",
        &format!(
            r#"
            [output]
            file = "{log}"
            thumbnails = true
            [http]
            enabled = false
            [webhook]
            url = "{url}"
            events = ["start", "end"]
            [[stream]]
            id = "bars"
            uri = "demo:1"
            realtime = false
            detectors = ["blackdetect"]
            "#,
            log = log.display()
        ),
    );
    let out = Command::new(BIN)
        .args(["--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = got.lock().unwrap().clone();
    // the start failed once (500) and was sent again; then the end
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].contains("\"detector\":\"blackdetect\"") && got[0].contains("\"event\":\"start\""),
        "{got:?}"
    );
    assert!(got[1].contains("\"event\":\"end\""), "{got:?}");
    // the event file has the same lines; the start names its thumbnail,
    // a JPEG beside the file
    let lines = std::fs::read_to_string(&log).unwrap();
    let start = lines
        .lines()
        .find(|l| l.contains("blackdetect") && l.contains("\"start\""))
        .unwrap_or_else(|| panic!("{lines}"));
    let name = start
        .split("\"thumbnail\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("{start}"));
    let jpeg = std::fs::read(dir.join(name)).unwrap();
    assert_eq!(&jpeg[..3], &[0xff, 0xd8, 0xff], "a JPEG");
    assert!(jpeg.len() > 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A webhook receiver that takes the connection and never answers: the
/// media runs at full speed all the same (every event on the event lines,
/// the stream to its end), what the webhook could not take is counted as
/// failed or dropped, and the service still stops promptly (a second,
/// real-time stream keeps it running to be asked for its metrics).
#[test]
fn a_webhook_that_hangs_stalls_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let held: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>> = Default::default();
    let h = held.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            h.lock().unwrap().push(conn);
        }
    });
    let p = config_file(
        "hang.toml",
        &format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [webhook]
            url = "{url}"
            timeout-ms = 300
            retries = 0
            queue = 2
            [[stream]]
            id = "bars"
            uri = "demo:1"
            realtime = false
            [[stream]]
            id = "live"
            uri = "demo:1"
            realtime = true
            detectors = ["blackdetect"]
            "#
        ),
    );
    let t0 = std::time::Instant::now();
    let mut svc = Service::start(&["--config", p.to_str().unwrap()]);
    let addr = svc.http_addr();
    svc.wait_for(&["\"stream\":\"bars\"", "stream-ended"], 30);
    let ran = t0.elapsed();
    // (past the first request's 300 ms timeout)
    std::thread::sleep(Duration::from_millis(1000));
    let (_, body) = get(&addr, "/metrics");
    let sent = metric(&body, "avmonitor_webhook_sent_total");
    let failed = metric(&body, "avmonitor_webhook_failed_total");
    let dropped = metric(&body, "avmonitor_webhook_dropped_total");
    let t1 = std::time::Instant::now();
    let (code, lines) = svc.stop("-INT");
    let stopping = t1.elapsed();
    assert_eq!(code, 0);
    let starts = lines
        .iter()
        .filter(|l| l.contains("\"event\":\"start\""))
        .count();
    let ends = lines
        .iter()
        .filter(|l| l.contains("\"event\":\"end\""))
        .count();
    assert_eq!((starts, ends), (5, 5), "{lines:?}");
    assert_eq!(sent, 0.0);
    assert!(
        failed >= 1.0 && dropped >= 1.0,
        "failed {failed}, dropped {dropped}"
    );
    assert!(!held.lock().unwrap().is_empty(), "the webhook was called");
    println!(
        "hanging webhook: the demo ran in {} ms, {failed} failed, {dropped} dropped, stopped in {} ms",
        ran.as_millis(),
        stopping.as_millis()
    );
    // (the 18 s demo, decoded as fast as it goes, and a stop that waits
    // at most 3 s for the webhook)
    assert!(ran < Duration::from_secs(15), "{ran:?}");
    assert!(stopping < Duration::from_secs(8), "{stopping:?}");
}

/// A stream that cannot even be built (a missing file) keeps being retried,
/// with the backoff growing, and never stops the others.
#[test]
fn a_missing_file_is_retried_with_growing_backoff() {
    let p = config_file(
        "missing.toml",
        r#"
        [http]
        enabled = false
        [restart]
        initial-ms = 100
        max-ms = 400
        [[stream]]
        id = "gone"
        uri = "/nonexistent/avmonitor/test.mp4"
        [[stream]]
        id = "bars"
        uri = "demo:1"
        detectors = ["blackdetect"]
        "#,
    );
    let mut svc = Service::start(&["--config", p.to_str().unwrap()]);
    let waits: Vec<String> = (0..4)
        .map(|_| {
            let l = svc.wait_for(&["\"stream\":\"gone\"", "stream-down"], 10);
            l.split("\"restart-in-ms\":")
                .nth(1)
                .unwrap()
                .trim_end_matches('}')
                .to_string()
        })
        .collect();
    assert_eq!(waits, ["100", "200", "400", "400"]);
    if !svc.saw(&["\"stream\":\"bars\"", "stream-up"]) {
        svc.wait_for(&["\"stream\":\"bars\"", "stream-up"], 10);
    }
    let (code, _) = svc.stop("-INT");
    assert_eq!(code, 0);
}

/// A file whose H.264 lost a slice: uridecodebin plugs the parser and the
/// decoder itself, so the service does slicecheck's work on the parser it
/// plugged, and blockdetect reports the loss with `bitstream` evidence from
/// that frame on.
#[test]
fn a_lost_slice_in_a_file_is_reported_with_bitstream_evidence() {
    if !have(&["x264enc", "mpegtsmux", "tsdemux", "h264parse", "avdec_h264"]) {
        return;
    }
    let path = std::env::temp_dir().join(format!("avmonitor-lost-slice-{}.ts", std::process::id()));
    let p = gst::parse::launch(&format!(
        "videotestsrc num-buffers=75 pattern=ball ! video/x-raw,format=I420,width=320,height=192,framerate=25/1 \
         ! x264enc speed-preset=faster threads=1 key-int-max=25 bframes=0 option-string=slices=4 \
         ! video/x-h264,stream-format=byte-stream,alignment=au ! identity name=inject ! h264parse \
         ! mpegtsmux ! filesink location={}",
        path.display()
    ))
    .unwrap();
    // the third slice of the 36th frame (at 1.4 s) never arrives
    let lost = common::lose_slice(&p, "inject", 35, 2, false);
    play_to_end(&p);
    assert!(lost.lock().unwrap().is_some(), "no slice taken");
    let conf = config_file(
        "lost-slice.toml",
        &format!(
            r#"
            [http]
            enabled = false
            [[stream]]
            id = "file"
            uri = "{}"
            detectors = ["blockdetect"]
            "#,
            path.display()
        ),
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let start = svc.wait_for(
        &["\"stream\":\"file\"", "blockdetect", "\"event\":\"start\""],
        20,
    );
    svc.wait_for(
        &["\"stream\":\"file\"", "blockdetect", "\"event\":\"end\""],
        20,
    );
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    assert!(start.contains("bitstream"), "{start}");
    // one corruption, from the lost frame to the key frame at 2 s
    let starts: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("blockdetect") && l.contains("\"event\":\"start\""))
        .collect();
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert!(start.contains("\"running-time\":1400000000"), "{start}");
}

/// The broadcast preset runs areadetect: a letterbox that appears in a
/// file for two seconds is an event with its area, and the area is a
/// metric while it lasts.
#[test]
fn the_broadcast_preset_reports_a_changed_active_area() {
    if !have(&["x264enc", "mp4mux", "videobox"]) {
        return;
    }
    let path = std::env::temp_dir().join(format!("avmonitor-area-{}.mp4", std::process::id()));
    let p = gst::parse::launch(&format!(
        "videotestsrc num-buffers=125 pattern=snow ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! videobox name=box fill=black ! videoscale add-borders=false \
         ! video/x-raw,format=I420,width=320,height=240,pixel-aspect-ratio=1/1 \
         ! x264enc speed-preset=faster bitrate=3000 key-int-max=25 ! mp4mux ! filesink location={}",
        path.display()
    ))
    .unwrap();
    // a letterbox of 30 rows top and bottom on frames 25 to 74 (1 s to 3 s)
    let vbox = p
        .downcast_ref::<gst::Bin>()
        .unwrap()
        .by_name("box")
        .unwrap();
    let weak = vbox.downgrade();
    let count = std::sync::atomic::AtomicU32::new(0);
    vbox.static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let rows = match n {
                25 => -40i32,
                75 => 0,
                _ => return gst::PadProbeReturn::Ok,
            };
            if let Some(v) = weak.upgrade() {
                v.set_property("top", rows);
                v.set_property("bottom", rows);
            }
            gst::PadProbeReturn::Ok
        });
    play_to_end(&p);
    let conf = config_file(
        "area.toml",
        &format!(
            r#"
            [output]
            measurements = true
            [http]
            listen = "127.0.0.1:0"
            [[stream]]
            id = "file"
            uri = "{}"
            realtime = true
            detectors = ["broadcast"]
            [stream.properties.areadetect]
            min-duration = 1000000000
            "#,
            path.display()
        ),
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let addr = svc.http_addr();
    let start = svc.wait_for(
        &["\"stream\":\"file\"", "areadetect", "\"event\":\"start\""],
        20,
    );
    let (_, body) = get(&addr, "/metrics");
    let gauge = |d: &str| {
        metric(
            &body,
            &format!("avmonitor_active_area_pixels{{stream=\"file\",dimension=\"{d}\"}}"),
        )
    };
    assert_eq!((gauge("y"), gauge("height")), (30.0, 180.0), "{body}");
    assert_eq!(
        metric(
            &body,
            "avmonitor_defect_active{stream=\"file\",detector=\"areadetect\"}"
        ),
        1.0
    );
    let end = svc.wait_for(
        &["\"stream\":\"file\"", "areadetect", "\"event\":\"end\""],
        20,
    );
    // the whole picture again, held for min-duration
    svc.wait_for(
        &[
            "\"stream\":\"file\"",
            "areadetect",
            "\"event\":\"measurement\"",
            "\"running-time\":3000000000",
        ],
        20,
    );
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    for field in [
        "\"running-time\":1000000000",
        "\"change\":\"borders-appeared\"",
        "\"y\":30",
        "\"height\":180",
        "\"reference-height\":240",
    ] {
        assert!(start.contains(field), "{field}: {start}");
    }
    assert!(end.contains("\"running-time\":3000000000"), "{end}");
    // the letterbox, then the whole picture again, each measured once
    let measured = lines
        .iter()
        .filter(|l| l.contains("areadetect") && l.contains("\"event\":\"measurement\""))
        .count();
    assert_eq!(measured, 3, "{lines:#?}");
}

/// cadencedetect in the service: a file converted from 25 to 30 frames a
/// second by repeating one frame in six is judder, and its repeats are
/// counted in the metrics.
#[test]
fn a_frame_rate_conversion_is_judder_in_events_and_metrics() {
    if !have(&["x264enc", "mp4mux", "videorate"]) {
        return;
    }
    let path = make_file(
        "judder.mp4",
        "videotestsrc num-buffers=125 pattern=ball motion=sweep \
         ! video/x-raw,width=320,height=240,framerate=25/1 ! videorate \
         ! video/x-raw,framerate=30/1 ! x264enc speed-preset=faster bitrate=2000 \
         ! mp4mux ! filesink location={path}",
    );
    let mut svc = serve_file("judder", &path, r#"["cadencedetect"]"#, "");
    let addr = svc.http_addr();
    let start = svc.wait_for(
        &[
            "\"stream\":\"file\"",
            "cadencedetect",
            "\"event\":\"start\"",
        ],
        20,
    );
    assert!(start.contains("\"kind\":\"judder\""), "{start}");
    assert!(start.contains("\"period\":6"), "{start}");
    // a measurement a second: after two, at least 5 repeats counted
    std::thread::sleep(Duration::from_millis(2000));
    let (_, body) = get(&addr, "/metrics");
    let repeated = metric(
        &body,
        "avmonitor_cadence_frames_total{stream=\"file\",kind=\"repeated\"}",
    );
    assert!(repeated >= 5.0, "{body}");
    assert_eq!(
        metric(
            &body,
            "avmonitor_cadence_frames_total{stream=\"file\",kind=\"dropped\"}"
        ),
        0.0
    );
    let (code, _) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
}

/// levelsdetect in the service (in the broadcast preset): a file of
/// videotestsrc's out-of-gamut pattern is illegal in events and metrics.
#[test]
fn illegal_levels_in_events_and_metrics() {
    if !have(&["x264enc", "mp4mux"]) {
        return;
    }
    let path = make_file(
        "gamut.mp4",
        "videotestsrc num-buffers=200 pattern=gamut \
         ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc speed-preset=faster bitrate=2000 \
         ! mp4mux ! filesink location={path}",
    );
    let mut svc = serve_file("gamut", &path, r#"["broadcast"]"#, "");
    let addr = svc.http_addr();
    let start = svc.wait_for(
        &["\"stream\":\"file\"", "levelsdetect", "\"event\":\"start\""],
        20,
    );
    assert!(start.contains("\"rgb-share\""), "{start}");
    // a measurement a second
    std::thread::sleep(Duration::from_millis(1500));
    let (_, body) = get(&addr, "/metrics");
    let share = metric(
        &body,
        "avmonitor_out_of_range_share{stream=\"file\",kind=\"rgb\"}",
    );
    assert!(share > 0.01, "{body}");
    assert!(
        metric(&body, "avmonitor_illegal_frames_total{stream=\"file\"}") >= 25.0,
        "{body}"
    );
    let (code, _) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
}

/// patterndetect in the service (in the broadcast preset): SMPTE bars with
/// a steady 1 kHz tone are line-up; the same bars over programme-like
/// audio (a tone that keeps changing level) are bars without line-up.
#[test]
fn bars_and_tone_are_line_up() {
    if !have(&["x264enc", "avenc_aac", "mp4mux"]) {
        return;
    }
    for (name, volume_steps, line_up) in [("tone", false, true), ("changing", true, false)] {
        let path = std::env::temp_dir().join(format!(
            "avmonitor-lineup-{name}-{}.mp4",
            std::process::id()
        ));
        // programme-like: the sound steps up and down every 300 ms
        let audio = if volume_steps {
            "audiotestsrc wave=pink-noise num-buffers=400 samplesperbuffer=960 \
             ! volume name=vol volume=0.3"
        } else {
            "audiotestsrc wave=sine freq=1000 volume=0.1 num-buffers=400 samplesperbuffer=960"
        };
        let p = gst::parse::launch(&format!(
            "videotestsrc num-buffers=200 pattern=smpte \
             ! video/x-raw,width=320,height=240,framerate=25/1 ! x264enc speed-preset=faster bitrate=1000 \
             ! mp4mux name=mux ! filesink location={} \
             {audio} ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! mux.",
            path.display()
        ))
        .unwrap();
        if volume_steps {
            let vol = p
                .downcast_ref::<gst::Bin>()
                .unwrap()
                .by_name("vol")
                .unwrap();
            let pad = vol.static_pad("sink").unwrap();
            let n = std::sync::atomic::AtomicUsize::new(0);
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
                let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // 20 ms buffers: a new level every 15
                let level = [0.02, 0.3, 0.05, 0.5, 0.1][(i / 15) % 5];
                vol.set_property("volume", level);
                gst::PadProbeReturn::Ok
            });
        }
        play_to_end(&p);
        let mut svc = serve_file(
            &format!("lineup-{name}"),
            &path,
            r#"["broadcast"]"#,
            "[stream.properties.patterndetect]\nmin-duration = 3000000000",
        );
        let start = svc.wait_for(
            &[
                "\"stream\":\"file\"",
                "patterndetect",
                "\"event\":\"start\"",
            ],
            20,
        );
        assert!(start.contains("\"pattern\":\"smpte-bars\""), "{start}");
        assert!(
            start.contains(&format!("\"line-up\":{line_up}")),
            "{name}: {start}"
        );
        let (code, _) = svc.stop("-INT");
        let _ = std::fs::remove_file(&path);
        assert_eq!(code, 0);
    }
}

/// A transport stream file with video packets lost 1.4 s in: tsmonitor's
/// continuity error (on the video PID, said to be video) is an event and a
/// Prometheus counter, and the block corruption that follows in the
/// pictures names the transport error before it.
#[test]
fn packet_loss_in_a_transport_stream_is_an_event_a_counter_and_the_blocks_cause() {
    if !have(&["x264enc", "mpegtsmux", "tsdemux", "h264parse", "avdec_h264"]) {
        return;
    }
    let clean = make_file(
        "clean.ts",
        "videotestsrc num-buffers=100 pattern=ball ! video/x-raw,format=I420,width=320,height=192,framerate=25/1 \
         ! x264enc speed-preset=faster threads=1 key-int-max=50 bframes=0 bitrate=1500 \
         ! h264parse ! mpegtsmux pcr-interval=1800 ! filesink location={path}",
    );
    let bytes = std::fs::read(&clean).unwrap();
    let _ = std::fs::remove_file(&clean);
    // the video PID is the first elementary stream PID mpegtsmux gives
    let pid = |p: &[u8]| u16::from(p[1] & 0x1f) << 8 | u16::from(p[2]);
    let packets: Vec<&[u8]> = bytes.chunks(188).collect();
    let video = packets
        .iter()
        .map(|p| pid(p))
        .find(|p| (0x40..0x1fff).contains(p))
        .unwrap();
    // two video packets from the 36th frame on, not a frame's first (packets
    // without a PCR: losing one would be a PCR error too)
    let starts: Vec<usize> = (0..packets.len())
        .filter(|&i| pid(packets[i]) == video && packets[i][1] & 0x40 != 0)
        .collect();
    let lost: Vec<usize> = (starts[35] + 1..starts[40])
        .filter(|&i| pid(packets[i]) == video && packets[i][3] & 0x20 == 0)
        .take(2)
        .collect();
    assert_eq!(lost.len(), 2);
    // one continuity error for each run of lost packets
    let next_video = (lost[0] + 1..).find(|&i| pid(packets[i]) == video).unwrap();
    let runs = if next_video == lost[1] { 1.0 } else { 2.0 };
    let damaged: Vec<u8> = packets
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    let path = std::env::temp_dir().join(format!("avmonitor-{}-loss.ts", std::process::id()));
    std::fs::write(&path, damaged).unwrap();
    let mut svc = serve_file("loss", &path, r#"["blockdetect", "freezedetect"]"#, "");
    let addr = svc.http_addr();
    let start = svc.wait_for(
        &["\"stream\":\"file\"", "tsmonitor", "\"event\":\"start\""],
        20,
    );
    assert!(
        start.contains("\"class\":\"continuity-count-error\""),
        "{start}"
    );
    assert!(start.contains(&format!("\"pid\":{video}")), "{start}");
    assert!(start.contains("\"pid-kind\":\"video\""), "{start}");
    let block = svc.wait_for(
        &["\"stream\":\"file\"", "blockdetect", "\"event\":\"start\""],
        20,
    );
    assert!(
        block.contains("\"transport-error\":\"continuity-count-error\""),
        "{block}"
    );
    assert!(
        block.contains(&format!("\"transport-pid\":{video}")),
        "{block}"
    );
    // a measurement a second
    std::thread::sleep(Duration::from_millis(1500));
    let (_, body) = get(&addr, "/metrics");
    assert_eq!(
        metric(
            &body,
            "avmonitor_transport_errors_total{stream=\"file\",class=\"continuity-count-error\"}"
        ),
        runs,
        "{body}"
    );
    assert_eq!(
        metric(
            &body,
            "avmonitor_transport_errors_total{stream=\"file\",class=\"pat-error\"}"
        ),
        0.0
    );
    assert!(metric(&body, "avmonitor_transport_bitrate_bps{stream=\"file\"}") > 100_000.0);
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    let transport: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("tsmonitor") && l.contains("\"event\":\"start\""))
        .collect();
    assert_eq!(transport.len(), 1, "{transport:?}");
}

/// `frames` frames of H.264 in a transport stream from `mpegtsmux` at its
/// defaults (a PCR every 80 ms).
fn pcr80_file(name: &str, frames: u32) -> std::path::PathBuf {
    make_file(
        name,
        &format!(
            "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,format=I420,width=160,height=96,framerate=25/1 \
             ! x264enc speed-preset=faster threads=1 bframes=0 ! h264parse ! mpegtsmux ! filesink location={{path}}"
        ),
    )
}

/// A transport limit changed through the control API while the stream
/// plays: the PCR repetition errors of a multiplex with 80 ms PCRs end
/// (recovered, a second after the last) once the limit is 100 ms, with no
/// restart of the pipeline, and no new one starts.
#[test]
fn a_transport_limit_changes_while_playing() {
    if !have(&["x264enc", "mpegtsmux", "tsdemux", "h264parse"]) {
        return;
    }
    let path = pcr80_file("pcr80-long.ts", 250);
    let conf = config_file(
        "tslive.toml",
        &format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [[stream]]
            id = "ts"
            uri = "{}"
            realtime = true
            detectors = ["freezedetect"]
            "#,
            path.display()
        ),
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let addr = svc.http_addr();
    let started = svc.wait_for(
        &["tsmonitor", "pcr-repetition-error", "\"event\":\"start\""],
        10,
    );
    let (code, body) = http(
        &addr,
        "PATCH",
        "/streams/ts",
        &[],
        r#"{"properties": {"tsmonitor": {"pcr-interval": 100000000}}}"#,
    );
    assert_eq!(code, 200, "{body}");
    let ended = svc.wait_for(
        &["tsmonitor", "pcr-repetition-error", "\"event\":\"end\""],
        5,
    );
    assert!(ended.contains("\"reason\":\"recovered\""), "{ended}");
    svc.wait_for(&["stream-ended"], 15);
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    let transport: Vec<&String> = lines.iter().filter(|l| l.contains("tsmonitor")).collect();
    assert_eq!(transport.len(), 2, "one start, one end: {transport:?}");
    assert!(!lines
        .iter()
        .any(|l| l.contains("stream-up") && l.contains("\"restarted\":true")));
    // the error began at the start and ended within 2 s of the change
    let at = |l: &str| -> u64 {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamp"]
            .as_u64()
            .unwrap()
    };
    assert!(at(&started) < 500_000_000, "{started}");
    assert!(at(&ended) < 9_000_000_000, "{ended}");
}

/// tsmonitor's limits per stream: GStreamer 1.22's default `mpegtsmux`
/// writes a PCR every 80 ms, over TR 101 290's 40 ms; a stream given
/// ISO/IEC 13818-1's 100 ms in `[stream.properties.tsmonitor]` accepts it,
/// the same file on a stream with the defaults does not.
#[test]
fn transport_limits_are_set_per_stream() {
    if !have(&["x264enc", "mpegtsmux", "tsdemux", "h264parse"]) {
        return;
    }
    let path = pcr80_file("pcr80.ts", 50);
    let conf = config_file(
        "tslimits.toml",
        &format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [[stream]]
            id = "strict"
            uri = "{0}"
            detectors = ["freezedetect"]
            [[stream]]
            id = "lenient"
            uri = "{0}"
            detectors = ["freezedetect"]
            [stream.properties.tsmonitor]
            pcr-interval = 100000000
            "#,
            path.display()
        ),
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    // (both end, in either order)
    for _ in 0..2 {
        svc.wait_for(&["stream-ended"], 20);
    }
    let (code, lines) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
    let transport = |id: &str| -> Vec<&String> {
        lines
            .iter()
            .filter(|l| l.contains(&format!("\"stream\":\"{id}\"")) && l.contains("tsmonitor"))
            .collect()
    };
    let strict = transport("strict");
    assert!(
        strict.iter().any(|l| l.contains("\"event\":\"start\"")
            && l.contains("\"class\":\"pcr-repetition-error\"")),
        "{strict:?}"
    );
    assert!(
        transport("lenient").is_empty(),
        "{:?}",
        transport("lenient")
    );
    // and a limit that is not one is refused with the configuration
    let bad = config_file(
        "tslimits-bad.toml",
        r#"
        [[stream]]
        id = "s"
        uri = "/dev/null"
        [stream.properties.tsmonitor]
        pcr-interval = "soon"
        "#,
    );
    let out = Command::new(BIN)
        .args(["--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("properties.tsmonitor.pcr-interval") && err.contains("is not a valid"),
        "{err}"
    );
}

/// A stream that must carry captions and has none: captiondetect's
/// `required`, set per stream, makes that an event from the start.
#[test]
fn a_stream_that_must_carry_captions_and_has_none() {
    if !have(&["x264enc", "mp4mux"]) {
        return;
    }
    let path = make_file(
        "nocaptions.mp4",
        "videotestsrc num-buffers=75 pattern=ball \
         ! video/x-raw,width=160,height=120,framerate=25/1 ! x264enc speed-preset=faster \
         ! mp4mux ! filesink location={path}",
    );
    let mut svc = serve_file(
        "captions",
        &path,
        r#"["captiondetect"]"#,
        "[stream.properties.captiondetect]\nrequired = true\nmin-duration = 1000000000",
    );
    let start = svc.wait_for(
        &[
            "\"stream\":\"file\"",
            "captiondetect",
            "\"event\":\"start\"",
        ],
        20,
    );
    assert!(start.contains("\"problem\":\"missing\""), "{start}");
    assert!(start.contains("\"running-time\":0,"), "{start}");
    assert!(start.contains("\"cea608-fields\":[]"), "{start}");
    let (code, _) = svc.stop("-INT");
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0);
}
