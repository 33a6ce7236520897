//! tsmonitor: real encodes multiplexed by `mpegtsmux`, damaged by a helper
//! packet by packet, pushed through the element in buffers of every kind of
//! size; each error class is found on the right PID at the right time,
//! clean streams raise nothing, and every buffer comes out unchanged.

mod common;

use common::*;
use gst::prelude::*;
use gstavmonitor::{EventKind, PidKind, TsErrorClass, TsMonitorMessage};

const MS: u64 = 1_000_000;

/// `mpegtsmux` as a broadcast multiplexer is set: a PCR every 20 ms (its
/// default of 40 ms writes one every 80 ms in GStreamer 1.22, which
/// TR 101 290's 40 ms limit reports; see `default_mpegtsmux_pcrs_are_80_ms_apart`).
const PCR20: &str = "pcr-interval=1800";

/// The real footage (`scripts/footage.sh`): Big Buck Bunny (H.264 720p25
/// and AAC 5.1, 5.3 s) and a handheld camera clip (H.264, 10 s).
fn footage(name: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("AVMONITOR_FOOTAGE")?;
    let p = std::path::Path::new(&dir).join(name);
    p.exists().then_some(p)
}

/// `path`'s coded streams multiplexed by `mpegtsmux` (no re-encoding), as
/// 188-byte packets (or 192 with `m2ts-mode`); made once per process.
fn mux(path: &std::path::Path, audio: bool, props: &str) -> Vec<u8> {
    type Made = std::collections::HashMap<String, Vec<u8>>;
    static MADE: std::sync::Mutex<Option<Made>> = std::sync::Mutex::new(None);
    let key = format!("{} {audio} {props}", path.display());
    if let Some(b) = MADE.lock().unwrap().get_or_insert_default().get(&key) {
        return b.clone();
    }
    let bytes = make_mux(path, audio, props);
    MADE.lock()
        .unwrap()
        .get_or_insert_default()
        .insert(key, bytes.clone());
    bytes
}

fn make_mux(path: &std::path::Path, audio: bool, props: &str) -> Vec<u8> {
    init();
    let audio = if audio {
        "d.audio_0 ! queue ! aacparse ! m."
    } else {
        ""
    };
    let p = gst::parse::launch(&format!(
        "filesrc location={} ! qtdemux name=d mpegtsmux name=m {props} ! appsink name=out sync=false \
         d.video_0 ! queue ! h264parse ! m. {audio}",
        path.display()
    ))
    .expect("pipeline");
    let p = p.downcast::<gst::Pipeline>().unwrap();
    let sink = p
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let bus = p.bus().unwrap();
    let mut bytes = Vec::new();
    loop {
        if let Some(m) = bus.pop_filtered(&[gst::MessageType::Error]) {
            p.set_state(gst::State::Null).unwrap();
            panic!("muxing {}: {m:?}", path.display());
        }
        match sink.try_pull_sample(gst::ClockTime::from_seconds(30)) {
            Some(s) => {
                if let Some(b) = s.buffer() {
                    bytes.extend_from_slice(b.map_readable().unwrap().as_slice());
                }
            }
            None if sink.is_eos() => break,
            None => {
                p.set_state(gst::State::Null).unwrap();
                panic!("muxing {}: no data for 30 s", path.display());
            }
        }
    }
    p.set_state(gst::State::Null).unwrap();
    assert!(
        bytes.len() > 100_000,
        "{} muxed to {} bytes",
        path.display(),
        bytes.len()
    );
    bytes
}

fn packets(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(bytes.len() % 188, 0);
    bytes.chunks(188).map(|c| c.to_vec()).collect()
}

fn pid(p: &[u8]) -> u16 {
    u16::from(p[1] & 0x1f) << 8 | u16::from(p[2])
}

fn pcr(p: &[u8]) -> Option<u64> {
    (p[3] & 0x20 != 0 && p[4] >= 7 && p[5] & 0x10 != 0).then(|| {
        let b = &p[6..12];
        let base = u64::from(b[0]) << 25
            | u64::from(b[1]) << 17
            | u64::from(b[2]) << 9
            | u64::from(b[3]) << 1
            | u64::from(b[4]) >> 7;
        base * 300 + (u64::from(b[4] & 1) << 8 | u64::from(b[5]))
    })
}

