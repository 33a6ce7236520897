//! Finding transport stream packets in bytes that arrive in any split:
//! 188-byte packets, 192-byte ones (a 4-byte time code before each, as in
//! M2TS) and 204-byte ones (16 bytes of Reed-Solomon parity after each),
//! packets cut across buffers, and sync lost and found again.
//!
//! Sync follows ETSI TR 101 290 (5.2.1, 1.1 `TS_sync_loss`): it is acquired
//! after five packets in a row start with the sync byte 0x47 at the packet
//! size's distance, and lost after two or more in a row do not. A single
//! packet without its sync byte, while in sync, is a `Sync_byte_error`
//! (1.2) and is still read as a packet (its other bytes are usually fine).

/// The sync byte every packet starts with.
pub const SYNC_BYTE: u8 = 0x47;
/// A transport stream packet.
pub const PACKET: usize = 188;
/// The packet sizes found: plain, time-coded (M2TS), with parity (DVB-ASI).
pub const SIZES: [usize; 3] = [188, 192, 204];
/// Packets in a row with the sync byte that acquire sync.
pub const SYNC_ACQUIRE: usize = 5;
/// Packets in a row without it that lose sync.
pub const SYNC_LOSE: u32 = 2;

/// What the framer found besides packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncNote {
    /// Sync acquired, with this packet size (the stream's first, or again
    /// after a loss).
    Acquired { size: usize },
    /// A packet while in sync whose first byte was not 0x47.
    SyncByteError,
    /// Sync lost: [`SYNC_LOSE`] packets in a row without the sync byte.
    Lost,
}

/// One packet or note, at a byte offset counted from the stream's start.
#[derive(Debug)]
pub enum Item<'a> {
    /// 188 bytes, the first of which is 0x47 (forced so for a packet with a
    /// sync byte error, whose byte is noted separately).
    Packet {
        bytes: &'a [u8; PACKET],
        offset: u64,
    },
    Note {
        note: SyncNote,
        offset: u64,
    },
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

/// Cuts bytes into packets; keeps at most a few packets' worth between
/// calls, whatever it is given.
#[derive(Debug)]
pub struct Framer {
    /// The packet size, once in sync.
    size: Option<usize>,
    /// Bytes not yet framed: an incomplete packet while in sync, or what is
    /// kept to hunt for sync in.
    carry: Vec<u8>,
    /// Stream offset of `carry[0]`.
    offset: u64,
    /// Packets in a row without the sync byte.
    bad: u32,
    /// A copy of a packet whose sync byte was wrong, or which spanned two
    /// calls.
    scratch: Box<[u8; PACKET]>,
    /// Whether sync was ever acquired.
    ever: bool,
}

impl Framer {
    pub fn new() -> Self {
        Self {
            size: None,
            carry: Vec::new(),
            offset: 0,
            bad: 0,
            scratch: Box::new([0; PACKET]),
            ever: false,
        }
    }

    /// Whether sync was ever acquired.
    #[cfg(test)]
    fn ever_synced(&self) -> bool {
        self.ever
    }

