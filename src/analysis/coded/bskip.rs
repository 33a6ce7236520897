//! Which H.264 pictures a decoder may be spared when the detectors after it
//! need only some: every B picture, reference ones included, provided no I
//! or P picture refers to a B picture.
//!
//! libav's own frame skipping reachable from GStreamer 1.22 (a trick-mode
//! segment: `AVDISCARD_NONREF`) spares only the pictures nothing refers to.
//! With B-pyramid, as broadcast encoders make it, the middle B picture of
//! each group is a reference for the B pictures beside it, and decoding it
//! costs more than the two it serves. Dropping the whole B hierarchy before
//! the decoder halves what is decoded again, but only where no P picture
//! predicts from a B picture. x264 keeps its P pictures off B pictures in
//! most encodes (each P picture names its references and unmarks the B
//! reference), but not always: with weighted prediction a P picture's list
//! can hold the B reference picture before it.
//!
//! So [`BSkipper`] follows the decoder's short-term reference pictures (the
//! sliding window, memory management operations 1 and 5, and each P slice's
//! list 0 with its modifications) and works out which pictures each P slice
//! may refer to, twice: as the stream means them, and as the decoder holds
//! them with the B pictures dropped (each dropped reference picture
//! replaced, as libav's frame-number gap handling does, by a picture marked
//! by the sliding window; a window overfilled by one operations would have
//! emptied loses its oldest, as libav does). It drops nothing until
//! [`EVIDENCE`] P pictures whose references differ between the two found
//! the same pictures; then it drops every B picture (not one that resets
//! the references or marks long-term ones).
//! The first P slice whose list would differ (it may refer to a B
//! picture) stops the dropping for good; long-term references, fields,
//! allowed frame-number gaps or a slice header it cannot read stop it too. Before the first I picture it passes
//! everything.

use h264_reader::nal::slice::{
    DecRefPicMarking, FieldPic, MemoryManagementControlOperation, ModificationOfPicNums,
    NumRefIdxActive, RefPicListModifications, SliceFamily,
};

use super::h264::{slice, SliceParser};
use super::nal::{nal_units, Framing};

/// P pictures whose references would differ with the B pictures dropped,
/// and found the same pictures, before B pictures are dropped.
pub const EVIDENCE: u32 = 8;

/// What the skipper does with B pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Passes everything while it checks that no P picture refers to a B
    /// picture.
    Learning,
    /// Drops every B picture.
    Dropping,
    /// Passes everything from now on (a P picture may refer to a B
    /// picture, or the stream is one it does not follow).
    Off,
}

/// A short-term reference picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ref {
    frame_num: u32,
    /// What the decoder made in place of a dropped picture (frame-number
    /// gap handling: a copy of an earlier one).
    gap: bool,
}

/// An entry of a reference list: its `PicNum`, and what stands there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Picture(i64),
    Gap(i64),
    /// Named by a modification but not held (before the last I picture,
    /// or lost).
    Absent(i64),
}

#[derive(Debug, Clone, Copy)]
enum Modification {
    Subtract(u32),
    Add(u32),
    Other,
}

#[derive(Debug)]
enum Marking {
    Idr {
        long_term: bool,
    },
    SlidingWindow,
    /// Memory management operations: `Some(d)` unmarks the picture
    /// `difference_of_pic_nums_minus1` = d back, `None` unmarks all (5).
    Adaptive(Vec<Option<u32>>),
    /// Long-term operations.
    LongTerm,
}

/// What one slice header says that matters here.
#[derive(Debug)]
struct SliceRefs {
    family: SliceFamily,
    frame_num: u32,
    max_frame_num: u32,
    max_refs: u32,
    /// Frame coding with no frame-number gaps allowed.
    followable: bool,
    active_l0: u32,
    modifications: Vec<Modification>,
    marking: Option<Marking>,
}

