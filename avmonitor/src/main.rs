//! `avmonitor`: watches many streams in one process and prints their events
//! as JSON Lines, with Prometheus metrics on http://127.0.0.1:9800/metrics.
//!
//! ```text
//! avmonitor                          # the built-in demo: three generated streams with defects
//! avmonitor URI_OR_FILE...           # each a stream with the default detectors
//! avmonitor --config avmonitor.toml  # streams, detectors, properties, alarm rules, outputs
//! avmonitor check FILE...            # file QC: a verdict per file (see `avmonitor::check`)
//! ```
//! Options: `--config FILE`, `--http ADDR:PORT`, `--no-http`, `--output FILE`
//! (events appended there too), `--measurements` (log measurements too).
//! Exit status: 0 when every stream ended or on SIGINT/SIGTERM, 2 for a bad
//! configuration or command line. SIGHUP reloads the configuration file;
//! the control API (`/streams`) changes streams while it runs.

use avmonitor::service::{self, config::Config};

const USAGE: &str = "usage: avmonitor [--config FILE] [--http ADDR:PORT | --no-http] [--output FILE] [--measurements] [URI_OR_FILE...]
  with neither a configuration nor URIs: the built-in demo (demo:1 demo:2 demo:3)
       avmonitor check FILE_OR_URI... [--profile broadcast|streaming|NAME] [--config FILE] [--json out.json]";

fn main() {
    few_malloc_arenas();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "check") {
        if let Err(e) = init() {
            eprintln!("avmonitor: {e}");
            std::process::exit(2);
        }
        std::process::exit(avmonitor::check::main(&args[1..]));
    }
    std::process::exit(match run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("avmonitor: {e}");
            2
        }
    });
}

/// Caps glibc's malloc at two arenas unless `MALLOC_ARENA_MAX` says
/// otherwise. By default glibc gives each thread that allocates at once an
/// arena of its own, up to eight per core, and GStreamer's streaming threads
/// (several per stream) each fill and fragment one: the soak
/// (`scripts/soak.sh`) measured resident memory growing by 14 MB per stream
/// per 24 h of media with the default and about 1 MB with two arenas.
/// Called before any thread starts.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tuning parameter; no thread exists yet
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn init() -> Result<(), String> {
    gst::init().map_err(|e| e.to_string())?;
    gstavmonitor::plugin_register_static().map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    init()?;
    let mut args = std::env::args().skip(1);
    let mut config_file = None;
    let mut uris = Vec::new();
    let mut http: Option<Option<String>> = None;
    let mut output = None;
    let mut measurements = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" => config_file = Some(args.next().ok_or("--config needs a file")?),
            "--http" => http = Some(Some(args.next().ok_or("--http needs ADDR:PORT")?)),
            "--no-http" => http = Some(None),
            "--output" => output = Some(args.next().ok_or("--output needs a file")?),
            "--measurements" => measurements = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => uris.push(a),
        }
    }
    let demo = config_file.is_none() && uris.is_empty();
    let mut config = match (&config_file, demo) {
        (Some(f), _) => {
            if !uris.is_empty() {
                return Err("give either --config or URIs, not both".into());
            }
            let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
            Config::from_toml(&text).map_err(|e| format!("{f}: {e}"))?
        }
        (None, true) => Config::from_uris(&["demo:1".into(), "demo:2".into(), "demo:3".into()])
            .map_err(|e| e.to_string())?,
        (None, false) => Config::from_uris(&uris).map_err(|e| e.to_string())?,
    };
    let http_given = http.is_some();
    // the command line over the file's settings, now and at each reload
    let overrides = move |config: &mut Config| -> Result<(), String> {
        match &http {
            Some(Some(addr)) => config.http.listen = addr.clone(),
            Some(None) => config.http.enabled = false,
            None => (),
        }
        if let Some(o) = &output {
            config.output.file = Some(o.into());
        }
        config.output.measurements |= measurements;
        config.check().map_err(|e| e.to_string())
    };
    overrides(&mut config)?;
    let load: Option<service::Load> = config_file.map(|f| {
        Box::new(move || {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("{f}: {e}"))?;
            let mut config = Config::from_toml(&text).map_err(|e| format!("{f}: {e}"))?;
            overrides(&mut config).map_err(|e| format!("{f}: {e}"))?;
            Ok(config)
        }) as service::Load
    });
    if demo {
        eprintln!(
            "avmonitor: the built-in demo, three generated streams of 20 s in real time:\n  \
             demo:1 bars and tones: clipped 2-2.5 s, black 4-7 s, frozen 10-14 s, silent 15-18 s\n  \
             demo:2 a flash/beep sync pattern with the audio 80 ms late\n  \
             demo:3 bars and tones whose source fails at 5 s (restarted after 1 s)"
        );
    }
    service::run(config, demo && !http_given, load, |addr| {
        if let Some(a) = addr {
            eprintln!("avmonitor: metrics on http://{a}/metrics, health on http://{a}/health");
        }
    })
}
