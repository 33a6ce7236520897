//! Picture kernels: luma views of every format ([`frame`]), and the black,
//! freeze, block-corruption, active-area and cadence detectors.

pub mod area;
pub mod black;
pub mod block;
pub mod cadence;
pub mod frame;
pub mod freeze;
