//! The launch lines of docs/pipelines.md, run: monitoring beside an
//! existing chain through a `tee` and a leaky queue (a monitor branch that
//! blocks outright never stalls the main path), over UDP (MPEG-TS), RTP
//! and SRT inputs, and inside `playbin` as its `video-filter` and
//! `audio-filter`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::init;
use gst::prelude::*;

/// The element messages of `name` that `pipeline` posts until `done` says
/// enough (given those so far) or `secs` pass; the pipeline is stopped.
fn messages_until(
    pipeline: &gst::Element,
    secs: u64,
    done: impl Fn(&[gst::Structure]) -> bool,
) -> Vec<gst::Structure> {
    let bus = pipeline.bus().unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let until = Instant::now() + Duration::from_secs(secs);
    let (mut got, mut error) = (vec![], None);
    while Instant::now() < until && !done(&got) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        match msg.view() {
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure() {
                    got.push(s.to_owned());
                }
            }
            gst::MessageView::Error(e) => {
                error = Some(format!("{}: {}", e.error(), e.debug().unwrap_or_default()));
                break;
            }
            gst::MessageView::Eos(_) => break,
            _ => {}
        }
    }
    // stopped before any panic: a pipeline dropped while it plays can hang
    pipeline.set_state(gst::State::Null).unwrap();
    if let Some(e) = error {
        panic!("{e}");
    }
    got
}

fn has(msgs: &[gst::Structure], name: &str, event: &str) -> bool {
    msgs.iter()
        .any(|s| s.name() == name && s.get::<&str>("event").ok() == Some(event))
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn have(factories: &[&str]) -> bool {
    let missing: Vec<_> = factories
        .iter()
        .filter(|f| gst::ElementFactory::find(f).is_none())
        .collect();
    if !missing.is_empty() {
        eprintln!("skipped: no {missing:?} (scripts/setup.sh installs them)");
    }
    missing.is_empty()
}

/// The main path of an existing chain, and the monitor on a branch of a
/// `tee` behind a leaky queue (docs/pipelines.md). The monitor's sink here
/// never takes a second buffer (an appsink nobody pulls from, its queue of
/// one full): the main path still gets every buffer, at its own pace, and
/// the leaky queue drops what the monitor cannot take.
#[test]
fn a_blocked_monitor_branch_never_stalls_the_main_path() {
    init();
    const N: u64 = 300;
    let p = gst::parse::launch(&format!(
        "videotestsrc pattern=black num-buffers={N} ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! tee name=t \
         t. ! queue ! fakesink name=main sync=false signal-handoffs=true \
         t. ! queue leaky=downstream max-size-buffers=2 max-size-bytes=0 max-size-time=0 \
            ! blackdetect name=monitor ! appsink name=stuck max-buffers=1 drop=false sync=false async=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let main = Arc::new(AtomicU64::new(0));
    let m = main.clone();
    p.by_name("main")
        .unwrap()
        .connect("handoff", false, move |_| {
            m.fetch_add(1, Ordering::SeqCst);
            None
        });
    let monitored = Arc::new(AtomicU64::new(0));
    let c = monitored.clone();
    p.by_name("monitor")
        .unwrap()
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            c.fetch_add(1, Ordering::SeqCst);
            gst::PadProbeReturn::Ok
        });
    p.set_state(gst::State::Playing).unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while main.load(Ordering::SeqCst) < N && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (main, monitored) = (
        main.load(Ordering::SeqCst),
        monitored.load(Ordering::SeqCst),
    );
    p.set_state(gst::State::Null).unwrap();
    assert_eq!(main, N, "the main path stalled behind the monitor");
    // the monitor branch was blocked: its sink took one buffer and holds
    // the next
    assert!(
        monitored <= 3,
        "{monitored} buffers reached the monitor's sink"
    );
}

/// The same shape with a monitor that keeps up: it reports.
#[test]
fn a_monitor_beside_the_main_path_reports() {
    init();
    let p = gst::parse::launch(
        "videotestsrc pattern=black num-buffers=75 ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! tee name=t \
         t. ! queue ! fakesink sync=false \
         t. ! queue leaky=downstream max-size-buffers=2 max-size-bytes=0 max-size-time=0 \
            ! blackdetect min-duration=1000000000 ! fakesink sync=false async=false",
    )
    .unwrap();
    let msgs = messages_until(&p, 30, |m| has(m, "blackdetect", "end"));
    assert!(has(&msgs, "blackdetect", "start"), "{msgs:?}");
}

/// A sender of three seconds of black picture, live-paced, as `sink`.
fn send(sink: &str, pay: &str) -> gst::Element {
    gst::parse::launch(&format!(
        "videotestsrc pattern=black is-live=true num-buffers=100 \
         ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! x264enc tune=zerolatency key-int-max=25 ! {pay} ! {sink}"
    ))
    .unwrap()
}

/// `receiver` (a documented input line, `{port}` filled in) reports the
/// black that `sender` sends. In a thread of its own, given a minute: a
/// network element that never lets go on a failure (srtsrc, stopped
/// without a caller's data, can) fails the test instead of hanging it.
fn receive(receiver: &str, sender: &str, pay: &str) {
    init();
    let (receiver, sender, pay) = (receiver.to_string(), sender.to_string(), pay.to_string());
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let port = free_udp_port().to_string();
        let rx = gst::parse::launch(&receiver.replace("{port}", &port)).unwrap();
        let tx = send(&sender.replace("{port}", &port), &pay);
        // the receiver listens first
        rx.set_state(gst::State::Playing).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        tx.set_state(gst::State::Playing).unwrap();
        let msgs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            messages_until(&rx, 30, |m| has(m, "blackdetect", "start"))
        }));
        tx.set_state(gst::State::Null).unwrap();
        let _ = done.send(msgs.map_err(|_| "the receiver failed".to_string()));
    });
    match result.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(msgs)) => assert!(has(&msgs, "blackdetect", "start"), "{msgs:?}"),
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!("the receiver neither reported nor stopped in 60 s"),
    }
}

