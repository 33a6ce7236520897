//! Audio kernels: sample views of every format ([`samples`]), timing of
//! fixed-length blocks from sample counts ([`timing`]), and the silence,
//! clipping, phase and loudness detectors (loudness with the true-peak
//! meter of `truepeak`, which only it uses).

pub mod clip;
pub mod loudness;
pub mod phase;
pub mod samples;
pub mod silence;
pub mod timing;
pub(crate) mod truepeak;
