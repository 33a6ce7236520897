//! Audio/video sync (lip-sync) measurement.
//!
//! Both streams are reduced to *events* with times in running time:
//! - video: a **flash** (a tile of the picture jumps to bright) and a
//!   **visual change** (the picture changes far more than it did in the frames
//!   before: a cut, a flash, a motion onset);
//! - audio: a **beep** (a sound starting out of quiet, timed to the sample)
//!   and an **audio change** (a step in level or in spectral tilt, timed to
//!   5 ms).
//!
//! The offset (positive: audio late) is then measured two ways:
//! - **test signal**: each flash is paired with the beep nearest to the
//!   offset expected (the last one measured, else 0) within `max_offset`;
//!   every pair is a measurement. A pair is confident once the pair before
//!   agrees with it, so one chance coincidence never raises an alarm;
//! - **content**: over a sliding `window`, every lag between a visual change
//!   and an audio change within `max_offset` is voted for; the lag most
//!   visual changes agree on wins, refined to the median of its pairs. Its
//!   confidence is how far that lag beats the best lag elsewhere, as a share
//!   of the visual changes: a still picture with music (no visual change) or
//!   unrelated changes give a low confidence, and no alarm.
//!
//! Alarms are start/end events when confident measurements stay outside the
//! tolerance (`max_early` / `max_late`) for `min_duration`; a **stall** is
//! one stream not advancing while the other advances `stall_timeout`.

use std::collections::VecDeque;

use super::audio::samples::AudioView;
use super::audio::timing::AudioTime;
use super::event::{EndReason, EventTracker, Transition};
use super::video::frame::LumaPlane;

const MS: u64 = 1_000_000;

/// Which way offsets are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Flash/beep pairs when the content has them, else content correlation.
    Auto,
    /// Flash/beep pairs only.
    TestSignal,
    /// Correlation of visual and audio changes only.
    Content,
    /// No offset measured, stalls only: neither picture nor sound is
    /// analysed, so the video may skip frames (B-frames dropped before the
    /// decoder) without misleading anything.
    Stall,
}

/// How a measurement was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    TestSignal,
    Content,
    /// Nothing to measure on (no events in the window).
    None,
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::TestSignal => "test-signal",
            Method::Content => "content",
            Method::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "test-signal" => Method::TestSignal,
            "content" => Method::Content,
            "none" => Method::None,
            _ => return None,
        })
    }
}

/// One of the two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Video,
    Audio,
}

impl Media {
    pub fn as_str(&self) -> &'static str {
        match self {
            Media::Video => "video",
            Media::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "video" => Media::Video,
            "audio" => Media::Audio,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        match self {
            Media::Video => 0,
            Media::Audio => 1,
        }
    }

    fn other(self) -> Media {
        match self {
            Media::Video => Media::Audio,
            Media::Audio => Media::Video,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyncConfig {
    pub mode: Mode,
    /// How far audio may lead video before an alarm, ns.
    pub max_early: u64,
    /// How far audio may lag video before an alarm, ns.
    pub max_late: u64,
    /// How long the offset must stay out of tolerance before an alarm, ns.
    pub min_duration: u64,
    /// The largest offset searched for, either way, ns.
    pub max_offset: u64,
    /// Content mode: how much media each measurement rests on, ns.
    pub window: u64,
    /// Content mode: time between measurements, ns.
    pub interval: u64,
    /// Measurements below this confidence neither raise nor end an alarm.
    pub min_confidence: f64,
    /// One stream stalls when the other advances this far beyond it, ns.
    pub stall_timeout: u64,
    /// Report measurements (alarms are reported regardless).
    pub measurements: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            mode: Mode::Auto,
            max_early: 40 * MS,
            max_late: 60 * MS,
            min_duration: 0,
            max_offset: 600 * MS,
            window: 10_000 * MS,
            interval: 1000 * MS,
            min_confidence: 0.5,
            stall_timeout: 2000 * MS,
            measurements: true,
        }
    }
}

/// One offset measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// The video instant measured (the flash, or the end of the window), ns.
    pub at: u64,
    /// Audio time minus video time of the same event, ns (positive: audio late).
    pub offset: i64,
    /// 0 (cannot tell) to 1.
    pub confidence: f64,
    /// How many event pairs the measurement rests on.
    pub observations: u32,
    pub method: Method,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SyncEvent {
    Measurement(Measurement),
    /// The offset left the tolerance (start) or came back (end); `offset` is
    /// the first offset out of tolerance for a start, the furthest for an end.
    Offset {
        transition: Transition,
        offset: i64,
    },
    /// `media` stopped flowing while the other stream went on (start,
    /// back-dated to where it stopped), or flows again (end).
    Stall {
        media: Media,
        transition: Transition,
    },
}

mod alarms;
mod audio;
mod matching;
#[cfg(test)]
mod tests;
mod video;

use audio::{weight, AudioAnalyser, AudioMark, BLOCK, REFRACTORY, SIDE};
use video::VideoAnalyser;

/// A measured flash/beep pair.
#[derive(Debug, Clone, Copy)]
struct Pair {
    at: u64,
    offset: i64,
}

/// The sync measurement of one video and one audio stream.
#[derive(Debug, Clone)]
pub struct AvSync {
    config: SyncConfig,
    video: VideoAnalyser,
    audio: Option<AudioAnalyser>,
    /// Flashes waiting for the audio around them.
    flashes: VecDeque<u64>,
    beeps: VecDeque<u64>,
    vchanges: VecDeque<u64>,
    /// Audio changes and their votes.
    achanges: VecDeque<(u64, i32)>,
    /// Where each stream has got to (end of its last buffer or gap).
    pos: [Option<u64>; 2],
    /// Where each stream began.
    first: [Option<u64>; 2],
    ended: [bool; 2],
    stalled: [Option<u64>; 2],
    live: bool,
    frame: u64,
    /// Start of the last frame.
    prev_frame: Option<u64>,
    last_pair: Option<Pair>,
    last_confident_pair: Option<u64>,
    next_content: Option<u64>,
    alarm: EventTracker,
    alarm_first: Option<i64>,
    worst: i64,
    marks: Vec<AudioMark>,
}

impl AvSync {
    pub fn new(config: SyncConfig) -> Self {
        AvSync {
            config,
            video: VideoAnalyser::default(),
            audio: None,
            flashes: VecDeque::new(),
            beeps: VecDeque::new(),
            vchanges: VecDeque::new(),
            achanges: VecDeque::new(),
            pos: [None; 2],
            first: [None; 2],
            ended: [false; 2],
            stalled: [None; 2],
            live: false,
            frame: 40 * MS,
            prev_frame: None,
            last_pair: None,
            last_confident_pair: None,
            next_content: None,
            alarm: EventTracker::new(config.min_duration),
            alarm_first: None,
            worst: 0,
            marks: Vec::new(),
        }
    }

