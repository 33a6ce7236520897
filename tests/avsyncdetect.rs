//! avsyncdetect: offsets measured from generated flash/beep and content
//! clips, alarms against each tolerance preset, stalls, strict passthrough of
//! both streams, and bad input. The element is driven through its pads from
//! this thread (exact, repeatable order), plus real pipelines for the
//! documented launch line and an MP4 file.

mod common;

use std::sync::{Arc, Mutex};

use common::audio::abuffer;
use common::avsync::*;
use common::*;
use gst::prelude::*;
use gst_audio::{AudioFormat, AudioInfo};
use gstavmonitor::EndReason;
use gstavmonitor::{AvSyncDetectMessage as Msg, EventKind};
use gstavmonitor::{Media, Method};

/// What came out of one source pad of the element.
#[derive(Default)]
struct Out {
    buffers: Vec<gst::Buffer>,
    events: Vec<gst::EventType>,
}

/// The element with a test source pad linked to each sink pad and a test
/// sink pad on each source pad; pushes run on this thread.
struct Rig {
    el: gst::Element,
    bus: gst::Bus,
    src: [gst::Pad; 2],
    _sink: [gst::Pad; 2],
    out: [Arc<Mutex<Out>>; 2],
    vinfo: gst_video::VideoInfo,
    ainfo: AudioInfo,
    /// Frames and audio frames pushed so far.
    vi: u64,
    ai: u64,
}

fn idx(m: Media) -> usize {
    usize::from(m == Media::Audio)
}

impl Rig {
    fn new(props: &[(&str, &str)], vinfo: gst_video::VideoInfo, live: bool) -> Rig {
        init();
        let el = gst::ElementFactory::make("avsyncdetect")
            .build()
            .expect("avsyncdetect");
        for (k, v) in props {
            el.set_property_from_str(k, v);
        }
        let bus = gst::Bus::new();
        el.set_bus(Some(&bus));
        let mk_src = |name: &str| {
            gst::Pad::builder(gst::PadDirection::Src)
                .name(name)
                .query_function(move |_pad, _parent, q| match q.view_mut() {
                    gst::QueryViewMut::Latency(l) => {
                        l.set(live, gst::ClockTime::ZERO, gst::ClockTime::NONE);
                        true
                    }
                    _ => false,
                })
                .build()
        };
        let out = [Arc::default(), Arc::default()];
        let mk_sink = |name: &str, out: &Arc<Mutex<Out>>| {
            let (o1, o2) = (out.clone(), out.clone());
            gst::Pad::builder(gst::PadDirection::Sink)
                .name(name)
                .chain_function(move |_pad, _parent, buf| {
                    o1.lock().unwrap().buffers.push(buf);
                    Ok(gst::FlowSuccess::Ok)
                })
                .event_function(move |_pad, _parent, ev| {
                    o2.lock().unwrap().events.push(ev.type_());
                    true
                })
                // downstream takes anything
                .query_function(|_pad, _parent, q| match q.view_mut() {
                    gst::QueryViewMut::Caps(c) => {
                        let caps = c.filter_owned().unwrap_or_else(gst::Caps::new_any);
                        c.set_result(&caps);
                        true
                    }
                    gst::QueryViewMut::AcceptCaps(a) => {
                        a.set_result(true);
                        true
                    }
                    _ => false,
                })
                .build()
        };
        let src = [mk_src("vtest"), mk_src("atest")];
        let sink = [mk_sink("vout", &out[0]), mk_sink("aout", &out[1])];
        for (s, name) in src.iter().zip(["video_sink", "audio_sink"]) {
            s.link(&el.static_pad(name).unwrap()).unwrap();
            s.set_active(true).unwrap();
        }
        for (s, name) in sink.iter().zip(["video_src", "audio_src"]) {
            el.static_pad(name).unwrap().link(s).unwrap();
            s.set_active(true).unwrap();
        }
        el.set_state(gst::State::Playing).unwrap();
        let rig = Rig {
            el,
            bus,
            src,
            _sink: sink,
            out,
            vinfo,
            ainfo: mono(),
            vi: 0,
            ai: 0,
        };
        let vcaps = rig.vinfo.to_caps().unwrap();
        let acaps = rig.ainfo.to_caps().unwrap();
        rig.begin(Media::Video, &vcaps);
        rig.begin(Media::Audio, &acaps);
        rig
    }