    /// Frames `data`, the bytes that follow the previous call's, giving
    /// each packet and note to `f` in stream order.
    pub fn push(&mut self, data: &[u8], mut f: impl FnMut(Item<'_>)) {
        if self.carry.is_empty() {
            let used = self.frame(data, self.offset, &mut f);
            self.offset += used as u64;
            self.carry.extend_from_slice(&data[used..]);
        } else if let Some(size) = self.size {
            // complete the packet cut at the last call's end, then go on in
            // `data` itself
            let need = size - self.carry.len().min(size);
            if data.len() < need {
                self.carry.extend_from_slice(data);
                return;
            }
            self.carry.extend_from_slice(&data[..need]);
            let carry = std::mem::take(&mut self.carry);
            let used = self.frame(&carry, self.offset, &mut f);
            let mut rest = &data[need..];
            let mut base = self.offset + carry.len() as u64;
            if used < carry.len() {
                // sync was lost inside the carried packet: hunt in it and
                // what follows
                let mut joined = carry[used..].to_vec();
                joined.extend_from_slice(rest);
                self.offset += used as u64;
                let used = self.frame(&joined, self.offset, &mut f);
                self.offset += used as u64;
                self.carry = joined[used..].to_vec();
                self.trim();
                return;
            }
            let used = self.frame(rest, base, &mut f);
            base += used as u64;
            rest = &rest[used..];
            self.offset = base;
            self.carry = carry;
            self.carry.clear();
            self.carry.extend_from_slice(rest);
        } else {
            self.carry.extend_from_slice(data);
            let carry = std::mem::take(&mut self.carry);
            let used = self.frame(&carry, self.offset, &mut f);
            self.offset += used as u64;
            self.carry = carry;
            self.carry.drain(..used);
        }
        self.trim();
    }

    /// Keeps what is carried bounded while hunting: only the last bytes
    /// that could still start five packets in a row.
    fn trim(&mut self) {
        let keep = SYNC_ACQUIRE * SIZES[SIZES.len() - 1];
        if self.size.is_none() && self.carry.len() > keep {
            let cut = self.carry.len() - keep;
            self.carry.drain(..cut);
            self.offset += cut as u64;
        }
    }

    /// Frames what it can of `data` (at stream offset `base`); returns how
    /// many bytes it used (the rest is an incomplete packet, or bytes to
    /// hunt in once more arrive).
    fn frame(&mut self, data: &[u8], base: u64, f: &mut impl FnMut(Item<'_>)) -> usize {
        let mut pos = 0;
        loop {
            match self.size {
                Some(size) => {
                    if data.len() - pos < size.max(PACKET) {
                        return pos;
                    }
                    let offset = base + pos as u64;
                    let bytes: &[u8; PACKET] = match data[pos..pos + PACKET].try_into() {
                        Ok(b) => b,
                        Err(_) => return pos,
                    };
                    if bytes[0] == SYNC_BYTE {
                        self.bad = 0;
                        f(Item::Packet { bytes, offset });
                    } else {
                        self.bad += 1;
                        if self.bad >= SYNC_LOSE {
                            self.size = None;
                            self.bad = 0;
                            f(Item::Note {
                                note: SyncNote::Lost,
                                offset,
                            });
                            // hunt from the byte after the last good packet's start
                            continue;
                        }
                        f(Item::Note {
                            note: SyncNote::SyncByteError,
                            offset,
                        });
                        self.scratch.copy_from_slice(bytes);
                        self.scratch[0] = SYNC_BYTE;
                        f(Item::Packet {
                            bytes: &self.scratch,
                            offset,
                        });
                    }
                    pos += size;
                }
                None => match hunt(&data[pos..]) {
                    Hunt::Found { at, size } => {
                        pos += at;
                        self.size = Some(size);
                        self.ever = true;
                        self.bad = 0;
                        f(Item::Note {
                            note: SyncNote::Acquired { size },
                            offset: base + pos as u64,
                        });
                    }
                    Hunt::NeedMore { from } => return pos + from,
                },
            }
        }
    }
}

enum Hunt {
    /// Five packets of `size` start at `at`.
    Found { at: usize, size: usize },
    /// Nothing yet; bytes before `from` can never start a run.
    NeedMore { from: usize },
}

/// Looks for [`SYNC_ACQUIRE`] sync bytes in a row at one of the
/// [`SIZES`]' distance.
fn hunt(data: &[u8]) -> Hunt {
    for (at, &b) in data.iter().enumerate() {
        if b != SYNC_BYTE {
            continue;
        }
        let mut short = false;
        for size in SIZES {
            let end = at + (SYNC_ACQUIRE - 1) * size;
            if end >= data.len() {
                short = true;
                continue;
            }
            if (1..SYNC_ACQUIRE).all(|k| data[at + k * size] == SYNC_BYTE) {
                return Hunt::Found { at, size };
            }
        }
        if short {
            // a run might still start here once more bytes come
            return Hunt::NeedMore { from: at };
        }
    }
    Hunt::NeedMore { from: data.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, size: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            let mut p = vec![0u8; size];
            p[0] = SYNC_BYTE;
            p[1] = (i >> 8) as u8 & 0x1f;
            p[2] = i as u8;
            v.extend_from_slice(&p);
        }
        v
    }

    type Framed = (Vec<(u64, u16)>, Vec<(SyncNote, u64)>);

    fn frame_all(data: &[u8], cuts: &[usize]) -> Framed {
        let mut framer = Framer::new();
        let mut packets = Vec::new();
        let mut notes = Vec::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&data.len())) {
            framer.push(&data[last..c], |item| match item {
                Item::Packet { bytes, offset } => {
                    packets.push((offset, u16::from(bytes[1]) << 8 | u16::from(bytes[2])))
                }
                Item::Note { note, offset } => notes.push((note, offset)),
            });
            last = c;
        }
        (packets, notes)
    }

    #[test]
    fn every_size_in_any_split() {
        for size in SIZES {
            let data = stream(40, size);
            for step in [1, 7, 187, 188, 189, 1316, 5000] {
                let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
                let (packets, notes) = frame_all(&data, &cuts);
                assert_eq!(
                    notes,
                    vec![(SyncNote::Acquired { size }, 0)],
                    "{size} {step}"
                );
                assert_eq!(packets.len(), 40, "{size} {step}");
                for (i, (off, n)) in packets.iter().enumerate() {
                    assert_eq!((*off, *n), ((i * size) as u64, i as u16));
                }
            }
        }
    }

    #[test]
    fn a_bad_sync_byte_is_one_error_two_lose_sync() {
        let mut data = stream(30, 188);
        data[10 * 188] = 0x00;
        let (packets, notes) = frame_all(&data, &[1000, 2001]);
        assert_eq!(packets.len(), 30);
        assert_eq!(
            notes,
            vec![
                (SyncNote::Acquired { size: 188 }, 0),
                (SyncNote::SyncByteError, 1880)
            ]
        );
        let mut data = stream(30, 188);
        data[10 * 188] = 0x00;
        data[11 * 188] = 0x00;
        let (packets, notes) = frame_all(&data, &[333]);
        assert_eq!(
            notes,
            vec![
                (SyncNote::Acquired { size: 188 }, 0),
                (SyncNote::SyncByteError, 1880),
                (SyncNote::Lost, 2068),
                (SyncNote::Acquired { size: 188 }, 12 * 188),
            ]
        );
        // the packet with one bad byte is read; the second is not
        assert_eq!(packets.len(), 11 + 18);
    }

    #[test]
    fn garbage_is_held_bounded_and_never_framed() {
        let mut framer = Framer::new();
        let junk: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8 | 1).collect();
        let mut n = 0;
        for c in junk.chunks(999) {
            framer.push(c, |_| n += 1);
            assert!(framer.carry.len() <= SYNC_ACQUIRE * 204 + 999);
        }
        assert_eq!(n, 0);
        assert!(!framer.ever_synced());
    }
}
