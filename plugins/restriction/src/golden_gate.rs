//! Golden Gate assembly with one Type IIS enzyme.
//!
//! Each part holds an inward-facing pair of sites: the enzyme's site on the
//! top strand before the insert (e.g. BsaI `GGTCTC N` + overhang) and its
//! reverse complement after it (overhang + `N GAGACC`). Cutting releases the
//! insert with a 5' overhang on each side; parts ligate where the right
//! overhang of one equals the left overhang of the next. Parts are taken in
//! the orientation given.

use crate::dna;
use crate::enzymes::{self, EnzymeData};
use crate::sites::{Strand, find_sites};
use bioai_sdk::ToolError;

/// The most parts accepted in one assembly.
pub const MAX_PARTS: usize = 100;
/// The enzyme of an assembly when the call names none.
pub const DEFAULT_ENZYME: &str = "BsaI";

/// A circular assembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembly {
    /// The enzyme used.
    pub enzyme: &'static str,
    /// The circular product, starting with the first part's left overhang.
    pub sequence: String,
    /// Its length.
    pub length: usize,
    /// Part indices (0-based, as given) in assembly order, starting with 0.
    pub order: Vec<usize>,
    /// The junction overhangs in order: `overhangs[i]` joins part
    /// `order[i - 1]` (the last part for i = 0) to part `order[i]`.
    pub overhangs: Vec<String>,
}

struct Cut {
    /// Start of the left overhang (top-strand cut of the left site).
    left: usize,
    /// Start of the right overhang (top-strand cut of the right site).
    right: usize,
}

fn enzyme_for(name: &str) -> Result<&'static EnzymeData, ToolError> {
    let e = enzymes::lookup("enzyme", name)?;
    let k = e.site.len() as i32;
    if e.cuts_twice() || e.is_palindromic() || e.overhang() >= 0 || e.fst5 < k {
        return Err(ToolError::invalid_argument(
            "enzyme",
            format!(
                "{} ({}) is not a Golden Gate enzyme: it must be a Type IIS enzyme with a \
                 non-palindromic site that cuts once downstream of it leaving a 5' overhang \
                 (e.g. BsaI, BsmBI, BbsI, SapI, Esp3I, PaqCI)",
                e.name, e.site
            ),
        ));
    }
    Ok(e)
}

fn part_cut(i: usize, part: &str, e: &EnzymeData) -> Result<Cut, ToolError> {
    let arg = format!("parts[{i}]");
    dna::validate(&arg, part)?;
    let sites = find_sites(part.as_bytes(), e, false);
    let all: Vec<(usize, Strand)> = sites.iter().map(|s| (s.position, s.strand)).collect();
    let fwd: Vec<usize> = all
        .iter()
        .filter(|s| s.1 == Strand::Forward)
        .map(|s| s.0)
        .collect();
    let rev: Vec<usize> = all
        .iter()
        .filter(|s| s.1 == Strand::Reverse)
        .map(|s| s.0)
        .collect();
    let site = e.site;
    let rc = dna::reverse_complement(site);
    if fwd.is_empty() || rev.is_empty() {
        return Err(ToolError::invalid_argument(
            arg,
            format!(
                "needs a {} site ({site}) before its insert and one in reverse ({rc}) after \
                 it; found {} forward and {} reverse",
                e.name,
                fwd.len(),
                rev.len()
            ),
        ));
    }
    if fwd.len() + rev.len() > 2 {
        let pos: Vec<String> = all
            .iter()
            .map(|(p, s)| {
                format!(
                    "{p} ({})",
                    if *s == Strand::Forward {
                        &site
                    } else {
                        rc.as_str()
                    }
                )
            })
            .collect();
        return Err(ToolError::invalid_argument(
            arg,
            format!(
                "has {} {} sites (at 0-based {}): an internal site in the insert would be cut \
                 too; remove it (domesticate the part) so only the two flanking sites remain",
                all.len(),
                e.name,
                pos.join(", ")
            ),
        ));
    }
    let (f, r) = (fwd[0] as i64, rev[0] as i64);
    let k = site.len() as i64;
    let ov = e.overhang().unsigned_abs() as i64;
    let left = f + e.fst5 as i64;
    let right = r - e.fst3 as i64;
    let n = part.len() as i64;
    if f > r || left + ov > right || right < 0 || f + k + e.fst3 as i64 > n {
        return Err(ToolError::invalid_argument(
            arg,
            format!(
                "its {} sites do not flank an insert: expected {site} at the 5' side and {rc} \
                 at the 3' side, facing inward, with the overhangs between them (found {site} \
                 at {f} and {rc} at {r})",
                e.name
            ),
        ));
    }
    Ok(Cut {
        left: left as usize,
        right: right as usize,
    })
}