    fn begin(&self, m: Media, caps: &gst::Caps) {
        let s = &self.src[idx(m)];
        assert!(s.push_event(gst::event::StreamStart::new(m.as_str())));
        assert!(s.push_event(gst::event::Caps::new(caps)));
        let seg = gst::FormattedSegment::<gst::ClockTime>::new();
        assert!(s.push_event(gst::event::Segment::new(&seg)));
    }

    fn push(&self, m: Media, buf: gst::Buffer) {
        assert_eq!(self.src[idx(m)].push(buf), Ok(gst::FlowSuccess::Ok));
    }

    fn event(&self, m: Media, ev: gst::Event) -> bool {
        self.src[idx(m)].push_event(ev)
    }

    fn frame_time(&self, i: u64) -> u64 {
        let fps = self.vinfo.fps();
        i * SECOND * fps.denom() as u64 / fps.numer() as u64
    }

    /// Pushes video frames and 10 ms audio buffers in time order up to
    /// `until` ns: frame luma from `picture(pts)`, samples from `sound(t s)`.
    fn feed(&mut self, until: u64, picture: impl Fn(u64) -> Vec<u8>, sound: impl Fn(f64) -> f64) {
        loop {
            let vt = self.frame_time(self.vi);
            let at = self.ai * SECOND / u64::from(RATE);
            if vt >= until && at >= until {
                break;
            }
            if vt <= at && vt < until {
                let end = self.frame_time(self.vi + 1);
                let buf = timed(
                    yuv_buffer(&self.vinfo, &picture(vt)),
                    Some(vt),
                    Some(end - vt),
                );
                self.push(Media::Video, buf);
                self.vi += 1;
            } else {
                let a0 = self.ai;
                let buf = abuffer(&self.ainfo, ABUF as usize, |_, f| {
                    sound((a0 + f as u64) as f64 / f64::from(RATE))
                });
                let buf = timed(buf, Some(at), Some(ABUF * SECOND / u64::from(RATE)));
                self.push(Media::Audio, buf);
                self.ai += ABUF;
            }
        }
    }

    fn messages(&self) -> Vec<Msg> {
        std::iter::from_fn(|| self.bus.pop())
            .filter_map(|m| match m.view() {
                gst::MessageView::Element(e) => e
                    .structure()
                    .filter(|s| s.name() == "avsyncdetect")
                    .map(|s| Msg::from_structure(s).expect("avsyncdetect message")),
                _ => None,
            })
            .collect()
    }

    fn errors(&self) -> Vec<gst::Message> {
        std::iter::from_fn(|| self.bus.pop())
            .filter(|m| matches!(m.view(), gst::MessageView::Error(_)))
            .collect()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = self.el.set_state(gst::State::Null);
    }
}

#[test]
fn flash_and_beep_offsets_within_2_ms_at_every_rate() {
    let offsets = [
        -500.0, -200.0, -80.0, -40.0, 0.0, 17.0, 40.0, 80.0, 200.0, 500.0,
    ];
    for fps in [(25, 1), (30000, 1001), (50, 1), (60, 1)] {
        for off in offsets {
            let info = vinfo(160, 90, fps);
            let mut rig = Rig::new(&[], info.clone(), false);
            rig.feed(
                11 * SECOND,
                flash_pictures(&info, 2.0),
                beeps(&info, 2.0, move |_| off / 1000.0),
            );
            let msgs = rig.messages();
            let pairs: Vec<_> = measurements(&msgs)
                .into_iter()
                .filter(|m| m.3 == Method::TestSignal)
                .collect();
            // flashes at 0 (no audio before 0 for negative offsets), 2, 4, 6, 8
            assert!(pairs.len() >= 4, "{fps:?} {off}: {msgs:?}");
            let worst = pairs.iter().map(|m| (m.1 - off).abs()).fold(0.0, f64::max);
            println!(
                "test signal {fps:?} offset {off} ms: {} pairs, worst error {worst:.3} ms",
                pairs.len()
            );
            for (at, got, conf, _) in &pairs {
                assert!(
                    (got - off).abs() <= 2.0,
                    "{fps:?} {off} ms: measured {got} ms at {at}"
                );
                assert!(*conf > 0.0);
            }
            // EBU R37: audio at most 40 ms early, 60 ms late
            let alarms = offset_alarms(&msgs);
            let outside = !(-40.0..=60.0).contains(&off);
            assert_eq!(!alarms.is_empty(), outside, "{fps:?} {off}: {alarms:?}");
            if outside {
                assert_eq!(alarms[0].0, EventKind::Start);
                assert!((alarms[0].2 - off).abs() <= 2.0, "{alarms:?}");
            }
        }
    }
}

