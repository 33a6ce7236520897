//! What raised a corruption, and where its damage lies.

/// What raised a corruption: any of four kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Broken or grey blocks seen in the pixels.
    pub pixels: bool,
    /// The decoder flagged the buffer as corrupted.
    pub decoder: bool,
    /// Frames missing just before this one in a stream that kept a steady
    /// frame rate (decoders drop a frame they cannot decode, such as one
    /// whose data was lost).
    pub missing_frames: bool,
    /// The coded frame lost slices, as `slicecheck` found before the
    /// decoder (see [`crate::analysis::coded::slices`]).
    pub bitstream: bool,
}

/// Evidence names, in the order of [`Evidence::as_str`].
pub(super) const EVIDENCE_NAMES: [&str; 4] = ["pixels", "decoder", "missing-frames", "bitstream"];

/// Every combination of [`EVIDENCE_NAMES`], indexed by their bits (bit 0
/// pixels).
pub(super) const EVIDENCE_JOINED: [&str; 16] = [
    "",
    "pixels",
    "decoder",
    "pixels+decoder",
    "missing-frames",
    "pixels+missing-frames",
    "decoder+missing-frames",
    "pixels+decoder+missing-frames",
    "bitstream",
    "pixels+bitstream",
    "decoder+bitstream",
    "pixels+decoder+bitstream",
    "missing-frames+bitstream",
    "pixels+missing-frames+bitstream",
    "decoder+missing-frames+bitstream",
    "pixels+decoder+missing-frames+bitstream",
];

impl Evidence {
    /// None at all.
    pub(crate) const NONE: Evidence = Evidence {
        pixels: false,
        decoder: false,
        missing_frames: false,
        bitstream: false,
    };
    pub const PIXELS: Evidence = Evidence {
        pixels: true,
        decoder: false,
        missing_frames: false,
        bitstream: false,
    };
    pub const DECODER: Evidence = Evidence {
        pixels: false,
        decoder: true,
        missing_frames: false,
        bitstream: false,
    };
    pub const MISSING_FRAMES: Evidence = Evidence {
        pixels: false,
        decoder: false,
        missing_frames: true,
        bitstream: false,
    };
    pub const BITSTREAM: Evidence = Evidence {
        pixels: false,
        decoder: false,
        missing_frames: false,
        bitstream: true,
    };

    pub(super) fn flags(&self) -> [bool; 4] {
        [
            self.pixels,
            self.decoder,
            self.missing_frames,
            self.bitstream,
        ]
    }

    /// The names of the kinds present joined by `+`, in the order pixels,
    /// decoder, missing-frames, bitstream (`""` for none).
    pub fn as_str(&self) -> &'static str {
        let bits = self
            .flags()
            .iter()
            .enumerate()
            .fold(0, |a, (i, &f)| a | (usize::from(f) << i));
        EVIDENCE_JOINED[bits]
    }

    /// Reads [`Evidence::as_str`]'s form (names in any order, at least one).
    pub fn parse(s: &str) -> Option<Self> {
        let mut e = Evidence::default();
        for name in s.split('+') {
            let flag = match EVIDENCE_NAMES.iter().position(|&n| n == name)? {
                0 => &mut e.pixels,
                1 => &mut e.decoder,
                2 => &mut e.missing_frames,
                _ => &mut e.bitstream,
            };
            *flag = true;
        }
        Some(e)
    }

    /// Any evidence at all.
    pub fn any(&self) -> bool {
        self.flags().iter().any(|&f| f)
    }

    pub fn union(self, o: Evidence) -> Evidence {
        Evidence {
            pixels: self.pixels || o.pixels,
            decoder: self.decoder || o.decoder,
            missing_frames: self.missing_frames || o.missing_frames,
            bitstream: self.bitstream || o.bitstream,
        }
    }
}

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoxPx {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl BoxPx {
    pub(super) fn union(self, o: BoxPx) -> BoxPx {
        if self.width == 0 || self.height == 0 {
            return o;
        }
        if o.width == 0 || o.height == 0 {
            return self;
        }
        let x0 = self.x.min(o.x);
        let y0 = self.y.min(o.y);
        let x1 = (self.x + self.width).max(o.x + o.width);
        let y1 = (self.y + self.height).max(o.y + o.height);
        BoxPx {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        }
    }
}