    pub fn config(&self) -> SyncConfig {
        self.config
    }

    /// Takes effect at once. Turning to [`Mode::Stall`] forgets the flashes,
    /// beeps and changes waiting to be paired; an offset alarm open then
    /// stays open until the stream ends, flushes or changes format.
    pub fn set_config(&mut self, config: SyncConfig) {
        self.alarm.set_min_duration(config.min_duration);
        if config.mode == Mode::Stall && self.config.mode != Mode::Stall {
            self.flashes.clear();
            self.beeps.clear();
            self.vchanges.clear();
            self.achanges.clear();
            self.video.reset();
            self.audio = None;
            self.prev_frame = None;
        }
        self.config = config;
    }

    /// Whether `media` has ended (EOS).
    #[cfg(any(test, feature = "internals"))]
    pub fn ended(&self, media: Media) -> bool {
        self.ended[media.index()]
    }

    /// One video frame covering `start..end` (running time, ns).
    pub fn push_video(
        &mut self,
        plane: &LumaPlane<'_>,
        start: u64,
        end: u64,
        out: &mut Vec<SyncEvent>,
    ) {
        let end = end.max(start);
        if end > start {
            self.frame = end - start;
        }
        if self.config.mode == Mode::Stall {
            self.flowed(Media::Video, start, end, out);
            return;
        }
        let f = self.video.push(plane);
        if f.flash {
            self.flashes.push_back(start);
        }
        if let Some(prev) = self.prev_frame.filter(|_| f.onset_before) {
            self.vchanges.push_back(prev);
        }
        if f.change {
            self.vchanges.push_back(start);
        }
        self.prev_frame = Some(start);
        self.flowed(Media::Video, start, end, out);
        self.advance(out);
    }

    /// One audio buffer whose first frame is at `at` (running time) at `rate`.
    pub fn push_audio(
        &mut self,
        view: &AudioView<'_>,
        at: AudioTime,
        rate: u32,
        out: &mut Vec<SyncEvent>,
    ) {
        if self.config.mode == Mode::Stall {
            let end = at.frame(view.frames(), rate.max(1));
            self.flowed(Media::Audio, at.frame(0, rate.max(1)), end, out);
            return;
        }
        let audio = match &mut self.audio {
            Some(a) if a.rate() == rate => a,
            slot => slot.insert(AudioAnalyser::new(rate)),
        };
        self.marks.clear();
        audio.push(view, at, &mut self.marks);
        for m in &self.marks {
            match *m {
                AudioMark::Beep(t, db) => {
                    self.beeps.push_back(t);
                    self.achanges.push_back((t, weight(db)));
                }
                AudioMark::Change(t, db) => {
                    // a beep is already a change
                    if self
                        .achanges
                        .back()
                        .is_none_or(|&(b, _)| b + REFRACTORY <= t)
                    {
                        self.achanges.push_back((t, weight(db)));
                    }
                }
            }
        }
        let end = at.frame(view.frames(), rate.max(1));
        self.flowed(Media::Audio, at.frame(0, rate.max(1)), end, out);
        self.advance(out);
    }

