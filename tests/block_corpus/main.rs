//! Block corruption: detection quality on a corpus the test makes itself.
//!
//! Varied content (a moving object on a flat background, moving colour bars,
//! a moving zone plate, a natural-looking pan, text and graphics over a
//! texture) is encoded with x264 (4 slices a frame, a key frame every second)
//! and, when installed, x265 (the same), then damaged in known frames in a
//! pad probe before the decoder: bytes flipped in a slice, a slice
//! dropped, a whole frame dropped, bytes flipped in a key frame. H.264 then
//! goes through `slicecheck`, as the pipelines in docs/blockdetect.md do, which tells
//! `blockdetect` of slices lost whole (`BLOCK_PIXELS_ONLY=1` leaves it
//! out). The same stream is decoded clean beside it. Ground truth per frame is how visible
//! the damage is: the largest, over macroblocks, of the mean absolute
//! difference between the two decodes less the clean block's own texture,
//! its mean gradient across or down, whichever is larger (texture shifted
//! by a pixel either way is not visible damage). Visible: >= 16 of 255;
//! clean: < 6; in between counts neither way; `BLOCK_UNMASKED=1` scores on
//! the plain difference. A frame the clean decode has and the damaged one
//! lacks (the decoder dropped it) is visibly damaged at its time. A damage
//! is found when a corruption event covers one of its visibly damaged
//! frames. Hard negatives (clean encodes at very low bitrate, noise, sharp
//! text and graphics, checkers on the grid, black and flat pictures, scene
//! cuts, fades) should raise no event at all. A second test counts false
//! alarms on 10 s clean encodes of four kinds of content from 100 kb/s to
//! 1.5 Mb/s, in H.264 and (when installed) HEVC, and requires none from
//! 800 kb/s up.
//!
//! Prints recall and events per damage type and the false alarms. The target
//! is recall of visible damage >= 95% with no false alarm; the test guards
//! the level reached so far (see the bounds at the end).
//!
//! Tuning aids: `BLOCK_PROPS="<property>=<value> ..."` sets blockdetect's
//! properties, `BLOCK_DEBUG=<clip name part>` prints the kernel's verdicts
//! frame by frame, `BLOCK_DUMP=<clip>:<frame>,...` writes damaged and clean
//! pictures to /tmp/blk, and the ignored test `features` writes every
//! candidate segment with its features to /tmp/blk/features.csv.
#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use gstavmonitor::Evidence;
use gstavmonitor::{BlockDetectMessage, EventKind};

mod clips;

use clips::*;

/// How visible the damage in `damaged` is against `clean`: the largest, over
/// macroblocks, of the mean absolute difference less the clean block's own
/// texture (its mean absolute gradient across columns or down rows,
/// whichever is larger), so that a difference hidden in busy texture counts
/// for less, as it does to the eye, whatever the texture's direction. With
/// `masked` false, the plain largest mean absolute difference.
fn visibility(clean: &[u8], damaged: &[u8], masked: bool) -> u32 {
    block_visibility(clean, damaged, W, masked)
        .into_iter()
        .max()
        .unwrap_or(0)
}

/// Prints the kernel's verdict beside the truth, frame by frame.
fn debug(o: &Outcome, truth: &[(u64, u32)]) {
    use gstavmonitor::analysis::video::block::{BlockConfig, BlockDetector, Verdict};
    use gstavmonitor::analysis::video::frame::LumaPlane;
    let mut d = BlockDetector::new(BlockConfig::default());
    let truth: BTreeMap<u64, u32> = truth.iter().copied().collect();
    for (i, (pts, l)) in o.damaged.iter().enumerate() {
        let diff = &truth.get(pts).copied().unwrap_or(0);
        d.set_lost_slices(&o.losses.get(pts).cloned().unwrap_or_default());
        d.push(&LumaPlane::gray8(l, W, H).unwrap(), *pts, pts + F);
        let dmg = d.last_damage();
        if dmg.is_some() || *diff >= CLEAN {
            println!(
                "    {i:3} truth {diff:3} qp {:?} grey {} change {:.2} found {:?}",
                o.losses.get(pts).and_then(|l| l.qp),
                d.last_grey_blocks(),
                d.last_change(),
                dmg.map(|d| (d.blocks, d.area))
            );
            if dmg.is_some() || *diff >= VISIBLE {
                let mut bs = d.last_breaks().to_vec();
                bs.sort_by(|a, b| b.excess.total_cmp(&a.excess));
                // the strongest eight, and every new break
                for b in bs
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| *i < 8 || b.verdict == Verdict::Broken)
                    .map(|(_, b)| b)
                {
                    print!(
                        " [{}{},{} ex {:.0} ctrl {:.0} act {:.0} {:?}]",
                        if b.vertical { 'v' } else { 'h' },
                        b.col,
                        b.row,
                        b.excess,
                        b.control,
                        b.activity,
                        b.verdict
                    );
                }
                println!();
            }
        }
    }
}