/// Writes PCR value `v` (27 MHz) into packet `p`, which has one.
fn set_pcr(p: &mut [u8], v: u64) {
    let (base, ext) = (v / 300, v % 300);
    p[6] = (base >> 25) as u8;
    p[7] = (base >> 17) as u8;
    p[8] = (base >> 9) as u8;
    p[9] = (base >> 1) as u8;
    p[10] = ((base & 1) << 7) as u8 | 0x7e | (ext >> 8) as u8;
    p[11] = ext as u8;
}

/// The stream time (ns) of packet `i` as the PCRs say: the last PCR at or
/// before it, from the first PCR.
fn time_of(ps: &[Vec<u8>], i: usize) -> u64 {
    let first = ps.iter().find_map(|p| pcr(p)).unwrap();
    let last = ps[..=i].iter().rev().find_map(|p| pcr(p)).unwrap_or(first);
    (last - first) * 1000 / 27
}

/// The PIDs of the video and audio streams and of the PMT, as mpegtsmux
/// numbers them.
struct Pids {
    video: u16,
    audio: Option<u16>,
    pmt: u16,
}

fn pids(ps: &[Vec<u8>]) -> Pids {
    let mut seen: Vec<u16> = ps.iter().map(|p| pid(p)).collect();
    seen.sort();
    seen.dedup();
    let es: Vec<u16> = seen
        .iter()
        .copied()
        .filter(|p| (0x40..0x1000).contains(p))
        .collect();
    Pids {
        video: es[0],
        audio: es.get(1).copied(),
        pmt: *seen
            .iter()
            .find(|&&p| p >= 0x20 && !es.contains(&p))
            .unwrap(),
    }
}

/// What one run saw: the errors (class, pid, kind, start, end, count) and
/// the measurements.
#[derive(Debug, Default)]
struct Seen {
    errors: Vec<(TsErrorClass, Option<u16>, PidKind, u64, u64, u64)>,
    measurements: Vec<TsMonitorMessage>,
}

/// Pushes `bytes` in buffers of `chunk` bytes (no timestamps, as from a
/// file) through the element, each checked to come out unchanged, then EOS.
fn run(bytes: &[u8], chunk: usize, props: &[(&str, &dyn ToValue)]) -> Seen {
    let caps = gst::Caps::builder("video/mpegts")
        .field("systemstream", true)
        .build();
    let mut r = Run::new("tsmonitor", props, &caps);
    let mut msgs = Vec::new();
    for c in bytes.chunks(chunk) {
        msgs.extend(r.push(gst::Buffer::from_slice(c.to_vec())));
    }
    msgs.extend(r.event(gst::event::Eos::new()));
    let mut seen = Seen::default();
    let mut open = Vec::new();
    for s in &msgs {
        let m = TsMonitorMessage::from_structure(s).unwrap_or_else(|e| panic!("{e}: {s}"));
        match m {
            TsMonitorMessage::Error {
                event,
                class,
                pid,
                kind,
                count,
                priority,
                ..
            } => {
                assert_eq!(priority, class.priority());
                match event.kind {
                    EventKind::Start => {
                        assert_eq!(count, 1);
                        assert_eq!(event.at.running_time, Some(event.at.timestamp));
                        open.push((class, pid, event.at.timestamp));
                    }
                    EventKind::End => {
                        let i = open
                            .iter()
                            .position(|o| o.0 == class && o.1 == pid)
                            .expect("an end has its start");
                        let start = open.remove(i).2;
                        assert_eq!(event.duration, Some(event.at.timestamp - start));
                        seen.errors
                            .push((class, pid, kind, start, event.at.timestamp, count));
                    }
                }
            }
            m @ TsMonitorMessage::Measurement { .. } => seen.measurements.push(m),
        }
    }
    assert!(open.is_empty(), "every start has its end by EOS: {open:?}");
    seen
}

fn only(seen: &Seen) -> (TsErrorClass, Option<u16>, PidKind, u64, u64, u64) {
    assert_eq!(seen.errors.len(), 1, "{:?}", seen.errors);
    seen.errors[0]
}

