//! The clients outside Rust: `examples/python/avmonitor_events.py`
//! (PyGObject) and `examples/c/avmonitor-events.c` (built here with
//! `pkg-config`), each run against the plugin this build made, as a user
//! would run them: on their generated default, on a coded file, and on a
//! file that does not exist. Both print the same table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A folder of this test's own: the built plugin alone in `plugins/` (so
/// GStreamer scans nothing else), a registry, the C client, the media.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clients");
        let plugins = dir.join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        // target/<profile>/deps/clients-* -> target/<profile>
        let exe = std::env::current_exe().unwrap();
        let profile = exe.parent().and_then(Path::parent).unwrap();
        let lib = profile.join("libgstavmonitor.so");
        assert!(
            lib.exists(),
            "{} not built: cargo build --all-features (scripts/test.sh does)",
            lib.display()
        );
        std::fs::copy(&lib, plugins.join("libgstavmonitor.so")).unwrap();
        dir
    })
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cmd` with GStreamer pointed at the built plugin only.
fn run(mut cmd: Command) -> Output {
    let dir = scratch();
    cmd.env("GST_PLUGIN_PATH", dir.join("plugins"))
        .env("GST_REGISTRY", dir.join("registry.bin"))
        .env_remove("GST_DEBUG");
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn python(args: &[&Path]) -> Output {
    // Debian's python3, where python3-gi and python3-gst-1.0 live (a pyenv
    // or venv python on PATH has neither)
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(root().join("examples/python/avmonitor_events.py"))
        .args(args);
    run(cmd)
}

fn c_client() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = scratch().join("avmonitor-events");
        let flags = Command::new("pkg-config")
            .args(["--cflags", "--libs", "gstreamer-1.0"])
            .output()
            .expect("pkg-config");
        assert!(flags.status.success(), "pkg-config gstreamer-1.0 failed");
        let flags = String::from_utf8(flags.stdout).unwrap();
        let out = Command::new("cc")
            .args(["-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&bin)
            .arg(root().join("examples/c/avmonitor-events.c"))
            .args(flags.split_whitespace())
            .output()
            .expect("cc");
        assert!(
            out.status.success(),
            "the C client did not build:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        bin
    })
}

fn c(args: &[&Path]) -> Output {
    let mut cmd = Command::new(c_client());
    cmd.args(args);
    run(cmd)
}

/// One printed row: running time, element, event, fields.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    time: f64,
    element: String,
    event: String,
    fields: Vec<(String, String)>,
}

impl Row {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{} {}: no {name} in {self:?}", self.element, self.event))
    }
}

/// The table a client printed (it must have exited 0), sorted by element
/// and time (the two branches' messages interleave as threads run).
fn table(out: &Output) -> Vec<Row> {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed ({}):\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, ["time", "s", "element", "event", "fields"]);
    let mut rows: Vec<Row> = lines
        .map(|l| {
            let mut w = l.split_whitespace();
            let time = w.next().unwrap().parse().unwrap();
            let element = w.next().unwrap().to_string();
            let event = w.next().unwrap().to_string();
            // fields, where an array's ", " joins its items
            let rest = w.collect::<Vec<_>>().join(" ").replace(", ", ",");
            let fields = rest
                .split_whitespace()
                .map(|f| {
                    let (n, v) = f.split_once('=').unwrap();
                    (n.to_string(), v.to_string())
                })
                .collect();
            Row {
                time,
                element,
                event,
                fields,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.element, a.time)
            .partial_cmp(&(&b.element, b.time))
            .unwrap()
    });
    rows
}

fn of<'a>(rows: &'a [Row], element: &str, event: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r.element == element && r.event == event)
        .collect()
}

/// The generated default: three seconds of black, of silence and of a
/// tone at half scale.
fn check_generated(rows: &[Row]) {
    for element in ["blackdetect", "silencedetect"] {
        let (starts, ends) = (of(rows, element, "start"), of(rows, element, "end"));
        assert_eq!((starts.len(), ends.len()), (1, 1), "{element}: {rows:?}");
        assert_eq!(starts[0].time, 0.0);
        assert_eq!(ends[0].time, 3.0);
        assert_eq!(ends[0].field("duration"), "3000000000");
        assert_eq!(ends[0].field("reason"), "eos");
    }
    assert_eq!(
        of(rows, "blackdetect", "start")[0].field("black-ratio"),
        "1.000"
    );
    let m = of(rows, "loudnessmeter", "measurement");
    assert_eq!(
        m.iter().map(|r| r.time).collect::<Vec<_>>(),
        [1.0, 2.0, 3.0]
    );
    for r in m {
        // a sine at half scale peaks at -6.02 dBFS on both channels: the
        // per-channel arrays read as lists
        assert_eq!(r.field("sample-peak-db"), "[-6.021,-6.021]");
        let tp: Vec<f64> = r
            .field("true-peak-db")
            .trim_matches(['[', ']'])
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(tp.len(), 2);
        assert!(tp.iter().all(|v| (-6.1..=-5.9).contains(v)), "{tp:?}");
        let momentary: f64 = r.field("momentary").parse().unwrap();
        assert!((-7.0..=-5.0).contains(&momentary), "{momentary}");
    }
    assert_eq!(rows.len(), 7, "{rows:?}");
}

#[test]
fn python_client_reads_every_message_by_name() {
    check_generated(&table(&python(&[])));
}

#[test]
fn c_client_prints_what_the_python_client_prints() {
    let rows = table(&c(&[]));
    check_generated(&rows);
    assert_eq!(rows, table(&python(&[])));
}

/// A coded file: two seconds of picture, the second black, over silence.
fn media() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let file = scratch().join("black.mp4");
        let out = Command::new("gst-launch-1.0")
            .args(["-q", "mp4mux", "name=mux", "!", "filesink"])
            .arg(format!("location={}", file.display()))
            .args(
                "videotestsrc pattern=black num-buffers=75 \
                 ! video/x-raw,width=320,height=240,framerate=25/1 \
                 ! x264enc key-int-max=25 ! h264parse ! mux. \
                 audiotestsrc wave=silence num-buffers=150 samplesperbuffer=960 \
                 ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! aacparse ! mux."
                    .split_whitespace(),
            )
            .output()
            .expect("gst-launch-1.0");
        assert!(
            out.status.success() && file.exists(),
            "could not make {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        file
    })
}

#[test]
fn both_clients_read_a_coded_file() {
    let file = media();
    for rows in [table(&python(&[file])), table(&c(&[file]))] {
        let black = of(&rows, "blackdetect", "start");
        assert_eq!(black.len(), 1, "{rows:?}");
        assert_eq!(black[0].time, 0.0);
        let end = of(&rows, "blackdetect", "end");
        assert_eq!(end.len(), 1, "{rows:?}");
        assert!((2.9..=3.1).contains(&end[0].time), "{end:?}");
        assert_eq!(of(&rows, "silencedetect", "start").len(), 1, "{rows:?}");
        assert!(!of(&rows, "loudnessmeter", "measurement").is_empty());
    }
}

#[test]
fn both_clients_fail_clearly_on_a_missing_file() {
    let missing = scratch().join("no-such-file.mp4");
    for out in [python(&[&missing]), c(&[&missing])] {
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error from"), "{err}");
    }
}
