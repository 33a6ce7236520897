//! Coded-stream kernels: H.264 and HEVC slice layout and loss ([`slices`]),
//! which H.264 pictures a decoder may be spared ([`bskip`]), and which GOPs
//! a keyframes-first decoder must decode whole ([`stillgate`]).

pub mod bskip;
mod h264;
mod hevc;
mod nal;
pub mod slices;
pub mod stillgate;
