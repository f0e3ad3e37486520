//! `primer`: a BioAiSaaS plugin with PCR primer tools.
//!
//! The tools (`primer.tm`, `primer.check`, `primer.design`) are declared in
//! `wit/primer.wit`, whose doc comments are the tool descriptions. The logic
//! lives in plain Rust modules so that it is unit-tested natively
//! (`cargo test -p primer`); the component glue, built only for WebAssembly,
//! is in `component.rs`.
//!
//! Hot kernels, for native benchmarks: [`tm::NnModel`] (nearest-neighbour
//! Tm) and [`design::design`] (a whole primer-pair design).

pub mod design;
pub mod structure;
pub mod tm;

#[cfg(target_arch = "wasm32")]
mod component;