fn near(t: u64, want: u64, slack_ms: u64) {
    assert!(
        t.abs_diff(want) <= slack_ms * MS,
        "at {} ms, wanted {} ms",
        t / MS,
        want / MS
    );
}

macro_rules! need {
    ($name:expr) => {
        match footage($name) {
            Some(p) => p,
            None => {
                eprintln!("skipped: no footage (AVMONITOR_FOOTAGE; scripts/footage.sh)");
                return;
            }
        }
    };
}

#[test]
fn clean_real_streams_raise_nothing_in_any_buffer_size() {
    let bunny = mux(&need!("bigbuckbunny.mp4"), true, PCR20);
    let bikes = mux(&need!("bikes.mp4"), false, PCR20);
    // and with null packets padding to a constant 3 Mb/s
    let padded = mux(
        &need!("bigbuckbunny.mp4"),
        true,
        "pcr-interval=1800 bitrate=3000000",
    );
    for (name, bytes) in [("bunny", &bunny), ("bikes", &bikes), ("padded", &padded)] {
        for chunk in [188, 1316, 4096, 1000, 7777] {
            let seen = run(bytes, chunk, &[]);
            assert!(
                seen.errors.is_empty(),
                "{name} in {chunk}: {:?}",
                seen.errors
            );
        }
    }
    let ps = packets(&padded);
    let p = pids(&ps);
    let nulls = ps.iter().filter(|x| pid(x) == 0x1fff).count();
    assert!(nulls > 100, "{nulls} null packets");
    // the measurements: kinds from the PMT, bitrates as the packets say
    let seen = run(&padded, 1316, &[]);
    assert!(seen.measurements.len() >= 4, "{}", seen.measurements.len());
    let TsMonitorMessage::Measurement {
        pids: ids,
        bitrates,
        packet_size,
        errors,
        ..
    } = &seen.measurements[2]
    else {
        unreachable!()
    };
    assert_eq!(*packet_size, 188);
    assert_eq!(errors.iter().sum::<u64>(), 0);
    let total: f64 = bitrates.iter().sum();
    assert!(
        (2.7e6..3.3e6).contains(&total),
        "{total} b/s, muxed at 3 Mb/s"
    );
    assert!(ids.contains(&p.video) && ids.contains(&p.audio.unwrap()) && ids.contains(&0x1fff));
}