/// Whether ground truth discounts damage hidden in texture (set
/// `BLOCK_UNMASKED=1` to score on the plain difference).
fn masked() -> bool {
    std::env::var("BLOCK_UNMASKED").is_err()
}

/// Corruption events as `(start, end)` timestamps (an open one ends at
/// `u64::MAX`).
fn intervals(events: &[BlockDetectMessage]) -> Vec<(u64, u64)> {
    corruptions(events)
        .iter()
        .map(|&(s, e, _)| (s, e))
        .collect()
}

/// Corruption starts, with their timestamps.
fn starts(events: &[BlockDetectMessage]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|m| match m {
            BlockDetectMessage::Corruption { event, .. } if event.kind == EventKind::Start => {
                Some(event.at.timestamp)
            }
            _ => None,
        })
        .collect()
}

/// Whether the corruption covering `at` has missing frames among its
/// evidence.
fn missing_frames_cover(events: &[BlockDetectMessage], at: u64) -> bool {
    corruptions(events)
        .iter()
        .any(|&(s, e, evidence)| s <= at && at < e && evidence.missing_frames)
}

#[derive(Default)]
struct Tally {
    visible: usize,
    found: usize,
    /// Visibly damaged frames, and of them frames an event covers.
    visible_frames: usize,
    covered_frames: usize,
    invisible: usize,
    true_events: usize,
    false_events: usize,
    /// Events with bitstream evidence on a slice loss the decoder concealed
    /// so well that no frame differs from the clean decode: the data was
    /// lost, so they are not false, but no damage was visible either.
    concealed_events: usize,
}

// ---- content ----------------------------------------------------------------

/// A natural-looking texture panning 2 px a frame, with a moving square.
fn natural(t: &Texture, i: usize) -> Vec<u8> {
    let mut l = t.window(W, H, 2 * i, i / 2, 1.0, 0.0);
    square(&mut l, W, H, (5 * i) % (W - 40), 100 + (i % 80), 40, 200);
    l
}