impl SliceRefs {
    fn read(
        sh: &h264_reader::nal::slice::SliceHeader,
        sps: &h264_reader::nal::sps::SeqParameterSet,
        pps: &h264_reader::nal::pps::PicParameterSet,
    ) -> Self {
        let active_l0 = match &sh.num_ref_idx_active {
            Some(NumRefIdxActive::P {
                num_ref_idx_l0_active_minus1,
            })
            | Some(NumRefIdxActive::B {
                num_ref_idx_l0_active_minus1,
                ..
            }) => num_ref_idx_l0_active_minus1 + 1,
            None => pps.num_ref_idx_l0_default_active_minus1 + 1,
        };
        let modifications = match &sh.ref_pic_list_modification {
            Some(RefPicListModifications::P {
                ref_pic_list_modification_l0,
            }) => ref_pic_list_modification_l0
                .iter()
                .map(|m| match m {
                    ModificationOfPicNums::Subtract(d) => Modification::Subtract(*d),
                    ModificationOfPicNums::Add(d) => Modification::Add(*d),
                    _ => Modification::Other,
                })
                .collect(),
            _ => Vec::new(),
        };
        let marking = sh.dec_ref_pic_marking.as_ref().map(|m| match m {
            DecRefPicMarking::Idr {
                long_term_reference_flag,
                ..
            } => Marking::Idr {
                long_term: *long_term_reference_flag,
            },
            DecRefPicMarking::SlidingWindow => Marking::SlidingWindow,
            DecRefPicMarking::Adaptive(ops) => {
                let mut out = Vec::new();
                for op in ops {
                    match op {
                        MemoryManagementControlOperation::ShortTermUnusedForRef {
                            difference_of_pic_nums_minus1,
                        } => out.push(Some(*difference_of_pic_nums_minus1)),
                        MemoryManagementControlOperation::AllRefPicturesUnused => out.push(None),
                        _ => return Marking::LongTerm,
                    }
                }
                Marking::Adaptive(out)
            }
        });
        SliceRefs {
            family: sh.slice_type.family,
            frame_num: u32::from(sh.frame_num),
            max_frame_num: 1 << sps.log2_max_frame_num(),
            max_refs: sps.max_num_ref_frames.max(1),
            followable: sh.field_pic == FieldPic::Frame
                && !sps.gaps_in_frame_num_value_allowed_flag,
            active_l0,
            modifications,
            marking,
        }
    }
}

/// Decides, access unit by access unit in decoding order, which H.264
/// pictures go to the decoder (see the module's description).
#[derive(Debug)]
pub struct BSkipper {
    parser: SliceParser,
    framing: Option<Framing>,
    /// The references as the stream means them.
    coded: Vec<Ref>,
    /// The references the decoder holds with the B pictures dropped (in
    /// learning, as they would be).
    decoded: Vec<Ref>,
    /// An I picture has been seen since the start or the last reset.
    synced: bool,
    mode: Mode,
    evidence: u32,
    pictures: u64,
    dropped: u64,
}

impl Default for BSkipper {
    fn default() -> Self {
        Self::new()
    }
}

impl BSkipper {
    pub fn new() -> Self {
        BSkipper {
            parser: SliceParser::new(),
            framing: None,
            coded: Vec::new(),
            decoded: Vec::new(),
            synced: false,
            mode: Mode::Learning,
            evidence: 0,
            pictures: 0,
            dropped: 0,
        }
    }

    /// New caps: how units are framed, and the parameter sets of
    /// `codec_data` (`stream-format=avc`). Without a framing nothing is
    /// dropped.
    pub fn set_format(&mut self, framing: Option<Framing>, codec_data: Option<&[u8]>) {
        self.framing = framing;
        if let Some(cd) = codec_data {
            self.parser.codec_data(cd);
        }
    }

