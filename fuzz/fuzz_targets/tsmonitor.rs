//! tsmonitor's checks on arbitrary bytes: the first two bytes choose how
//! the rest is cut into buffers and whether they carry arrival times; no
//! panic, no hang, memory bounded (libFuzzer's -rss_limit_mb).
#![no_main]

use gstavmonitor::analysis::event::EndReason;
use gstavmonitor::analysis::transport::monitor::{TsConfig, TsMonitor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[split, mode], rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let step = 1 + usize::from(split) * 13;
    let mut m = TsMonitor::new(TsConfig {
        measure: (mode & 1 != 0).then_some(10_000_000),
        ..TsConfig::default()
    });
    let mut out = Vec::new();
    for (i, chunk) in rest.chunks(step).enumerate() {
        let arrival = (mode & 2 != 0).then_some(i as u64 * 1_000_000);
        m.push(chunk, arrival, &mut out);
        out.clear();
    }
    m.close(if mode & 4 != 0 { EndReason::Flush } else { EndReason::Eos }, &mut out);
});