#[test]
fn default_mpegtsmux_pcrs_are_80_ms_apart() {
    let bytes = mux(&need!("bigbuckbunny.mp4"), true, "");
    let ps = packets(&bytes);
    let pcrs = ps.iter().filter(|p| pcr(p).is_some()).count() as u64;
    let (class, _, kind, start, end, count) = only(&run(&bytes, 1316, &[]));
    assert_eq!(
        (class, kind),
        (TsErrorClass::PcrRepetitionError, PidKind::Video)
    );
    // every gap but the first, from the second PCR to the last
    assert_eq!(count, pcrs - 1);
    assert_eq!((start, end), (80 * MS, (pcrs - 1) * 80 * MS));
    // with ISO/IEC 13818-1's 100 ms instead: nothing
    let seen = run(&bytes, 1316, &[("pcr-interval", &(100 * MS))]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
}

/// Continuity counters numbered again per PID, as a multiplexer that never
/// sent the removed packets would have them.
fn renumber(ps: &mut [Vec<u8>]) {
    let mut cc = vec![None::<u8>; 8192];
    for p in ps.iter_mut() {
        let pid = usize::from(pid(p));
        if p[3] & 0x10 == 0 {
            continue;
        }
        let next = cc[pid].map_or(p[3] & 0x0f, |c| (c + 1) & 0x0f);
        p[3] = (p[3] & 0xf0) | next;
        cc[pid] = Some(next);
    }
}

/// Where the section of a packet that starts one begins.
fn section_start(p: &[u8]) -> usize {
    let af = if p[3] & 0x20 != 0 {
        1 + usize::from(p[4])
    } else {
        0
    };
    let pointer = 4 + af;
    pointer + 1 + usize::from(p[pointer])
}

#[test]
fn lost_and_reordered_packets_are_continuity_errors_on_their_pid() {
    let bytes = mux(&need!("bigbuckbunny.mp4"), true, PCR20);
    let ps = packets(&bytes);
    let p = pids(&ps);
    // a video packet lost 2 s in
    let at = (ps.len() * 2 / 5..)
        .find(|&i| pid(&ps[i]) == p.video && pcr(&ps[i]).is_none())
        .unwrap();
    let mut lost = ps.clone();
    lost.remove(at);
    let (class, pid_, kind, start, end, count) = only(&run(&lost.concat(), 1316, &[]));
    assert_eq!(
        (class, pid_, kind, count),
        (
            TsErrorClass::ContinuityCountError,
            Some(p.video),
            PidKind::Video,
            1
        )
    );
    near(start, time_of(&ps, at), 45);
    assert_eq!(start, end);
    // two audio packets swapped: out of order, twice
    let audio = p.audio.unwrap();
    let a: Vec<usize> = (ps.len() / 2..)
        .filter(|&i| pid(&ps[i]) == audio)
        .take(2)
        .collect();
    let mut swapped = ps.clone();
    swapped.swap(a[0], a[1]);
    let (class, pid_, kind, _, _, count) = only(&run(&swapped.concat(), 4096, &[]));
    assert_eq!(
        (class, pid_, kind, count),
        (
            TsErrorClass::ContinuityCountError,
            Some(audio),
            PidKind::Audio,
            3
        )
    );
    // a packet sent twice is allowed; three times is not
    let mut twice = ps.clone();
    twice.insert(at, ps[at].clone());
    assert!(run(&twice.concat(), 1316, &[]).errors.is_empty());
    twice.insert(at, ps[at].clone());
    assert_eq!(
        only(&run(&twice.concat(), 1316, &[])).0,
        TsErrorClass::ContinuityCountError
    );
}

#[test]
fn missing_tables_are_late_by_the_standards_half_second() {
    let bytes = mux(&need!("bigbuckbunny.mp4"), true, PCR20);
    let ps = packets(&bytes);
    let p = pids(&ps);
    let from = ps.len() / 3;
    let to = ps.len() * 2 / 3;
    // the PAT removed over a third of the stream
    let last_pat = (0..from).rev().find(|&i| pid(&ps[i]) == 0).unwrap();
    let mut no_pat: Vec<Vec<u8>> = ps
        .iter()
        .enumerate()
        .filter(|(i, x)| !(pid(x) == 0 && (from..to).contains(i)))
        .map(|(_, x)| x.clone())
        .collect();
    renumber(&mut no_pat);
    let (class, pid_, kind, start, _, count) = only(&run(&no_pat.concat(), 1316, &[]));
    assert_eq!(
        (class, pid_, kind),
        (TsErrorClass::PatError, Some(0), PidKind::Tables)
    );
    near(start, time_of(&ps, last_pat) + 500 * MS, 45);
    assert!(count >= 2, "{count}");
    // the PMT delayed: removed for 0.8 s
    let last_pmt = (0..from).rev().find(|&i| pid(&ps[i]) == p.pmt).unwrap();
    let t0 = time_of(&ps, last_pmt);
    let mut no_pmt: Vec<Vec<u8>> = ps
        .iter()
        .enumerate()
        .filter(|(i, x)| !(pid(x) == p.pmt && *i > last_pmt && time_of(&ps, *i) < t0 + 800 * MS))
        .map(|(_, x)| x.clone())
        .collect();
    renumber(&mut no_pmt);
    let (class, pid_, kind, start, _, _) = only(&run(&no_pmt.concat(), 1316, &[]));
    assert_eq!(
        (class, pid_, kind),
        (TsErrorClass::PmtError, Some(p.pmt), PidKind::Tables)
    );
    near(start, t0 + 500 * MS, 45);
}

#[test]
fn pcr_jumps_count_unless_announced() {
    let bytes = mux(&need!("bikes.mp4"), false, PCR20);
    let ps = packets(&bytes);
    let p = pids(&ps);
    let from = (ps.len() / 2..).find(|&i| pcr(&ps[i]).is_some()).unwrap();
    let mut jumped = ps.clone();
    for x in jumped.iter_mut().skip(from) {
        if let Some(v) = pcr(x) {
            set_pcr(x, v + 27_000_000 * 3); // 3 s on
        }
    }
    let (class, pid_, _, start, _, count) = only(&run(&jumped.concat(), 1316, &[]));
    assert_eq!(
        (class, pid_, count),
        (
            TsErrorClass::PcrDiscontinuityIndicatorError,
            Some(p.video),
            1
        )
    );
    near(start, time_of(&ps, from), 45);
    // announced with the discontinuity indicator: nothing
    jumped[from][5] |= 0x80;
    assert!(run(&jumped.concat(), 1316, &[]).errors.is_empty());
}

#[test]
fn inaccurate_pcrs_of_a_constant_rate_mux() {
    // mpegtsmux padding to 3 Mb/s writes every PCR exactly where the rate
    // puts it; give them ±300 ns of jitter (within TR 101 290's ±500 ns)
    // and one PCR, halfway, 2 µs more
    let bytes = mux(
        &need!("bigbuckbunny.mp4"),
        true,
        "pcr-interval=1800 bitrate=3000000",
    );
    let ps = packets(&bytes);
    let p = pids(&ps);
    let with_pcr: Vec<usize> = (0..ps.len()).filter(|&i| pcr(&ps[i]).is_some()).collect();
    let bad = with_pcr[with_pcr.len() / 2];
    let mut jittered = ps.clone();
    for (n, &i) in with_pcr.iter().enumerate() {
        let v = pcr(&ps[i]).unwrap();
        let v = if n % 2 == 0 { v + 8 } else { v - 8 };
        set_pcr(&mut jittered[i], if i == bad { v + 54 } else { v });
    }
    let (class, pid_, kind, start, _, count) = only(&run(&jittered.concat(), 1316, &[]));
    assert_eq!(
        (class, pid_, kind, count),
        (
            TsErrorClass::PcrAccuracyError,
            Some(p.video),
            PidKind::Video,
            1
        )
    );
    near(start, time_of(&ps, bad), 45);
    // with a 3 µs limit, nothing; with 200 ns, the jitter too
    let seen = run(&jittered.concat(), 1316, &[("pcr-accuracy", &3000u64)]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let seen = run(&jittered.concat(), 1316, &[("pcr-accuracy", &200u64)]);
    let (class, _, _, _, _, count) = only(&seen);
    assert_eq!(class, TsErrorClass::PcrAccuracyError);
    assert!(
        count > with_pcr.len() as u64 / 2,
        "{count} of {}",
        with_pcr.len()
    );
    // a variable-rate mux (no padding) has no rate to measure against: the
    // same damage there raises nothing
    let vbr = mux(&need!("bigbuckbunny.mp4"), true, PCR20);
    let mut ps = packets(&vbr);
    let with_pcr: Vec<usize> = (0..ps.len()).filter(|&i| pcr(&ps[i]).is_some()).collect();
    let bad = with_pcr[with_pcr.len() / 2];
    let v = pcr(&ps[bad]).unwrap();
    set_pcr(&mut ps[bad], v + 54);
    // (this mux leaves its PCRs exactly 40 ms apart, 2 µs more is over
    // the repetition limit, which is not what is tested here)
    let seen = run(&ps.concat(), 1316, &[("pcr-interval", &(100 * MS))]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
}

#[test]
fn transport_errors_bad_crcs_and_sync_bytes() {
    let bytes = mux(&need!("bigbuckbunny.mp4"), true, PCR20);
    let ps = packets(&bytes);
    let p = pids(&ps);
    let n = ps.len();
    let mut bad = ps.clone();
    let tei = (n / 4..).find(|&i| pid(&ps[i]) == p.video).unwrap();
    bad[tei][1] |= 0x80;
    let pmt = (n / 2..).find(|&i| pid(&ps[i]) == p.pmt).unwrap();
    let at = section_start(&ps[pmt]) + 3;
    bad[pmt][at] ^= 0x40; // the program number
    let sync = (n * 3 / 4..)
        .find(|&i| pid(&ps[i]) == p.audio.unwrap())
        .unwrap();
    bad[sync][0] = 0x07;
    let seen = run(&bad.concat(), 1316, &[]);
    let got: Vec<_> = seen.errors.iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        got,
        vec![
            (TsErrorClass::TransportError, Some(p.video)),
            (TsErrorClass::CrcError, Some(p.pmt)),
            (TsErrorClass::SyncByteError, p.audio),
        ]
    );
    for (e, i) in seen.errors.iter().zip([tei, pmt, sync]) {
        near(e.3, time_of(&ps, i), 45);
    }
    // three sync bytes in a row lost: sync is lost, and found again
    let mut lost = ps.clone();
    for x in lost.iter_mut().skip(n / 2).take(3) {
        x[0] = 0;
    }
    let seen = run(&lost.concat(), 4096, &[]);
    let loss = seen
        .errors
        .iter()
        .find(|e| e.0 == TsErrorClass::TsSyncLoss)
        .expect("sync loss");
    assert_eq!(loss.1, None);
    near(loss.3, time_of(&ps, n / 2), 45);
}

#[test]
fn m2ts_packets_of_192_bytes_are_found() {
    let bytes = mux(
        &need!("bikes.mp4"),
        false,
        "pcr-interval=1800 m2ts-mode=true",
    );
    assert_eq!(bytes.len() % 192, 0);
    let seen = run(&bytes, 6144, &[]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let TsMonitorMessage::Measurement { packet_size, .. } = seen.measurements[0] else {
        unreachable!()
    };
    assert_eq!(packet_size, 192);
}

#[test]
fn garbage_passes_unchanged_and_raises_nothing() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let junk: Vec<u8> = (0..400_000)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as u8
        })
        .collect();
    let seen = run(&junk, 1500, &[]);
    assert!(seen.errors.is_empty());
}