#[test]
fn a_drift_is_followed_at_29_97() {
    let info = vinfo(160, 90, (30000, 1001));
    let mut rig = Rig::new(&[], info.clone(), false);
    // from -30 ms to +90 ms over 20 s
    let drift = |t: f64| -0.03 + 0.006 * t;
    rig.feed(
        21 * SECOND,
        flash_pictures(&info, 2.0),
        beeps(&info, 2.0, drift),
    );
    let msgs = rig.messages();
    let pairs: Vec<_> = measurements(&msgs)
        .into_iter()
        .filter(|m| m.3 == Method::TestSignal)
        .collect();
    assert!(pairs.len() >= 9, "{pairs:?}");
    for (at, got, _, _) in &pairs {
        let want = drift(*at as f64 / 1e9) * 1e3;
        assert!((got - want).abs() <= 2.0, "at {at}: {got} want {want}");
    }
    // +60 ms is passed at 15 s: the pair at 16 s (+66) starts the alarm
    let alarms = offset_alarms(&msgs);
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!((alarms[0].0, alarms[0].1 / 1000), (EventKind::Start, 16));
}

#[test]
fn presets_and_custom_bounds() {
    // audio 50 ms late: inside EBU R37 (60) and BT.1359 (125), outside ATSC IS-191 (45)
    let cases: [(&str, Option<u64>, bool); 4] = [
        ("ebu-r37", None, false),
        ("itu-r-bt1359", None, false),
        ("atsc-is191", None, true),
        ("ebu-r37", Some(30 * MS), true),
    ];
    for (preset, late, alarm) in cases {
        let info = vinfo(160, 90, (25, 1));
        let mut rig = Rig::new(&[], info.clone(), false);
        rig.el.set_property_from_str("preset", preset);
        if let Some(l) = late {
            rig.el.set_property("max-audio-late", l);
            let p = rig.el.property_value("preset");
            let nick = gst::glib::EnumValue::from_value(&p).unwrap().1.nick();
            assert_eq!(nick, "custom");
        }
        rig.feed(
            9 * SECOND,
            flash_pictures(&info, 2.0),
            beeps(&info, 2.0, |_| 0.05),
        );
        let alarms = offset_alarms(&rig.messages());
        assert_eq!(!alarms.is_empty(), alarm, "{preset} {late:?}: {alarms:?}");
    }
}

#[test]
fn content_offset_within_one_frame() {
    for (fps, off) in [
        ((25, 1), -120.0),
        ((25, 1), 0.0),
        ((30000, 1001), 80.0),
        ((50, 1), 200.0),
    ] {
        let info = vinfo(320, 180, fps);
        let frame_ms = 1000.0 * fps.1 as f64 / fps.0 as f64;
        let mut rig = Rig::new(&[("mode", "content")], info.clone(), false);
        let (picture, sound) = scenes(&info, off / 1000.0);
        rig.feed(18 * SECOND, picture, sound);
        let msgs = rig.messages();
        let sure: Vec<_> = measurements(&msgs)
            .into_iter()
            .filter(|m| m.2 >= 0.5)
            .collect();
        assert!(sure.len() >= 8, "{fps:?} {off}: {msgs:?}");
        let worst = sure.iter().map(|m| (m.1 - off).abs()).fold(0.0, f64::max);
        println!(
            "content {fps:?} offset {off} ms: {} of {} measurements confident, worst error {worst:.1} ms",
            sure.len(),
            measurements(&msgs).len()
        );
        for (at, got, _, method) in &sure {
            assert_eq!(*method, Method::Content);
            assert!(
                (got - off).abs() <= frame_ms,
                "{fps:?} {off}: {got} at {at}"
            );
        }
        let outside = !(-40.0..=60.0).contains(&off);
        assert_eq!(!offset_alarms(&msgs).is_empty(), outside, "{msgs:?}");
    }
}