#[test]
fn udp_mpeg_ts_input() {
    init();
    if !have(&["x264enc", "mpegtsmux", "tsdemux", "avdec_h264"]) {
        return;
    }
    receive(
        "udpsrc port={port} caps=\"video/mpegts,systemstream=true\" ! tsdemux ! h264parse \
         ! slicecheck ! avdec_h264 ! videoconvert ! blackdetect min-duration=1000000000 ! fakesink",
        "udpsink host=127.0.0.1 port={port}",
        "h264parse ! mpegtsmux",
    );
}

#[test]
fn rtp_h264_input() {
    init();
    if !have(&["x264enc", "rtph264pay", "rtpjitterbuffer", "avdec_h264"]) {
        return;
    }
    receive(
        "udpsrc port={port} caps=\"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96\" \
         ! rtpjitterbuffer latency=200 ! rtph264depay ! h264parse ! slicecheck ! avdec_h264 \
         ! videoconvert ! blackdetect min-duration=1000000000 ! fakesink",
        "udpsink host=127.0.0.1 port={port}",
        "rtph264pay config-interval=1 pt=96",
    );
}

#[test]
fn srt_input() {
    init();
    if !have(&["x264enc", "mpegtsmux", "srtsrc", "srtsink", "avdec_h264"]) {
        return;
    }
    receive(
        "srtsrc uri=srt://:{port} ! tsdemux ! h264parse ! slicecheck ! avdec_h264 \
         ! videoconvert ! blackdetect min-duration=1000000000 ! fakesink",
        "srtsink uri=srt://127.0.0.1:{port}",
        // SRT carries whole 1316-byte messages: seven TS packets each
        // SRT carries whole 1316-byte messages: seven TS packets each
        "h264parse ! mpegtsmux alignment=7",
    );
}

/// `playbin` users put the detectors in as its filters.
#[test]
fn playbin_filters() {
    init();
    if !have(&["x264enc", "avenc_aac", "mp4mux"]) {
        return;
    }
    let path = std::env::temp_dir().join(format!("avmonitor-playbin-{}.mp4", std::process::id()));
    let make = gst::parse::launch(&format!(
        "videotestsrc pattern=black num-buffers=75 ! video/x-raw,width=320,height=240,framerate=25/1 \
         ! x264enc ! mux. \
         audiotestsrc wave=silence num-buffers=150 samplesperbuffer=960 ! audioconvert ! avenc_aac ! mux. \
         mp4mux name=mux ! filesink location={}",
        path.display()
    ))
    .unwrap();
    let _ = messages_until(&make, 60, |_| false);
    let uri = gst::glib::filename_to_uri(&path, None).unwrap();
    let p = gst::parse::launch(&format!(
        "playbin uri={uri} \
         video-filter=\"videoconvert ! blackdetect min-duration=1000000000 ! freezedetect\" \
         audio-filter=\"audioconvert ! silencedetect min-duration=1000000000 ! loudnessmeter\" \
         video-sink=\"fakesink sync=false\" audio-sink=\"fakesink sync=false\""
    ))
    .unwrap();
    let msgs = messages_until(&p, 60, |_| false);
    let _ = std::fs::remove_file(&path);
    for (name, event) in [
        ("blackdetect", "start"),
        ("blackdetect", "end"),
        ("silencedetect", "start"),
        ("silencedetect", "end"),
        ("loudnessmeter", "measurement"),
    ] {
        assert!(has(&msgs, name, event), "no {name} {event}: {msgs:?}");
    }
}