#[test]
fn in_a_pipeline_before_the_demuxer() {
    let path = need!("bigbuckbunny.mp4");
    let ts = std::env::temp_dir().join(format!("tsmonitor-{}.ts", std::process::id()));
    std::fs::write(&ts, mux(&path, true, PCR20)).unwrap();
    init();
    let p = gst::parse::launch(&format!(
        "filesrc location={} ! video/mpegts,systemstream=true ! tsmonitor ! tsdemux name=d \
         d. ! queue ! h264parse ! avdec_h264 ! fakesink d. ! queue ! fakesink",
        ts.display()
    ))
    .unwrap();
    let bus = p.bus().unwrap();
    p.set_state(gst::State::Playing).unwrap();
    let mut msgs = Vec::new();
    for m in bus.iter_timed(gst::ClockTime::from_seconds(60)) {
        match m.view() {
            gst::MessageView::Eos(_) => break,
            gst::MessageView::Error(e) => panic!("{}", e.error()),
            gst::MessageView::Element(e) => {
                if let Some(s) = e.structure().filter(|s| s.name() == "tsmonitor") {
                    msgs.push(TsMonitorMessage::from_structure(s).unwrap());
                }
            }
            _ => {}
        }
    }
    p.set_state(gst::State::Null).unwrap();
    let _ = std::fs::remove_file(&ts);
    assert!(msgs
        .iter()
        .all(|m| matches!(m, TsMonitorMessage::Measurement { .. })));
    assert!(msgs.len() >= 4, "{} measurements", msgs.len());
}

