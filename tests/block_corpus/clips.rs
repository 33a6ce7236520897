//! The corpus's clips: content encoded with x264 or x265, damaged in known
//! frames before the decoder (bytes flipped, a slice or a frame dropped),
//! decoded clean and damaged side by side, with what slicecheck and
//! blockdetect made of them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gstavmonitor::analysis::coded::slices::SliceLoss;
use gstavmonitor::slicemeta::lost_slices;
use gstavmonitor::BlockDetectMessage;

use crate::common::*;

pub const W: usize = 640;
pub const H: usize = 352;
pub const VISIBLE: u32 = 16;
pub const CLEAN: u32 = 6;
/// The visibility of a frame missing from the damaged decode.
pub const LOST: u32 = 255;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// Flip bytes in the middle of slice n.
    Flip(usize),
    DropSlice(usize),
    DropFrame,
}

impl Op {
    pub fn kind(&self, key: bool) -> &'static str {
        match (self, key) {
            (Op::Flip(_), false) => "bytes flipped",
            (Op::Flip(_), true) => "bytes flipped in key frame",
            (Op::DropSlice(_), _) => "slice dropped",
            (Op::DropFrame, _) => "frame dropped",
        }
    }
}

/// Key frame every 25 frames; one damage per key-frame interval, so each
/// damage's propagation ends at the next key frame.
pub const DAMAGE: &[(usize, Op)] = &[
    (30, Op::Flip(1)),
    (55, Op::DropSlice(2)),
    (80, Op::DropFrame),
    (100, Op::Flip(3)),
    (130, Op::DropSlice(0)),
];
pub const KEY_INT: usize = 25;

#[derive(Clone, Copy)]
pub enum Codec {
    H264 { bitrate: u32 },
    H265 { bitrate: u32 },
}

impl Codec {
    pub fn name(&self) -> &'static str {
        match self {
            Codec::H264 { .. } => "H.264",
            Codec::H265 { .. } => "HEVC",
        }
    }
    /// The same codec at another bitrate (kb/s).
    pub fn at(self, bitrate: u32) -> Codec {
        match self {
            Codec::H264 { .. } => Codec::H264 { bitrate },
            Codec::H265 { .. } => Codec::H265 { bitrate },
        }
    }
    pub fn chain(&self) -> String {
        match self {
            Codec::H264 { bitrate } => format!(
                "x264enc speed-preset=faster threads=1 key-int-max={KEY_INT} bitrate={bitrate} option-string=slices=4 ! video/x-h264,stream-format=byte-stream,alignment=au"
            ),
            Codec::H265 { bitrate } => format!(
                "x265enc speed-preset=ultrafast key-int-max={KEY_INT} bitrate={bitrate} option-string=bframes=0:slices=4 ! video/x-h265,stream-format=byte-stream,alignment=au"
            ),
        }
    }
    pub fn decoder(&self) -> &'static str {
        match self {
            Codec::H264 { .. } => "avdec_h264",
            Codec::H265 { .. } => "avdec_h265",
        }
    }
    /// What sits between the damage and the decoder: `slicecheck`, which
    /// tells `blockdetect` of slices lost whole and (H.264) the quantiser
    /// (set `BLOCK_PIXELS_ONLY=1` to measure the pixels alone).
    pub fn checker(&self) -> &'static str {
        if std::env::var_os("BLOCK_PIXELS_ONLY").is_none() {
            "slicecheck ! "
        } else {
            ""
        }
    }
    /// Is this unit (without its start code) a slice?
    pub fn is_slice(&self, unit: &[u8]) -> bool {
        match self {
            Codec::H264 { .. } => matches!(unit[0] & 0x1f, 1 | 5),
            Codec::H265 { .. } => (unit[0] >> 1) & 0x3f <= 21,
        }
    }
}