    /// A flush: the references are forgotten until the next I picture.
    pub fn reset(&mut self) {
        self.reset_refs();
        self.synced = false;
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Access units seen, and dropped.
    pub fn counts(&self) -> (u64, u64) {
        (self.pictures, self.dropped)
    }

    /// Whether the access unit `data` goes to the decoder.
    pub fn pass(&mut self, data: &[u8]) -> bool {
        // stopped for good: no header need be read again
        let (Some(framing), false) = (self.framing, self.mode == Mode::Off) else {
            return true;
        };
        let mut slices = Vec::new();
        let (mut reference, mut idr, mut unread) = (false, false, false);
        for unit in nal_units(data, framing) {
            match self.parser.with_header(unit, SliceRefs::read) {
                Some(s) => {
                    reference |= unit[0] & 0x60 != 0;
                    idr |= unit[0] & 0x1f == 5;
                    slices.push(s);
                }
                None => unread |= slice(unit).is_some(),
            }
        }
        self.picture(&slices, reference, idr, unread)
    }

    /// One access unit's slice headers (`unread`: a slice whose header did
    /// not parse); whether it goes to the decoder.
    fn picture(&mut self, slices: &[SliceRefs], reference: bool, idr: bool, unread: bool) -> bool {
        let Some(first) = slices.first() else {
            if unread && self.synced {
                self.stop();
            }
            return true;
        };
        self.pictures += 1;
        if unread || !first.followable {
            self.stop();
        }
        let all = |f: &[SliceFamily]| slices.iter().all(|s| f.contains(&s.family));
        if !self.synced {
            if !(idr || all(&[SliceFamily::I, SliceFamily::SI])) {
                return true;
            }
            self.synced = true;
            self.reset_refs();
        }
        if self.mode != Mode::Off {
            self.check_p_slices(slices);
        }
        // a B picture, unless it resets the references or marks long-term
        // ones (which a frame-number gap cannot stand for)
        let droppable = all(&[SliceFamily::B])
            && match &first.marking {
                Some(Marking::Adaptive(ops)) => ops.iter().all(Option::is_some),
                Some(Marking::SlidingWindow) | None => true,
                _ => false,
            };
        if reference {
            if mark(&mut self.coded, first) {
                self.stop();
            }
            if droppable {
                // the decoder's gap handling: a picture in its place, by
                // the sliding window
                sliding_window(&mut self.decoded, first);
                self.decoded.push(Ref {
                    frame_num: first.frame_num,
                    gap: true,
                });
            } else if mark(&mut self.decoded, first) {
                self.stop();
            }
        }
        let drop = droppable && self.mode == Mode::Dropping;
        if drop {
            self.dropped += 1;
        }
        !drop
    }

    fn reset_refs(&mut self) {
        self.coded.clear();
        self.decoded.clear();
    }

    fn stop(&mut self) {
        self.mode = Mode::Off;
    }

    /// Whether the P slices of a picture find, with the B pictures
    /// dropped, the references the stream means.
    fn check_p_slices(&mut self, slices: &[SliceRefs]) {
        let mut could = false;
        for s in slices {
            if !matches!(s.family, SliceFamily::P | SliceFamily::SP) {
                continue;
            }
            let (Some(meant), Some(found)) = (list0(&self.coded, s), list0(&self.decoded, s))
            else {
                return self.stop();
            };
            let active = s.active_l0 as usize;
            let same =
                (0..active.min(meant.len())).all(|i| match (meant[i], found.get(i).copied()) {
                    (Entry::Picture(a), Some(Entry::Picture(b))) => a == b,
                    (Entry::Absent(a), Some(Entry::Absent(b))) => a == b,
                    _ => false,
                });
            if !same {
                return self.stop();
            }
            could |= self.decoded != self.coded;
        }
        if could && self.mode == Mode::Learning {
            self.evidence += 1;
            if self.evidence >= EVIDENCE {
                self.mode = Mode::Dropping;
            }
        }
    }
}

/// A short-term picture's `FrameNumWrap` seen from `frame_num`.
fn wrap(r: u32, frame_num: u32, max: u32) -> i64 {
    if r > frame_num {
        i64::from(r) - i64::from(max)
    } else {
        i64::from(r)
    }
}

/// A P slice's reference list 0 built from `refs` (`None`: a long-term
/// modification).
fn list0(refs: &[Ref], s: &SliceRefs) -> Option<Vec<Entry>> {
    let (cur, max) = (s.frame_num, s.max_frame_num);
    let entry = |pic: i64| {
        refs.iter()
            .find(|r| wrap(r.frame_num, cur, max) == pic)
            .map_or(Entry::Absent(pic), |r| {
                if r.gap {
                    Entry::Gap(pic)
                } else {
                    Entry::Picture(pic)
                }
            })
    };
    let pic_num = |e: &Entry| match *e {
        Entry::Picture(p) | Entry::Gap(p) | Entry::Absent(p) => p,
    };
    // by descending FrameNumWrap
    let mut pics: Vec<i64> = refs.iter().map(|r| wrap(r.frame_num, cur, max)).collect();
    pics.sort_by(|a, b| b.cmp(a));
    let mut list: Vec<Entry> = pics.into_iter().map(entry).collect();
    let (cur, max) = (i64::from(cur), i64::from(max));
    let mut pred = cur;
    for (i, m) in s.modifications.iter().enumerate() {
        let no_wrap = match *m {
            Modification::Subtract(d) => {
                let v = pred - (i64::from(d) + 1);
                if v < 0 {
                    v + max
                } else {
                    v
                }
            }
            Modification::Add(d) => {
                let v = pred + i64::from(d) + 1;
                if v >= max {
                    v - max
                } else {
                    v
                }
            }
            Modification::Other => return None,
        };
        pred = no_wrap;
        let pic = if no_wrap > cur {
            no_wrap - max
        } else {
            no_wrap
        };
        // moved to index i, and no longer after it (copies before it, as
        // weighted prediction makes, stay)
        let at = i.min(list.len());
        list.insert(at, entry(pic));
        let mut j = at + 1;
        while j < list.len() {
            if pic_num(&list[j]) == pic {
                list.remove(j);
            } else {
                j += 1;
            }
        }
    }
    Some(list)
}

/// The sliding window: the oldest short-term reference goes when the
/// window is full.
fn sliding_window(refs: &mut Vec<Ref>, s: &SliceRefs) {
    if refs.len() as u32 >= s.max_refs {
        let (cur, max) = (s.frame_num, s.max_frame_num);
        if let Some(oldest) = (0..refs.len()).min_by_key(|&i| wrap(refs[i].frame_num, cur, max)) {
            refs.remove(oldest);
        }
    }
}

/// The reference marking after a reference picture; true when it is one
/// not followed (long-term references).
fn mark(refs: &mut Vec<Ref>, s: &SliceRefs) -> bool {
    let (cur, max) = (s.frame_num, s.max_frame_num);
    let mut frame_num = cur;
    let mut unfollowed = false;
    match &s.marking {
        Some(Marking::Idr { long_term }) => {
            refs.clear();
            unfollowed = *long_term;
        }
        Some(Marking::SlidingWindow) | None => sliding_window(refs, s),
        Some(Marking::Adaptive(ops)) => {
            for op in ops {
                match op {
                    Some(d) => {
                        let pic = i64::from(cur) - (i64::from(*d) + 1);
                        refs.retain(|r| wrap(r.frame_num, cur, max) != pic);
                    }
                    None => {
                        refs.clear();
                        frame_num = 0;
                    }
                }
            }
        }
        Some(Marking::LongTerm) => unfollowed = true,
    }
    refs.push(Ref {
        frame_num,
        gap: false,
    });
    // more than the window holds (a gap picture kept what the operations
    // of a dropped one would have unmarked): libav discards the oldest
    if refs.len() as u32 > s.max_refs {
        if let Some(oldest) =
            (0..refs.len()).min_by_key(|&i| wrap(refs[i].frame_num, frame_num, max))
        {
            refs.remove(oldest);
        }
    }
    unfollowed
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u32 = 16;

    fn slice(
        family: SliceFamily,
        frame_num: u32,
        active_l0: u32,
        modifications: &[Modification],
        marking: Option<Marking>,
    ) -> SliceRefs {
        SliceRefs {
            family,
            frame_num,
            max_frame_num: MAX,
            max_refs: 3,
            followable: true,
            active_l0,
            modifications: modifications.to_vec(),
            marking,
        }
    }

    fn idr(k: &mut BSkipper) -> bool {
        let s = slice(
            SliceFamily::I,
            0,
            1,
            &[],
            Some(Marking::Idr { long_term: false }),
        );
        k.picture(&[s], true, true, false)
    }

    /// One group as x264 codes it after the P frame `f`: the B reference
    /// frame `f + 1` (sliding window), two B frames nothing refers to, and
    /// the P frame `f + 2`, whose list is `p` (active, modifications) and
    /// which unmarks the B reference. Whether each went to the decoder.
    fn group(k: &mut BSkipper, f: u32, p: (u32, &[Modification])) -> [bool; 4] {
        let (b_ref, p_num) = ((f + 1) % MAX, (f + 2) % MAX);
        let bref = slice(SliceFamily::B, b_ref, 1, &[], Some(Marking::SlidingWindow));
        let b = slice(SliceFamily::B, p_num, 1, &[], None);
        let pf = slice(
            SliceFamily::P,
            p_num,
            p.0,
            p.1,
            Some(Marking::Adaptive(vec![Some(0)])),
        );
        [
            k.picture(&[bref], true, false, false),
            k.picture(std::slice::from_ref(&b), false, false, false),
            k.picture(&[b], false, false, false),
            k.picture(&[pf], true, false, false),
        ]
    }

    /// The P frame names the P frame before it (x264's list).
    const PREVIOUS_P: (u32, &[Modification]) = (1, &[Modification::Subtract(1)]);

    fn started() -> BSkipper {
        let mut k = BSkipper::new();
        assert!(idr(&mut k));
        let p1 = slice(SliceFamily::P, 1, 1, &[], Some(Marking::SlidingWindow));
        assert!(k.picture(&[p1], true, false, false));
        k
    }

    #[test]
    fn b_frames_are_dropped_after_eight_p_frames_that_did_not_need_them() {
        let mut k = started();
        let mut f = 1;
        for i in 0..EVIDENCE {
            assert_eq!(k.mode(), Mode::Learning, "group {i}");
            assert_eq!(group(&mut k, f, PREVIOUS_P), [true; 4], "group {i}");
            f += 2;
        }
        assert_eq!(k.mode(), Mode::Dropping);
        for _ in 0..20 {
            assert_eq!(group(&mut k, f, PREVIOUS_P), [false, false, false, true]);
            f += 2;
        }
        assert_eq!(k.counts(), (2 + 28 * 4, 60));
    }

    #[test]
    fn a_p_frame_that_may_refer_to_a_b_frame_stops_the_dropping() {
        // its default list starts with the newest reference: the B one
        let mut k = started();
        assert_eq!(group(&mut k, 1, (1, &[])), [true; 4]);
        assert_eq!(k.mode(), Mode::Off);
        // and once dropping, the first such P frame ends it for good
        let mut k = started();
        let mut f = 1;
        for _ in 0..EVIDENCE {
            group(&mut k, f, PREVIOUS_P);
            f += 2;
        }
        assert_eq!(group(&mut k, f, PREVIOUS_P), [false, false, false, true]);
        group(&mut k, f + 2, (1, &[]));
        assert_eq!(k.mode(), Mode::Off);
        assert_eq!(group(&mut k, f + 4, PREVIOUS_P), [true; 4]);
    }

    #[test]
    fn modifications_may_list_a_frame_twice() {
        // weighted prediction: the previous P frame twice (f - 16 wraps to
        // f), then the B reference frame (f + 1) third
        let twice = [Modification::Subtract(1), Modification::Subtract(MAX - 1)];
        let mut k = started();
        group(&mut k, 1, (2, &twice));
        assert_eq!(k.mode(), Mode::Learning);
        let thrice = [
            Modification::Subtract(1),
            Modification::Subtract(MAX - 1),
            Modification::Add(0),
        ];
        group(&mut k, 3, (3, &thrice));
        assert_eq!(k.mode(), Mode::Off);
    }

    #[test]
    fn long_term_references_and_fields_are_not_followed() {
        let mut k = started();
        let lt = slice(SliceFamily::P, 2, 1, &[], Some(Marking::LongTerm));
        k.picture(&[lt], true, false, false);
        assert_eq!(k.mode(), Mode::Off);
        let mut k = started();
        let mut field = slice(SliceFamily::P, 2, 1, &[], Some(Marking::SlidingWindow));
        field.followable = false;
        k.picture(&[field], true, false, false);
        assert_eq!(k.mode(), Mode::Off);
        let mut k = started();
        k.picture(&[], false, false, true);
        assert_eq!(k.mode(), Mode::Off, "a slice header that does not parse");
    }

    #[test]
    fn nothing_is_followed_before_the_first_i_frame() {
        let mut k = BSkipper::new();
        let p = slice(SliceFamily::P, 5, 1, &[], Some(Marking::SlidingWindow));
        assert!(k.picture(&[p], true, false, false));
        assert!(k.coded.is_empty() && k.decoded.is_empty());
        assert_eq!(k.mode(), Mode::Learning);
    }

    #[test]
    fn an_overfilled_window_loses_its_oldest() {
        // libav's rule when a gap picture kept what a dropped frame's
        // operations would have unmarked
        let mut refs: Vec<Ref> = [3, 4, 5]
            .iter()
            .map(|&frame_num| Ref {
                frame_num,
                gap: false,
            })
            .collect();
        let s = slice(SliceFamily::P, 6, 1, &[], Some(Marking::Adaptive(vec![])));
        assert!(!mark(&mut refs, &s));
        let left: Vec<u32> = refs.iter().map(|r| r.frame_num).collect();
        assert_eq!(left, [4, 5, 6]);
        // and unmarking by difference: 6 - (1 + 1) = 4
        let s = slice(
            SliceFamily::P,
            7,
            1,
            &[],
            Some(Marking::Adaptive(vec![Some(1)])),
        );
        mark(&mut refs, &s);
        let left: Vec<u32> = refs.iter().map(|r| r.frame_num).collect();
        assert_eq!(left, [4, 6, 7]);
    }
}