/// A short seeded fuzz run of the checks themselves (the long one is
/// `fuzz/`, with cargo fuzz): a real stream mutated (bytes flipped,
/// inserted, removed, runs of sync bytes, truncated) and cut at random,
/// 188 and 204-byte framings; no panic, every run ends.
/// `AVMONITOR_FUZZ_CASES=N` runs N cases instead of 300.
#[test]
fn mutated_real_streams_never_break_the_checks() {
    let cases: usize = std::env::var("AVMONITOR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    use gstavmonitor::analysis::event::EndReason;
    use gstavmonitor::analysis::transport::monitor::{TsConfig, TsMonitor};
    let bytes = mux(&need!("bikes.mp4"), false, PCR20);
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for case in 0..cases {
        let from = next(bytes.len() - 20_000);
        let mut data = bytes[from..from + 20_000].to_vec();
        if case % 3 == 0 {
            // 204-byte packets
            data = data
                .chunks(188)
                .flat_map(|p| p.iter().copied().chain(std::iter::repeat_n(0xa5, 16)))
                .collect();
        }
        for _ in 0..next(40) {
            let at = next(data.len());
            match next(5) {
                0 => data[at] ^= 1 << next(8),
                1 => data[at] = 0x47,
                2 => data.insert(at, next(256) as u8),
                3 => {
                    data.remove(at);
                }
                _ => data[at..].iter_mut().take(8).for_each(|b| *b = 0xff),
            }
        }
        data.truncate(data.len() - next(300));
        let mut m = TsMonitor::new(TsConfig::default());
        let mut out = Vec::new();
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = (1 + next(3000)).min(rest.len());
            let arrival = (case % 2 == 0).then_some((data.len() - rest.len()) as u64 * 1000);
            m.push(&rest[..n], arrival, &mut out);
            rest = &rest[n..];
        }
        m.close(EndReason::Eos, &mut out);
    }
}

