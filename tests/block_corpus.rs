//! Block corruption corpus (work in progress: feature dump).
mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::*;
use gst::prelude::*;
use gst_video::prelude::*;
use gstavmonitor::analysis::block::BoundaryMap;
use gstavmonitor::analysis::frame::LumaPlane;

const W: usize = 640;
const H: usize = 352;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Flip(usize),
    DropSlice(usize),
    DropFrame,
}

type Frames = BTreeMap<u64, Vec<u8>>;

fn collect(sink: &gst::Element, out: Arc<Mutex<Frames>>) {
    let sink = sink.clone().downcast::<gst_app::AppSink>().unwrap();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
                let buf = sample.buffer().unwrap();
                let pts = buf.pts().unwrap().nseconds();
                let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buf, &info).unwrap();
                let stride = frame.plane_stride()[0] as usize;
                let data = frame.plane_data(0).unwrap();
                let mut l = Vec::with_capacity(W * H);
                for y in 0..H {
                    l.extend_from_slice(&data[y * stride..y * stride + W]);
                }
                out.lock().unwrap().insert(pts, l);
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
}

fn run(src: &str, enc: &str, damage: &[(usize, Op)]) -> (Frames, Frames) {
    init();
    let desc = format!(
        "{src} ! video/x-raw,format=I420,width={W},height={H},framerate=25/1 ! x264enc {enc} ! video/x-h264,stream-format=byte-stream,alignment=au ! tee name=t \
         t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! avdec_h264 ! video/x-raw,format=I420 ! appsink name=clean sync=false \
         t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! avdec_h264 name=dec ! video/x-raw,format=I420 ! appsink name=damaged sync=false"
    );
    let p = gst::parse::launch(&desc).unwrap();
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    let clean = Arc::new(Mutex::new(Frames::new()));
    let damaged = Arc::new(Mutex::new(Frames::new()));
    collect(&bin.by_name("clean").unwrap(), clean.clone());
    collect(&bin.by_name("damaged").unwrap(), damaged.clone());
    let damage = damage.to_vec();
    let pos = Mutex::new(-1i64);
    bin.by_name("dec")
        .unwrap()
        .static_pad("sink")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_ref() else {
                return gst::PadProbeReturn::Ok;
            };
            let map = buf.map_readable().unwrap();
            let nals = split_nals(map.as_slice());
            if !nals.iter().any(|n| matches!(n.first().map(|h| h & 0x1f), Some(1 | 5))) {
                return gst::PadProbeReturn::Ok;
            }
            let frame = {
                let mut f = pos.lock().unwrap();
                *f += 1;
                *f
            };
            let ops: Vec<Op> = damage.iter().filter(|(f, _)| *f as i64 == frame).map(|(_, o)| *o).collect();
            if ops.is_empty() {
                return gst::PadProbeReturn::Ok;
            }
            if ops.contains(&Op::DropFrame) {
                return gst::PadProbeReturn::Drop;
            }
            let mut out = Vec::new();
            let mut slice = 0;
            for n in nals {
                let is_slice = matches!(n[0] & 0x1f, 1 | 5);
                let mut n = n.to_vec();
                if is_slice {
                    if ops.contains(&Op::DropSlice(slice)) {
                        slice += 1;
                        continue;
                    }
                    if ops.contains(&Op::Flip(slice)) {
                        let len = n.len();
                        for k in [len * 2 / 5, len / 2, len * 3 / 5] {
                            if k > 8 {
                                n[k] ^= 0x5a;
                            }
                        }
                    }
                    slice += 1;
                }
                out.extend_from_slice(&[0, 0, 0, 1]);
                out.extend_from_slice(&n);
            }
            drop(map);
            let mut nb = gst::Buffer::from_mut_slice(out);
            {
                let nbm = nb.get_mut().unwrap();
                nbm.set_pts(buf.pts());
                nbm.set_dts(buf.dts());
                nbm.set_duration(buf.duration());
                nbm.set_flags(buf.flags());
            }
            info.data = Some(gst::PadProbeData::Buffer(nb));
            gst::PadProbeReturn::Ok
        });
    run_structures(&p);
    let c = std::mem::take(&mut *clean.lock().unwrap());
    let d = std::mem::take(&mut *damaged.lock().unwrap());
    (c, d)
}

/// The NAL units of an Annex B byte stream, without start codes.
fn split_nals(d: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= d.len() {
        if d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map(|&n| n - 3).unwrap_or(d.len());
        while e > s && d[e - 1] == 0 {
            e -= 1;
        }
        if e > s {
            out.push(&d[s..e]);
        }
    }
    out
}

/// Per-macroblock mean absolute difference, max and count over `t`.
fn truth(a: &[u8], b: &[u8], t: u32) -> (u32, usize) {
    let (mut mx, mut n) = (0, 0);
    for r in 0..H / 16 {
        for c in 0..W / 16 {
            let mut s = 0u32;
            for y in 0..16 {
                for x in 0..16 {
                    let i = (r * 16 + y) * W + c * 16 + x;
                    s += (i32::from(a[i]) - i32::from(b[i])).unsigned_abs();
                }
            }
            let m = s / 256;
            mx = mx.max(m);
            if m >= t {
                n += 1;
            }
        }
    }
    (mx, n)
}

