//! `scripts/install.sh` staged into a folder (DESTDIR), from this build's
//! plugin and binary: the files land where the system's GStreamer and
//! systemd look, `gst-inspect-1.0 avmonitor` finds the plugin there with
//! no GST_PLUGIN_PATH, the service runs on the example configuration, a
//! second install keeps the user's configuration, and the uninstall
//! removes what was installed (and with --purge the configuration too).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_avmonitor");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn install(stage: &Path, args: &[&str]) {
    let built = Path::new(BIN).parent().unwrap();
    assert!(
        built.join("libgstavmonitor.so").exists(),
        "the plugin is not built beside {BIN}: cargo build --workspace --all-features (scripts/test.sh does)"
    );
    let out = Command::new("bash")
        .arg(repo().join("scripts/install.sh"))
        .args(["--from", built.to_str().unwrap()])
        .args(args)
        .env("DESTDIR", stage)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pluginsdir() -> PathBuf {
    let out = Command::new("pkg-config")
        .args(["--variable=pluginsdir", "gstreamer-1.0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// `path` (absolute on the target system) inside the staging folder.
fn staged(stage: &Path, path: &Path) -> PathBuf {
    stage.join(path.strip_prefix("/").unwrap())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn install_finds_the_plugin_runs_the_service_and_uninstalls() {
    let stage = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-stage");
    let _ = std::fs::remove_dir_all(&stage);
    install(&stage, &[]);

    let plugin = staged(&stage, &pluginsdir().join("libgstavmonitor.so"));
    let bin = stage.join("usr/local/bin/avmonitor");
    let unit = stage.join("etc/systemd/system/avmonitor.service");
    let conf = stage.join("etc/avmonitor/avmonitor.toml");
    assert_eq!(mode(&plugin), 0o644);
    assert_eq!(mode(&bin), 0o755);
    assert_eq!(mode(&unit), 0o644);
    assert_eq!(mode(&conf), 0o644);

    // the unit: the installed binary on the installed configuration, its
    // own user, hardened
    let text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "ExecStart=/usr/local/bin/avmonitor --config /etc/avmonitor/avmonitor.toml",
        "User=avmonitor",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "LogsDirectory=avmonitor",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in the unit");
    }
    assert!(!text.contains("@BINDIR@"));

    // GStreamer's own plugin folders, as a new shell sees them (the staged
    // one first): no GST_PLUGIN_PATH, a fresh registry
    let system_path =
        std::env::join_paths([plugin.parent().unwrap().to_path_buf(), pluginsdir()]).unwrap();
    let out = Command::new("gst-inspect-1.0")
        .arg("avmonitor")
        .env_remove("GST_PLUGIN_PATH")
        .env("GST_PLUGIN_SYSTEM_PATH_1_0", &system_path)
        .env("GST_REGISTRY", stage.join("registry.bin"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listing}");
    for element in [
        "blackdetect",
        "freezedetect",
        "blockdetect",
        "silencedetect",
        "loudnessmeter",
        "levelsdetect",
        "patterndetect",
    ] {
        assert!(
            listing.contains(&format!("  {element}: ")),
            "{element} not listed:\n{listing}"
        );
    }

    // the service on the example configuration (its event file moved
    // into the stage, and its demo stream, which has no defects, swapped
    // for one that has): it starts, stays up and writes events
    let events = stage.join("events.jsonl");
    let conf_text = std::fs::read_to_string(&conf).unwrap();
    let moved = conf_text.replace(
        "\"/var/log/avmonitor/events.jsonl\"",
        &format!("{:?}", events.to_str().unwrap()),
    );
    assert_ne!(
        moved, conf_text,
        "the example configuration has no event file"
    );
    assert!(moved.contains("uri = \"demo:0\""));
    let moved = moved.replace("uri = \"demo:0\"", "uri = \"demo:1\"");
    let test_conf = stage.join("test.toml");
    std::fs::write(&test_conf, moved).unwrap();
    let mut child = Command::new(&bin)
        .args(["--no-http", "--config", test_conf.to_str().unwrap()])
        .env("GST_PLUGIN_SYSTEM_PATH_1_0", &system_path)
        .env("GST_REGISTRY", stage.join("registry.bin"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while Instant::now() < until && !seen.contains("\"event\":\"start\"") {
        assert!(child.try_wait().unwrap().is_none(), "the service stopped");
        std::thread::sleep(Duration::from_millis(100));
        seen = std::fs::read_to_string(&events).unwrap_or_default();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.contains("\"event\":\"stream-up\""), "{seen}");
    assert!(
        seen.contains("\"event\":\"start\""),
        "no defect in 20 s: {seen}"
    );

    // a second install keeps the configuration the user edited
    std::fs::write(&conf, "# mine\n").unwrap();
    install(&stage, &[]);
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), "# mine\n");

    install(&stage, &["--uninstall"]);
    for gone in [&plugin, &bin, &unit] {
        assert!(!gone.exists(), "{} left", gone.display());
    }
    assert!(conf.exists(), "the configuration went without --purge");
    install(&stage, &["--uninstall", "--purge"]);
    assert!(!conf.exists());
}

/// `field` of a package's control file.
fn control(deb: &Path, field: &str) -> String {
    let out = Command::new("dpkg-deb")
        .args(["-f", deb.to_str().unwrap(), field])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The files a package holds, and their modes.
fn contents(deb: &Path) -> Vec<(String, String)> {
    let out = Command::new("dpkg-deb")
        .args(["-c", deb.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (
                w[w.len() - 1].trim_start_matches('.').to_string(),
                w[0].to_string(),
            )
        })
        .collect()
}

#[test]
fn debian_packages_hold_the_files_and_declare_their_dependencies() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian");
    let _ = std::fs::remove_dir_all(&out_dir);
    let built = Path::new(BIN).parent().unwrap();
    let run = Command::new("bash")
        .arg(repo().join("scripts/package-deb.sh"))
        .args(["--from", built.to_str().unwrap()])
        .args(["--out", out_dir.to_str().unwrap()])
        .env("DEB_COMPRESSION", "none")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "package-deb.sh: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let arch = String::from_utf8(
        Command::new("dpkg")
            .arg("--print-architecture")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let deb = |name: &str| out_dir.join(format!("{name}_0.1.0_{}.deb", arch.trim()));

    let plugin = deb("gstreamer1.0-avmonitor");
    assert_eq!(control(&plugin, "Package"), "gstreamer1.0-avmonitor");
    let depends = control(&plugin, "Depends");
    for dep in [
        "libgstreamer1.0-0 (>=",
        "libgstreamer-plugins-base1.0-0 (>=",
        "libc6",
    ] {
        assert!(depends.contains(dep), "plugin: no {dep} in {depends}");
    }
    let files = contents(&plugin);
    let so = pluginsdir().join("libgstavmonitor.so");
    assert!(
        files.contains(&(so.display().to_string(), "-rw-r--r--".into())),
        "{files:?}"
    );
    assert!(!files.iter().any(|(f, _)| f.contains("/bin/")), "{files:?}");

    let service = deb("avmonitor");
    let depends = control(&service, "Depends");
    for dep in [
        "libgstreamer1.0-0 (>=",
        "adduser",
        "gstreamer1.0-plugins-good",
        "gstreamer1.0-libav",
    ] {
        assert!(depends.contains(dep), "service: no {dep} in {depends}");
    }
    let files = contents(&service);
    for (file, mode) in [
        ("/usr/bin/avmonitor", "-rwxr-xr-x"),
        ("/lib/systemd/system/avmonitor.service", "-rw-r--r--"),
        ("/etc/avmonitor/avmonitor.toml", "-rw-r--r--"),
    ] {
        assert!(
            files.contains(&(file.to_string(), mode.to_string())),
            "service: no {file} {mode} in {files:?}"
        );
    }
    // the plugin is the other package's
    assert!(!files.iter().any(|(f, _)| f.ends_with(".so")), "{files:?}");
    // the configuration is a conffile; the user is made and removed
    let ctrl = out_dir.join("avmonitor-control");
    let ok = Command::new("dpkg-deb")
        .args(["-e", service.to_str().unwrap(), ctrl.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(ok.success());
    let read = |f: &str| std::fs::read_to_string(ctrl.join(f)).unwrap();
    assert_eq!(read("conffiles").trim(), "/etc/avmonitor/avmonitor.toml");
    assert!(read("postinst").contains("adduser --system"));
    assert!(read("postrm").contains("deluser --system avmonitor"));
}
