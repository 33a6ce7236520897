//! The published JSON Schema of the service's events,
//! `docs/schema/event.schema.json`, holds for what the service writes:
//! every line of a run over files that make every picture and audio
//! detector speak (starts, ends and measurements), validated with Python's
//! `jsonschema` (Debian's python3-jsonschema, Draft 2020-12). And the
//! schema is not vacuous: lines with a mistyped, unknown or missing field
//! fail it.

use crate::support::{config_file, have, make_file, BIN};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn schema() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/schema/event.schema.json"
    ))
}

/// The errors of each line, as the validator reports them (empty: valid).
fn validate(lines: &[String]) -> Vec<String> {
    const CHECK: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for line in sys.stdin:
    errors = [e.message for e in v.iter_errors(json.loads(line))]
    print(json.dumps("; ".join(errors)))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", CHECK])
        .arg(schema())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().unwrap();
    let text = lines.join("\n") + "\n";
    std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the validator failed (python3-jsonschema installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), lines.len());
    verdicts
}

#[test]
fn the_schema_rejects_what_it_should() {
    let good = r#"{"stream":"a","detector":"blackdetect","utc":"2026-12-03T11:19:13.725Z","event":"end","timestamp":2000000000,"stream-time":2000000000,"running-time":2000000000,"duration":5,"reason":"eos","black-ratio":1,"mean-luma":null}"#;
    let cases = [
        (good.to_string(), ""),
        (
            good.replace("\"black-ratio\":1", "\"black-ratio\":\"1\""),
            "is not of type",
        ),
        (
            good.replace("\"mean-luma\"", "\"mean-lumma\""),
            "Unevaluated properties",
        ),
        (
            good.replace(",\"duration\":5", ""),
            "'duration' is a required property",
        ),
        (good.replace("blackdetect", "blakdetect"), "is not one of"),
        (good.replace(".725Z", "Z"), "does not match"),
        (
            good.replace("\"timestamp\":2000000000", "\"timestamp\":-1"),
            "less than the minimum",
        ),
        // a field of another detector
        (
            good.replace("\"black-ratio\"", "\"rgb-share\""),
            "Unevaluated properties",
        ),
    ];
    let lines: Vec<String> = cases.iter().map(|(l, _)| l.clone()).collect();
    for ((line, want), got) in cases.iter().zip(validate(&lines)) {
        if want.is_empty() {
            assert_eq!(got, "", "{line}");
        } else {
            assert!(got.contains(want), "{line}: {got:?}, not {want:?}");
        }
    }
}

#[test]
fn every_event_the_service_writes_fits_the_schema() {
    if !have(&["x264enc", "avenc_aac", "mp4mux"]) {
        return;
    }
    // bars with a tone that clips (pattern, loudness alarm, clipping),
    // out-of-gamut colour (levels), black over silence (black, freeze,
    // silence), an out-of-phase pair (phase)
    let files = [
        (
            "bars",
            "videotestsrc num-buffers=100 pattern=smpte ! video/x-raw,width=320,height=240,framerate=25/1 \
             ! x264enc speed-preset=faster ! mux. \
             audiotestsrc num-buffers=200 samplesperbuffer=960 volume=1.0 freq=1000 \
             ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! mux. \
             mp4mux name=mux ! filesink location={path}",
        ),
        (
            "gamut",
            "videotestsrc num-buffers=100 pattern=gamut ! video/x-raw,width=320,height=240,framerate=25/1 \
             ! x264enc speed-preset=faster ! mp4mux ! filesink location={path}",
        ),
        (
            "black",
            "videotestsrc num-buffers=100 pattern=black ! video/x-raw,width=320,height=240,framerate=25/1 \
             ! x264enc speed-preset=faster ! mux. \
             audiotestsrc num-buffers=200 samplesperbuffer=960 wave=silence \
             ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! mux. \
             mp4mux name=mux ! filesink location={path}",
        ),
    ];
    let mut streams = String::new();
    let mut paths = vec![];
    for (name, launch) in files {
        let path = make_file(&format!("schema-{name}.mp4"), launch);
        streams += &format!(
            "[[stream]]\nid = \"{name}\"\nuri = \"{}\"\n\
             detectors = [\"broadcast\", \"blockdetect\", \"phasedetect\"]\n",
            path.display()
        );
        paths.push(path);
    }
    let conf = config_file(
        "schema.toml",
        &format!(
            "[output]\nmeasurements = true\n\n[[alarm]]\nname = \"black\"\n\
             detector = \"blackdetect\"\nafter-ms = 0\nseverity = \"critical\"\n\n{streams}"
        ),
    );
    let mut child = Command::new(BIN)
        .args(["--no-http", "--config", conf.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let until = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the service did not end with its files");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = reader.join().unwrap();
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    // what the run had to contain for the check to mean something
    for part in [
        "\"detector\":\"patterndetect\",",
        "\"detector\":\"levelsdetect\",",
        "\"detector\":\"blackdetect\",",
        "\"detector\":\"silencedetect\",",
        "\"detector\":\"loudnessmeter\",",
        "\"detector\":\"blockdetect\",",
        "\"event\":\"measurement\"",
        "\"event\":\"end\"",
        "\"event\":\"alarm\"",
        "\"event\":\"stream-up\"",
        "\"event\":\"stream-ended\"",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(part)),
            "no {part} among:\n{text}"
        );
    }
    eprintln!("{} lines checked", lines.len());
    let bad: Vec<String> = lines
        .iter()
        .zip(validate(&lines))
        .filter(|(_, e)| !e.is_empty())
        .map(|(l, e)| format!("{e}\n  in {l}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} lines:\n{}",
        bad.len(),
        lines.len(),
        bad.join("\n")
    );
}
