//! Audio kernels: sample views of every format ([`samples`]), timing of
//! fixed-length blocks from sample counts ([`timing`]), and the silence,
//! clipping, phase and loudness detectors, and the true-peak meter
//! loudness uses ([`truepeak`]).

pub mod clip;
pub mod loudness;
pub mod phase;
pub mod samples;
pub mod silence;
pub mod timing;
pub mod truepeak;