fn features(m: &BoundaryMap, prev: Option<&BoundaryMap>) -> String {
    let t = 12.0;
    let e = |s: u32, i: u32| (s as f64 - i as f64 / 2.0).max(0.0) / 16.0;
    let coherent = |st: u32, sg: i32| st > 0 && (sg.unsigned_abs() as f64) >= 0.7 * st as f64;
    let mut strong = 0;
    let mut brk = 0;
    let mut novel = 0;
    let (cols, rows) = (m.cols, m.rows);
    for dir in 0..2 {
        let (st, inn, sg, cov) = if dir == 0 {
            (&m.v_step, &m.v_inner, &m.v_signed, &m.v_cover)
        } else {
            (&m.h_step, &m.h_inner, &m.h_signed, &m.h_cover)
        };
        let is_break = |st: &Vec<u32>, inn: &Vec<u32>, sg: &Vec<i32>, cov: &Vec<u8>, k: usize| -> (bool, bool) {
            let v = e(st[k], inn[k]);
            if v < t {
                return (false, false);
            }
            let (r, c) = (k / cols, k % cols);
            let along: Vec<usize> = if dir == 0 {
                [r.wrapping_sub(1), r + 1].into_iter().filter(|&r| r < rows).map(|r| r * cols + c).collect()
            } else {
                [c.wrapping_sub(1), c + 1].into_iter().filter(|&c| c < cols).map(|c| r * cols + c).collect()
            };
            let me_coh = coherent(st[k], sg[k]);
            let content = me_coh
                && along.iter().any(|&n| {
                    coherent(st[n], sg[n])
                        && (sg[n] > 0) == (sg[k] > 0)
                        && (cov[k] >= 12 || cov[n] >= 12)
                });
            (true, !content)
        };
        for k in 0..st.len() {
            if (dir == 0 && k % cols == 0) || (dir == 1 && k < cols) {
                continue;
            }
            let (s, b) = is_break(st, inn, sg, cov, k);
            strong += s as usize;
            if b {
                if std::env::var("WHERE").is_ok() {
                    let other = if dir == 0 { k - 1 } else { k - cols };
                    let act = m.activity[k].max(m.activity[other]) as f64 / 60.0;
                    print!(" {}{},{}:{:.0}/{:.1}", if dir == 0 { "v" } else { "h" }, k % cols, k / cols, e(st[k], inn[k]), act);
                }
                brk += 1;
                let was = prev.map(|p| {
                    let (st, inn, sg, cov) = if dir == 0 {
                        (&p.v_step, &p.v_inner, &p.v_signed, &p.v_cover)
                    } else {
                        (&p.h_step, &p.h_inner, &p.h_signed, &p.h_cover)
                    };
                    is_break(st, inn, sg, cov, k).1
                });
                if was != Some(true) {
                    novel += 1;
                }
            }
        }
    }
    let blk = (m.grid8 as f64 + 1.0) / (m.off8 as f64 + 1.0);
    format!("strong {strong:4} break {brk:4} novel {novel:4} blk {blk:5.2}")
}

fn dump(name: &str, src: &str, enc: &str, damage: &[(usize, Op)]) {
    let (clean, dmg) = run(src, enc, damage);
    println!("== {name}: {} clean, {} damaged frames", clean.len(), dmg.len());
    let mut prev: Option<BoundaryMap> = None;
    for (i, (pts, l)) in dmg.iter().enumerate() {
        let mut m = BoundaryMap::default();
        m.compute(&LumaPlane::gray8(l, W, H).unwrap(), 6);
        let gt = clean.get(pts).map(|c| truth(c, l, 10)).unwrap_or((999, 999));
        let f = features(&m, prev.as_ref());
        println!("{i:3} gt max {:3} n {:4} | {f}", gt.0, gt.1);
        if std::env::var("DUMP").is_ok_and(|d| d.split(',').any(|x| x == format!("{name}:{i}"))) {
            let tag = name.replace(' ', "_");
            std::fs::write(format!("/tmp/blk/{tag}_{i}_d.gray"), l).unwrap();
            if let Some(c) = clean.get(pts) {
                std::fs::write(format!("/tmp/blk/{tag}_{i}_c.gray"), c).unwrap();
            }
        }
        prev = Some(m);
    }
}

#[test]
#[ignore]
fn block_features() {
    let enc = "speed-preset=faster key-int-max=50 bitrate=1500 threads=1 option-string=slices=4";
    let dmg = [(10, Op::Flip(1)), (30, Op::DropSlice(2)), (60, Op::DropFrame), (80, Op::Flip(0))];
    for (name, src) in [
        ("ball", "videotestsrc pattern=ball num-buffers=100"),
        ("smpte moving", "videotestsrc pattern=smpte horizontal-speed=3 num-buffers=100"),
        ("zoneplate", "videotestsrc pattern=zone-plate kt=2 kx2=20 ky2=20 num-buffers=100"),
    ] {
        dump(name, src, enc, &dmg);
    }
}
