//! Streams changed while the service runs: the control API (add, change a
//! detector's properties on the running pipeline, remove, bad requests,
//! tokens) and SIGHUP reloading the configuration file (changed streams
//! applied, the others untouched, a bad file refused).

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `GET /streams/{id}`.
fn stream(addr: &str, id: &str) -> Value {
    let (code, body) = http(addr, "GET", &format!("/streams/{id}"), &[], "");
    assert_eq!(code, 200, "{body}");
    json(&body)
}

/// The ids `GET /streams` lists.
fn ids(addr: &str) -> Vec<String> {
    let (code, body) = http(addr, "GET", "/streams", &[], "");
    assert_eq!(code, 200, "{body}");
    json(&body)
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until stream `id` is up; how long that took.
fn until_up(addr: &str, id: &str) -> Duration {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if stream(addr, id)["state"] == "up" {
            return t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{id} not up within 10 s: {}", stream(addr, id));
}

/// The error a refused request gives, with its status.
fn refused(addr: &str, method: &str, path: &str, body: &str) -> (u32, String) {
    let (code, text) = http(addr, method, path, &[], body);
    let error = json(&text)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (code, error)
}

#[test]
fn streams_are_added_retuned_and_removed_through_the_control_api() {
    let conf = config_file(
        "control.toml",
        "[http]\nlisten = \"127.0.0.1:0\"\n[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n",
    );
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let addr = svc.http_addr();
    assert_eq!(ids(&addr), ["a"]);
    // a client that promises a body and never sends it holds up nothing
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut slow,
        b"POST /streams HTTP/1.0\r\nContent-Length: 100\r\n\r\n{\"id\"",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(&addr, "/metrics").0, 200);
    assert_eq!(ids(&addr), ["a"]);
    drop(slow);
    // added: it runs, as its own stream, while a goes on
    let t0 = Instant::now();
    let (code, body) = http(
        &addr,
        "POST",
        "/streams",
        &["Content-Type: application/json"],
        r#"{"id": "b", "uri": "demo:1", "detectors": ["blackdetect", "silencedetect"]}"#,
    );
    assert_eq!(code, 201, "{body}");
    let up = t0.elapsed().max(until_up(&addr, "b"));
    println!("control API: POST to stream up in {} ms", up.as_millis());
    svc.wait_for(&[r#""stream":"b""#, r#""event":"stream-added""#, "api"], 5);
    svc.wait_for(&[r#""stream":"b""#, r#""event":"stream-up""#], 10);
    let started = stream(&addr, "b")["started-utc"].clone();
    // b's black must last 10 s now (the demo's lasts 3 s): set on the
    // running pipeline, no restart
    let (code, body) = http(
        &addr,
        "PATCH",
        "/streams/b",
        &[],
        r#"{"properties": {"blackdetect": {"min-duration": 10000000000}}}"#,
    );
    assert_eq!(code, 200, "{body}");
    let b = json(&body);
    assert_eq!(
        b["properties"]["blackdetect"]["min-duration"],
        10_000_000_000u64
    );
    assert_eq!(b["started-utc"], started, "a new pipeline: {b}");
    svc.wait_for(
        &[
            r#""stream":"b""#,
            r#""event":"stream-changed""#,
            r#""restarted":false"#,
        ],
        5,
    );
    // bad requests: refused, naming what is wrong, nothing changed
    for (method, path, body, status, says) in [
        (
            "POST",
            "/streams",
            r#"{"id": "c", "url": "demo:1"}"#,
            400,
            "unknown field `url`",
        ),
        (
            "POST",
            "/streams",
            r#"{"id": "c"}"#,
            400,
            "missing field `uri`",
        ),
        (
            "POST",
            "/streams",
            r#"{"id": "a", "uri": "demo:2"}"#,
            409,
            "stream \"a\" exists",
        ),
        (
            "POST",
            "/streams",
            r#"{"id": "c d", "uri": "demo:2"}"#,
            400,
            "id: \"c d\"",
        ),
        (
            "POST",
            "/streams",
            r#"{"id": "c", "uri": "demo:2", "detectors": ["blackdetec"]}"#,
            400,
            "unknown detector \"blackdetec\"",
        ),
        ("POST", "/streams", "{", 400, "body: "),
        (
            "PATCH",
            "/streams/b",
            r#"{"properties": {"blackdetect": {"threshhold": 0.2}}}"#,
            400,
            "blackdetect.threshhold: blackdetect has no property",
        ),
        (
            "PATCH",
            "/streams/b",
            r#"{"properties": {"freezedetect": {"threshold": 0.2}}}"#,
            400,
            "\"freezedetect\" is not among the stream's detectors",
        ),
        (
            "PATCH",
            "/streams/b",
            r#"{"properties": {"blackdetect": {"ratio": 7.0}}}"#,
            400,
            "blackdetect.ratio: 7.0 is not a valid",
        ),
        (
            "PATCH",
            "/streams/b",
            r#"{"props": {}}"#,
            400,
            "unknown field `props`",
        ),
        ("DELETE", "/streams/zz", "", 404, "no stream \"zz\""),
        ("PUT", "/streams/b", "", 405, "use GET, PATCH or DELETE"),
    ] {
        let (code, error) = refused(&addr, method, path, body);
        assert_eq!(code, status, "{method} {path} {body}: {error}");
        assert!(error.contains(says), "{method} {path} {body}: {error}");
    }
    assert_eq!(ids(&addr), ["a", "b"]);
    let b = stream(&addr, "b");
    assert_eq!(b["started-utc"], started);
    assert_eq!(b["properties"]["blackdetect"].as_object().unwrap().len(), 1);
    // a reports its black (4-7 s), b does not (its setting took effect)
    svc.wait_for(
        &[r#""stream":"a""#, "blackdetect", r#""event":"start""#],
        15,
    );
    std::thread::sleep(Duration::from_millis(1500));
    let b_frames = stream(&addr, "b")["frames"].as_u64().unwrap();
    assert!(b_frames > 100, "b analysed {b_frames} frames");
    // removed: it stops, its series go
    let (code, body) = http(&addr, "DELETE", "/streams/b", &[], "");
    assert_eq!(code, 200, "{body}");
    svc.wait_for(&[r#""stream":"b""#, r#""event":"stream-removed""#], 5);
    assert_eq!(ids(&addr), ["a"]);
    let (_, metrics) = get(&addr, "/metrics");
    assert!(
        !metrics.contains(r#"avmonitor_frames_total{stream="b"}"#),
        "{metrics}"
    );
    assert_eq!(metric(&metrics, "avmonitor_streams "), 1.0);
    let (_, lines) = svc.stop("-TERM");
    let b_black = lines
        .iter()
        .any(|l| l.contains(r#""stream":"b""#) && l.contains(r#""detector":"blackdetect""#));
    assert!(!b_black, "b's black reported though min-duration was 10 s");
}

#[test]
fn the_control_api_needs_a_token_off_loopback() {
    let conf = config_file(
        "token.toml",
        "[http]\nlisten = \"0.0.0.0:0\"\n[[stream]]\nid = \"a\"\nuri = \"demo:2\"\n",
    );
    let path = conf.to_str().unwrap();
    // no token: the API is off, metrics and health are open
    let svc = Service::start(&["--config", path]);
    let addr = svc.http_addr().replace("0.0.0.0", "127.0.0.1");
    let (code, error) = refused(&addr, "GET", "/streams", "");
    assert_eq!(code, 403);
    assert!(error.contains("AVMONITOR_TOKEN"), "{error}");
    assert_eq!(get(&addr, "/metrics").0, 200);
    let _ = svc.stop("-TERM");
    // a token from the environment
    let svc = Service::start_with(&["--config", path], &[("AVMONITOR_TOKEN", "s3cret")]);
    let addr = svc.http_addr().replace("0.0.0.0", "127.0.0.1");
    for auth in [
        None,
        Some("Authorization: Bearer nope"),
        Some("Authorization: s3cret"),
    ] {
        let headers: Vec<&str> = auth.into_iter().collect();
        let body = r#"{"id": "x", "uri": "demo:1"}"#;
        let (code, _) = http(&addr, "POST", "/streams", &headers, body);
        assert_eq!(code, 401, "{auth:?}");
    }
    let (code, body) = http(
        &addr,
        "GET",
        "/streams",
        &["Authorization: Bearer s3cret"],
        "",
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        json(&body).as_array().unwrap().len(),
        1,
        "a refused POST added: {body}"
    );
    assert_eq!(get(&addr, "/metrics").0, 200);
    assert_eq!(get(&addr, "/health").0, 200);
    let _ = svc.stop("-TERM");
}

/// Three streams; a reload drops one, adds one, changes one's detector
/// properties and leaves one alone; then a bad file changes nothing.
#[test]
fn sighup_applies_the_changed_streams_and_leaves_the_others_running() {
    let stream_toml = |id: &str, extra: &str| {
        format!("[[stream]]\nid = \"{id}\"\nuri = \"demo:2\"\ndetectors = [\"blackdetect\", \"silencedetect\"]\n{extra}")
    };
    let head = "[http]\nlisten = \"127.0.0.1:0\"\n";
    let first = format!(
        "{head}{}{}{}",
        stream_toml("keep", ""),
        stream_toml("tune", ""),
        stream_toml("drop", "")
    );
    let conf = config_file("reload.toml", &first);
    let mut svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let addr = svc.http_addr();
    for id in ["keep", "tune", "drop"] {
        until_up(&addr, id);
    }
    let keep = stream(&addr, "keep");
    let tune_started = stream(&addr, "tune")["started-utc"].clone();
    let second = format!(
        "{head}{}{}{}",
        stream_toml("keep", ""),
        stream_toml(
            "tune",
            "[stream.properties.blackdetect]\nmin-duration = 500000000\n"
        ),
        stream_toml("new", "")
    );
    std::fs::write(&conf, second).unwrap();
    svc.signal("-HUP");
    svc.wait_for(
        &[
            r#""stream":"drop""#,
            r#""event":"stream-removed""#,
            "reload",
        ],
        5,
    );
    svc.wait_for(
        &[r#""stream":"new""#, r#""event":"stream-added""#, "reload"],
        5,
    );
    until_up(&addr, "new");
    let tune = stream(&addr, "tune");
    assert_eq!(tune["started-utc"], tune_started, "tune got a new pipeline");
    assert_eq!(
        tune["properties"]["blackdetect"]["min-duration"],
        500_000_000
    );
    assert!(svc.saw(&[
        r#""stream":"tune""#,
        "stream-changed",
        r#""restarted":false"#
    ]));
    // keep: the same pipeline, counting on, nothing said about it
    let later = stream(&addr, "keep");
    assert_eq!(later["started-utc"], keep["started-utc"]);
    assert!(
        later["frames"].as_u64() > keep["frames"].as_u64(),
        "{later}"
    );
    assert_eq!(ids(&addr), ["keep", "tune", "new"]);
    // a bad file: refused, named, nothing changes
    std::fs::write(
        &conf,
        format!("{head}{}", stream_toml("keep", "detectors = 3\n")),
    )
    .unwrap();
    svc.signal("-HUP");
    let end = Instant::now() + Duration::from_secs(5);
    while !svc.stderr().contains("reload refused") && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let err = svc.stderr();
    assert!(
        err.contains("reload refused, nothing changed") && err.contains("detectors"),
        "{err}"
    );
    assert_eq!(ids(&addr), ["keep", "tune", "new"]);
    assert_eq!(stream(&addr, "keep")["started-utc"], keep["started-utc"]);
    let (_, metrics) = get(&addr, "/metrics");
    assert_eq!(
        metric(&metrics, r#"avmonitor_config_reloads_total{result="ok"}"#),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            r#"avmonitor_config_reloads_total{result="failed"}"#
        ),
        1.0
    );
    let (_, lines) = svc.stop("-TERM");
    let about_keep: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains(r#""stream":"keep""#) && l.contains("stream-"))
        .collect();
    assert_eq!(
        about_keep.len(),
        1,
        "only keep's first stream-up: {about_keep:?}"
    );
}

/// The surface a network client reaches: 200 idle connections leave
/// `/metrics` and the API answering; a body over 1 MiB is refused (413);
/// ids that would name hidden or parent files and URIs with control
/// characters are refused; with `sources.files`, a file outside those
/// folders is refused, `..` and symbolic links resolved first.
#[test]
fn the_control_surface_holds_against_idle_clients_big_bodies_and_escapes() {
    let media = std::env::temp_dir().join(format!("avmonitor-media-{}", std::process::id()));
    let outside = std::env::temp_dir().join(format!("avmonitor-outside-{}", std::process::id()));
    std::fs::create_dir_all(&media).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.ts"), b"").unwrap();
    std::fs::write(media.join("ok.ts"), b"").unwrap();
    let _ = std::fs::remove_file(media.join("link.ts"));
    std::os::unix::fs::symlink(outside.join("secret.ts"), media.join("link.ts")).unwrap();
    let conf = config_file(
        "surface.toml",
        &format!(
            "[http]\nlisten = \"127.0.0.1:0\"\n[sources]\nfiles = [\"{}\"]\n[[stream]]\nid = \"a\"\nuri = \"demo:1\"\n",
            media.display()
        ),
    );
    let svc = Service::start(&["--config", conf.to_str().unwrap()]);
    let addr = svc.http_addr();
    let idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let (code, body) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    assert!(body.contains("avmonitor_streams"), "{body}");
    assert_eq!(ids(&addr), ["a"]);
    println!(
        "with 200 idle connections open: /metrics and GET /streams in {} ms",
        t0.elapsed().as_millis()
    );
    drop(idle);
    // a body over the limit
    let big = format!(
        r#"{{"id": "b", "uri": "demo:1", "x": "{}"}}"#,
        "y".repeat(1 << 20)
    );
    let (code, error) = refused(&addr, "POST", "/streams", &big);
    assert_eq!(
        (code, error.as_str()),
        (413, "body: larger than 1048576 bytes")
    );
    // ids and URIs
    for (body, part) in [
        (r#"{"id": "..", "uri": "demo:1"}"#, "stream.id"),
        (r#"{"id": ".hidden", "uri": "demo:1"}"#, "stream.id"),
        (r#"{"id": "a/b", "uri": "demo:1"}"#, "stream.id"),
        (r#"{"id": "c", "uri": "demo:1\n"}"#, "control character"),
    ] {
        let (code, error) = refused(&addr, "POST", "/streams", body);
        assert_eq!(code, 400, "{body}: {error}");
        assert!(error.contains(part), "{body}: {error}");
    }
    // files: inside, outside, outside through .. and through a link
    let inside = media.join("ok.ts");
    let (code, body) = http(
        &addr,
        "POST",
        "/streams",
        &[],
        &format!(
            r#"{{"id": "inside", "uri": "{}", "detectors": []}}"#,
            inside.display()
        ),
    );
    assert_eq!(code, 201, "{body}");
    for uri in [
        outside.join("secret.ts").display().to_string(),
        format!(
            "file://{}/../{}/secret.ts",
            media.display(),
            outside.file_name().unwrap().to_str().unwrap()
        ),
        media.join("link.ts").display().to_string(),
    ] {
        let (code, error) = refused(
            &addr,
            "POST",
            "/streams",
            &format!(r#"{{"id": "out", "uri": "{uri}"}}"#),
        );
        assert_eq!(code, 400, "{uri}: {error}");
        assert!(error.contains("outside sources.files"), "{uri}: {error}");
    }
    assert_eq!(ids(&addr), ["a", "inside"]);
    let (code, _) = svc.stop("-INT");
    assert_eq!(code, 0);
    let _ = std::fs::remove_dir_all(&media);
    let _ = std::fs::remove_dir_all(&outside);
}
