//! Coded-stream kernels: H.264 and HEVC slice layout and loss ([`slices`]).

pub mod slices;
