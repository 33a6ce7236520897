//! Picture kernels: luma views of every format ([`frame`]), and the black,
//! freeze and block-corruption detectors.

pub mod black;
pub mod block;
pub mod frame;
pub mod freeze;
