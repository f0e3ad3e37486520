//! Recognition-site search and digests.
//!
//! Coordinates are 0-based on the top strand. A cut at `p` on a strand is
//! between bases `p - 1` and `p` of that strand (both strands in top-strand
//! coordinates). For a site matched on the top strand at `s`, the top cut is
//! `s + fst5` and the bottom cut `s + len + fst3`; for a site matched on the
//! bottom strand (its reverse complement found at `s` on the top strand) the
//! top cut is `s - fst3` and the bottom cut `s + len - fst5`. This is what
//! Biopython's `Bio.Restriction` does (its positions are 1-based: ours + 1).

use crate::dna;
use crate::enzymes::{self, EnzymeData};
use bioai_sdk::ToolError;

/// The most enzymes accepted in one call.
pub const MAX_ENZYMES: usize = 100;

/// Which strand a recognition site was found on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strand {
    /// The site reads 5'->3' on the given (top) strand.
    Forward,
    /// The site reads 5'->3' on the bottom strand (its reverse complement is
    /// on the top strand). Palindromic sites are always `Forward`.
    Reverse,
}

/// One recognition site and its cuts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Start of the matched site on the top strand (0-based).
    pub position: usize,
    /// Strand of the site.
    pub strand: Strand,
    /// Top-strand cut; `None` on a linear sequence when this or the bottom
    /// cut falls at or beyond an end (no double-strand cut happens there).
    pub top_cut: Option<usize>,
    /// Bottom-strand cut, in top-strand coordinates; `None` exactly when
    /// `top_cut` is.
    pub bottom_cut: Option<usize>,
    /// Top-strand bases between the two cuts (the overhang), empty for
    /// blunt cuts; `None` when a cut is missing.
    pub overhang: Option<String>,
}

/// The sites of one enzyme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnzymeSites {
    /// The enzyme.
    pub enzyme: &'static EnzymeData,
    /// Sites sorted by position, forward before reverse.
    pub sites: Vec<Site>,
}

