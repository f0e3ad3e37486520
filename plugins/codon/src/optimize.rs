//! Codon optimization: best codon per amino acid, then greedy removal of
//! avoid-sites.

use crate::cai::{cai, weights};
use crate::code::{STANDARD, SYMBOLS, codon_index, codon_str, synonymous};
use crate::sites::{MAX_SITES, Site, Strand, overlapping};
use crate::tables::{self, UsageTable};
use bioai_sdk::ToolError;

/// Longest accepted protein, in amino acids (a CDS may be 3x as long).
pub const MAX_PROTEIN_LEN: usize = 100_000;

/// Most bases over all avoid-sites together.
pub const MAX_TOTAL_SITE_LEN: usize = 512;

/// Work limit of site removal, in (nominal) base comparisons: this fixed
/// part plus [`WORK_PER_BASE`] per CDS base.
pub const WORK_FIXED: u64 = 100_000_000;
/// See [`WORK_FIXED`].
pub const WORK_PER_BASE: u64 = 500;

/// Expression hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// Escherichia coli.
    EColi,
    /// Saccharomyces cerevisiae.
    SCerevisiae,
    /// Homo sapiens.
    HSapiens,
    /// Mus musculus.
    MMusculus,
    /// Chinese hamster ovary cells (Cricetulus griseus).
    Cho,
}

impl Host {
    /// The codon usage table used for this host.
    pub fn table(self) -> &'static UsageTable {
        match self {
            Host::EColi => &tables::E_COLI,
            Host::SCerevisiae => &tables::S_CEREVISIAE,
            Host::HSapiens => &tables::H_SAPIENS,
            Host::MMusculus => &tables::M_MUSCULUS,
            Host::Cho => &tables::CHO,
        }
    }
}

/// One occurrence of an avoid-site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// 0-based start in the CDS.
    pub start: usize,
    /// End, exclusive.
    pub end: usize,
    /// Strand.
    pub strand: Strand,
}

/// What happened to one avoid-site.
#[derive(Clone, Debug)]
pub struct SiteReport {
    /// The site, upper-cased.
    pub site: String,
    /// Occurrences in the best-codon CDS, before removal.
    pub found: usize,
    /// Occurrences left in the output CDS.
    pub remaining: Vec<Hit>,
}

/// The result of [`optimize`].
#[derive(Clone, Debug)]
pub struct Optimized {
    /// The optimized CDS.
    pub cds: String,
    /// Its translation.
    pub protein: String,
    /// CAI of the input CDS (`None` for protein input, or when no codon counts).
    pub cai_before: Option<f64>,
    /// CAI of the output CDS (`None` when no codon counts).
    pub cai_after: Option<f64>,
    /// GC fraction of the output CDS.
    pub gc_content: f64,
    /// Which table was used.
    pub codon_table: String,
    /// One report per avoid-site, in the order given.
    pub sites: Vec<SiteReport>,
}

/// The parsed input: amino acids (with an optional final `*`), and the
/// input's codons when it was a CDS.
struct Input {
    protein: Vec<u8>,
    codons: Option<Vec<usize>>,
}

