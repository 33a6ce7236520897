//! The progress bar on standard error: position, speed as times real time
//! and time left, over all the files being checked; nothing when standard
//! error is not a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    on: bool,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    /// Per file: position and duration, s.
    files: Vec<(f64, f64)>,
    done: Vec<bool>,
    drawn: Option<Instant>,
}

impl Progress {
    pub fn new(files: usize) -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            started: Instant::now(),
            state: Mutex::new(State {
                files: vec![(0.0, 0.0); files],
                done: vec![false; files],
                drawn: None,
            }),
        }
    }

    /// File `i` is at `pos` of `dur` seconds.
    pub fn at(&self, i: usize, pos: f64, dur: f64) {
        if !self.on {
            return;
        }
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if let Some(f) = s.files.get_mut(i) {
            *f = (pos, dur.max(pos));
        }
        if s.drawn
            .is_some_and(|d| d.elapsed() < Duration::from_millis(250))
        {
            return;
        }
        s.drawn = Some(Instant::now());
        let line = bar(&s, self.started.elapsed().as_secs_f64());
        let _ = write!(std::io::stderr().lock(), "\r{line}\x1b[K");
    }

    /// File `i` is finished (`dur` seconds long).
    pub fn done(&self, i: usize, dur: f64) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(f) = s.files.get_mut(i) {
                *f = (dur, dur);
            }
            if let Some(d) = s.done.get_mut(i) {
                *d = true;
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if self.on {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// `[#########...........]  42%  00:01:23 of 00:03:20  12.3x  9 s left  (1 of 3 files done)`
fn bar(s: &State, elapsed: f64) -> String {
    let pos: f64 = s.files.iter().map(|f| f.0).sum();
    let total: f64 = s.files.iter().map(|f| f.1).sum();
    let share = if total > 0.0 {
        (pos / total).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let width = 30;
    let filled = (share * width as f64).round() as usize;
    let speed = if elapsed > 0.0 { pos / elapsed } else { 0.0 };
    let left = if speed > 0.0 {
        (total - pos) / speed
    } else {
        0.0
    };
    format!(
        "[{}{}] {:3.0}%  {} of {}  {:.1}x  {:.0} s left  ({} of {} files done)",
        "#".repeat(filled),
        ".".repeat(width - filled),
        share * 100.0,
        clock(pos),
        clock(total),
        speed,
        left,
        s.done.iter().filter(|d| **d).count(),
        s.done.len()
    )
}

fn clock(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_says_position_speed_and_time_left() {
        let s = State {
            files: vec![(30.0, 60.0), (60.0, 60.0)],
            done: vec![false, true],
            drawn: None,
        };
        assert_eq!(
            bar(&s, 9.0),
            "[#######################.......]  75%  00:01:30 of 00:02:00  10.0x  3 s left  (1 of 2 files done)"
        );
    }
}