    /// `media` has no data from `start` to `end` (a gap event): it is not
    /// stalled, and audio after it is judged as after silence.
    pub fn gap(&mut self, media: Media, start: u64, end: u64, out: &mut Vec<SyncEvent>) {
        if media == Media::Audio {
            if let Some(a) = &mut self.audio {
                a.gap(end);
            }
        } else {
            self.video.reset();
        }
        self.flowed(media, start, end, out);
        self.advance(out);
    }

    /// `media`'s timestamps jumped: its analysis starts afresh.
    pub fn discont(&mut self, media: Media) {
        match media {
            Media::Video => self.video.reset(),
            Media::Audio => {
                if let Some(a) = &mut self.audio {
                    a.reset();
                }
            }
        }
    }

    /// `media` changed format: its analysis starts afresh and an alarm ends
    /// (reason caps-change).
    pub fn caps_change(&mut self, media: Media, out: &mut Vec<SyncEvent>) {
        self.discont(media);
        if media == Media::Audio {
            self.audio = None;
        }
        self.close_alarm(EndReason::CapsChange, out);
    }

    /// End of stream on `media`: neither stream is judged stalled any more,
    /// and an alarm ends (reason eos) once no more pairs can be made: at
    /// once when both streams have ended, else when the other stream has
    /// gone past what could still pair with this one's last data (streams
    /// read from files run ahead of each other, so one ends first).
    pub fn eos(&mut self, media: Media, out: &mut Vec<SyncEvent>) {
        self.ended[media.index()] = true;
        self.close_stalls(EndReason::Eos, out);
        self.advance(out);
        if self.ended.iter().all(|&e| e) {
            self.finish(out);
        }
    }

    /// Nothing more can pair: an alarm ends (reason eos).
    fn finish(&mut self, out: &mut Vec<SyncEvent>) {
        self.close_alarm(EndReason::Eos, out);
        self.flashes.clear();
        self.next_content = None;
    }

    /// A flushing seek: everything open ends (reason flush), everything
    /// measured is forgotten.
    pub fn flush(&mut self, out: &mut Vec<SyncEvent>) {
        self.close_alarm(EndReason::Flush, out);
        self.close_stalls(EndReason::Flush, out);
        let live = self.live;
        *self = AvSync::new(self.config);
        self.live = live;
    }

    /// Whether the media is live (judged against the other stream as it comes).
    pub fn set_live(&mut self, live: bool) {
        self.live = live;
    }

    /// Pairs the flashes whose audio has been seen, and measures content.
    fn advance(&mut self, out: &mut Vec<SyncEvent>) {
        let (Some(vpos), Some(apos)) = (self.pos[0], self.pos[1]) else {
            return;
        };
        if self.config.mode == Mode::Stall {
            return;
        }
        let max = self.config.max_offset;
        // audio events are reported up to 2 * SIDE blocks late
        let settle = (2 * SIDE as u64 + 2) * BLOCK;
        let audio_seen = apos.saturating_sub(settle);
        let audio_ended = self.ended[Media::Audio.index()];
        if self.config.mode != Mode::Content {
            while let Some(&f) = self.flashes.front() {
                if f.saturating_add(max) > audio_seen {
                    if !audio_ended {
                        break;
                    }
                    // its beep may lie past the audio's end
                    self.flashes.pop_front();
                    continue;
                }
                self.flashes.pop_front();
                if let Some(m) = self.pair(f) {
                    self.measured(m, out);
                }
            }
        } else {
            self.flashes.clear();
        }
        // what can no longer pair with anything
        let keep_from = vpos
            .min(self.flashes.front().copied().unwrap_or(u64::MAX))
            .saturating_sub(max + settle);
        while self.beeps.front().is_some_and(|&b| b < keep_from) {
            self.beeps.pop_front();
        }
        // content
        let horizon = vpos.min(audio_seen.saturating_sub(max));
        let next = *self
            .next_content
            .get_or_insert(horizon.saturating_add(self.config.interval));
        if horizon >= next && self.config.mode != Mode::TestSignal {
            let recent_pairs = self
                .last_confident_pair
                .is_some_and(|t| t + self.config.window > horizon);
            if !(self.config.mode == Mode::Auto && recent_pairs) {
                let m = self.correlate(horizon);
                self.measured(m, out);
            }
            let steps = (horizon - next) / self.config.interval.max(1) + 1;
            self.next_content = Some(next + steps * self.config.interval.max(1));
        }
        let from = horizon.saturating_sub(self.config.window);
        while self.vchanges.front().is_some_and(|&v| v < from) {
            self.vchanges.pop_front();
        }
        while self.achanges.front().is_some_and(|&(a, _)| a + max < from) {
            self.achanges.pop_front();
        }
        // one stream ended and the other has gone past all it could pair with
        let video_ended = self.ended[Media::Video.index()];
        let past = (video_ended && horizon >= vpos)
            || (audio_ended && vpos.saturating_add(max) >= audio_seen);
        if past && self.flashes.is_empty() {
            self.finish(out);
        }
    }
}