#[test]
fn still_picture_with_music_cannot_tell() {
    let info = vinfo(320, 180, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    let still = Texture::new().window(320, 180, 0, 0, 1.0, 0.0);
    rig.feed(20 * SECOND, |_| still.clone(), music);
    let msgs = rig.messages();
    let ms = measurements(&msgs);
    assert!(ms.len() >= 15, "{msgs:?}");
    assert!(
        ms.iter().all(|m| m.2 == 0.0 && m.3 == Method::None),
        "{ms:?}"
    );
    assert!(offset_alarms(&msgs).is_empty());
}

#[test]
fn unrelated_cuts_and_music_give_no_alarm() {
    let info = vinfo(320, 180, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    let (picture, _) = scenes(&info, 0.0);
    rig.feed(18 * SECOND, picture, music);
    let msgs = rig.messages();
    let ms = measurements(&msgs);
    assert!(ms.iter().all(|m| m.2 < 0.5), "{ms:?}");
    assert!(offset_alarms(&msgs).is_empty(), "{msgs:?}");
}

/// Video throughout; audio missing from 3 s to 7 s.
fn feed_with_audio_hole(rig: &mut Rig, until: u64) {
    let dark = luma(&rig.vinfo, 16);
    rig.feed(3 * SECOND, |_| dark.clone(), |_| 0.0);
    // video alone to 7 s
    while rig.frame_time(rig.vi) < 7 * SECOND {
        let vt = rig.frame_time(rig.vi);
        let d = rig.frame_time(rig.vi + 1) - vt;
        rig.push(Media::Video, flat(&rig.vinfo, 16, Some(vt), Some(d)));
        rig.vi += 1;
    }
    rig.ai = 7 * u64::from(RATE);
    rig.feed(until, |_| dark.clone(), |_| 0.0);
}

#[test]
fn a_hole_in_the_audio_is_a_stall() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[], info, false);
    feed_with_audio_hole(&mut rig, 9 * SECOND);
    assert_eq!(
        stalls(&rig.messages()),
        vec![
            (EventKind::Start, Media::Audio, 3000, None),
            (EventKind::End, Media::Audio, 7000, Some("recovered")),
        ]
    );
}

#[test]
fn a_live_stall_is_posted_while_it_lasts() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[("stall-timeout", "1000000000")], info, true);
    let dark = luma(&rig.vinfo, 16);
    rig.feed(2 * SECOND, |_| dark.clone(), |_| 0.0);
    // video alone: the stall starts once video is 1 s past the audio
    let mut when = None;
    while rig.frame_time(rig.vi) < 5 * SECOND {
        let vt = rig.frame_time(rig.vi);
        rig.push(Media::Video, flat(&rig.vinfo, 16, Some(vt), Some(40 * MS)));
        rig.vi += 1;
        let s = stalls(&rig.messages());
        if !s.is_empty() && when.is_none() {
            assert_eq!(s, vec![(EventKind::Start, Media::Audio, 2000, None)]);
            when = Some(vt);
        }
    }
    assert_eq!(
        when,
        Some(2960 * MS),
        "posted with the frame that ends at 3 s"
    );
    // EOS on the audio pad ends it, and nothing is judged stalled after
    assert!(rig.event(Media::Audio, gst::event::Eos::new()));
    let s = stalls(&rig.messages());
    assert_eq!(s, vec![(EventKind::End, Media::Audio, 2000, Some("eos"))]);
    rig.push(
        Media::Video,
        flat(&rig.vinfo, 16, Some(5 * SECOND), Some(40 * MS)),
    );
    assert!(rig.messages().is_empty());
}

