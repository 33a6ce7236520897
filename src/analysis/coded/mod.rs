//! Coded-stream kernels: H.264 and HEVC slice layout and loss ([`slices`]),
//! and which H.264 pictures a decoder may be spared ([`bskip`]).

pub mod bskip;
mod h264;
mod hevc;
mod nal;
pub mod slices;
