//! Picture kernels: luma views of every format ([`frame`]), and the black,
//! freeze, block-corruption and active-area detectors.

pub mod area;
pub mod black;
pub mod block;
pub mod frame;
pub mod freeze;