#[test]
fn both_streams_pass_through_untouched() {
    let info = vinfo(160, 90, (25, 1));
    let rig = Rig::new(&[], info.clone(), false);
    // the very same buffers come out, on their own pad, in order
    // (buffer pointer, PTS, data) of each buffer pushed, per stream
    type Pushed = Vec<(usize, Option<gst::ClockTime>, Vec<u8>)>;
    let mut pushed: [Pushed; 2] = Default::default();
    for i in 0..50u64 {
        let v = timed(
            yuv_buffer(&info, &luma(&info, (16 + i * 4) as u8)),
            Some(i * 40 * MS),
            Some(40 * MS),
        );
        let a = timed(
            abuffer(&rig.ainfo, 1920, |_, f| (f as f64 * 0.01).sin() * 0.5),
            Some(i * 40 * MS),
            Some(40 * MS),
        );
        for (m, b) in [(Media::Video, v), (Media::Audio, a)] {
            let mut b = b;
            if i % 7 == 0 {
                b.get_mut().unwrap().set_flags(gst::BufferFlags::DISCONT);
            }
            pushed[idx(m)].push((
                b.as_ptr() as usize,
                b.pts(),
                b.map_readable().unwrap().to_vec(),
            ));
            rig.push(m, b);
        }
    }
    for m in [Media::Video, Media::Audio] {
        let out = rig.out[idx(m)].lock().unwrap();
        assert_eq!(out.buffers.len(), 50);
        for (b, (ptr, pts, data)) in out.buffers.iter().zip(&pushed[idx(m)]) {
            assert_eq!(b.as_ptr() as usize, *ptr, "{m:?}: the same buffer");
            assert_eq!(b.pts(), *pts);
            assert_eq!(b.map_readable().unwrap().as_slice(), data.as_slice());
        }
        // sticky events reached the partner pad, and only it
        assert_eq!(
            out.events,
            vec![
                gst::EventType::StreamStart,
                gst::EventType::Caps,
                gst::EventType::Segment
            ]
        );
    }
    // EOS on one pad goes to its partner only
    assert!(rig.event(Media::Audio, gst::event::Eos::new()));
    assert_eq!(
        rig.out[1].lock().unwrap().events.last(),
        Some(&gst::EventType::Eos)
    );
    assert_ne!(
        rig.out[0].lock().unwrap().events.last(),
        Some(&gst::EventType::Eos)
    );
    // a caps query on a sink pad answers for its own stream only
    let caps = rig.src[0].peer_query_caps(None);
    assert!(caps.iter().all(|s| s.name() == "video/x-raw"), "{caps}");
    let caps = rig.src[1].peer_query_caps(None);
    assert!(caps.iter().all(|s| s.name() == "audio/x-raw"), "{caps}");
    assert!(rig.errors().is_empty());
}

#[test]
fn flushing_seek_and_caps_change_end_an_alarm() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    rig.feed(
        7 * SECOND,
        flash_pictures(&info, 2.0),
        beeps(&info, 2.0, |_| 0.1),
    );
    let a = offset_alarms(&rig.messages());
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].0, EventKind::Start);
    // a flushing seek on both streams: the alarm ends (flush), and the
    // measurement starts again from the new segment
    for m in [Media::Video, Media::Audio] {
        assert!(rig.event(m, gst::event::FlushStart::new()));
        assert!(rig.event(m, gst::event::FlushStop::new(true)));
        let seg = gst::FormattedSegment::<gst::ClockTime>::new();
        assert!(rig.event(m, gst::event::Segment::new(&seg)));
    }
    let msgs = rig.messages();
    let ends: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            Msg::Offset { event, .. } => event.reason.map(|r| r.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ends, vec!["flush"]);
    rig.vi = 0;
    rig.ai = 0;
    rig.feed(
        7 * SECOND,
        flash_pictures(&info, 2.0),
        beeps(&info, 2.0, |_| 0.1),
    );
    assert_eq!(
        offset_alarms(&rig.messages()).len(),
        1,
        "a new alarm after the flush"
    );
    // a new picture size mid-stream: the alarm ends (caps-change), and
    // pairs are measured at the new size
    let big = vinfo(320, 180, (25, 1));
    assert!(rig.event(Media::Video, gst::event::Caps::new(&big.to_caps().unwrap())));
    rig.vinfo = big.clone();
    let a = offset_alarms(&rig.messages());
    assert_eq!(a.len(), 1);
    rig.feed(
        13 * SECOND,
        flash_pictures(&big, 2.0),
        beeps(&big, 2.0, |_| 0.1),
    );
    let msgs = rig.messages();
    let pairs: Vec<_> = measurements(&msgs)
        .into_iter()
        .filter(|m| m.3 == Method::TestSignal)
        .collect();
    assert!(
        pairs.len() >= 2 && pairs.iter().all(|p| (p.1 - 100.0).abs() <= 2.0),
        "{pairs:?}"
    );
    assert!(rig.errors().is_empty());
}