/// Minutes of media each long-feed configuration runs (10 in the suite;
/// `AVMONITOR_TS_MINUTES=600` for ten hours each).
fn feed_minutes() -> u64 {
    std::env::var("AVMONITOR_TS_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10)
}

/// `minutes` of the footage `path` looped and multiplexed by FFmpeg
/// without re-encoding (`-c copy`, with `mux` options), read from its pipe
/// in 1316-byte buffers by the checks with `config`: the error starts by
/// class, and the packets read.
fn ffmpeg_feed(
    path: &std::path::Path,
    minutes: u64,
    mux: &[&str],
    config: gstavmonitor::analysis::transport::monitor::TsConfig,
) -> (Vec<(TsErrorClass, Option<u16>, u64)>, u64) {
    use gstavmonitor::analysis::event::Transition;
    use gstavmonitor::analysis::transport::monitor::{TsEvent, TsMonitor};
    use std::io::Read;
    let mut child = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-stream_loop", "-1", "-i"])
        .arg(path)
        .args(["-t", &(minutes * 60).to_string(), "-c", "copy"])
        .args(mux)
        .args(["-f", "mpegts", "-"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ffmpeg");
    let mut out = child.stdout.take().unwrap();
    let mut m = TsMonitor::new(config);
    let mut events = Vec::new();
    let mut starts = Vec::new();
    let mut buf = vec![0u8; 1316];
    let mut bytes = 0u64;
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        bytes += n as u64;
        m.push(&buf[..n], None, &mut events);
        for e in events.drain(..) {
            if let TsEvent::Error {
                class,
                pid,
                transition: Transition::Start { start },
                ..
            } = e
            {
                starts.push((class, pid, start));
            }
        }
    }
    assert!(child.wait().unwrap().success());
    (starts, bytes / 188)
}

#[test]
fn long_real_feeds_from_another_multiplexer_raise_nothing() {
    use gstavmonitor::analysis::transport::monitor::TsConfig;
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no ffmpeg (scripts/test.sh installs it)");
        return;
    }
    let minutes = feed_minutes();
    let strict = TsConfig::default();
    // FFmpeg's variable-rate output writes PCRs only with the video (up to
    // 50 ms apart even with -pcr_period 20): ISO/IEC 13818-1's 100 ms
    let iso = TsConfig {
        pcr_interval: 100 * MS,
        ..TsConfig::default()
    };
    let mut total_minutes = 0;
    let mut alarms = Vec::new();
    for (clip, rate) in [("bigbuckbunny.mp4", "3000000"), ("bikes.mp4", "1000000")] {
        let path = need!(clip);
        for (mode, mux, config) in [
            ("constant rate", vec!["-muxrate", rate], strict),
            ("variable rate", vec!["-pcr_period", "20"], iso),
        ] {
            let (starts, packets) = ffmpeg_feed(&path, minutes, &mux, config);
            println!(
                "{clip}, FFmpeg {mode}: {minutes} min, {packets} packets, {} error starts",
                starts.len()
            );
            total_minutes += minutes;
            alarms.extend(starts.into_iter().map(|s| (clip, mode, s)));
        }
    }
    println!(
        "false alarms: {} in {:.1} h of real footage ({:.1} per hour)",
        alarms.len(),
        total_minutes as f64 / 60.0,
        alarms.len() as f64 * 60.0 / total_minutes as f64
    );
    assert!(alarms.is_empty(), "{alarms:?}");
}