fn parse_input(text: &str) -> Result<Input, ToolError> {
    let arg = "protein_or_cds";
    let seq: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if seq.is_empty() {
        return Err(ToolError::invalid_argument(
            arg,
            "is empty: give a protein (e.g. MKV*) or a CDS (e.g. ATGAAAGTT)",
        ));
    }
    let is_cds = seq.len().is_multiple_of(3) && seq.iter().all(|b| b"ACGT".contains(b));
    if is_cds {
        if seq.len() > 3 * MAX_PROTEIN_LEN {
            return Err(ToolError::limit_exceeded(format!(
                "the CDS has {} bases; at most {} are allowed",
                seq.len(),
                3 * MAX_PROTEIN_LEN
            )));
        }
        let codons: Vec<usize> = seq
            .chunks(3)
            .map(|c| codon_index(c).expect("ACGT checked"))
            .collect();
        let protein: Vec<u8> = codons.iter().map(|&c| STANDARD[c]).collect();
        if let Some(i) = protein[..protein.len() - 1].iter().position(|&a| a == b'*') {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "the CDS has an internal stop codon {} at bases {}..{} (codon {}): only \
                     the last codon may be a stop",
                    String::from_utf8_lossy(&codon_str(codons[i])),
                    3 * i,
                    3 * i + 3,
                    i + 1
                ),
            ));
        }
        return Ok(Input {
            protein,
            codons: Some(codons),
        });
    }
    if seq.len() > MAX_PROTEIN_LEN + 1 {
        return Err(ToolError::limit_exceeded(format!(
            "the protein has {} residues; at most {MAX_PROTEIN_LEN} are allowed",
            seq.len()
        )));
    }
    for (i, &b) in seq.iter().enumerate() {
        let last = i + 1 == seq.len();
        if b == b'*' && !last {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "has a stop `*` at residue {}: only a final `*` is allowed",
                    i + 1
                ),
            ));
        }
        if !SYMBOLS.contains(&b) {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "has {:?} at residue {}: a protein uses the 20 standard amino-acid letters \
                     ACDEFGHIKLMNPQRSTVWY (optional final `*`); a CDS uses only A, C, G, T and \
                     has a length that is a multiple of 3 (this input is neither)",
                    char::from(b),
                    i + 1
                ),
            ));
        }
    }
    Ok(Input {
        protein: seq,
        codons: None,
    })
}

/// Synonymous codons of each symbol, best first: decreasing frequency, ties
/// broken alphabetically.
fn ranked(table: &UsageTable) -> Vec<Vec<usize>> {
    (0..256)
        .map(|a| {
            let a = a as u8;
            if !SYMBOLS.contains(&a) {
                return Vec::new();
            }
            let mut c = synonymous(a);
            // Stable sort keeps alphabetical order among equal frequencies.
            c.sort_by(|&x, &y| table.freq[y].total_cmp(&table.freq[x]));
            c
        })
        .collect()
}

fn write_codon(dna: &mut [u8], i: usize, codon: usize) {
    dna[3 * i..3 * i + 3].copy_from_slice(&codon_str(codon));
}

/// Codon-optimizes `protein_or_cds` for `host`, then removes `avoid_sites`.
///
/// Steps: (1) the best (most frequent; ties: alphabetically first) codon for
/// every amino acid; (2) scanning left to right, for each occurrence of an
/// avoid-site (either strand) try every single-codon synonymous change among
/// the codons the occurrence overlaps, and keep the one that removes that
/// occurrence without creating any new occurrence of any site, and has the
/// highest relative adaptiveness
/// (ties: the leftmost codon, then the better-ranked codon). An occurrence no
/// single change can remove is left, and reported in `remaining`; so are
/// occurrences not tried once the work limit ([`WORK_FIXED`] +
/// [`WORK_PER_BASE`] per base, in base comparisons) is spent.
pub fn optimize(
    protein_or_cds: &str,
    host: Host,
    avoid_sites: &[String],
) -> Result<Optimized, ToolError> {
    if avoid_sites.len() > MAX_SITES {
        return Err(ToolError::invalid_argument(
            "avoid_sites",
            format!(
                "has {} sites; at most {MAX_SITES} are allowed",
                avoid_sites.len()
            ),
        ));
    }
    let sites = avoid_sites
        .iter()
        .enumerate()
        .map(|(i, s)| Site::parse(s, i))
        .collect::<Result<Vec<_>, _>>()?;
    let total: usize = sites.iter().map(Site::len).sum();
    if total > MAX_TOTAL_SITE_LEN {
        return Err(ToolError::invalid_argument(
            "avoid_sites",
            format!("the sites total {total} bases; at most {MAX_TOTAL_SITE_LEN} are allowed"),
        ));
    }
    let input = parse_input(protein_or_cds)?;
    let table = host.table();
    let w = weights(table);
    let ranks = ranked(table);
    let cai_before = input.codons.as_deref().and_then(|c| cai(c, &w));

    let mut codons: Vec<usize> = input
        .protein
        .iter()
        .map(|&a| ranks[a as usize][0])
        .collect();
    let mut dna = vec![0u8; 3 * codons.len()];
    for (i, &c) in codons.iter().enumerate() {
        write_codon(&mut dna, i, c);
    }
    let found: Vec<usize> = sites.iter().map(|s| s.find_all(&dna).len()).collect();

    if !sites.is_empty() {
        remove_sites(&sites, &ranks, &w, &input.protein, &mut codons, &mut dna);
    }

    let cai_after = cai(&codons, &w);
    let gc = dna.iter().filter(|&&b| b == b'G' || b == b'C').count() as f64 / dna.len() as f64;
    let reports = sites
        .iter()
        .zip(found)
        .map(|(s, found)| SiteReport {
            site: s.text.clone(),
            found,
            remaining: s
                .find_all(&dna)
                .into_iter()
                .map(|(start, strand)| Hit {
                    start,
                    end: start + s.len(),
                    strand,
                })
                .collect(),
        })
        .collect();
    let codon_table = if table.note.is_empty() {
        format!("{} ({})", table.name, table.organism)
    } else {
        format!("{} ({}; {})", table.name, table.organism, table.note)
    };
    Ok(Optimized {
        cds: String::from_utf8(dna).expect("ACGT"),
        protein: String::from_utf8(input.protein).expect("ASCII"),
        cai_before,
        cai_after,
        gc_content: gc,
        codon_table: format!("{codon_table}, {}", table.source),
        sites: reports,
    })
}

