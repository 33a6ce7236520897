//! Transport stream health: the measurements of ETSI TR 101 290 priority 1
//! and 2, read from the packets before any demuxer.
//!
//! [`framing`] finds the packets in bytes cut anywhere; [`monitor`] checks
//! them and turns errors into events per class and PID; [`pcr`] measures
//! PCR accuracy. Packet headers,
//! adaptation fields, PAT and PMT sections and the section CRC are read with
//! the `mpeg2ts-reader` crate; the checks and their timing are ours.

pub mod framing;
pub mod monitor;
pub mod pcr;