/// Where the pictures come from.
#[derive(Clone, Copy)]
pub enum Source {
    Test(&'static str),
    Synthetic(fn(&Texture, usize) -> Vec<u8>),
}

pub struct Clip {
    pub name: &'static str,
    pub source: Source,
    pub frames: usize,
    pub codec: Codec,
    pub damage: &'static [(usize, Op)],
}

pub type Frames = BTreeMap<u64, Vec<u8>>;

pub struct Outcome {
    pub clean: Frames,
    pub damaged: Frames,
    /// PTS of the frames the probe damaged, with the damage.
    pub injected: Vec<(u64, Op, bool)>,
    pub events: Vec<BlockDetectMessage>,
    /// What slicecheck told blockdetect of each damaged frame.
    pub losses: BTreeMap<u64, SliceLoss>,
}

pub type Losses = Arc<Mutex<BTreeMap<u64, SliceLoss>>>;

/// Keeps the luma of each frame reaching `sink` in `out`, and what
/// slicecheck marked it with in `losses`.
pub fn collect(sink: &gst::Element, out: Arc<Mutex<Frames>>, losses: Losses) {
    let sink = sink.clone().downcast::<gst_app::AppSink>().unwrap();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |s| {
                let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
                let buf = sample.buffer().unwrap();
                let pts = buf.pts().unwrap().nseconds();
                out.lock().unwrap().insert(pts, packed_luma(buf, &info));
                losses.lock().unwrap().insert(pts, lost_slices(buf));
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
}

/// The units of an Annex B / MPEG start-code stream, without start codes.
pub fn split_units(d: &[u8]) -> Vec<&[u8]> {
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

/// Damages one coded frame per `ops`; `None` drops it.
pub fn damage(codec: Codec, data: &[u8], ops: &[Op]) -> Option<Vec<u8>> {
    if ops.contains(&Op::DropFrame) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    let mut slice = 0;
    for unit in split_units(data) {
        let mut unit = unit.to_vec();
        if codec.is_slice(&unit) {
            let n = slice;
            slice += 1;
            if ops.contains(&Op::DropSlice(n)) {
                continue;
            }
            if ops.contains(&Op::Flip(n)) {
                let len = unit.len();
                for k in [len * 2 / 5, len / 2, len * 3 / 5] {
                    if k > 8 {
                        unit[k] ^= 0x5a;
                    }
                }
            }
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&unit);
    }
    Some(out)
}

pub fn run(t: &Arc<Texture>, clip: &Clip) -> Outcome {
    init();
    let src = match clip.source {
        Source::Test(s) => format!("{s} num-buffers={}", clip.frames),
        Source::Synthetic(_) => "appsrc name=gen format=time".to_string(),
    };
    let desc = format!(
        "{src} ! video/x-raw,format=I420,width={W},height={H},framerate=25/1 ! {enc} ! tee name=t \
         t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! {dec} ! video/x-raw,format=I420 ! appsink name=clean sync=false \
         t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! identity name=inject ! {check}{dec} ! video/x-raw,format=I420 ! blockdetect post-messages=false {props} ! appsink name=damaged sync=false",
        props = std::env::var("BLOCK_PROPS").unwrap_or_default(),
        enc = clip.codec.chain(),
        dec = clip.codec.decoder(),
        check = clip.codec.checker(),
    );
    let p = gst::parse::launch(&desc).unwrap_or_else(|e| panic!("{desc}: {e}"));
    let bin = p.downcast_ref::<gst::Bin>().unwrap();
    if let Source::Synthetic(gen) = clip.source {
        let src = bin
            .by_name("gen")
            .unwrap()
            .downcast::<gst_app::AppSrc>()
            .unwrap();
        let info = info(gst_video::VideoFormat::I420, W as u32, H as u32);
        src.set_caps(Some(&info.to_caps().unwrap()));
        src.set_max_bytes(0);
        src.set_property("block", false);
        for i in 0..clip.frames {
            let b = timed(yuv_buffer(&info, &gen(t, i)), Some(i as u64 * F), Some(F));
            src.push_buffer(b).unwrap();
        }
        src.end_of_stream().unwrap();
    }
    let clean = Arc::new(Mutex::new(Frames::new()));
    let damaged = Arc::new(Mutex::new(Frames::new()));
    let losses = Losses::default();
    collect(
        &bin.by_name("clean").unwrap(),
        clean.clone(),
        Losses::default(),
    );
    collect(
        &bin.by_name("damaged").unwrap(),
        damaged.clone(),
        losses.clone(),
    );
    let injected = Arc::new(Mutex::new(Vec::new()));
    let (ops, inj, codec) = (clip.damage, injected.clone(), clip.codec);
    let count = Mutex::new(0usize);
    bin.by_name("inject")
        .unwrap()
        .static_pad("src")
        .unwrap()
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let Some(gst::PadProbeData::Buffer(buf)) = info.data.as_ref() else {
                return gst::PadProbeReturn::Ok;
            };
            let map = buf.map_readable().unwrap();
            if !split_units(map.as_slice())
                .iter()
                .any(|u| codec.is_slice(u))
            {
                return gst::PadProbeReturn::Ok;
            }
            let frame = {
                let mut c = count.lock().unwrap();
                *c += 1;
                *c - 1
            };
            let mine: Vec<Op> = ops
                .iter()
                .filter(|(f, _)| *f == frame)
                .map(|(_, o)| *o)
                .collect();
            if mine.is_empty() {
                return gst::PadProbeReturn::Ok;
            }
            let pts = buf.pts().unwrap().nseconds();
            let key = !buf.flags().contains(gst::BufferFlags::DELTA_UNIT);
            inj.lock()
                .unwrap()
                .extend(mine.iter().map(|&o| (pts, o, key)));
            let Some(data) = damage(codec, map.as_slice(), &mine) else {
                // the frame is lost: taken and dropped here (returning Drop
                // printed a gst_mini_object_unref critical for every dropped
                // frame on GStreamer 1.22)
                drop(map);
                info.data = None;
                return gst::PadProbeReturn::Handled;
            };
            drop(map);
            info.data = Some(gst::PadProbeData::Buffer(in_place_of(data, buf)));
            gst::PadProbeReturn::Ok
        });
    let events = run_structures(&p)
        .iter()
        .filter(|s| s.name() == "blockdetect")
        .map(|s| BlockDetectMessage::from_structure(s).unwrap())
        .collect();
    let injected = std::mem::take(&mut *injected.lock().unwrap());
    let clean = std::mem::take(&mut *clean.lock().unwrap());
    let damaged = std::mem::take(&mut *damaged.lock().unwrap());
    let losses = std::mem::take(&mut *losses.lock().unwrap());
    Outcome {
        clean,
        damaged,
        injected,
        events,
        losses,
    }
}