/// The greedy site removal (see [`optimize`]). An accepted change removes
/// the occurrence and creates none, so the occurrences only ever become
/// fewer: the ones listed at the start, in order, are all there is to visit.
fn remove_sites(
    sites: &[Site],
    ranks: &[Vec<usize>],
    w: &[f64; 64],
    protein: &[u8],
    codons: &mut [usize],
    dna: &mut [u8],
) {
    // Nominal cost of one `overlapping` call: every site, at every start
    // overlapping a codon, compared on both strands.
    let check_cost: u64 = sites
        .iter()
        .map(|s| 2 * (s.len() as u64 + 2) * s.len() as u64)
        .sum();
    let mut budget = WORK_FIXED + WORK_PER_BASE * dna.len() as u64;
    let mut todo: Vec<(usize, usize)> = sites
        .iter()
        .enumerate()
        .flat_map(|(k, s)| {
            s.find_all(dna)
                .into_iter()
                .map(move |(start, _)| (start, k))
        })
        .collect();
    todo.sort_unstable();
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (start, k) in todo {
        let site = &sites[k];
        if site.at(dna, start).is_none() {
            continue; // removed as a side effect of an earlier change
        }
        let end = start + site.len();
        // (w, codon position, candidate codon) of the best change so far.
        let mut best: Option<(f64, usize, usize)> = None;
        for ci in start / 3..end.div_ceil(3) {
            let tries = ranks[protein[ci] as usize].len() as u64;
            let cost = check_cost * tries;
            if budget < cost {
                return;
            }
            budget -= cost;
            overlapping(sites, dna, 3 * ci, 3 * ci + 3, &mut before);
            let old = codons[ci];
            for &cand in &ranks[protein[ci] as usize] {
                if cand == old || best.is_some_and(|(bw, _, _)| w[cand] <= bw) {
                    continue;
                }
                write_codon(dna, ci, cand);
                overlapping(sites, dna, 3 * ci, 3 * ci + 3, &mut after);
                write_codon(dna, ci, old);
                let ok = !after.contains(&(k, start)) && after.iter().all(|o| before.contains(o));
                if ok {
                    best = Some((w[cand], ci, cand));
                }
            }
        }
        if let Some((_, ci, cand)) = best {
            codons[ci] = cand;
            write_codon(dna, ci, cand);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translate(dna: &str) -> String {
        dna.as_bytes()
            .chunks(3)
            .map(|c| STANDARD[codon_index(c).unwrap()] as char)
            .collect()
    }

    #[test]
    fn best_codons_for_protein() {
        let r = optimize("MKL*", Host::EColi, &[]).unwrap();
        assert_eq!(r.cds, "ATGAAACTGTAA");
        assert_eq!(r.protein, "MKL*");
        assert_eq!(r.cai_before, None);
        assert_eq!(r.cai_after, Some(1.0));
        // Human Arg: AGA and AGG tie at 0.20; the alphabetically first wins.
        let h = optimize("R", Host::HSapiens, &[]).unwrap();
        assert_eq!(h.cds, "AGA");
        assert!(h.codon_table.starts_with("h_sapiens_9606"));
        let cho = optimize("M", Host::Cho, &[]).unwrap().codon_table;
        assert!(cho.starts_with("cricetulus_griseus_10029"), "{cho}");
        assert!(cho.contains("Kazusa"), "{cho}");
        // Kazusa's CHO table (species=10029): Leu CTG 5955 of 15117 Leu
        // codons (0.39), the most used; Arg AGG 1570, CGG 1558 and AGA 1557
        // of 8079 all round to 0.19, and the alphabetically first wins.
        let l = optimize("L", Host::Cho, &[]).unwrap();
        assert_eq!(l.cds, "CTG");
        let r = optimize("R", Host::Cho, &[]).unwrap();
        assert_eq!(r.cds, "AGA");
    }

    #[test]
    fn cds_input_gets_cai_before() {
        let r = optimize("atgctttaa", Host::EColi, &[]).unwrap();
        assert_eq!(r.protein, "ML*");
        assert!((r.cai_before.unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(r.cds, "ATGCTGTAA");
    }

    #[test]
    fn removes_sites_keeping_protein() {
        // E. coli best codons for E F give GAA TTT.
        let base = optimize("MEFK", Host::EColi, &[]).unwrap();
        assert!(base.cds.contains("GAATTT"));
        let r = optimize("MEFK", Host::EColi, &["AAATTC".into()]).unwrap();
        assert!(
            !r.cds.contains("GAATTT") && !r.cds.contains("AAATTC"),
            "{}",
            r.cds
        );
        assert_eq!(translate(&r.cds), "MEFK");
        assert_eq!(r.sites[0].found, 1);
        assert!(r.sites[0].remaining.is_empty());
        assert!(r.cai_after.unwrap() < 1.0);
    }

    #[test]
    fn reports_unremovable_sites() {
        // ATG (Met) cannot change.
        let r = optimize("MM", Host::EColi, &["ATGATG".into()]).unwrap();
        assert_eq!(r.sites[0].found, 1);
        assert_eq!(
            r.sites[0].remaining,
            vec![Hit {
                start: 0,
                end: 6,
                strand: Strand::Forward
            }]
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(optimize("", Host::EColi, &[]).is_err());
        assert!(optimize("MK*L", Host::EColi, &[]).is_err());
        assert!(optimize("MKX", Host::EColi, &[]).is_err());
        let e = optimize("ATGTAAATG", Host::EColi, &[]).unwrap_err();
        assert!(String::from(e).contains("internal stop"));
        assert!(optimize("MK", Host::EColi, &["GAZ".into()]).is_err());
    }
}

#[cfg(test)]
/// Timing of the worst cases: `cargo test --release -p codon worst -- --ignored --nocapture`.
mod perf {
    use super::*;

    #[test]
    #[ignore]
    fn worst_case_is_bounded() {
        let p: String = (0..MAX_PROTEIN_LEN)
            .map(|i| b"ACDEFGHIKLMNPQRSTVWY"[i * 7 % 20] as char)
            .collect();
        let sites: Vec<String> = (0..8).map(|_| "N".repeat(64)).collect();
        let t = std::time::Instant::now();
        let r = optimize(&p, Host::EColi, &sites).unwrap();
        eprintln!("{:?} remaining {}", t.elapsed(), r.sites[0].remaining.len());
        let sites: Vec<String> = (0..64)
            .map(|i| {
                [
                    "GAATTC", "GGTCTC", "GCNGC", "AAAA", "TTTT", "CTGCTG", "GCGC", "RGCY",
                ][i % 8]
                    .to_string()
            })
            .collect();
        let t = std::time::Instant::now();
        let r = optimize(&p, Host::EColi, &sites).unwrap();
        eprintln!(
            "{:?} remaining {}",
            t.elapsed(),
            r.sites.iter().map(|s| s.remaining.len()).sum::<usize>()
        );
    }
}
