//! `seq`: a BioAiSaaS plugin with nucleotide sequence utilities.
//!
//! The tools (`seq.gc_content`, `seq.reverse_complement`, `seq.translate`,
//! `seq.parse_fasta`, `seq.parse_fastq`, `seq.find_orfs`, `seq.stats`) are
//! declared in `wit/seq.wit`, whose doc comments are
//! the tool descriptions. The logic lives in plain Rust modules so that it is
//! unit-tested natively (`cargo test -p seq`); the component glue, built only
//! for WebAssembly, is in `component.rs`.

pub mod codon_tables;
pub mod fasta;
pub mod fastq;
pub mod gc;
pub mod iupac;
pub mod orfs;
pub mod revcomp;
pub mod stats;
pub mod translate;

#[cfg(target_arch = "wasm32")]
mod component;
