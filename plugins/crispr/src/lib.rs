//! `crispr`: a BioAiSaaS plugin for CRISPR-Cas9 guide design and off-target
//! search.
//!
//! The tools (`crispr.design_guides`, `crispr.rule_set_1`,
//! `crispr.off_targets`) are declared in `wit/crispr.wit`, whose doc comments
//! are the tool descriptions. The logic lives in plain Rust modules so that it
//! is unit-tested natively (`cargo test -p crispr`); the component glue, built
//! only for WebAssembly, is in `component.rs`. (The Rule Set 1 tool is WIT
//! `rule-set1`, not `rule-set-1`: a WIT name segment cannot start with a
//! digit; its `tool-details` publish it as `rule_set_1`.) The off-target
//! reference is FASTA text or a file in a directory the policy mounts
//! ([`reference::load`]).
//!
//! Hot kernels, public for native benchmarks: [`rule_set_1::score`],
//! [`design::design`] and [`offtarget::scan`].

pub mod design;
pub mod dna;
pub mod fasta;
pub mod mit;
pub mod offtarget;
pub mod reference;
pub mod rule_set_1;

#[cfg(target_arch = "wasm32")]
mod component;
