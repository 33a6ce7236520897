//! Picture kernels: luma views of every format ([`frame`]), views of all
//! three colour components ([`colour`]), and the black, freeze,
//! block-corruption, active-area, cadence, levels and test-pattern
//! detectors.

pub mod area;
pub mod black;
pub mod block;
pub mod cadence;
pub mod captions;
pub mod colour;
pub mod frame;
pub mod freeze;
pub mod levels;
pub mod pattern;