/// Resolves enzyme names (case-insensitive, duplicates dropped, order
/// kept), refusing unknown names and enzymes that cut twice per site.
pub fn resolve(names: &[String]) -> Result<Vec<&'static EnzymeData>, ToolError> {
    if names.is_empty() {
        return Err(ToolError::invalid_argument(
            "enzymes",
            "is empty; name at least one enzyme, e.g. [\"EcoRI\"]",
        ));
    }
    if names.len() > MAX_ENZYMES {
        return Err(ToolError::invalid_argument(
            "enzymes",
            format!(
                "has {} names; the limit is {MAX_ENZYMES} per call",
                names.len()
            ),
        ));
    }
    let mut out: Vec<&'static EnzymeData> = Vec::new();
    for n in names {
        let e = enzymes::lookup("enzymes", n)?;
        if e.cuts_twice() {
            return Err(ToolError::unsupported(format!(
                "{} cuts on both sides of its site (two cuts per site, excising a short \
                 fragment); enzymes that cut twice are not supported: remove it from `enzymes`",
                e.name
            )));
        }
        if !out.iter().any(|o| o.name == e.name) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Finds every site of `enzyme` in `seq` (A/C/G/T, validated by the
/// caller). The benchmark kernel.
pub fn find_sites(seq: &[u8], enzyme: &EnzymeData, circular: bool) -> Vec<Site> {
    let n = seq.len();
    let fwd: Vec<u8> = enzyme.site.bytes().map(dna::mask).collect();
    let k = fwd.len();
    let palindromic = enzyme.is_palindromic();
    let rev: Vec<u8> = dna::reverse_complement(enzyme.site)
        .bytes()
        .map(dna::mask)
        .collect();
    let codes: Vec<u8> = seq.iter().map(|&b| dna::mask(b)).collect();
    let starts = if circular {
        if k <= n { n } else { 0 }
    } else {
        (n + 1).saturating_sub(k)
    };
    let matches = |pat: &[u8], s: usize| {
        pat.iter().enumerate().all(|(i, &m)| {
            let j = s + i;
            let c = if j < n { codes[j] } else { codes[j - n] };
            c & m != 0
        })
    };
    let mut out = Vec::new();
    for s in 0..starts {
        if matches(&fwd, s) {
            out.push(site(seq, enzyme, s, Strand::Forward, circular));
        }
        if !palindromic && matches(&rev, s) {
            out.push(site(seq, enzyme, s, Strand::Reverse, circular));
        }
    }
    out
}

fn site(seq: &[u8], e: &EnzymeData, s: usize, strand: Strand, circular: bool) -> Site {
    let n = seq.len() as i64;
    let s64 = s as i64;
    let k = e.site.len() as i64;
    let (top, bottom) = match strand {
        Strand::Forward => (s64 + e.fst5 as i64, s64 + k + e.fst3 as i64),
        Strand::Reverse => (s64 - e.fst3 as i64, s64 + k - e.fst5 as i64),
    };
    let place = |c: i64| -> Option<usize> {
        if circular {
            Some(c.rem_euclid(n) as usize)
        } else if c >= 1 && c < n {
            Some(c as usize)
        } else {
            None
        }
    };
    // On a linear sequence the enzyme cuts only when both strands are cut
    // inside it (as Biopython); otherwise neither cut is reported.
    let (top_cut, bottom_cut) = match (place(top), place(bottom)) {
        (Some(t), Some(b)) => (Some(t), Some(b)),
        _ => (None, None),
    };
    let overhang = match (top_cut, bottom_cut) {
        (Some(_), Some(_)) => {
            let (a, b) = (top.min(bottom), top.max(bottom));
            Some(
                (a..b)
                    .map(|i| seq[i.rem_euclid(n) as usize].to_ascii_uppercase() as char)
                    .collect(),
            )
        }
        _ => None,
    };
    Site {
        position: s,
        strand,
        top_cut,
        bottom_cut,
        overhang,
    }
}

/// Validates the input and finds the sites of every enzyme.
pub fn find_all(
    sequence: &str,
    names: &[String],
    circular: bool,
) -> Result<Vec<EnzymeSites>, ToolError> {
    dna::validate("sequence", sequence)?;
    let enzymes = resolve(names)?;
    Ok(enzymes
        .into_iter()
        .map(|e| EnzymeSites {
            enzyme: e,
            sites: find_sites(sequence.as_bytes(), e, circular),
        })
        .collect())
}

/// One digestion product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// First base, 0-based on the top strand.
    pub start: usize,
    /// End, exclusive. A fragment crossing the origin of a circular
    /// sequence has `end <= start`.
    pub end: usize,
    /// Length in bases.
    pub length: usize,
    /// Top-strand sequence (case kept).
    pub sequence: String,
    /// Enzymes cutting at the left end (empty at a linear sequence's start).
    pub left_enzymes: Vec<String>,
    /// Enzymes cutting at the right end (empty at a linear sequence's end).
    pub right_enzymes: Vec<String>,
}

/// Digests with every enzyme at once: the fragments between consecutive
/// top-strand cuts, in order along the sequence. Linear: from the start to
/// the end; circular: from the first cut, the last fragment crossing the
/// origin. No cut: the whole sequence (start 0, end its length).
pub fn digest(
    sequence: &str,
    names: &[String],
    circular: bool,
) -> Result<Vec<Fragment>, ToolError> {
    let all = find_all(sequence, names, circular)?;
    let mut cuts: Vec<(usize, &'static str)> = all
        .iter()
        .flat_map(|es| {
            es.sites
                .iter()
                .filter_map(move |s| s.top_cut.map(|c| (c, es.enzyme.name)))
        })
        .collect();
    cuts.sort();
    cuts.dedup();
    // Cut positions with the enzymes cutting there, in one pass.
    let mut grouped: Vec<(usize, Vec<String>)> = Vec::new();
    for (p, name) in cuts {
        match grouped.last_mut() {
            Some((q, names)) if *q == p => names.push(name.to_string()),
            _ => grouped.push((p, vec![name.to_string()])),
        }
    }
    let n = sequence.len();
    let frag = |start: usize, end: usize, left: Vec<String>, right: Vec<String>| {
        let seq = if end > start {
            sequence[start..end].to_string()
        } else {
            format!("{}{}", &sequence[start..], &sequence[..end])
        };
        Fragment {
            start,
            end,
            length: seq.len(),
            sequence: seq,
            left_enzymes: left,
            right_enzymes: right,
        }
    };
    if grouped.is_empty() {
        return Ok(vec![frag(0, n, Vec::new(), Vec::new())]);
    }
    let mut out = Vec::with_capacity(grouped.len() + 1);
    if circular {
        for (i, (p, left)) in grouped.iter().enumerate() {
            let (q, right) = &grouped[(i + 1) % grouped.len()];
            out.push(frag(*p, *q, left.clone(), right.clone()));
        }
    } else {
        let mut prev = (0, Vec::new());
        for (p, names) in &grouped {
            out.push(frag(prev.0, *p, prev.1, names.clone()));
            prev = (*p, names.clone());
        }
        out.push(frag(prev.0, n, prev.1, Vec::new()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ecori_cuts_after_g() {
        let f = digest("GGGGAATTCCCC", &names(&["EcoRI"]), false).unwrap();
        let s: Vec<&str> = f.iter().map(|f| f.sequence.as_str()).collect();
        assert_eq!(s, ["GGGG", "AATTCCCC"]);
        let all = find_all("GGGGAATTCCCC", &names(&["EcoRI"]), false).unwrap();
        let site = &all[0].sites[0];
        assert_eq!(site.position, 3);
        assert_eq!((site.top_cut, site.bottom_cut), (Some(4), Some(8)));
        assert_eq!(site.overhang.as_deref(), Some("AATT"));
    }

    #[test]
    fn bsai_both_strands() {
        //          0123456789012345678901234567
        let seq = "AAGGTCTCAGCTTACCCCGTTTGAGACCAA";
        let all = find_all(seq, &names(&["BsaI"]), false).unwrap();
        let s = &all[0].sites;
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].strand, Strand::Forward);
        assert_eq!((s[0].top_cut, s[0].bottom_cut), (Some(9), Some(13)));
        assert_eq!(s[0].overhang.as_deref(), Some("GCTT"));
        assert_eq!(s[1].strand, Strand::Reverse);
        assert_eq!(s[1].position, 22);
        assert_eq!((s[1].top_cut, s[1].bottom_cut), (Some(17), Some(21)));
        assert_eq!(s[1].overhang.as_deref(), Some("CGTT"));
    }

    #[test]
    fn pst_i_three_prime_and_circular_wrap() {
        let all = find_all("AACTGCAGAA", &names(&["PstI"]), false).unwrap();
        let s = &all[0].sites[0];
        assert_eq!((s.top_cut, s.bottom_cut), (Some(7), Some(3)));
        assert_eq!(s.overhang.as_deref(), Some("TGCA"));
        // EcoRI site across the origin: AATTC...G
        let seq = "AATTCCCCCCG";
        assert!(
            find_all(seq, &names(&["EcoRI"]), false).unwrap()[0]
                .sites
                .is_empty()
        );
        let c = find_all(seq, &names(&["EcoRI"]), true).unwrap();
        assert_eq!(c[0].sites[0].position, 10);
        assert_eq!(c[0].sites[0].top_cut, Some(0));
        let f = digest(seq, &names(&["EcoRI"]), true).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].sequence, seq);
        let f = digest("CCGAATTCGG", &names(&["EcoRI"]), true).unwrap();
        assert_eq!(
            (f[0].start, f[0].end, f[0].sequence.as_str()),
            (3, 3, "AATTCGGCCG")
        );
        let f = digest("CCCC", &names(&["EcoRI"]), true).unwrap();
        assert_eq!((f[0].start, f[0].end, f[0].length), (0, 4, 4));
    }

    #[test]
    fn refuses_double_cutters_and_unknown() {
        let e = resolve(&names(&["BaeI"])).unwrap_err().to_string();
        assert!(e.contains("both sides"), "{e}");
        assert!(
            resolve(&names(&["EcoRJ"]))
                .unwrap_err()
                .to_string()
                .contains("EcoRI")
        );
    }
}
