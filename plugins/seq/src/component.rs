//! The component glue: WIT bindings and the exported interfaces.

bioai_sdk::generate!("bioai:seq/seq");

use crate::{fasta, gc, revcomp, translate};
use bioai_sdk::progress;
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::seq::sequence::{self, FastaRecord};

/// Inputs at least this large report parsing progress.
const PROGRESS_MIN_BYTES: usize = 1 << 20;
/// Progress is reported about every this many bytes.
const PROGRESS_STEP_BYTES: usize = 1 << 20;

struct Seq;

fn tool(name: &str, title: &str) -> ToolInfo {
    ToolInfo {
        name: name.into(),
        title: Some(title.into()),
        annotations: None,
    }
}

impl metadata::Guest for Seq {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("seq".into()),
            title: "Sequence utilities".into(),
            description: "Nucleotide sequence basics: GC content, reverse complement, \
                          translation with every NCBI genetic code, and FASTA parsing."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![
                tool("gc-content", "GC content"),
                tool("reverse-complement", "Reverse complement"),
                tool("translate", "Translate to protein"),
                tool("parse-fasta", "Parse FASTA"),
            ],
            pricing: None,
        }
    }
}

impl sequence::Guest for Seq {
    fn gc_content(sequence: String) -> Result<f64, String> {
        Ok(gc::gc_fraction(&sequence)?)
    }

    fn reverse_complement(sequence: String) -> Result<String, String> {
        Ok(revcomp::reverse_complement(&sequence)?)
    }

    fn translate(
        sequence: String,
        table: Option<u8>,
        to_stop: Option<bool>,
    ) -> Result<String, String> {
        let table = table.unwrap_or(1);
        let t = translate::translate(&sequence, table, to_stop.unwrap_or(false))?;
        if t.trailing_bases > 0 {
            bioai_sdk::log!(
                warn,
                "ignored a trailing partial codon";
                length = sequence.len(),
                trailing_bases = t.trailing_bases,
            );
        }
        Ok(t.protein)
    }

    fn parse_fasta(text: String) -> Result<Vec<FastaRecord>, String> {
        let total = text.len();
        let report = total >= PROGRESS_MIN_BYTES;
        let mut next_report = PROGRESS_STEP_BYTES;
        let records = fasta::parse_with_progress(&text, |done, total| {
            if report && done >= next_report {
                next_report = done + PROGRESS_STEP_BYTES;
                progress::report_steps(
                    done as u64,
                    total as u64,
                    &format!("parsed {} of {} MiB", done >> 20, total.div_ceil(1 << 20)),
                );
            }
        })?;
        if report {
            progress::report(1.0, "parsed");
        }
        bioai_sdk::log!(info, "parsed FASTA"; records = records.len(), bytes = total);
        Ok(records
            .into_iter()
            .map(|r| FastaRecord {
                id: r.id,
                description: r.description,
                sequence: r.sequence,
            })
            .collect())
    }
}

export!(Seq);