#[test]
fn caps_change_closes_alarm_with_reason() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    rig.feed(
        7 * SECOND,
        flash_pictures(&info, 2.0),
        beeps(&info, 2.0, |_| -0.1),
    );
    assert_eq!(offset_alarms(&rig.messages()).len(), 1);
    let stereo = AudioInfo::builder(AudioFormat::S16le, 44_100, 2)
        .build()
        .unwrap();
    assert!(rig.event(
        Media::Audio,
        gst::event::Caps::new(&stereo.to_caps().unwrap())
    ));
    // sticky events travel with the next buffer
    rig.push(
        Media::Audio,
        timed(abuffer(&stereo, 441, |_, _| 0.0), Some(7 * SECOND), None),
    );
    let msgs = rig.messages();
    let reasons: Vec<_> = msgs
        .iter()
        .filter_map(|m| match m {
            Msg::Offset { event, .. } => event.reason.map(|r| r.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["caps-change"]);
}

#[test]
fn missing_timestamps_and_gaps() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    let picture = flash_pictures(&info, 2.0);
    let sound = beeps(&info, 2.0, |_| 0.04);
    // video frames after the first and audio buffers after the first carry
    // no timestamps: times come from durations and sample counts
    let mut vt = 0;
    let mut at = 0u64;
    while vt < 9 * SECOND || at < 9 * SECOND {
        if vt <= at {
            let pts = (vt == 0).then_some(0);
            rig.push(
                Media::Video,
                timed(yuv_buffer(&info, &picture(vt)), pts, Some(40 * MS)),
            );
            vt += 40 * MS;
        } else {
            let a0 = at * u64::from(RATE) / SECOND;
            let b = abuffer(&rig.ainfo, 480, |_, f| {
                sound((a0 + f as u64) as f64 / 48_000.0)
            });
            rig.push(Media::Audio, timed(b, (at == 0).then_some(0), None));
            at += 10 * MS;
        }
    }
    let pairs: Vec<_> = measurements(&rig.messages())
        .into_iter()
        .filter(|m| m.3 == Method::TestSignal)
        .collect();
    assert!(
        pairs.len() >= 4 && pairs.iter().all(|p| (p.1 - 40.0).abs() <= 2.0),
        "{pairs:?}"
    );
    // a 3 s gap event on the audio: not a stall, and the beep right after
    // it is still measured
    assert!(rig.event(
        Media::Audio,
        gst::event::Gap::builder(gst::ClockTime::from_nseconds(at))
            .duration(gst::ClockTime::from_seconds(3))
            .build()
    ));
    let after = at + 3 * SECOND;
    while vt < after + 4 * SECOND {
        rig.push(
            Media::Video,
            timed(yuv_buffer(&info, &picture(vt)), Some(vt), Some(40 * MS)),
        );
        vt += 40 * MS;
    }
    rig.ai = after * u64::from(RATE) / SECOND;
    rig.vi = vt / (40 * MS);
    rig.feed(after + 5 * SECOND, &picture, &sound);
    let msgs = rig.messages();
    assert!(stalls(&msgs).is_empty(), "{msgs:?}");
    let pairs: Vec<_> = measurements(&msgs)
        .into_iter()
        .filter(|m| m.3 == Method::TestSignal)
        .collect();
    assert!(pairs.iter().any(|p| p.0 >= after), "{pairs:?}");
    assert!(pairs.iter().all(|p| (p.1 - 40.0).abs() <= 2.0), "{pairs:?}");
    assert!(rig.errors().is_empty());
}

