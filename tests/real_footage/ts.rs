//! An MPEG transport stream of one video stream, cut into its access units
//! (one PES packet each, as `mpegtsmux` writes them), and damaged the ways
//! feeds break: transport packets lost, bytes flipped in a packet's
//! payload, a whole frame or a reference frame dropped upstream.

pub const PACKET: usize = 188;

/// One access unit: the indices of its transport packets, its decode and
/// presentation times (ns, the stream's own clock), and what kind of
/// picture it is.
#[derive(Debug, Clone)]
pub struct Unit {
    pub packets: Vec<usize>,
    pub dts: u64,
    pub pts: u64,
    pub key: bool,
    pub reference: bool,
}

pub struct Ts {
    pub packets: Vec<[u8; PACKET]>,
    pub video_pid: u16,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// `n` transport packets of the video lost in a row (the transport's
    /// continuity counter shows the gap).
    PacketsLost(usize),
    /// Three bytes flipped in one transport packet's payload.
    BytesFlipped,
    /// A picture no other refers to, dropped upstream (the transport is
    /// continuous).
    FrameDropped,
    /// A reference picture (not a key frame) dropped upstream.
    ReferenceLost,
}

impl Damage {
    pub fn name(self) -> &'static str {
        match self {
            Damage::PacketsLost(1) => "1 TS packet lost",
            Damage::PacketsLost(_) => "TS packets lost (burst)",
            Damage::BytesFlipped => "bytes flipped",
            Damage::FrameDropped => "frame dropped",
            Damage::ReferenceLost => "reference lost",
        }
    }
}

fn pid(p: &[u8; PACKET]) -> u16 {
    (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2])
}

fn pusi(p: &[u8; PACKET]) -> bool {
    p[1] & 0x40 != 0
}

/// Where the payload of `p` starts, if it has one.
fn payload_at(p: &[u8; PACKET]) -> Option<usize> {
    let afc = (p[3] >> 4) & 3;
    let at = if afc & 2 != 0 { 5 + p[4] as usize } else { 4 };
    (afc & 1 != 0 && at < PACKET).then_some(at)
}

/// A 33-bit PES time stamp at `b` in 90 kHz units, as ns.
fn timestamp(b: &[u8]) -> u64 {
    let t = (u64::from(b[0] & 0x0e) << 29)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] & 0xfe) << 14)
        | (u64::from(b[3]) << 7)
        | (u64::from(b[4]) >> 1);
    t * 100_000 / 9
}

impl Ts {
    pub fn parse(data: &[u8], hevc: bool) -> Ts {
        assert_eq!(data.len() % PACKET, 0, "not whole transport packets");
        let packets: Vec<[u8; PACKET]> = data
            .chunks_exact(PACKET)
            .map(|c| c.try_into().unwrap())
            .collect();
        assert!(packets.iter().all(|p| p[0] == 0x47), "lost sync");
        // the PID whose PES packets carry video (stream id 0xe0)
        let video_pid = packets
            .iter()
            .find_map(|p| {
                let at = payload_at(p)?;
                (pusi(p) && p[at..].starts_with(&[0, 0, 1, 0xe0])).then(|| pid(p))
            })
            .expect("no video PES");
        let mut units: Vec<Unit> = Vec::new();
        let mut es: Vec<Vec<u8>> = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            if pid(p) != video_pid {
                continue;
            }
            let Some(at) = payload_at(p) else { continue };
            if pusi(p) {
                let pes = &p[at..];
                let flags = pes[7] >> 6;
                let header = 9 + pes[8] as usize;
                let pts = timestamp(&pes[9..]);
                let dts = if flags == 3 {
                    timestamp(&pes[14..])
                } else {
                    pts
                };
                units.push(Unit {
                    packets: vec![i],
                    dts,
                    pts,
                    key: false,
                    reference: false,
                });
                es.push(pes[header..].to_vec());
            } else if let Some(u) = units.last_mut() {
                u.packets.push(i);
                es.last_mut().unwrap().extend_from_slice(&p[at..]);
            }
        }
        for (u, data) in units.iter_mut().zip(&es) {
            for nal in nal_headers(data) {
                if hevc {
                    let t = (nal >> 1) & 0x3f;
                    // IRAP pictures, and the sub-layer reference types
                    u.key |= (16..=21).contains(&t);
                    u.reference |= (16..=21).contains(&t) || (t <= 9 && t % 2 == 1);
                } else {
                    let t = nal & 0x1f;
                    u.key |= t == 5;
                    u.reference |= matches!(t, 1 | 5) && nal & 0x60 != 0;
                }
            }
        }
        Ts {
            packets,
            video_pid,
            units,
        }
    }

    /// The stream with `damage` done to the units it names (by index).
    pub fn damaged(&self, damage: &[(usize, Damage)], rng: &mut Rng) -> Vec<u8> {
        let mut drop = vec![false; self.packets.len()];
        let mut restamp = vec![false; self.packets.len()];
        let mut out = self.packets.clone();
        for &(k, d) in damage {
            let u = &self.units[k];
            match d {
                Damage::PacketsLost(n) => {
                    let first = u.packets[rng.below(u.packets.len())];
                    // n video packets from there, into the next unit if need be
                    let video: Vec<usize> = (first..self.packets.len())
                        .filter(|&i| pid(&self.packets[i]) == self.video_pid)
                        .take(n)
                        .collect();
                    for i in video {
                        drop[i] = true;
                    }
                }
                Damage::BytesFlipped => {
                    // a packet after the PES header, when there is one
                    let i = if u.packets.len() > 1 {
                        u.packets[1 + rng.below(u.packets.len() - 1)]
                    } else {
                        u.packets[0]
                    };
                    // (past the PES header in a unit of one packet)
                    let payload = payload_at(&out[i]).unwrap_or(4);
                    let at = if i == u.packets[0] {
                        payload.max(PACKET - 8)
                    } else {
                        payload
                    };
                    for k in 0..3 {
                        let b = at + rng.below(PACKET - at);
                        out[i][b] ^= 0x5a << k;
                    }
                }
                Damage::FrameDropped | Damage::ReferenceLost => {
                    for &i in &u.packets {
                        drop[i] = true;
                        restamp[i] = true;
                    }
                }
            }
        }
        // a frame dropped upstream leaves the transport continuous: the
        // continuity counters after it are written anew
        let mut shift = 0u8;
        let mut data = Vec::with_capacity(out.len() * PACKET);
        for (i, mut p) in out.into_iter().enumerate() {
            if pid(&p) == self.video_pid {
                if restamp[i] && payload_at(&p).is_some() {
                    shift = shift.wrapping_add(1);
                }
                if !drop[i] && payload_at(&p).is_some() {
                    let c = (p[3] & 0x0f).wrapping_sub(shift) & 0x0f;
                    p[3] = (p[3] & 0xf0) | c;
                }
            }
            if !drop[i] {
                data.extend_from_slice(&p);
            }
        }
        data
    }
}