/// Deterministic pseudo-random numbers for glyphs.
fn hash(a: usize, b: usize) -> u64 {
    let mut x = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

/// Text-like glyphs: 1-2 px strokes in 8x12 cells, dark on light, starting at
/// (`x0`, `y0`) shifted left by `scroll` px.
fn text(l: &mut [u8], x0: usize, y0: usize, w: usize, rows: usize, scroll: usize) {
    for y in 0..rows * 14 {
        for x in 0..w {
            let gx = x + scroll;
            let (cell, cx, line, cy) = (gx / 8, gx % 8, y / 14, y % 14);
            let g = hash(cell, line);
            let on = cy < 12
                && cx < 7
                && ((g >> (cy / 3 * 4 + cx / 2)) & 1 == 1)
                && (cx % 2 == 0 || (g >> 40) & 1 == 1)
                && cell % 7 != 6;
            let p = (y0 + y) * W + x0 + x;
            l[p] = if on { 30 } else { 225 };
        }
    }
}

/// Sharp graphics and text over a slowly panning texture: boxes on and off
/// the macroblock grid, a static caption, a ticker scrolling 3 px a frame.
fn graphics(t: &Texture, i: usize) -> Vec<u8> {
    let mut l = t.window(W, H, i, 0, 0.8, 10.0);
    for &(x, y, w, h, v) in &[
        (32, 32, 96, 64, 235u8),
        (160, 48, 80, 40, 16),
        (301, 37, 57, 71, 180),
        (400, 64, 160, 16, 60),
    ] {
        for yy in y..y + h {
            l[yy * W + x..yy * W + x + w].fill(v);
        }
    }
    text(&mut l, 40, 150, 560, 3, 0);
    text(&mut l, 0, 300, W, 2, 3 * i);
    l
}

/// Cuts every 12 frames between unrelated pictures.
fn cuts(t: &Texture, i: usize) -> Vec<u8> {
    match (i / 12) % 4 {
        0 => natural(t, i),
        1 => graphics(t, i + 500),
        2 => t.window(W, H, 300 + i, 200, 0.5, 40.0),
        _ => {
            let mut l = vec![0u8; W * H];
            for (k, v) in l.iter_mut().enumerate() {
                *v = [235, 180, 160, 130, 110, 80, 50, 16][((k % W) + 4 * i) / 80 % 8];
            }
            l
        }
    }
}

/// A fade to black and back, over moving content.
fn fade(t: &Texture, i: usize) -> Vec<u8> {
    let g = ((i as f64 - 50.0).abs() / 50.0).clamp(0.0, 1.0);
    let mut l = t.window(W, H, 2 * i, 0, g, 0.0);
    square(
        &mut l,
        W,
        H,
        (5 * i) % (W - 40),
        100,
        40,
        (16.0 + 200.0 * g) as u8,
    );
    l
}

/// Whether x265 and libav's HEVC decoder are installed.
fn hevc() -> bool {
    gst::ElementFactory::find("x265enc").is_some()
        && gst::ElementFactory::find("avdec_h265").is_some()
}

fn damaged_clips(codec: Codec) -> Vec<Clip> {
    let clip = |name, source| Clip {
        name,
        source,
        frames: 150,
        codec,
        damage: DAMAGE,
    };
    vec![
        clip("moving ball", Source::Test("videotestsrc pattern=ball")),
        clip(
            "moving bars",
            Source::Test("videotestsrc pattern=smpte horizontal-speed=3"),
        ),
        clip(
            "zone plate",
            Source::Test("videotestsrc pattern=zone-plate kt=2 kx2=20 ky2=20"),
        ),
        clip("natural pan", Source::Synthetic(natural)),
        clip("text and graphics", Source::Synthetic(graphics)),
    ]
}

fn negatives() -> Vec<Clip> {
    let clip = |name, source, bitrate| Clip {
        name,
        source,
        frames: 100,
        codec: Codec::H264 { bitrate },
        damage: &[],
    };
    vec![
        clip("natural pan at 100 kb/s", Source::Synthetic(natural), 100),
        clip(
            "text and graphics at 150 kb/s",
            Source::Synthetic(graphics),
            150,
        ),
        clip(
            "moving bars at 100 kb/s",
            Source::Test("videotestsrc pattern=smpte horizontal-speed=3"),
            100,
        ),
        clip(
            "noise at 1.5 Mb/s",
            Source::Test("videotestsrc pattern=snow"),
            1500,
        ),
        clip(
            "noise at 200 kb/s",
            Source::Test("videotestsrc pattern=snow"),
            200,
        ),
        clip("text and graphics", Source::Synthetic(graphics), 1500),
        clip(
            "checkers on the grid",
            Source::Test("videotestsrc pattern=checkers-8"),
            1500,
        ),
        clip("black", Source::Test("videotestsrc pattern=black"), 1500),
        clip(
            "flat grey",
            Source::Test("videotestsrc pattern=solid-color foreground-color=0xff808080"),
            1500,
        ),
        clip("scene cuts", Source::Synthetic(cuts), 1500),
        clip("scene cuts at 150 kb/s", Source::Synthetic(cuts), 150),
        clip("fade to black and back", Source::Synthetic(fade), 1500),
    ]
}

/// Scores one damaged clip into `tally` (keyed by damage type).
fn score_damaged(clip: &Clip, o: &Outcome, tally: &mut BTreeMap<&'static str, Tally>) {
    let codec = match clip.codec {
        Codec::H264 { .. } => "h264",
        Codec::H265 { .. } => "h265",
    };
    // a frame the decoder dropped is as damaged as a frame can be
    let truth: Vec<(u64, u32)> = o
        .clean
        .iter()
        .map(|(pts, c)| {
            (
                *pts,
                o.damaged
                    .get(pts)
                    .map_or(LOST, |l| visibility(c, l, masked())),
            )
        })
        .collect();
    let frame = F;
    if let Ok(dump) = std::env::var("BLOCK_DUMP") {
        std::fs::create_dir_all("/tmp/blk").unwrap();
        // clip:frame,...: writes the damaged and clean pictures as PGM
        for item in dump.split(',') {
            if let Some((name, i)) = item.split_once(':') {
                if clip.name.contains(name) {
                    let i: usize = i.parse().unwrap();
                    if let Some((pts, l)) = o.damaged.iter().nth(i) {
                        for (tag, pic) in [("d", Some(l)), ("c", o.clean.get(pts))] {
                            if let Some(pic) = pic {
                                let mut f = format!("P5 {W} {H} 255\n").into_bytes();
                                f.extend_from_slice(pic);
                                std::fs::write(
                                    format!(
                                        "/tmp/blk/{codec}_{}_{i}_{tag}.pgm",
                                        name.replace(' ', "_")
                                    ),
                                    f,
                                )
                                .unwrap();
                            }
                        }
                    }
                }
            }
        }
    }
    if std::env::var("BLOCK_DEBUG").is_ok_and(|v| clip.name.contains(v.as_str())) {
        debug(o, &truth);
        for (s, e, evidence) in corruptions(&o.events) {
            println!(
                "    event {:.2}-{:.2} s: {}",
                s as f64 / 1e9,
                e as f64 / 1e9,
                evidence.as_str()
            );
        }
    }
    let events = intervals(&o.events);
    let mut claimed = vec![false; events.len()];
    for (k, &(at, op, key)) in o.injected.iter().enumerate() {
        let until = o.injected.get(k + 1).map(|x| x.0).unwrap_or(u64::MAX);
        let t = tally.entry(op.kind(key)).or_default();
        let window: Vec<&(u64, u32)> = truth
            .iter()
            .filter(|(p, _)| *p >= at && *p < until)
            .collect();
        let visible: Vec<u64> = window
            .iter()
            .filter(|(_, d)| *d >= VISIBLE)
            .map(|(p, _)| *p)
            .collect();
        // the damage lasts until the frames are clean again
        let last_bad = window
            .iter()
            .filter(|(_, d)| *d >= CLEAN)
            .map(|(p, _)| *p)
            .max();
        // events overlapping the damage
        let hits: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, &(s, e))| e + frame > at && last_bad.is_some_and(|l| s <= l))
            .map(|(i, _)| i)
            .collect();
        for &i in &hits {
            claimed[i] = true;
        }
        if visible.is_empty() {
            t.invisible += 1;
            println!(
                "  {}: {} at {:.2} s: no visible damage",
                clip.name,
                op.kind(key),
                at as f64 / 1e9
            );
            continue;
        }
        t.visible += 1;
        // found: an event covers a visibly damaged frame
        let found = visible
            .iter()
            .any(|&p| events.iter().any(|&(s, e)| s <= p && p < e));
        // a dropped frame is reported, from the time it is missing at the
        // latest, with missing frames among the evidence
        if op == Op::DropFrame {
            assert!(
                missing_frames_cover(&o.events, at),
                "{}: no corruption with missing-frames evidence over {at}",
                clip.name
            );
        }
        t.found += usize::from(found);
        t.true_events += hits.len();
        t.visible_frames += visible.len();
        t.covered_frames += visible
            .iter()
            .filter(|&&p| events.iter().any(|&(s, e)| s <= p && p < e))
            .count();
        // the largest number of visibly damaged macroblocks in one frame
        let extent = window
            .iter()
            .filter_map(|(p, _)| {
                let (c, d) = (o.clean.get(p)?, o.damaged.get(p)?);
                Some(
                    block_visibility(c, d, W, masked())
                        .iter()
                        .filter(|&&v| v >= VISIBLE)
                        .count(),
                )
            })
            .max()
            .unwrap_or(0);
        println!(
            "  {}: {} at {:.2} s: visible in {} frames, up to {extent} blocks, {}",
            clip.name,
            op.kind(key),
            at as f64 / 1e9,
            visible.len(),
            if found {
                format!("found ({} events)", hits.len())
            } else {
                "MISSED".to_string()
            }
        );
    }
    let evidence: Vec<Evidence> = corruptions(&o.events).iter().map(|c| c.2).collect();
    for (i, &(s, e)) in events.iter().enumerate() {
        // an event over frames that differ from the clean decode is no false alarm
        let damaged = truth.iter().any(|&(p, d)| s <= p && p < e && d >= CLEAN);
        // one that slicecheck raised over a lost slice (or a few frames
        // before it, shown earlier but predicted from it) is none either
        let on_loss = evidence[i].bitstream
            && o.injected.iter().any(|&(at, op, _)| {
                matches!(op, Op::DropSlice(_)) && s < at + frame && e + 4 * frame > at
            });
        if !claimed[i] && !damaged && on_loss {
            println!(
                "  {}: event at {:.2} s on a slice loss concealed invisibly",
                clip.name,
                s as f64 / 1e9
            );
            tally
                .entry("(false alarms on damaged clips)")
                .or_default()
                .concealed_events += 1;
        } else if !claimed[i] && !damaged {
            println!("  {}: FALSE ALARM at {:.2} s", clip.name, s as f64 / 1e9);
            tally
                .entry("(false alarms on damaged clips)")
                .or_default()
                .false_events += 1;
        }
    }
}

