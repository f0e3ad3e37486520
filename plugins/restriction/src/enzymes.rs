//! The enzyme table and name lookup.

use crate::dna;
use crate::enzymes_data::ENZYMES;
use bioai_sdk::ToolError;

/// One row of the generated table (REBASE via Biopython's
/// `Restriction_Dictionary`): cut offsets as Biopython stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnzymeData {
    /// Enzyme name, e.g. `EcoRI`.
    pub name: &'static str,
    /// Recognition site, 5'->3', IUPAC codes.
    pub site: &'static str,
    /// Top-strand cut, counted from the first base of the site: the cut is
    /// between site bases `fst5 - 1` and `fst5` (may be negative or beyond
    /// the site).
    pub fst5: i32,
    /// Bottom-strand cut, counted from the end of the site on the top
    /// strand: the cut is at top-strand offset `site.len() + fst3`.
    pub fst3: i32,
    /// Second top-strand cut of enzymes that cut on both sides of the site.
    pub scd5: Option<i32>,
    /// Second bottom-strand cut of enzymes that cut on both sides.
    pub scd3: Option<i32>,
    /// Overhang: negative 5', positive 3', zero blunt; its magnitude is the
    /// length.
    pub ovhg: i32,
    /// REBASE one-letter codes of the commercial suppliers.
    pub suppliers: &'static str,
}

impl EnzymeData {
    /// True when the site reads the same on both strands (IUPAC-aware).
    pub fn is_palindromic(&self) -> bool {
        dna::reverse_complement(self.site) == self.site
    }

    /// The overhang computed from the cuts: `fst5 - (site length + fst3)`;
    /// negative 5', positive 3', zero blunt. Equal to the table's `ovhg`
    /// except for TscAI/TspRI (CASTG, 9-nt 3' overhang), where REBASE's
    /// stored value (10) disagrees with its own cut positions.
    pub fn overhang(&self) -> i32 {
        self.fst5 - (self.site.len() as i32 + self.fst3)
    }

    /// True when the enzyme cuts twice per site (both sides, e.g. BaeI).
    pub fn cuts_twice(&self) -> bool {
        self.scd5.is_some()
    }
}

/// Looks an enzyme up by name, case-insensitively.
pub fn find(name: &str) -> Option<&'static EnzymeData> {
    let name = name.trim();
    ENZYMES.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

/// Looks up an enzyme, or an error naming up to five close matches.
pub fn lookup(argument: &str, name: &str) -> Result<&'static EnzymeData, ToolError> {
    if let Some(e) = find(name) {
        return Ok(e);
    }
    let close = close_matches(name, 5);
    let hint = if close.is_empty() {
        "no similar name is known; use REBASE names such as EcoRI, BamHI, BsaI".to_string()
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Err(ToolError::invalid_argument(
        argument,
        format!(
            "unknown enzyme {name:?} (the commercially available REBASE set is \
             supported); {hint}"
        ),
    ))
}

/// Up to `max` enzyme names closest to `name` (case-insensitive edit
/// distance at most 2, or sharing its first letters), closest first.
pub fn close_matches(name: &str, max: usize) -> Vec<&'static str> {
    let q = name.trim().to_ascii_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &'static str)> = ENZYMES
        .iter()
        .filter_map(|e| {
            let n = e.name.to_ascii_lowercase();
            let d = edit_distance(&q, &n);
            let limit = if q.len() <= 3 { 1 } else { 2 };
            if d <= limit {
                Some((d, e.name))
            } else if q.len() >= 3 && n.starts_with(&q) {
                Some((limit + 1, e.name))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.into_iter().take(max).map(|(_, n)| n).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_usual_enzymes() {
        let e = find("ecori").unwrap();
        assert_eq!((e.site, e.fst5, e.fst3, e.ovhg), ("GAATTC", 1, -1, -4));
        let b = find("BsaI").unwrap();
        assert_eq!((b.site, b.fst5, b.fst3, b.ovhg), ("GGTCTC", 7, 5, -4));
        for n in [
            "BsmBI", "BbsI", "SapI", "PstI", "KpnI", "EcoRV", "SmaI", "BstYI", "HincII", "BslI",
        ] {
            assert!(find(n).is_some(), "{n}");
        }
        assert!(find("BaeI").unwrap().cuts_twice());
        assert!(ENZYMES.len() > 500);
        for e in ENZYMES {
            assert!(e.site.bytes().all(|b| dna::mask(b) != 0), "{}", e.name);
            if !matches!(e.name, "TscAI" | "TspRI") {
                assert_eq!(e.ovhg, e.overhang(), "{}", e.name);
            }
        }
    }

    #[test]
    fn unknown_names_suggest() {
        let e = lookup("enzymes", "EcoR1").unwrap_err().to_string();
        assert!(e.contains("EcoRI"), "{e}");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
