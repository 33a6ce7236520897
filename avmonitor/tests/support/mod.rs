//! What the service's tests share: the binary run as a user runs it, its
//! stdout lines read as they come, HTTP requests to its listener, and
//! configuration files.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_avmonitor");

/// The binary running, its stdout lines arriving on a channel.
pub struct Service {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Service {
    pub fn start(args: &[&str]) -> Service {
        Service::start_with(args, &[])
    }

    /// With environment variables `env` set too.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Service {
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("avmonitor runs");
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let e2 = stderr.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = e2.lock().unwrap();
                s.push_str(&l);
                s.push('\n');
            }
        });
        Service {
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Waits for a line containing every one of `parts`; returns it.
    pub fn wait_for(&mut self, parts: &[&str], secs: u64) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if parts.iter().all(|p| l.contains(p)) {
                        return l;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line with {parts:?} within {secs} s; lines:\n{}\nstderr:\n{}",
            self.seen.join("\n"),
            self.stderr.lock().unwrap()
        );
    }

    /// Whether a line already read contains every one of `parts`.
    pub fn saw(&self, parts: &[&str]) -> bool {
        self.seen
            .iter()
            .any(|l| parts.iter().all(|p| l.contains(p)))
    }

    pub fn http_addr(&self) -> String {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let e = self.stderr.lock().unwrap().clone();
            if let Some(rest) = e.split("metrics on http://").nth(1) {
                return rest.split('/').next().unwrap().to_string();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no metrics address in {}", self.stderr.lock().unwrap());
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `sig` (`-HUP`, ...) and goes on.
    pub fn signal(&self, sig: &str) {
        Command::new("sh")
            .args(["-c", &format!("kill {sig} {}", self.child.id())])
            .status()
            .unwrap();
    }

    /// Sends `sig` and waits for the exit; the rest of stdout.
    pub fn stop(mut self, sig: &str) -> (i32, Vec<String>) {
        let pid = self.child.id().to_string();
        // the shell's own kill: no procps needed
        Command::new("sh")
            .args(["-c", &format!("kill {sig} {pid}")])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        let mut rest: Vec<String> = std::mem::take(&mut self.seen);
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            rest.push(l);
        }
        (status.code().unwrap_or(-1), rest)
    }
}

/// A test that ends (or fails) never leaves the service running.
impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP/1.0 request with `headers` (each "Name: value") and `body`:
/// the status, and the body of the response.
pub fn http(addr: &str, method: &str, path: &str, headers: &[&str], body: &str) -> (u32, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("http connect");
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: x\r\n");
    for h in headers {
        head.push_str(&format!("{h}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (code, body)
}

pub fn get(addr: &str, path: &str) -> (u32, String) {
    http(addr, "GET", path, &[], "")
}

/// The value of a metric line that starts with `name{labels}`.
pub fn metric(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name_and_labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name_and_labels} in\n{text}"))
}

/// Plays `p` (a pipeline that writes a test file) to its end, at most 30 s.
pub fn play_to_end(p: &gst::Element) {
    use gst::prelude::*;
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(30),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    )
    .unwrap();
    p.set_state(gst::State::Null).unwrap();
}

pub fn have(factories: &[&str]) -> bool {
    gst::init().unwrap();
    factories.iter().all(|f| {
        let ok = gst::ElementFactory::find(f).is_some();
        if !ok {
            eprintln!("skipping: no {f}");
        }
        ok
    })
}

pub fn config_file(name: &str, text: &str) -> std::path::PathBuf {
    // (under target/, not /tmp: they are left for a look after a failure)
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("avmonitor-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A free TCP port on 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `addr`.
pub fn until_listening(addr: &str, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < end, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `nats-server` with JetStream on 127.0.0.1, its storage in a folder
/// of its own, which survives a stop and start.
pub struct Nats {
    pub port: u16,
    store: std::path::PathBuf,
    child: Option<Child>,
}

impl Nats {
    pub fn start() -> Nats {
        let port = free_port();
        let store =
            std::env::temp_dir().join(format!("avmonitor-nats-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&store);
        let mut n = Nats {
            port,
            store,
            child: None,
        };
        n.resume();
        n
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server again (same port, same storage).
    pub fn resume(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server runs (scripts/setup.sh installs it: apt-get install nats-server)");
        self.child = Some(child);
        until_listening(&format!("127.0.0.1:{}", self.port), 10);
    }

    /// Kills the server (its storage kept).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// A TCP proxy on 127.0.0.1 to `target` that the test can cut (every
/// connection closed, new ones refused) and restore: a partition.
pub struct Proxy {
    pub port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    pub fn start(target: u16) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut list = o.lock().unwrap();
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                list.push(client);
                list.push(server);
            }
        });
        Proxy { port, cut, open }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Writes a test file by playing the gst-launch line `launch` to its end
/// (`{path}` in it is the file's path, in the temp folder, named `name`
/// with the process id).
pub fn make_file(name: &str, launch: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("avmonitor-{}-{name}", std::process::id()));
    let p = gst::parse::launch(&launch.replace("{path}", &path.display().to_string())).unwrap();
    play_to_end(&p);
    path
}

/// The service on one stream `file` playing `path` at its own pace with
/// `detectors` (a TOML list), HTTP on 127.0.0.1; `extra` is TOML that
/// follows the stream's table (its properties, say).
pub fn serve_file(name: &str, path: &std::path::Path, detectors: &str, extra: &str) -> Service {
    let conf = config_file(
        &format!("{name}.toml"),
        &format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [[stream]]
            id = "file"
            uri = "{}"
            realtime = true
            detectors = {detectors}
            {extra}
            "#,
            path.display()
        ),
    );
    Service::start(&["--config", conf.to_str().unwrap()])
}