#[test]
fn detection_quality() {
    init();
    let t = Arc::new(Texture::new());
    let mut codecs = vec![Codec::H264 { bitrate: 1500 }];
    if hevc() {
        codecs.push(Codec::H265 { bitrate: 1500 });
    } else {
        println!("x265enc or avdec_h265 missing: H.264 only");
    }
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for codec in codecs {
        println!("== {}", codec.name());
        for clip in damaged_clips(codec) {
            let o = run(&t, &clip);
            assert!(
                o.clean.len() >= clip.frames - 1,
                "{}: {} clean frames",
                clip.name,
                o.clean.len()
            );
            score_damaged(&clip, &o, &mut tally);
        }
    }
    println!("== hard negatives");
    let mut false_alarms = 0;
    for clip in negatives() {
        let o = run(&t, &clip);
        assert!(!o.damaged.is_empty(), "{}: nothing decoded", clip.name);
        let s = starts(&o.events);
        // how long the false alarms last, in frames
        let end = o.damaged.keys().last().map_or(0, |l| l + F);
        let frames: u64 = intervals(&o.events)
            .iter()
            .map(|&(s, e)| (e.min(end) - s).div_ceil(F))
            .sum();
        println!("  {}: {} events, {frames} frames", clip.name, s.len());
        if std::env::var("BLOCK_DEBUG").is_ok_and(|v| clip.name.contains(v.as_str())) {
            let truth: Vec<(u64, u32)> = o.damaged.keys().map(|p| (*p, 0)).collect();
            debug(&o, &truth);
        }
        false_alarms += s.len();
    }
    println!("== per damage type: recall of visible damage, events raised on it");
    let (mut visible, mut found, mut fa) = (0, 0, false_alarms);
    for (kind, t) in &tally {
        fa += t.false_events;
        visible += t.visible;
        found += t.found;
        if t.visible + t.invisible > 0 {
            println!(
                "  {kind}: found {}/{} visible ({} invisible), {} events, {}/{} visibly damaged frames covered",
                t.found, t.visible, t.invisible, t.true_events, t.covered_frames, t.visible_frames
            );
        }
    }
    // an event outside every damage cannot be given a type
    let true_events: usize = tally.values().map(|t| t.true_events).sum();
    let concealed: usize = tally.values().map(|t| t.concealed_events).sum();
    let events = true_events + fa;
    println!(
        "precision {true_events}/{events} events ({} false on damaged clips, {false_alarms} on hard negatives; besides, {concealed} on slice losses concealed invisibly)",
        fa - false_alarms
    );
    let recall = found as f64 / visible.max(1) as f64;
    println!("recall {:.1}% ({found}/{visible}), false alarms {fa} (of them {false_alarms} on hard negatives)", 100.0 * recall);
    assert!(
        visible >= 20,
        "too little visible damage to judge: {visible}"
    );
    // Generated patterns are an extra measure, not the bar (issue 15: the
    // bar is on real footage, tests/real_footage). Since blockdetect needs
    // eight broken segments to start from the pixels (min-breaks, set for
    // real footage) in a group of five macroblocks side by side, with
    // slicecheck before the decoder it finds 36 of 42 here (it found 40
    // with two and no group; the misses are bytes flipped that break few
    // edges) with no event on the hard negatives and no false one on the
    // damaged clips; that level is guarded, with a damage's worth of
    // slack. On the pixels alone (no slice losses, no quantiser) the same:
    // 60% (25 of 42; 88% with two and no group) and no false alarm (7 with
    // two).
    if std::env::var_os("BLOCK_PIXELS_ONLY").is_none() {
        assert!(recall >= 0.83, "recall {recall}");
        assert_eq!(false_alarms, 0, "events on hard negatives");
        assert!(fa <= 1, "false alarms {fa}");
    } else {
        assert!(recall >= 0.57, "recall {recall}");
        assert!(fa <= 1, "false alarms {fa}");
    }
}

