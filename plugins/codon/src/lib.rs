//! `codon`: a BioAiSaaS plugin that codon-optimizes a protein or CDS for an
//! expression host.
//!
//! The tool (`codon.optimize`) is declared in `wit/codon.wit`, whose doc
//! comments are the tool description. The logic lives in plain Rust modules
//! so that it is unit-tested natively (`cargo test -p codon`); the component
//! glue, built only for WebAssembly, is in `component.rs`.
//!
//! Hot kernels, public for native benchmarks: [`optimize::optimize`] and
//! [`cai::cai`].

pub mod cai;
pub mod code;
pub mod optimize;
pub mod sites;
pub mod tables;

#[cfg(target_arch = "wasm32")]
mod component;