/// Cuts every part and assembles them into one circle, checking the
/// overhangs for clashes.
pub fn assemble(parts: &[String], enzyme: &str) -> Result<Assembly, ToolError> {
    let e = enzyme_for(enzyme)?;
    if parts.is_empty() {
        return Err(ToolError::invalid_argument(
            "parts",
            "is empty; give at least one part",
        ));
    }
    if parts.len() > MAX_PARTS {
        return Err(ToolError::invalid_argument(
            "parts",
            format!("has {} parts; the limit is {MAX_PARTS}", parts.len()),
        ));
    }
    let ov = e.overhang().unsigned_abs() as usize;
    let cuts: Vec<Cut> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| part_cut(i, p, e))
        .collect::<Result<_, _>>()?;
    let up = |s: &str| s.to_ascii_uppercase();
    let lefts: Vec<String> = cuts
        .iter()
        .zip(parts)
        .map(|(c, p)| up(&p[c.left..c.left + ov]))
        .collect();
    let rights: Vec<String> = cuts
        .iter()
        .zip(parts)
        .map(|(c, p)| up(&p[c.right..c.right + ov]))
        .collect();
    // Palindromic overhangs can ligate to themselves in either orientation.
    for (i, (l, r)) in lefts.iter().zip(&rights).enumerate() {
        for (side, o) in [("left", l), ("right", r)] {
            if dna::reverse_complement(o) == *o {
                return Err(ToolError::invalid_argument(
                    "parts",
                    format!(
                        "part {i}'s {side} overhang {o} is palindromic: it ligates to itself \
                         and in either orientation; choose a non-palindromic overhang"
                    ),
                ));
            }
        }
    }
    for (what, list) in [("left", &lefts), ("right", &rights)] {
        for i in 0..list.len() {
            for j in i + 1..list.len() {
                if list[i] == list[j] {
                    return Err(ToolError::invalid_argument(
                        "parts",
                        format!(
                            "parts {i} and {j} have the same {what} overhang {}: the order \
                             would be ambiguous; give every junction its own overhang",
                            list[i]
                        ),
                    ));
                }
            }
        }
    }
    let mut distinct: Vec<&String> = lefts.iter().chain(&rights).collect();
    distinct.sort();
    distinct.dedup();
    for (a, x) in distinct.iter().enumerate() {
        let rc = dna::reverse_complement(x);
        if let Some(y) = distinct[a + 1..].iter().find(|y| ***y == rc) {
            return Err(ToolError::invalid_argument(
                "parts",
                format!(
                    "overhang {x} is the reverse complement of overhang {y}: those ends would \
                     ligate to each other in reverse; change one of them (give parts in the \
                     orientation they take in the assembly)"
                ),
            ));
        }
    }
    // Follow right overhang -> matching left overhang from part 0.
    let mut order = vec![0usize];
    let mut seen = vec![false; parts.len()];
    seen[0] = true;
    let mut cur = 0;
    loop {
        let next = lefts
            .iter()
            .position(|l| *l == rights[cur])
            .ok_or_else(|| {
                ToolError::invalid_argument(
                    "parts",
                    format!(
                        "part {cur}'s right overhang {} matches no part's left overhang, so the \
                     parts do not close into a circle",
                        rights[cur]
                    ),
                )
            })?;
        if next == 0 {
            break;
        }
        if seen[next] {
            // Unreachable with unique left overhangs, kept as a guard.
            return Err(ToolError::invalid_argument(
                "parts",
                "the overhangs do not form a single cycle",
            ));
        }
        seen[next] = true;
        order.push(next);
        cur = next;
    }
    if order.len() != parts.len() {
        let unused: Vec<String> = (0..parts.len())
            .filter(|i| !seen[*i])
            .map(|i| i.to_string())
            .collect();
        return Err(ToolError::invalid_argument(
            "parts",
            format!(
                "the parts do not form a single circle: starting from part 0 the overhangs \
                 close after {} part(s) (order {:?}), leaving parts {} in another cycle",
                order.len(),
                order,
                unused.join(", ")
            ),
        ));
    }
    let mut sequence = String::new();
    for &i in &order {
        sequence.push_str(&parts[i][cuts[i].left..cuts[i].right]);
    }
    let product = find_sites(sequence.as_bytes(), e, true);
    if let Some(s) = product.first() {
        return Err(ToolError::invalid_argument(
            "parts",
            format!(
                "the assembled product contains a {} site at position {} (0-based, across a \
                 junction): it would be cut again; change the overhangs or the part ends",
                e.name, s.position
            ),
        ));
    }
    let overhangs = order.iter().map(|&i| lefts[i].clone()).collect();
    Ok(Assembly {
        enzyme: e.name,
        length: sequence.len(),
        sequence,
        order,
        overhangs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(left: &str, insert: &str, right: &str) -> String {
        format!("TTGGTCTCA{left}{insert}{right}TGAGACCAA")
    }

    #[test]
    fn assembles_three_parts() {
        let parts = vec![
            part("AATG", "CCCCCC", "GCTT"),
            part("TACT", "TTTTAT", "AATG"),
            part("GCTT", "AAAACA", "TACT"),
        ];
        let a = assemble(&parts, "bsai").unwrap();
        assert_eq!(a.order, [0, 2, 1]);
        assert_eq!(a.overhangs, ["AATG", "GCTT", "TACT"]);
        assert_eq!(a.sequence, "AATGCCCCCCGCTTAAAACATACTTTTTAT");
    }

    #[test]
    fn clashes() {
        let e = |parts: Vec<String>| assemble(&parts, "BsaI").unwrap_err().to_string();
        assert!(e(vec![part("AATG", "CC", "GATC")]).contains("palindromic"));
        assert!(
            e(vec![part("AATG", "CC", "GCTT"), part("AATG", "CC", "TACT")]).contains("same left")
        );
        assert!(
            e(vec![part("AATG", "CC", "GCTT"), part("GCTT", "CC", "CATT")])
                .contains("reverse complement")
        );
        assert!(e(vec![part("AATG", "GGTCTC", "GCTT")]).contains("internal"));
        assert!(
            e(vec![part("AATG", "CC", "GCTT"), part("GCTT", "CC", "TACT")]).contains("matches no")
        );
        assert!(
            e(vec![
                part("AATG", "CC", "AATG"),
                part("GCTT", "CC", "TACT"),
                part("TACT", "CC", "GCTT")
            ])
            .contains("single circle")
        );
        assert!(assemble(&[part("AATG", "CC", "AATG")], "EcoRI").is_err());
    }
}
