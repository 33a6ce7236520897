//! Coded-stream kernels: H.264 and HEVC slice layout and loss ([`slices`]).

mod h264;
mod hevc;
mod nal;
pub mod slices;
