//! The same picture in every supported format gives the same decisions
//! (converted from I420 by videoconvert).
mod common;

use common::*;
use gst_video::VideoFormat;

#[test]
fn every_format_gives_the_same_events() {
    init();
    let base = info(VideoFormat::I420, 320, 240);
    let t = Texture::new();
    // 10 moving, 30 black (with dark noise), 10 moving, 30 frozen, 10 moving
    let frames: Vec<gst::Buffer> = (0..90usize)
        .map(|i| {
            let mut luma = match i {
                10..40 => {
                    let mut l = vec![16u8; 320 * 240];
                    grain(&mut l, i as u64, 3);
                    l
                }
                50..80 => t.window(320, 240, 150, 0, 1.0, 0.0),
                _ => t.window(320, 240, 5 * i, 0, 1.0, 0.0),
            };
            if !(10..80).contains(&i) || (40..50).contains(&i) {
                square(&mut luma, 320, 240, 4 * i, 100, 16, 235);
            }
            timed(yuv_buffer(&base, &luma), Some(i as u64 * F), Some(F))
        })
        .collect();
    let chain = |fmt: &str| {
        format!(
            "videoconvert ! video/x-raw,format={fmt} ! blackdetect min-duration=400000000 \
             ! freezedetect min-duration=400000000"
        )
    };
    let caps = base.to_caps().unwrap();
    let reference = run_frames(&caps, frames.clone(), &chain("I420"));
    let summary: Vec<(&str, &str, u64)> = reference
        .iter()
        .map(|(n, e)| (n.as_str(), e.kind, e.ts))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("blackdetect", "start", 10 * F),
            ("freezedetect", "start", 10 * F),
            ("blackdetect", "end", 40 * F),
            ("freezedetect", "end", 40 * F),
            ("freezedetect", "start", 50 * F),
            ("freezedetect", "end", 80 * F),
        ],
        "black noise is frozen too: a black picture is a still picture"
    );
    let mut failures = Vec::new();
    for fmt in gstavmonitor::videodetect::FORMATS {
        let got = run_frames(&caps, frames.clone(), &chain(fmt.to_str()));
        let same = got.len() == reference.len()
            && got
                .iter()
                .zip(&reference)
                .all(|((n1, e1), (n2, e2))| n1 == n2 && e1.kind == e2.kind && e1.ts == e2.ts);
        println!(
            "{:>10}: {} events{}",
            fmt.to_str(),
            got.len(),
            if same { "" } else { " DIFFERENT" }
        );
        if !same {
            failures.push((fmt.to_str(), got));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// blockdetect finds the same misplaced blocks in every format.
#[test]
fn every_format_gives_the_same_corruptions() {
    init();
    let base = info(VideoFormat::I420, 320, 240);
    let t = Texture::new();
    // a pan; frames 12..15 carry a 48x48 square from elsewhere in the
    // texture (twelve macroblock edges; the default needs eight broken)
    let frames: Vec<gst::Buffer> = (0..24usize)
        .map(|i| {
            let mut luma = t.window(320, 240, 2 * i, 0, 1.0, 0.0);
            if (12..15).contains(&i) {
                let other = t.window(320, 240, 2 * i + 300, 200, 1.0, 0.0);
                for y in 64..112 {
                    luma[y * 320 + 128..y * 320 + 176]
                        .copy_from_slice(&other[y * 320 + 128..y * 320 + 176]);
                }
            }
            timed(yuv_buffer(&base, &luma), Some(i as u64 * F), Some(F))
        })
        .collect();
    let chain = |fmt: &str| {
        format!("videoconvert ! video/x-raw,format={fmt} ! blockdetect post-messages=false")
    };
    let caps = base.to_caps().unwrap();
    let summary = |got: &[(String, Ev)]| -> Vec<(&'static str, u64)> {
        got.iter().map(|(_, e)| (e.kind, e.ts)).collect()
    };
    let reference = summary(&run_frames(&caps, frames.clone(), &chain("I420")));
    assert_eq!(reference, vec![("start", 12 * F), ("end", 15 * F)]);
    let mut failures = Vec::new();
    for fmt in gstavmonitor::videodetect::FORMATS {
        let got = summary(&run_frames(&caps, frames.clone(), &chain(fmt.to_str())));
        if got != reference {
            failures.push((fmt.to_str(), got));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
