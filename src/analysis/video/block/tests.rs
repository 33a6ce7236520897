use super::cadence::*;
use super::decision::*;
use super::evidence::*;
use super::grid::*;
use super::*;
use crate::analysis::video::frame::{LumaLayout, LumaRange};

const F: u64 = 40_000_000;
const W: usize = 160;
const H: usize = 128;

/// A smooth texture shifted `dx` pixels.
fn texture(dx: usize) -> Vec<u8> {
    use std::f64::consts::TAU;
    let mut out = vec![0u8; W * H];
    for y in 0..H {
        for x in 0..W {
            let (u, v) = ((x + dx) as f64, y as f64);
            let l = 120.0
                + 50.0 * (TAU * u / 41.0).sin() * (TAU * v / 29.0).cos()
                + 20.0 * (TAU * (u + v) / 67.0).sin();
            out[y * W + x] = l as u8;
        }
    }
    out
}

/// The texture with the 32x32 block at (48, 48) taken from elsewhere.
fn damaged(dx: usize) -> Vec<u8> {
    let mut out = texture(dx);
    let other = texture(dx + 57);
    for y in 48..80 {
        for x in 48..80 {
            out[y * W + x] = other[(y + 20) % H * W + x];
        }
    }
    out
}

/// The defaults, but one misplaced block (four broken segments, confidence
/// 0.2 or so) enough to start a corruption, as these tests make: the
/// kernel's logic, not the default's margin.
fn loose() -> BlockConfig {
    BlockConfig {
        min_breaks: 2,
        min_confidence: 0.0,
        ..BlockConfig::default()
    }
}

/// With the defaults a corruption from the pixels alone needs eight newly
/// broken segments: one misplaced macroblock (four) is not enough, two
/// misplaced squares of four (sixteen) are; and the corruption's
/// confidence says how sudden they were.
#[test]
fn the_default_needs_eight_broken_segments() {
    // (x, y, size) of the pieces of content pasted from elsewhere
    let one: &[(usize, usize, usize)] = &[(64, 48, 16)];
    let two: &[(usize, usize, usize)] = &[(32, 32, 32), (96, 64, 32)];
    for (pieces, starts) in [(one, false), (two, true)] {
        let got = corruptions(BlockConfig::default(), 8, |i| {
            let mut luma = texture(i);
            if i == 4 {
                let other = texture(i + 57);
                for &(x0, y0, size) in pieces {
                    for y in y0..y0 + size {
                        for x in x0..x0 + size {
                            luma[y * W + x] = other[(y + 20) % H * W + x];
                        }
                    }
                }
            }
            luma
        });
        assert_eq!(!got.is_empty(), starts, "{pieces:?}: {got:?}");
        if starts {
            assert_eq!(got[0].1.evidence, Evidence::PIXELS);
            // eight breaks over a usual count near 0: 0.8
            assert!((0.2..=0.8).contains(&got[0].1.confidence), "{got:?}");
        }
    }
}

/// Broken segments alone start a corruption only from `min_confidence`
/// (the misplaced square here: 0.6, its six breaks over a running mean of
/// 0 plus one, a tenth of that).
#[test]
fn pixels_start_a_corruption_only_from_min_confidence() {
    for (floor, starts) in [(0.0, true), (0.55, true), (0.65, false)] {
        let config = BlockConfig {
            min_confidence: floor,
            ..loose()
        };
        let got = corruptions(config, 8, damaged_at_4);
        assert_eq!(!got.is_empty(), starts, "floor {floor}: {got:?}");
    }
}

fn push(d: &mut BlockDetector, luma: &[u8], i: u64) -> Vec<BlockEvent> {
    d.push(&LumaPlane::gray8(luma, W, H).unwrap(), i * F, (i + 1) * F)
}

/// The corruption events of a fresh detector with `config` (no
/// measurements) fed `frames` pictures made by `picture`, one 25 fps frame
/// each.
fn corruptions(
    config: BlockConfig,
    frames: usize,
    picture: impl Fn(usize) -> Vec<u8>,
) -> Vec<(Transition, Damage)> {
    let mut d = BlockDetector::new(BlockConfig {
        interval: 0,
        ..config
    });
    let mut got = Vec::new();
    for i in 0..frames {
        for e in push(&mut d, &picture(i), i as u64) {
            if let BlockEvent::Corruption { transition, damage } = e {
                got.push((transition, damage));
            }
        }
    }
    got
}