#[test]
fn eos_on_one_pad_only() {
    let info = vinfo(160, 90, (25, 1));
    let mut rig = Rig::new(&[], info.clone(), false);
    rig.feed(
        5 * SECOND,
        flash_pictures(&info, 2.0),
        beeps(&info, 2.0, |_| 0.2),
    );
    let start = offset_alarms(&rig.messages());
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].0, EventKind::Start);
    assert!(rig.event(Media::Video, gst::event::Eos::new()));
    // audio goes on, alone, through to its own EOS: no stall, no error; the
    // alarm ends (at its last pair) once the audio has gone past all that
    // could pair with the last flashes, not before
    let mut msgs = rig.messages();
    let sound = beeps(&info, 2.0, |_| 0.2);
    for i in 0..300u64 {
        let t = 5 * SECOND + i * 10 * MS;
        let a0 = t * u64::from(RATE) / SECOND;
        let b = abuffer(&rig.ainfo, 480, |_, f| {
            sound((a0 + f as u64) as f64 / 48_000.0)
        });
        rig.push(Media::Audio, timed(b, Some(t), Some(10 * MS)));
    }
    assert!(rig.event(Media::Audio, gst::event::Eos::new()));
    msgs.extend(rig.messages());
    assert!(stalls(&msgs).is_empty(), "{msgs:?}");
    assert_eq!(
        offset_alarms(&msgs),
        vec![(EventKind::End, 4000, 200.0)],
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| matches!(
        m,
        Msg::Offset { event, .. } if event.reason == Some(EndReason::Eos)
    )));
    assert_eq!(
        rig.out[1].lock().unwrap().buffers.len() as u64,
        rig.ai / 480 + 300
    );
}

#[test]
fn unsupported_caps_are_refused_and_tiny_pictures_measured() {
    let info = vinfo(160, 90, (25, 1));
    let rig = Rig::new(&[], info, false);
    let nv16 = gst::Caps::builder("video/x-raw")
        .field("format", "NV16")
        .field("width", 64)
        .field("height", 64)
        .field("framerate", gst::Fraction::new(25, 1))
        .build();
    // refused: the next buffer is not negotiated (a sticky event is kept
    // for the next buffer, so pushing it succeeds)
    rig.event(Media::Video, gst::event::Caps::new(&nv16));
    let buf = gst::Buffer::with_size(64 * 64 * 2).unwrap();
    assert_eq!(rig.src[0].push(buf), Err(gst::FlowError::NotNegotiated));
    let u8caps = gst::Caps::builder("audio/x-raw")
        .field("format", "U8")
        .field("rate", 48_000)
        .field("channels", 1)
        .field("layout", "interleaved")
        .build();
    rig.event(Media::Audio, gst::event::Caps::new(&u8caps));
    let buf = gst::Buffer::with_size(480).unwrap();
    assert_eq!(rig.src[1].push(buf), Err(gst::FlowError::NotNegotiated));
    drop(rig);
    // 2x2 pictures still flash
    for (w, h) in [(2, 2), (1, 1), (7, 3)] {
        let info = vinfo(w, h, (25, 1));
        let mut rig = Rig::new(&[], info.clone(), false);
        rig.feed(
            7 * SECOND,
            flash_pictures(&info, 2.0),
            beeps(&info, 2.0, |_| 0.0),
        );
        let pairs: Vec<_> = measurements(&rig.messages())
            .into_iter()
            .filter(|m| m.3 == Method::TestSignal)
            .collect();
        assert!(
            pairs.len() >= 3 && pairs.iter().all(|p| p.1.abs() <= 2.0),
            "{w}x{h}: {pairs:?}"
        );
    }
}

