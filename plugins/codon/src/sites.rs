//! Avoid-sites: IUPAC DNA patterns searched on both strands.

use bioai_sdk::ToolError;

/// Most avoid-sites per call.
pub const MAX_SITES: usize = 64;
/// Longest avoid-site, in bases.
pub const MAX_SITE_LEN: usize = 64;

/// Which strand(s) of the CDS an occurrence is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strand {
    /// The site reads 5'->3' on the CDS strand.
    Forward,
    /// The site's reverse complement is on the CDS strand.
    Reverse,
    /// Both (a palindromic match).
    Both,
}

/// One parsed avoid-site.
#[derive(Clone, Debug)]
pub struct Site {
    /// The site as given, upper-cased (U read as T).
    pub text: String,
    /// Bitmask (A=1, C=2, G=4, T=8) of each position, forward.
    fwd: Vec<u8>,
    /// The same for the reverse complement.
    rev: Vec<u8>,
}

fn mask(b: u8) -> Option<u8> {
    Some(match b {
        b'A' => 1,
        b'C' => 2,
        b'G' => 4,
        b'T' | b'U' => 8,
        b'R' => 1 | 4,
        b'Y' => 2 | 8,
        b'S' => 2 | 4,
        b'W' => 1 | 8,
        b'K' => 4 | 8,
        b'M' => 1 | 2,
        b'B' => 2 | 4 | 8,
        b'D' => 1 | 4 | 8,
        b'H' => 1 | 2 | 8,
        b'V' => 1 | 2 | 4,
        b'N' => 15,
        _ => return None,
    })
}

/// Complement of a bitmask (A<->T, C<->G).
fn comp(m: u8) -> u8 {
    ((m & 1) << 3) | ((m & 2) << 1) | ((m & 4) >> 1) | ((m & 8) >> 3)
}

/// Bit of an upper-case A/C/G/T base.
fn bit(b: u8) -> u8 {
    match b {
        b'A' => 1,
        b'C' => 2,
        b'G' => 4,
        _ => 8,
    }
}

impl Site {
    /// Parses one site (IUPAC DNA letters, case-insensitive, U as T).
    pub fn parse(text: &str, index: usize) -> Result<Site, ToolError> {
        let arg = "avoid_sites";
        let up = text.trim().to_ascii_uppercase();
        if up.is_empty() {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "site {} is empty: give DNA letters such as GAATTC",
                    index + 1
                ),
            ));
        }
        if up.len() > MAX_SITE_LEN {
            return Err(ToolError::invalid_argument(
                arg,
                format!(
                    "site {} is {} bases long; at most {MAX_SITE_LEN} are allowed",
                    index + 1,
                    up.len()
                ),
            ));
        }
        let mut fwd = Vec::with_capacity(up.len());
        for (i, b) in up.bytes().enumerate() {
            match mask(b) {
                Some(m) => fwd.push(m),
                None => {
                    return Err(ToolError::invalid_argument(
                        arg,
                        format!(
                            "site {} ({text:?}) has {:?} at position {}: only IUPAC DNA letters \
                             A C G T U R Y S W K M B D H V N are allowed",
                            index + 1,
                            char::from(b),
                            i + 1
                        ),
                    ));
                }
            }
        }
        let rev = fwd.iter().rev().map(|&m| comp(m)).collect();
        Ok(Site {
            text: up.replace('U', "T"),
            fwd,
            rev,
        })
    }

    /// Length in bases.
    pub fn len(&self) -> usize {
        self.fwd.len()
    }

    /// Always false (sites are never empty).
    pub fn is_empty(&self) -> bool {
        self.fwd.is_empty()
    }

    /// Whether the site occurs at `start` of `dna` (upper-case ACGT), and on
    /// which strand.
    pub fn at(&self, dna: &[u8], start: usize) -> Option<Strand> {
        let end = start + self.len();
        if end > dna.len() {
            return None;
        }
        let w = &dna[start..end];
        let f = w.iter().zip(&self.fwd).all(|(&b, &m)| bit(b) & m != 0);
        let r = w.iter().zip(&self.rev).all(|(&b, &m)| bit(b) & m != 0);
        match (f, r) {
            (true, true) => Some(Strand::Both),
            (true, false) => Some(Strand::Forward),
            (false, true) => Some(Strand::Reverse),
            (false, false) => None,
        }
    }

    /// Every occurrence `(start, strand)` in `dna`, by start: a bit-parallel
    /// Shift-And scan (Baeza-Yates & Gonnet 1992), one pass per strand,
    /// O(length of `dna`).
    pub fn find_all(&self, dna: &[u8]) -> Vec<(usize, Strand)> {
        let len = self.len();
        let table = |pat: &[u8]| {
            let mut b = [0u64; 4];
            for (j, &m) in pat.iter().enumerate() {
                for (k, bk) in b.iter_mut().enumerate() {
                    if m & (1 << k) != 0 {
                        *bk |= 1 << j;
                    }
                }
            }
            b
        };
        let (bf, br) = (table(&self.fwd), table(&self.rev));
        let top = 1u64 << (len - 1);
        let (mut df, mut dr) = (0u64, 0u64);
        let mut out = Vec::new();
        for (i, &c) in dna.iter().enumerate() {
            let k = bit(c).trailing_zeros() as usize;
            df = ((df << 1) | 1) & bf[k];
            dr = ((dr << 1) | 1) & br[k];
            let (f, r) = (df & top != 0, dr & top != 0);
            if f || r {
                let strand = match (f, r) {
                    (true, true) => Strand::Both,
                    (true, false) => Strand::Forward,
                    _ => Strand::Reverse,
                };
                out.push((i + 1 - len, strand));
            }
        }
        out
    }
}

/// Occurrences `(site index, start)` of any site that overlap `[from, to)`
/// of `dna`, appended to `out` (cleared first).
pub fn overlapping(
    sites: &[Site],
    dna: &[u8],
    from: usize,
    to: usize,
    out: &mut Vec<(usize, usize)>,
) {
    out.clear();
    for (k, s) in sites.iter().enumerate() {
        let lo = (from + 1).saturating_sub(s.len());
        for start in lo..to {
            if s.at(dna, start).is_some() {
                out.push((k, start));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_strands_with_iupac() {
        let s = Site::parse("GGTCTC", 0).unwrap(); // BsaI
        assert_eq!(s.find_all(b"AAGGTCTCAA"), vec![(2, Strand::Forward)]);
        assert_eq!(s.find_all(b"AAGAGACCAA"), vec![(2, Strand::Reverse)]);
        let e = Site::parse("gaattc", 0).unwrap();
        assert_eq!(e.find_all(b"GAATTC"), vec![(0, Strand::Both)]);
        let n = Site::parse("GCNGC", 0).unwrap();
        assert_eq!(n.find_all(b"TGCAGCT"), vec![(1, Strand::Both)]);
        let r = Site::parse("RAA", 0).unwrap();
        assert_eq!(r.find_all(b"CTTC"), vec![(1, Strand::Reverse)]);
        assert!(Site::parse("GAXTC", 0).is_err());
        assert!(Site::parse("", 0).is_err());
        let mut v = Vec::new();
        overlapping(std::slice::from_ref(&e), b"CCGAATTCGAATTC", 7, 9, &mut v);
        assert_eq!(v, vec![(0, 2), (0, 8)]);
        assert_eq!(e.find_all(b"CCGAATTCGAATTC").len(), 2);
        let all = Site::parse(&"N".repeat(64), 0).unwrap();
        assert_eq!(all.find_all(&[b'A'; 70]).len(), 7);
    }
}