/// The corruption transitions of a fresh `loose()` detector fed `frames`
/// pictures made by `picture`.
fn transitions(frames: usize, picture: impl Fn(usize) -> Vec<u8>) -> Vec<Transition> {
    corruptions(loose(), frames, picture)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// A corruption in frame 4 alone.
const FRAME_4_ONLY: [Transition; 2] = [
    Transition::Start { start: 4 * F },
    Transition::End {
        start: 4 * F,
        end: 5 * F,
        reason: EndReason::Recovered,
    },
];

/// The texture, with the misplaced square in frame 4.
fn damaged_at_4(i: usize) -> Vec<u8> {
    if i == 4 {
        damaged(i)
    } else {
        texture(i)
    }
}

#[test]
fn misplaced_block_starts_and_ends() {
    let got = corruptions(loose(), 8, damaged_at_4);
    let transitions: Vec<Transition> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(transitions, FRAME_4_ONLY, "{got:?}");
    assert_eq!(got[0].1.evidence, Evidence::PIXELS);
}

/// An open corruption goes on only where its damage was: a macroblock
/// broken afresh far from it in every later frame (as coding artefacts
/// break one here and there) does not keep it open.
#[test]
fn corruption_ends_though_breaks_go_on_elsewhere() {
    let got = transitions(10, |i| {
        let mut luma = damaged_at_4(i);
        if i > 4 {
            // a misplaced macroblock at the right edge, at the top in odd
            // frames and the bottom in even ones: four MBs from the damage
            let other = texture(i + 57);
            let y0 = if i % 2 == 1 { 0 } else { 112 };
            for y in y0..y0 + 16 {
                for x in 128..144 {
                    luma[y * W + x] = other[(y + 40) % H * W + x];
                }
            }
        }
        luma
    });
    assert_eq!(got, FRAME_4_ONLY);
}

/// A corruption does not live on in a step the picture had before it: a
/// bright 16x16 square on the grid, next to where the damage was.
#[test]
fn corruption_does_not_persist_in_content_from_before() {
    let square = |mut luma: Vec<u8>| -> Vec<u8> {
        for y in 48..64 {
            luma[y * W + 80..y * W + 96].fill(230);
        }
        luma
    };
    let got = transitions(10, |i| square(damaged_at_4(i)));
    assert_eq!(got, FRAME_4_ONLY);
}

/// A cut (a key frame changing most of the picture) in the middle of a
/// corruption does not end it when the damage is still there after it.
#[test]
fn corruption_held_over_a_cut() {
    // the texture three times as strong: every block's activity changes
    let strong = |luma: Vec<u8>| -> Vec<u8> {
        luma.iter()
            .map(|&l| (120.0 + 3.0 * (f64::from(l) - 120.0)).clamp(0.0, 255.0) as u8)
            .collect()
    };
    let picture = |i| match i {
        0..=3 => texture(i),
        4 | 5 => damaged(i),
        6 | 7 => strong(damaged(i)),
        _ => strong(texture(i)),
    };
    assert_eq!(
        transitions(10, picture),
        [
            Transition::Start { start: 4 * F },
            Transition::End {
                start: 4 * F,
                end: 8 * F,
                reason: EndReason::Recovered
            }
        ]
    );
    // frame 6 is the cut the test means it to be
    let mut d = BlockDetector::new(loose());
    push(&mut d, &picture(5), 5);
    push(&mut d, &picture(6), 6);
    assert!(d.last_change() > CUT, "{}", d.last_change());
}

/// `picture` with macroblock rows 2 and 3 (a lost slice's band) flat
/// decoder grey.
fn greyed(mut picture: Vec<u8>) -> Vec<u8> {
    picture[2 * MB * W..4 * MB * W].fill(128);
    picture
}

/// A band turning to decoder grey where the picture had content is a
/// corruption; noise averaged away to its own mid-grey level (an encoder
/// starved of bits) keeps its blocks' means, and is not.
#[test]
fn grey_band_is_damage_only_where_the_level_changed() {
    let bright = |i: usize| -> Vec<u8> { texture(i).iter().map(|&l| l + 60).collect() };
    let picture = |i| match i {
        5 => greyed(bright(i)),
        _ => bright(i),
    };
    assert_eq!(
        transitions(8, picture),
        [
            Transition::Start { start: 5 * F },
            Transition::End {
                start: 5 * F,
                end: 6 * F,
                reason: EndReason::Recovered
            }
        ]
    );
    // noise of +-40 around mid-grey, new every frame
    let noise = |i: usize| -> Vec<u8> {
        (0..W * H)
            .map(|p| {
                let h = (p as u64 ^ (i as u64) << 32).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                (88 + (h >> 57) * 80 / 128) as u8
            })
            .collect()
    };
    let starved = |i| match i {
        5.. => greyed(noise(i)),
        _ => noise(i),
    };
    assert_eq!(transitions(8, starved), []);
}

#[test]
fn first_frame_and_flat_frames_are_quiet() {
    let mut d = BlockDetector::new(BlockConfig {
        interval: F,
        ..loose()
    });
    // damage in the very first frame cannot be told from content
    assert!(push(&mut d, &damaged(0), 0)
        .iter()
        .all(|e| matches!(e, BlockEvent::Measurement(_))));
    for (i, v) in [0u8, 16, 128, 235, 255].into_iter().enumerate() {
        for e in push(&mut d, &vec![v; W * H], i as u64 + 1) {
            match e {
                BlockEvent::Measurement(m) => {
                    assert_eq!(m.blockiness, 1.0);
                    assert_eq!(m.corrupted_frames, 0);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn decoder_flag_alone_is_evidence() {
    let mut d = BlockDetector::new(loose());
    push(&mut d, &texture(0), 0);
    d.set_decoder_flag(true);
    push(&mut d, &texture(1), 1);
    assert_eq!(d.last_damage().map(|d| d.evidence), Some(Evidence::DECODER));
    // the flag is for one frame
    push(&mut d, &texture(2), 2);
    assert_eq!(d.last_damage(), None);
}

#[test]
fn lost_slices_are_evidence_up_to_the_first_untainted_frame() {
    use crate::analysis::coded::slices::{LostRange, SliceLoss};
    let mut d = BlockDetector::new(BlockConfig {
        interval: 0,
        ..loose()
    });
    let mut got = Vec::new();
    for i in 0..8u64 {
        // rows of 10 macroblocks: 23..27 is row 2, columns 3 to 6
        let loss = match i {
            3 => SliceLoss {
                lost: vec![LostRange {
                    first: 23,
                    end: Some(27),
                }],
                tainted: false,
                qp: None,
                block: 16,
            },
            4 | 5 => SliceLoss {
                lost: Vec::new(),
                tainted: true,
                qp: None,
                block: 16,
            },
            _ => SliceLoss::default(),
        };
        d.set_lost_slices(&loss);
        for e in push(&mut d, &texture(i as usize), i) {
            if let BlockEvent::Corruption { transition, damage } = e {
                got.push((transition, damage));
            }
        }
        if i == 3 {
            let dmg = d.last_damage().unwrap();
            assert_eq!(dmg.evidence, Evidence::BITSTREAM);
            assert_eq!(dmg.blocks, 4);
            // data known lost: as sure as it gets
            assert_eq!(dmg.confidence, 1.0);
            assert_eq!(
                dmg.area,
                BoxPx {
                    x: 48,
                    y: 32,
                    width: 64,
                    height: 16
                }
            );
        }
        if i == 4 {
            // tainted: evidence without a damaged block of its own
            let dmg = d.last_damage().unwrap();
            assert_eq!((dmg.evidence, dmg.blocks), (Evidence::BITSTREAM, 0));
        }
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, Transition::Start { start: 3 * F });
    assert_eq!(
        got[1].0,
        Transition::End {
            start: 3 * F,
            end: 6 * F,
            reason: EndReason::Recovered
        }
    );
    // the end has the area of the whole corruption
    assert_eq!(got[1].1.area.width, 64);
    assert_eq!(got[1].1.blocks, 4);

    // a run to the end of the picture; and one outside the region
    let mut d = BlockDetector::new(BlockConfig {
        interval: 0,
        region: Region {
            y: 0.5,
            height: 0.5,
            ..Region::default()
        },
        ..loose()
    });
    push(&mut d, &texture(0), 0);
    d.set_lost_slices(&SliceLoss {
        lost: vec![LostRange {
            first: 5,
            end: Some(10),
        }],
        tainted: false,
        qp: None,
        block: 16,
    });
    push(&mut d, &texture(1), 1);
    assert_eq!(d.last_damage(), None, "outside the region");
    d.set_lost_slices(&SliceLoss {
        lost: vec![LostRange {
            first: 75,
            end: None,
        }],
        tainted: false,
        qp: None,
        block: 16,
    });
    push(&mut d, &texture(2), 2);
    assert_eq!(d.last_damage().map(|d| d.blocks), Some(5));
}

/// A 16x16 macroblock lifted by 40 code values in frame 4: a step of
/// 40 all round it, as a coarse quantiser leaves one. Raises a
/// corruption when the frame's quantiser is unknown or fine, and none
/// when a quantiser step of the frame's QP could make it.
#[test]
fn steps_the_quantiser_could_leave_are_masked() {
    use crate::analysis::coded::slices::SliceLoss;
    let lifted = |i: usize| {
        let mut p = texture(i);
        if i == 4 {
            for y in 48..64 {
                for x in 64..80 {
                    p[y * W + x] += 40;
                }
            }
        }
        p
    };
    // an excess of 16.4 to 35 (the step less the texture's gradients):
    // over the default threshold's 16.4 and qstep 6.3 at QP 20, 11 at 25;
    // under qstep 35 at QP 35, 113 at 45
    for (qp, starts) in [
        (None, true),
        (Some(20), true),
        (Some(25), true),
        (Some(35), false),
        (Some(45), false),
    ] {
        for masking in [1.0, 0.0] {
            let mut d = BlockDetector::new(BlockConfig {
                interval: 0,
                qp_masking: masking,
                ..loose()
            });
            let mut got = Vec::new();
            for i in 0..8 {
                d.set_lost_slices(&SliceLoss {
                    qp,
                    ..SliceLoss::default()
                });
                for e in push(&mut d, &lifted(i), i as u64) {
                    if let BlockEvent::Corruption { transition, .. } = e {
                        got.push(transition);
                    }
                }
            }
            let want = if starts || masking == 0.0 {
                vec![
                    Transition::Start { start: 4 * F },
                    Transition::End {
                        start: 4 * F,
                        end: 5 * F,
                        reason: EndReason::Recovered,
                    },
                ]
            } else {
                vec![]
            };
            assert_eq!(got, want, "qp {qp:?} masking {masking}");
        }
    }
    assert!((qstep(0) - 0.625).abs() < 1e-9);
    assert!((qstep(24) - 10.0).abs() < 1e-9);
    assert_eq!(qstep(60), qstep(51));
}

/// Frame starts (in frame durations of `dur` ns) through a fresh
/// cadence; the missing count of each frame.
fn cadence(times: &[u64], dur: u64) -> Vec<u64> {
    let mut c = Cadence::default();
    times
        .iter()
        .map(|&t| c.push(t * dur, (t + 1) * dur))
        .map(|(missing, short)| if short { missing } else { 0 })
        .collect()
}

#[test]
fn cadence_counts_frames_missing_from_a_steady_rate() {
    // 8 steady frames, then one missing, then three missing
    let mut t: Vec<u64> = (0..9).collect();
    t.extend([10, 11, 15, 16]);
    assert_eq!(cadence(&t, F), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0]);
    // not yet steady: the gap is not judged, and steadiness starts over
    assert_eq!(cadence(&[0, 1, 2, 4, 5], F), [0; 5]);
    // at 25 fps, up to a second's frames (25) count; longer is an outage,
    // not lost frames
    let mut t: Vec<u64> = (0..9).collect();
    t.extend([8 + 25 + 2, 8 + 25 + 3]);
    assert_eq!(cadence(&t, F).iter().sum::<u64>(), 0);
    t.truncate(9);
    t.push(8 + 25 + 1);
    assert_eq!(cadence(&t, F)[9], 25);
    // at 2 fps, up to MAX_MISSING
    let slow = 500_000_000;
    let mut t: Vec<u64> = (0..9).collect();
    t.push(8 + MAX_MISSING + 1);
    assert_eq!(cadence(&t, slow)[9], MAX_MISSING);
    t.push(8 + MAX_MISSING + 1 + MAX_MISSING + 2);
    assert_eq!(cadence(&t, slow)[10], 0);
    // longer gaps, up to ten seconds, are measured, for the coded stream to
    // confirm
    let mut c = Cadence::default();
    for i in 0..9 {
        c.push(i * F, (i + 1) * F);
    }
    assert_eq!(c.push((8 + 101) * F, (8 + 102) * F), (100, false));
    assert_eq!(c.push((8 + 102 + 251) * F, (8 + 103 + 251) * F), (0, false));
}

#[test]
fn cadence_follows_ntsc_rounding_and_ignores_irregular_times() {
    // 29.97 fps: durations of 33366666 and 33366667 ns alternate
    let mut c = Cadence::default();
    let at = |i: u64| i * 1_001_000_000 / 30;
    let got: Vec<u64> = [0u64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
        .iter()
        .map(|&i| c.push(at(i), at(i + 1)).0)
        .collect();
    assert_eq!(got, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    // a variable rate never counts: intervals wander by half a frame
    let mut c = Cadence::default();
    let mut pts = 0;
    for i in 0..40u64 {
        let step = if i % 3 == 0 { F + F / 2 } else { F };
        assert_eq!(c.push(pts, pts + F).0, 0, "frame {i}");
        pts += step;
    }
    // time going backwards, or frames without a duration, start over
    let mut c = Cadence::default();
    for i in 0..9 {
        c.push(i * F, (i + 1) * F);
    }
    assert_eq!(c.push(3 * F, 4 * F).0, 0);
    assert_eq!(c.push(5 * F, 6 * F).0, 0, "not steady again yet");
    let mut c = Cadence::default();
    for i in 0..9 {
        c.push(i * F, i * F);
    }
    assert_eq!(c.push(10 * F, 11 * F).0, 0);
}

/// A gap longer than a second counts as missing frames only where the
/// coded stream shows data lost (a decoder that lost a reference drops the
/// rest of the GOP): back-dated to the gap's start then.
#[test]
fn a_long_gap_counts_where_the_coded_stream_shows_a_loss() {
    for tainted in [false, true] {
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            ..loose()
        });
        let mut got = Vec::new();
        // 10 frames, 40 missing (1.6 s at 25 fps), then 3 more
        for i in (0..10).chain(50..53) {
            if i == 50 {
                d.set_lost_slices(&SliceLoss {
                    tainted,
                    ..SliceLoss::default()
                });
            }
            for e in push(&mut d, &texture(i as usize), i) {
                if let BlockEvent::Corruption {
                    transition: Transition::Start { start },
                    damage,
                } = e
                {
                    got.push((start, damage.evidence));
                }
            }
        }
        if tainted {
            assert_eq!(
                got,
                [(10 * F, Evidence::MISSING_FRAMES.union(Evidence::BITSTREAM))]
            );
        } else {
            assert!(got.is_empty(), "{got:?}");
        }
    }
}

#[test]
fn missing_frames_are_evidence_unless_turned_off() {
    for on in [true, false] {
        let mut d = BlockDetector::new(BlockConfig {
            interval: 0,
            missing_frames: on,
            ..loose()
        });
        let mut got = Vec::new();
        for i in (0..10).chain(11..13) {
            for e in push(&mut d, &texture(i as usize), i) {
                if let BlockEvent::Corruption { transition, damage } = e {
                    let at = match transition {
                        Transition::Start { start } => start,
                        Transition::End { end, .. } => end,
                    };
                    got.push((i, at, damage.evidence, damage.blocks));
                    assert_eq!(damage.confidence, 0.9);
                }
            }
        }
        if on {
            assert_eq!(
                got,
                [
                    // posted with frame 11, back-dated to the missing frame
                    (11, 10 * F, Evidence::MISSING_FRAMES, 0),
                    (12, 12 * F, Evidence::MISSING_FRAMES, 0)
                ]
            );
        } else {
            assert!(got.is_empty(), "{got:?}");
        }
    }
    // and close() forgets the cadence (a flush, a caps change)
    let mut d = BlockDetector::new(loose());
    for i in 0..10 {
        push(&mut d, &texture(i), i as u64);
    }
    d.close(EndReason::Flush);
    push(&mut d, &texture(12), 12);
    assert_eq!(d.last_damage(), None);
}

#[test]
fn evidence_names_round_trip() {
    for bits in 1..16u8 {
        let e = Evidence {
            pixels: bits & 1 != 0,
            decoder: bits & 2 != 0,
            missing_frames: bits & 4 != 0,
            bitstream: bits & 8 != 0,
        };
        assert_eq!(Evidence::parse(e.as_str()), Some(e), "{}", e.as_str());
        // each name once, in the documented order
        let names: Vec<&str> = e.as_str().split('+').collect();
        let want: Vec<&str> = EVIDENCE_NAMES
            .iter()
            .zip(e.flags())
            .filter(|(_, f)| *f)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(names, want);
    }
    assert_eq!(Evidence::parse(""), None);
    assert_eq!(Evidence::parse("pixels+gap"), None);
}

#[test]
fn avx2_build_equals_portable() {
    for luma in [texture(3), damaged(5)] {
        let p = LumaPlane::gray8(&luma, W, H).unwrap();
        let (mut a, mut b) = (BoundaryMap::default(), BoundaryMap::default());
        a.compute(&p);
        b.compute_portable(&p);
        assert_eq!(a, b);
    }
}

/// An 8-bit picture as 10-bit little-endian words.
fn words10(luma: &[u8]) -> Vec<u8> {
    luma.iter()
        .flat_map(|&v| (u16::from(v) << 2).to_le_bytes())
        .collect()
}

fn plane10(words: &[u8], full_range: bool) -> LumaPlane<'_> {
    let layout = LumaLayout::U16 {
        offset: 0,
        step: 2,
        shift: 0,
    };
    LumaPlane::new(words, W * 2, W, H, layout, LumaRange::new(10, full_range)).unwrap()
}

#[test]
fn sixteen_bit_reads_like_eight_bit() {
    let luma = damaged(2);
    let words = words10(&luma);
    let p10 = plane10(&words, false);
    let p8 = LumaPlane::gray8(&luma, W, H).unwrap();
    let (mut a, mut b) = (BoundaryMap::default(), BoundaryMap::default());
    a.compute(&p8);
    b.compute(&p10);
    let scaled: Vec<i32> = a.ev.iter().map(|v| v * 4).collect();
    assert_eq!(scaled, b.ev);
    assert_eq!(a.grey, b.grey);
}

#[test]
fn tiny_and_empty_pictures() {
    let mut d = BlockDetector::new(loose());
    for (w, h) in [(0, 0), (1, 1), (15, 15), (16, 16), (17, 40)] {
        let luma = vec![100u8; w * h];
        let p = LumaPlane::gray8(&luma, w, h).unwrap();
        for i in 0..3 {
            d.push(&p, i * F, (i + 1) * F);
            assert_eq!(d.last_damage(), None);
        }
    }
}

#[test]
fn blockiness_of_a_blocky_picture() {
    // flat 8x8 blocks of different levels: every step on the grid
    let luma: Vec<u8> = (0..W * H)
        .map(|i| (40 + ((i % W) / 8 * 7 + (i / W) / 8 * 13) % 150) as u8)
        .collect();
    let mut m = BoundaryMap::default();
    m.compute(&LumaPlane::gray8(&luma, W, H).unwrap());
    assert!(blockiness(m.grid8, m.off8, m.grid_n) > 10.0);
    let smooth = texture(0);
    m.compute(&LumaPlane::gray8(&smooth, W, H).unwrap());
    let b = blockiness(m.grid8, m.off8, m.grid_n);
    assert!(b > 0.7 && b < 1.3, "{b}");
}

/// Checkers of 8x8 squares, black and white: every step on the grid,
/// none off it, the most blocking there is. At most 256, at any depth.
#[test]
fn blockiness_is_bounded() {
    let luma: Vec<u8> = (0..W * H)
        .map(|i| {
            if ((i % W) / 8 + (i / W) / 8).is_multiple_of(2) {
                0
            } else {
                255
            }
        })
        .collect();
    let words = words10(&luma);
    let p10 = plane10(&words, true);
    let mut m = BoundaryMap::default();
    for p in [LumaPlane::gray8(&luma, W, H).unwrap(), p10] {
        m.compute(&p);
        assert_eq!(blockiness(m.grid8, m.off8, m.grid_n), 256.0);
    }
    m.compute(&LumaPlane::gray8(&[7; 16 * 16], 16, 16).unwrap());
    assert_eq!(blockiness(m.grid8, m.off8, m.grid_n), 1.0);
}

/// The excess and signed steps of the map, and its texture, luma and
/// blockiness sums, equal their definitions, summed pixel by pixel.
#[test]
fn steps_equal_their_definitions() {
    for luma in [texture(3), damaged(5)] {
        let mut m = BoundaryMap::default();
        m.compute(&LumaPlane::gray8(&luma, W, H).unwrap());
        let p = |x: usize, y: usize| i32::from(luma[y * W + x]);
        let (cols, rows) = (W / MB, H / MB);
        for r in 0..rows {
            for x in 0..W {
                let ys = (r * MB..(r + 1) * MB).step_by(2);
                let want_e: i32 = if (2..=W - 2).contains(&x) {
                    ys.clone()
                        .map(|y| {
                            2 * (p(x - 1, y) - p(x, y)).abs()
                                - (p(x - 2, y) - p(x - 1, y)).abs()
                                - (p(x, y) - p(x + 1, y)).abs()
                        })
                        .sum()
                } else {
                    0
                };
                let want_s: i32 = if x >= 1 {
                    ys.map(|y| p(x - 1, y) - p(x, y)).sum()
                } else {
                    0
                };
                assert_eq!((m.ev[r * W + x], m.sv[r * W + x]), (want_e, want_s));
            }
        }
        for y in 0..H {
            for c in 0..cols {
                let xs = c * MB..(c + 1) * MB;
                let (want_e, want_s) = if (2..=H - 2).contains(&y) {
                    let e: i32 = xs
                        .clone()
                        .map(|x| {
                            2 * (p(x, y - 1) - p(x, y)).abs()
                                - (p(x, y - 2) - p(x, y - 1)).abs()
                                - (p(x, y) - p(x, y + 1)).abs()
                        })
                        .sum();
                    let s: i32 = xs.map(|x| p(x, y - 1) - p(x, y)).sum();
                    (e / 2, s / 2)
                } else {
                    (0, 0)
                };
                assert_eq!((m.eh[y * cols + c], m.sh[y * cols + c]), (want_e, want_s));
            }
        }
        // texture, luma and blockiness from every fourth row (y % 4 == 1)
        let d = |x: usize, y: usize| {
            if x == 0 {
                0
            } else {
                (p(x, y) - p(x - 1, y)).unsigned_abs()
            }
        };
        let (mut act, mut luma) = (vec![0u32; cols * rows], vec![0u32; cols * rows]);
        let (mut grid8, mut off8) = (0u64, 0u64);
        for y in (1..rows * MB).step_by(4) {
            let (mut g, mut o) = (0u64, 0u64);
            for c in 0..cols {
                let x0 = c * MB;
                let all: u32 = (x0..x0 + MB).map(|x| d(x, y)).sum();
                let (g0, g1) = (d(x0, y), d(x0 + MB / 2, y));
                act[y / MB * cols + c] += all - g0;
                luma[y / MB * cols + c] += (x0..x0 + MB).map(|x| p(x, y) as u32).sum::<u32>();
                g += u64::from(g0 + g1);
                o += u64::from(all - g0 - g1);
            }
            grid8 += g;
            off8 += o / 7;
        }
        let activity: Vec<f64> = act.iter().map(|&a| f64::from(a) / 60.0).collect();
        assert_eq!((m.grid8, m.off8), (grid8, off8));
        assert_eq!(m.activity, activity);
        assert_eq!(m.luma, luma);
    }
}