/// Encodes a flash/beep clip (audio `offset` s late) to a QuickTime file:
/// x264 with B-frames (an edit list on the video), and AAC (with its
/// priming samples) or 16-bit PCM.
fn encode_mp4(path: &std::path::Path, secs: u64, offset: f64, aac: bool) -> bool {
    init();
    for f in [
        "x264enc",
        "avenc_aac",
        "qtmux",
        "qtdemux",
        "avdec_h264",
        "avdec_aac",
    ] {
        if gst::ElementFactory::find(f).is_none() {
            eprintln!("skipping: no {f}");
            return false;
        }
    }
    let info = vinfo(320, 180, (25, 1));
    let (pipeline, v, a) = launch_with_sources(&format!(
        "appsrc name=v format=time caps={vcaps} ! videoconvert ! x264enc bframes=2 key-int-max=50 ! h264parse ! qtmux name=m ! filesink location={loc} \
         appsrc name=a format=time caps={acaps} ! audioconvert ! {audio} ! m.",
        audio = if aac { "avenc_aac" } else { "audio/x-raw,format=S16LE" },
        vcaps = caps_token(&info.to_caps().unwrap()),
        acaps = caps_token(&mono().to_caps().unwrap()),
        loc = path.display()
    ));
    let picture = flash_pictures(&info, 2.0);
    let sound = beeps(&info, 2.0, move |_| offset);
    for i in 0..secs * 25 {
        let t = i * 40 * MS;
        v.push_buffer(timed(
            yuv_buffer(&info, &picture(t)),
            Some(t),
            Some(40 * MS),
        ))
        .unwrap();
    }
    for i in 0..secs * 100 {
        let a0 = i * ABUF;
        let b = abuffer(&mono(), ABUF as usize, |_, f| {
            sound((a0 + f as u64) as f64 / f64::from(RATE))
        });
        a.push_buffer(timed(b, Some(i * 10 * MS), Some(10 * MS)))
            .unwrap();
    }
    v.end_of_stream().unwrap();
    a.end_of_stream().unwrap();
    // the muxer posts nothing of avsyncdetect's: reaching EOS is the point
    sync_messages_to_eos(&pipeline, 60);
    true
}

/// The launch line of the element's documentation on a QuickTime file with
/// `audio` (the clip's audio 80 ms late); the pairs measured.
fn launch_line_on_mov(aac: bool) -> Option<Vec<Msg>> {
    let dir = std::env::temp_dir().join(format!("avsync-{}-{aac}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("flash-beep.mov");
    if !encode_mp4(&path, 10, 0.08, aac) {
        return None;
    }
    let uri = format!("file://{}", path.display());
    let line = format!(
        "avsyncdetect name=sync uridecodebin uri={uri} name=d \
         d. ! queue ! videoconvert ! sync.video_sink sync.video_src ! queue ! fakesink \
         d. ! queue ! audioconvert ! sync.audio_sink sync.audio_src ! queue ! fakesink"
    );
    let pipeline = gst::parse::launch(&line).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let msgs = sync_messages_to_eos(&pipeline.downcast::<gst::Pipeline>().unwrap(), 60);
    let _ = std::fs::remove_dir_all(&dir);
    Some(msgs)
}

/// Through qtdemux's edit list for x264's B-frames: the offset is measured
/// in running time, exact with PCM audio. With AAC, GStreamer 1.22 plays the
/// encoder's 1024 priming samples (qtmux writes no edit list for them), so
/// the audio really is 21.3 ms later, and that is what is measured.
#[test]
fn documented_launch_line_on_quicktime_files() {
    for (aac, want) in [(false, 80.0), (true, 80.0 + 1024.0 / 48.0)] {
        let Some(msgs) = launch_line_on_mov(aac) else {
            return;
        };
        let pairs: Vec<_> = measurements(&msgs)
            .into_iter()
            .filter(|m| m.3 == Method::TestSignal)
            .collect();
        let worst = pairs.iter().map(|m| (m.1 - want).abs()).fold(0.0, f64::max);
        println!(
            "mov, x264 with B-frames, {}: {} pairs, {want:.2} ms expected, worst error {worst:.2} ms",
            if aac { "AAC" } else { "PCM" },
            pairs.len()
        );
        assert!(pairs.len() >= 4, "{msgs:?}");
        assert!(worst <= 2.0, "{pairs:?}");
        // EBU R37 allows 60 ms late
        assert_eq!(
            offset_alarms(&msgs).first().map(|a| a.0),
            Some(EventKind::Start)
        );
        assert!(stalls(&msgs).is_empty(), "{msgs:?}");
    }
}
