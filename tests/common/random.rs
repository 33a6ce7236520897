//! What the random-stream tests share: a seeded generator, the seed count,
//! and the check of what an element posted.
#![allow(dead_code)]

use std::collections::HashMap;

/// xorshift64*: small, seeded, enough to vary the streams.
pub struct Rng(pub u64);

impl Rng {
    /// A generator for `seed` (any value, 0 included).
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Seeds per element: `ROBUST_SEEDS`, else 24.
pub fn seeds() -> u64 {
    std::env::var("ROBUST_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24)
}

/// Each of `messages` reads back as an avmonitor message, and a start or end
/// moves the count of open defects under its key (the element and the
/// fields that tell its defects apart), which must stay 0 or 1.
pub fn check(messages: &[gst::Structure], open: &mut HashMap<String, i32>, seed: u64) {
    for s in messages {
        let m = gstavmonitor::Message::from_structure(s)
            .unwrap_or_else(|| panic!("seed {seed}: not a detector message: {s}"))
            .unwrap_or_else(|e| panic!("seed {seed}: malformed: {e}"));
        if let Some(e) = m.defect() {
            let extra = ["channel", "alarm", "channel-a", "kind"]
                .iter()
                .filter_map(|&f| s.value(f).ok().map(|v| format!("{f}={v:?}")))
                .collect::<Vec<_>>()
                .join(",");
            let n = open.entry(format!("{}:{extra}", m.element())).or_default();
            match e.kind {
                gstavmonitor::EventKind::Start => *n += 1,
                gstavmonitor::EventKind::End => *n -= 1,
            }
            assert!((0..=1).contains(n), "seed {seed}: {s} leaves {n} open");
        }
    }
}

/// Every defect opened was closed.
pub fn all_closed(open: &HashMap<String, i32>, seed: u64) {
    let left: Vec<_> = open.iter().filter(|(_, &n)| n != 0).collect();
    assert!(left.is_empty(), "seed {seed}: open at EOS: {left:?}");
}