/// False alarms against bitrate: clean H.264 and (when installed) HEVC
/// encodes of four kinds of content, 10 s each, from very low to ordinary
/// bitrates for this picture size (640x352: 100 kb/s is 0.02 bits per
/// pixel, 1.5 Mb/s 0.27). Prints the false alarms per clip and per minute at
/// each bitrate; at 800 kb/s and above there must be none.
/// `BLOCK_DEBUG="<codec> <content> at <bitrate>"` (say
/// `H.264 moving bars at 400`) prints the frames they start at and the
/// kernel's verdicts.
#[test]
fn false_alarms_by_bitrate() {
    init();
    let t = Arc::new(Texture::new());
    let content = [
        ("natural pan", Source::Synthetic(natural)),
        ("text and graphics", Source::Synthetic(graphics)),
        (
            "moving bars",
            Source::Test("videotestsrc pattern=smpte horizontal-speed=3"),
        ),
        ("scene cuts", Source::Synthetic(cuts)),
    ];
    const FRAMES: usize = 250;
    let mut codecs = vec![Codec::H264 { bitrate: 0 }];
    if hevc() {
        codecs.push(Codec::H265 { bitrate: 0 });
    }
    // printed at the end in one piece (the corpus test prints meanwhile)
    let mut report = format!("== false alarms by bitrate ({FRAMES} frames a clip)\n");
    let mut quiet_from = Vec::new();
    for codec in codecs {
        let codec_name = codec.name();
        for bitrate in [100, 200, 400, 800, 1500] {
            let mut line = Vec::new();
            let mut total = 0;
            for &(name, source) in &content {
                let clip = Clip {
                    name,
                    source,
                    frames: FRAMES,
                    codec: codec.at(bitrate),
                    damage: &[],
                };
                let o = run(&t, &clip);
                assert!(
                    o.damaged.len() >= FRAMES - 1,
                    "{name}: {} frames",
                    o.damaged.len()
                );
                let starts = starts(&o.events);
                let tag = format!("{codec_name} {name} at {bitrate}");
                if std::env::var("BLOCK_DEBUG").is_ok_and(|v| v == tag) {
                    let first = o.damaged.keys().next().copied().unwrap_or(0);
                    let at: Vec<u64> = starts.iter().map(|s| (s - first) / F).collect();
                    println!("    {tag}: starts at frames {at:?}");
                    let truth: Vec<(u64, u32)> = o.damaged.keys().map(|p| (*p, 0)).collect();
                    debug(&o, &truth);
                }
                total += starts.len();
                line.push(format!("{name} {}", starts.len()));
            }
            let minutes = (content.len() * FRAMES) as f64 / 25.0 / 60.0;
            report += &format!(
                "  {codec_name:5} {bitrate:5} kb/s: {total} ({:.1} a minute): {}\n",
                total as f64 / minutes,
                line.join(", ")
            );
            if bitrate >= 800 {
                quiet_from.push((codec_name, bitrate, total));
            }
        }
    }
    print!("{report}");
    assert!(
        quiet_from.iter().all(|&(_, _, n)| n == 0),
        "false alarms at ordinary bitrates: {quiet_from:?}"
    );
}

