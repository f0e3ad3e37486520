//! The component glue: WIT bindings and the exported interfaces.

bioai_sdk::generate!("bioai:seq/seq");

use crate::{fasta, fastq, gc, orfs, revcomp, stats, translate};
use bioai_sdk::progress;
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};
use exports::bioai::seq::sequence::{
    self, BaseCounts, FastaRecord, FastqRecord, Orf, SeqStats, Strand,
};

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
                          translation with every NCBI genetic code, FASTA and FASTQ parsing, \
                          open reading frames and sequence statistics."
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
                tool("parse-fastq", "Parse FASTQ"),
                tool("find-orfs", "Find open reading frames"),
                tool("stats", "Sequence statistics"),
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
        let t = translate::translate_biopython(&sequence, table, to_stop.unwrap_or(false))?;
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

    fn parse_fastq(text: String, phred_offset: Option<u8>) -> Result<Vec<FastqRecord>, String> {
        let total = text.len();
        let report = total >= PROGRESS_MIN_BYTES;
        let mut next_report = PROGRESS_STEP_BYTES;
        let offset = phred_offset.unwrap_or(fastq::SANGER_OFFSET);
        let records = fastq::parse_with_progress(&text, offset, |done, total| {
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
        bioai_sdk::log!(info, "parsed FASTQ"; records = records.len(), bytes = total);
        Ok(records
            .into_iter()
            .map(|r| FastqRecord {
                id: r.id,
                description: r.description,
                sequence: r.sequence,
                quality: r.quality,
                phred: r.phred,
            })
            .collect())
    }

    fn find_orfs(
        sequence: String,
        min_length: Option<u32>,
        both_strands: Option<bool>,
        table: Option<u8>,
    ) -> Result<Vec<Orf>, String> {
        let found = orfs::find_orfs(
            &sequence,
            min_length.unwrap_or(orfs::DEFAULT_MIN_LENGTH),
            both_strands.unwrap_or(true),
            table.unwrap_or(1),
        )?;
        Ok(found
            .into_iter()
            .map(|o| Orf {
                start: o.start as u32,
                end: o.end as u32,
                strand: match o.strand {
                    orfs::Strand::Forward => Strand::Forward,
                    orfs::Strand::Reverse => Strand::Reverse,
                },
                frame: o.frame,
                sequence: o.sequence,
                protein: o.protein,
            })
            .collect())
    }

    fn stats(sequence: String, window: Option<u32>) -> Result<SeqStats, String> {
        let s = stats::stats(&sequence, window.unwrap_or(stats::DEFAULT_WINDOW))?;
        let c = s.composition;
        Ok(SeqStats {
            length: s.length as u32,
            composition: BaseCounts {
                a: c.a as u32,
                c: c.c as u32,
                g: c.g as u32,
                t: c.t as u32,
                u: c.u as u32,
                n: c.n as u32,
                ambiguous: c.ambiguous as u32,
            },
            gc_fraction: s.gc_fraction,
            molecular_weight: s.molecular_weight,
            molecular_weight_note: s.molecular_weight_note,
            gc_skew: s.gc_skew,
        })
    }
}

impl tool_details::Guest for Seq {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "gc-content" => [
                ("sequence", "DNA or RNA in IUPAC letters (S counts as GC; other ambiguity codes as Biopython's gc_fraction)", None),
            ],
            "reverse-complement" => [
                ("sequence", "DNA or RNA in IUPAC letters; case is kept, U stays RNA", None),
            ],
            "parse-fasta" => [
                ("text", "the whole FASTA file content: `>id description` lines followed by sequence lines", None),
            ],
            "translate" => [
                ("sequence", "DNA or RNA in IUPAC letters, read in frame from the first base", None),
                ("table", "NCBI genetic code id: 1-6, 9-16, 21-33", Some("1".into())),
                ("to-stop", "stop at the first stop codon, leaving it out", Some("false".into())),
            ],
            "parse-fastq" => [
                ("text", "the whole FASTQ file content", None),
                ("phred-offset", "ASCII code of quality 0: 33 (Sanger, Illumina 1.8+) or 64 (Illumina 1.3-1.7)", Some(fastq::SANGER_OFFSET.to_string())),
            ],
            "find-orfs" => [
                ("sequence", "DNA or RNA in IUPAC letters", None),
                ("min-length", "shortest ORF reported, in nucleotides including the stop codon", Some(orfs::DEFAULT_MIN_LENGTH.to_string())),
                ("both-strands", "also search the reverse complement", Some("true".into())),
                ("table", "NCBI genetic code id for start and stop codons", Some("1".into())),
            ],
            "stats" => [
                ("sequence", "DNA or RNA in IUPAC letters", None),
                ("window", "GC-skew window in bases, at least 1", Some(stats::DEFAULT_WINDOW.to_string())),
            ],
        }
    }
}

export!(Seq);