/// The first byte of each NAL unit header in an Annex B stream.
fn nal_headers(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < d.len() {
        if d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 {
            out.push(d[i + 3]);
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// Deterministic pseudo-random numbers (xorshift64*), so the same damage
/// lands in the same place on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: &str) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng(h | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, pusi: bool, cc: u8, payload: &[u8]) -> [u8; PACKET] {
        let mut p = [0xffu8; PACKET];
        p[0] = 0x47;
        p[1] = (u8::from(pusi) << 6) | (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = 0x10 | cc;
        p[4..4 + payload.len()].copy_from_slice(payload);
        p
    }

    fn pes(dts_90k: u64, nal: u8) -> Vec<u8> {
        let ts = |t: u64, tag: u8| {
            [
                tag | (((t >> 30) as u8 & 7) << 1) | 1,
                (t >> 22) as u8,
                ((t >> 14) as u8 & 0xfe) | 1,
                (t >> 7) as u8,
                ((t << 1) as u8) | 1,
            ]
        };
        let mut v = vec![0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10];
        v.extend_from_slice(&ts(dts_90k + 3600, 0x30));
        v.extend_from_slice(&ts(dts_90k, 0x10));
        v.extend_from_slice(&[0, 0, 0, 1, nal, 0x88]);
        v
    }

    fn stream() -> Vec<u8> {
        // an IDR, a reference P and a non-reference B, two packets each
        let mut out = Vec::new();
        let mut cc = 0;
        for (k, nal) in [0x65u8, 0x41, 0x01].into_iter().enumerate() {
            out.extend_from_slice(&packet(0x41, true, cc, &pes(k as u64 * 3600, nal)));
            out.extend_from_slice(&packet(0x41, false, cc + 1, &[1, 2, 3]));
            cc += 2;
        }
        out
    }

    #[test]
    fn units_are_cut_and_classed() {
        let ts = Ts::parse(&stream(), false);
        assert_eq!(ts.video_pid, 0x41);
        let kinds: Vec<(bool, bool, u64)> = ts
            .units
            .iter()
            .map(|u| (u.key, u.reference, u.dts))
            .collect();
        assert_eq!(
            kinds,
            [
                (true, true, 0),
                (false, true, 40_000_000),
                (false, false, 80_000_000)
            ]
        );
    }

    #[test]
    fn a_dropped_frame_leaves_the_counters_continuous_and_a_loss_does_not() {
        let ts = Ts::parse(&stream(), false);
        let cc = |d: &[u8]| -> Vec<u8> { d.chunks(PACKET).map(|p| p[3] & 0x0f).collect() };
        let mut rng = Rng::new("t");
        let dropped = ts.damaged(&[(1, Damage::ReferenceLost)], &mut rng);
        assert_eq!(cc(&dropped), [0, 1, 2, 3]);
        let lost = ts.damaged(&[(1, Damage::PacketsLost(1))], &mut rng);
        assert_eq!(lost.len(), 5 * PACKET);
        assert_ne!(cc(&lost), [0, 1, 2, 3, 4]);
        let flipped = ts.damaged(&[(2, Damage::BytesFlipped)], &mut rng);
        assert_eq!(flipped.len(), 6 * PACKET);
        assert_eq!(cc(&flipped), [0, 1, 2, 3, 4, 5]);
        assert_ne!(flipped, stream());
    }
}