/// Tuning aid: writes every grid segment stepping by at least the threshold,
/// with its features, its verdict, the mean absolute change from the
/// previous frame of the two macroblocks beside it (`ta`, `tb`), the frame's
/// newly broken segments (`novel`) and whether it borders visibly damaged
/// blocks, to /tmp/blk/features.csv
/// (`cargo test --test block_corpus features -- --ignored --nocapture`).
#[test]
#[ignore]
fn features() {
    use gstavmonitor::analysis::video::block::{BlockConfig, BlockDetector, Verdict};
    use gstavmonitor::analysis::video::frame::LumaPlane;
    use std::io::Write;
    init();
    let t = Arc::new(Texture::new());
    std::fs::create_dir_all("/tmp/blk").unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create("/tmp/blk/features.csv").unwrap());
    writeln!(out, "clip,negative,frame,truth,near,change,vertical,excess,control,activity,moved,straight,coherence,verdict,ta,tb,novel").unwrap();
    let mut clips = damaged_clips(Codec::H264 { bitrate: 1500 });
    clips.extend(damaged_clips(Codec::H265 { bitrate: 1500 }));
    let n_damaged = clips.len();
    clips.extend(negatives());
    for (ci, clip) in clips.iter().enumerate() {
        let o = run(&t, clip);
        let mut d = BlockDetector::new(BlockConfig::default());
        let mut prevl: Option<&Vec<u8>> = None;
        for (i, (pts, l)) in o.damaged.iter().enumerate() {
            d.push(&LumaPlane::gray8(l, W, H).unwrap(), *pts, pts + F);
            let tdiff = |k: usize| -> f64 {
                let Some(p) = prevl else { return -1.0 };
                let (r, c) = (k / (W / 16), k % (W / 16));
                let mut s = 0u32;
                for y in r * 16..r * 16 + 16 {
                    for x in c * 16..c * 16 + 16 {
                        s += u32::from(l[y * W + x].abs_diff(p[y * W + x]));
                    }
                }
                f64::from(s) / 256.0
            };
            let novel = d
                .last_breaks()
                .iter()
                .filter(|b| b.verdict == Verdict::Broken)
                .count();
            let vis = o
                .clean
                .get(pts)
                .map(|c| block_visibility(c, l, W, masked()));
            let truth = vis
                .as_ref()
                .map_or(0, |v| v.iter().copied().max().unwrap_or(0));
            for b in d.last_breaks() {
                let k = b.row * (W / 16) + b.col;
                let other = if b.vertical { k - 1 } else { k - W / 16 };
                let near = vis.as_ref().map_or(0, |v| v[k].max(v[other]));
                writeln!(
                    out,
                    "{ci},{},{i},{truth},{near},{:.3},{},{:.1},{:.1},{:.1},{},{},{:.2},{:?},{:.1},{:.1},{novel}",
                    u8::from(ci >= n_damaged),
                    d.last_change(),
                    u8::from(b.vertical),
                    b.excess,
                    b.control,
                    b.activity,
                    u8::from(b.moved),
                    u8::from(b.straight),
                    b.coherence,
                    b.verdict,
                    tdiff(k),
                    tdiff(other),
                )
                .unwrap();
            }
            prevl = Some(l);
        }
        println!("{ci} {}", clip.name);
    }
}

/// Damage in H.264 at lower bitrates, where the quantiser masks more (see
/// `qp-masking`): recall per bitrate, with and without the masking. Slow
/// and only printed: `cargo test --release --test block_corpus
/// damage_at_low_bitrate -- --ignored --nocapture`.
#[test]
#[ignore]
fn damage_at_low_bitrate() {
    init();
    let t = Arc::new(Texture::new());
    for bitrate in [200, 400, 800] {
        let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
        for clip in damaged_clips(Codec::H264 { bitrate }) {
            let o = run(&t, &clip);
            score_damaged(&clip, &o, &mut tally);
        }
        let (found, visible, fa): (usize, usize, usize) = tally.values().fold((0, 0, 0), |a, t| {
            (a.0 + t.found, a.1 + t.visible, a.2 + t.false_events)
        });
        println!("== H.264 damaged at {bitrate} kb/s: found {found}/{visible}, {fa} false alarms");
    }
}
