//! Melting temperatures, computed exactly as Biopython 1.85's
//! `Bio.SeqUtils.MeltingTemp` does (`Tm_NN`, `Tm_Wallace`, `Tm_GC` and
//! `salt_correction`), operation by operation, so results agree to
//! floating-point rounding.
//!
//! Differences, all on the side of refusing input Biopython would silently
//! misread: characters other than A, C, G, T, U (upper or lower case) are
//! rejected instead of dropped (Biopython removes whitespace, N, digits...
//! and computes the Tm of what is left); inosine (I), mismatch (X) and
//! user-supplied complements / dangling ends are not supported.

use bioai_sdk::ToolError;

/// Gas constant used by Biopython, cal/(K mol).
const R_GAS: f64 = 1.987;

/// The alphabet hint of error messages.
const ACGT_HINT: &str = "use only A, C, G, T or U (upper or lower case), with no spaces";

/// One nearest-neighbour thermodynamic table (ΔH kcal/mol, ΔS cal/(K mol)),
/// transcribed from Biopython's `MeltingTemp` module.
#[derive(Debug, Clone, Copy)]
pub struct NnTable {
    /// Biopython's name, e.g. `DNA_NN3`.
    pub name: &'static str,
    /// The source publication.
    pub source: &'static str,
    init: (f64, f64),
    init_at: (f64, f64),
    init_gc: (f64, f64),
    init_one_gc: (f64, f64),
    init_all_at: (f64, f64),
    init_5t_a: (f64, f64),
    sym: (f64, f64),
    /// Keys `XY/ZW` (5'XY3' over 3'ZW5') with their (ΔH, ΔS).
    pairs: &'static [(&'static str, f64, f64)],
}

/// Breslauer et al. (1986), Proc Natl Acad Sci USA 83: 3746-3750.
pub const DNA_NN1: NnTable = NnTable {
    name: "DNA_NN1",
    source: "Breslauer et al. (1986)",
    init: (0.0, 0.0),
    init_at: (0.0, 0.0),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, -16.8),
    init_all_at: (0.0, -20.1),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.3),
    pairs: &[
        ("AA/TT", -9.1, -24.0),
        ("AT/TA", -8.6, -23.9),
        ("TA/AT", -6.0, -16.9),
        ("CA/GT", -5.8, -12.9),
        ("GT/CA", -6.5, -17.3),
        ("CT/GA", -7.8, -20.8),
        ("GA/CT", -5.6, -13.5),
        ("CG/GC", -11.9, -27.8),
        ("GC/CG", -11.1, -26.7),
        ("GG/CC", -11.0, -26.6),
    ],
};

/// Sugimoto et al. (1996), Nuc Acids Res 24: 4501-4505.
pub const DNA_NN2: NnTable = NnTable {
    name: "DNA_NN2",
    source: "Sugimoto et al. (1996)",
    init: (0.6, -9.0),
    init_at: (0.0, 0.0),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -8.0, -21.9),
        ("AT/TA", -5.6, -15.2),
        ("TA/AT", -6.6, -18.4),
        ("CA/GT", -8.2, -21.0),
        ("GT/CA", -9.4, -25.5),
        ("CT/GA", -6.6, -16.4),
        ("GA/CT", -8.8, -23.5),
        ("CG/GC", -11.8, -29.0),
        ("GC/CG", -10.5, -26.4),
        ("GG/CC", -10.9, -28.4),
    ],
};

/// Allawi and SantaLucia (1997), Biochemistry 36: 10581-10594.
pub const DNA_NN3: NnTable = NnTable {
    name: "DNA_NN3",
    source: "Allawi & SantaLucia (1997)",
    init: (0.0, 0.0),
    init_at: (2.3, 4.1),
    init_gc: (0.1, -2.8),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -7.9, -22.2),
        ("AT/TA", -7.2, -20.4),
        ("TA/AT", -7.2, -21.3),
        ("CA/GT", -8.5, -22.7),
        ("GT/CA", -8.4, -22.4),
        ("CT/GA", -7.8, -21.0),
        ("GA/CT", -8.2, -22.2),
        ("CG/GC", -10.6, -27.2),
        ("GC/CG", -9.8, -24.4),
        ("GG/CC", -8.0, -19.9),
    ],
};

/// SantaLucia & Hicks (2004), Annu Rev Biophys Biomol Struct 33: 415-440.
pub const DNA_NN4: NnTable = NnTable {
    name: "DNA_NN4",
    source: "SantaLucia & Hicks (2004)",
    init: (0.2, -5.7),
    init_at: (2.2, 6.9),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -7.6, -21.3),
        ("AT/TA", -7.2, -20.4),
        ("TA/AT", -7.2, -21.3),
        ("CA/GT", -8.5, -22.7),
        ("GT/CA", -8.4, -22.4),
        ("CT/GA", -7.8, -21.0),
        ("GA/CT", -8.2, -22.2),
        ("CG/GC", -10.6, -27.2),
        ("GC/CG", -9.8, -24.4),
        ("GG/CC", -8.0, -19.9),
    ],
};

/// RNA/RNA: Freier et al. (1986), Proc Natl Acad Sci USA 83: 9373-9377.
pub const RNA_NN1: NnTable = NnTable {
    name: "RNA_NN1",
    source: "Freier et al. (1986)",
    init: (0.0, -10.8),
    init_at: (0.0, 0.0),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -6.6, -18.4),
        ("AT/TA", -5.7, -15.5),
        ("TA/AT", -8.1, -22.6),
        ("CA/GT", -10.5, -27.8),
        ("GT/CA", -10.2, -26.2),
        ("CT/GA", -7.6, -19.2),
        ("GA/CT", -13.3, -35.5),
        ("CG/GC", -8.0, -19.4),
        ("GC/CG", -14.2, -34.9),
        ("GG/CC", -12.2, -29.7),
    ],
};

/// RNA/RNA: Xia et al. (1998), Biochemistry 37: 14719-14735.
pub const RNA_NN2: NnTable = NnTable {
    name: "RNA_NN2",
    source: "Xia et al. (1998)",
    init: (3.61, -1.5),
    init_at: (3.72, 10.5),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -6.82, -19.0),
        ("AT/TA", -9.38, -26.7),
        ("TA/AT", -7.69, -20.5),
        ("CA/GT", -10.44, -26.9),
        ("GT/CA", -11.40, -29.5),
        ("CT/GA", -10.48, -27.1),
        ("GA/CT", -12.44, -32.5),
        ("CG/GC", -10.64, -26.7),
        ("GC/CG", -14.88, -36.9),
        ("GG/CC", -13.39, -32.7),
    ],
};

/// RNA/RNA: Chen et al. (2012), Biochemistry 51: 3508-3522 (Watson-Crick
/// stacks; its G-U wobble entries never apply to a perfect complement).
pub const RNA_NN3: NnTable = NnTable {
    name: "RNA_NN3",
    source: "Chen et al. (2012)",
    init: (6.40, 6.99),
    init_at: (3.85, 11.04),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, -1.4),
    pairs: &[
        ("AA/TT", -7.09, -19.8),
        ("AT/TA", -9.11, -25.8),
        ("TA/AT", -8.50, -22.9),
        ("CA/GT", -11.03, -28.8),
        ("GT/CA", -11.98, -31.3),
        ("CT/GA", -10.90, -28.5),
        ("GA/CT", -13.21, -34.9),
        ("CG/GC", -10.88, -27.4),
        ("GC/CG", -16.04, -40.6),
        ("GG/CC", -14.18, -35.0),
    ],
};

/// RNA/DNA: Sugimoto et al. (1995), Biochemistry 34: 11211-11216 (the
/// sequence is the RNA strand).
pub const R_DNA_NN1: NnTable = NnTable {
    name: "R_DNA_NN1",
    source: "Sugimoto et al. (1995)",
    init: (1.9, -3.9),
    init_at: (0.0, 0.0),
    init_gc: (0.0, 0.0),
    init_one_gc: (0.0, 0.0),
    init_all_at: (0.0, 0.0),
    init_5t_a: (0.0, 0.0),
    sym: (0.0, 0.0),
    pairs: &[
        ("TT/AA", -11.5, -36.4),
        ("GT/CA", -7.8, -21.6),
        ("CT/GA", -7.0, -19.7),
        ("AT/TA", -8.3, -23.9),
        ("TG/AC", -10.4, -28.4),
        ("GG/CC", -12.8, -31.9),
        ("CG/GC", -16.3, -47.1),
        ("AG/TC", -9.1, -23.5),
        ("TC/AG", -8.6, -22.9),
        ("GC/CG", -8.0, -17.1),
        ("CC/GG", -9.3, -23.2),
        ("AC/TG", -5.9, -12.3),
        ("TA/AT", -7.8, -23.2),
        ("GA/CT", -5.5, -13.5),
        ("CA/GT", -9.0, -26.1),
        ("AA/TT", -7.8, -21.9),
    ],
};

/// Every table, in the order the tool documents them.
pub const TABLES: [NnTable; 8] = [
    DNA_NN1, DNA_NN2, DNA_NN3, DNA_NN4, RNA_NN1, RNA_NN2, RNA_NN3, R_DNA_NN1,
];

/// What each byte is to the nearest-neighbour kernel, by table lookup:
/// this runs for every base of every Tm, and `match`es on bytes become
/// jump tables in WebAssembly, an indirect branch per byte.
///
/// A base (A, C, G, T, U in either case) is its index in ACGT (U as T) in
/// bits 0-1, plus [`GC_BIT`] for G and C; a separator of a `tm-many` list
/// is [`SEPARATOR`]; anything else is [`REFUSED`]. Both are at least
/// `SEPARATOR`, so one comparison tells a base from the rest.
static BASE_CLASS: [u8; 256] = {
    let mut t = [REFUSED; 256];
    let mut i = 0;
    while i < 2 {
        let lower = if i == 0 { 0 } else { 0x20 };
        t[(b'A' | lower) as usize] = 0;
        t[(b'C' | lower) as usize] = 1 | GC_BIT;
        t[(b'G' | lower) as usize] = 2 | GC_BIT;
        t[(b'T' | lower) as usize] = 3;
        t[(b'U' | lower) as usize] = 3;
        i += 1;
    }
    let mut j = 0;
    let separators = *b"\n\r \t,;";
    while j < separators.len() {
        t[separators[j] as usize] = SEPARATOR;
        j += 1;
    }
    t
};
/// Set in [`BASE_CLASS`] for G and C.
const GC_BIT: u8 = 4;
/// [`BASE_CLASS`] of a separator of a `tm-many` list.
const SEPARATOR: u8 = 8;
/// Set in [`BASE_CLASS`] for a byte that is neither a base nor a separator.
const REFUSED: u8 = 16;

const BASES: [u8; 4] = *b"ACGT";

fn complement(b: u8) -> u8 {
    match b {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        _ => b'A',
    }
}

impl NnTable {
    /// The table named `name` (case-insensitive), e.g. `DNA_NN3`.
    pub fn by_name(name: &str) -> Result<NnTable, ToolError> {
        TABLES
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
            .copied()
            .ok_or_else(|| {
                ToolError::invalid_argument(
                    "table",
                    format!(
                        "unknown table {name:?}; use one of {}",
                        TABLES.map(|t| t.name).join(", ")
                    ),
                )
            })
    }

    fn lookup(&self, key: &str) -> Option<(f64, f64)> {
        self.pairs
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|&(_, h, s)| (h, s))
    }

    /// The (ΔH, ΔS) of every Watson-Crick stack `5'ab3'/3'a'b'5'`, indexed
    /// `[a][b]` in ACGT order, looked up as Biopython does: the key
    /// `ab/a'b'`, else its reverse `b'a'/ba`.
    pub fn stacks(&self) -> [[(f64, f64); 4]; 4] {
        let mut out = [[(0.0, 0.0); 4]; 4];
        for (i, &a) in BASES.iter().enumerate() {
            for (j, &b) in BASES.iter().enumerate() {
                let key: String = [a, b, b'/', complement(a), complement(b)]
                    .iter()
                    .map(|&c| c as char)
                    .collect();
                let rev: String = key.chars().rev().collect();
                // Every table covers all 16 stacks one way or the other.
                out[i][j] = self
                    .lookup(&key)
                    .or_else(|| self.lookup(&rev))
                    .unwrap_or((0.0, 0.0));
            }
        }
        out
    }
}

fn check_finite_nonneg(name: &str, v: f64) -> Result<(), ToolError> {
    if !v.is_finite() || v < 0.0 {
        return Err(ToolError::invalid_argument(
            name,
            format!("must be a finite concentration >= 0, got {v}"),
        ));
    }
    Ok(())
}

/// Ion concentrations in millimolar, as Biopython's `Na`, `K`, `Tris`, `Mg`
/// and `dNTPs` arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Salt {
    /// Na+ (mM).
    pub na: f64,
    /// K+ (mM).
    pub k: f64,
    /// Tris buffer (mM).
    pub tris: f64,
    /// Mg2+ (mM).
    pub mg: f64,
    /// dNTPs (mM).
    pub dntps: f64,
}

impl Default for Salt {
    /// Biopython's defaults: 50 mM Na+, nothing else.
    fn default() -> Self {
        Salt {
            na: 50.0,
            k: 0.0,
            tris: 0.0,
            mg: 0.0,
            dntps: 0.0,
        }
    }
}

impl Salt {
    /// Checks every concentration is finite and non-negative.
    pub fn validate(&self) -> Result<(), ToolError> {
        check_finite_nonneg("na_mm", self.na)?;
        check_finite_nonneg("k_mm", self.k)?;
        check_finite_nonneg("tris_mm", self.tris)?;
        check_finite_nonneg("mg_mm", self.mg)?;
        check_finite_nonneg("dntps_mm", self.dntps)
    }
}

/// Biopython's `salt_correction(Na, K, Tris, Mg, dNTPs, method, seq)` for a
/// sequence of `len` bases with GC fraction `gc` (`gc_fraction(seq,
/// "ignore")`). Method 0 is no correction; 1-4 correct Tm, 5 corrects ΔS,
/// 6 and 7 correct 1/Tm (see the WIT documentation of `tm`).
pub fn salt_correction(salt: &Salt, method: u8, len: usize, gc: f64) -> Result<f64, ToolError> {
    SaltCorrection::new(salt, method)?.value(len, gc)
}

/// A salt correction with every term that depends only on the ions worked
/// out: what is left per sequence is arithmetic on its length and GC
/// fraction. Computing the logarithms once per batch instead of once per
/// sequence is most of a Tm's cost in WebAssembly, where `ln` is software.
/// The operations are Biopython's, in its order, so values are bit for bit
/// those of [`salt_correction`] written out in one piece.
#[derive(Debug, Clone, Copy)]
enum SaltCorrection {
    /// Method 0.
    None,
    /// Methods 1-4: a constant added to Tm.
    Tm(f64),
    /// Method 5: ΔS += 0.368 (N - 1) ln[Mon+].
    Entropy { ln_mon: f64 },
    /// Method 6, and 7 at a low Mg2+ to Mon+ ratio: Owczarzy et al. (2004).
    Owczarzy2004 { ln_mon: f64, square: f64 },
    /// Method 7: Owczarzy et al. (2008), Biochemistry 47: 5336-5353, as
    /// `(p + gc q + u / (2 (N - 1))) 1e-5`.
    Owczarzy2008 { p: f64, q: f64, u: f64 },
}

impl SaltCorrection {
    /// The correction `method` (0-7) for the ions of `salt`, or why these
    /// ions cannot be corrected for by it.
    fn new(salt: &Salt, method: u8) -> Result<SaltCorrection, ToolError> {
        if method > 7 {
            return Err(ToolError::invalid_argument(
                "saltcorr",
                format!("must be 0 (none) to 7, got {method}"),
            ));
        }
        if method == 0 {
            return Ok(SaltCorrection::None);
        }
        let Salt {
            na,
            k,
            tris,
            mg: mg_mm,
            dntps: dntps_mm,
        } = *salt;
        let mut mon_mm = na + k + tris / 2.0;
        let mut mg = mg_mm * 1e-3;
        if (k + mg_mm + tris + dntps_mm) > 0.0 && method != 7 && dntps_mm < mg_mm {
            // Sodium equivalent (von Ahsen et al. 2001).
            mon_mm += 120.0 * (mg_mm - dntps_mm).sqrt();
        }
        let mon = mon_mm * 1e-3;
        if (1..=6).contains(&method) && mon == 0.0 {
            return Err(ToolError::invalid_argument(
                "na_mm",
                format!(
                    "salt correction {method} needs a non-zero monovalent ion concentration \
                     (Na+ + K+ + Tris/2, plus the Mg2+ equivalent); raise na_mm or use saltcorr 0"
                ),
            ));
        }
        let owczarzy2004 = |mon: f64| SaltCorrection::Owczarzy2004 {
            ln_mon: mon.ln(),
            square: 9.40e-6 * mon.ln().powi(2),
        };
        Ok(match method {
            1 => SaltCorrection::Tm(16.6 * mon.log10()),
            2 => SaltCorrection::Tm(16.6 * (mon / (1.0 + 0.7 * mon)).log10()),
            3 => SaltCorrection::Tm(12.5 * mon.log10()),
            4 => SaltCorrection::Tm(11.7 * mon.log10()),
            5 => SaltCorrection::Entropy { ln_mon: mon.ln() },
            6 => owczarzy2004(mon),
            _ => {
                let (mut a, b, c, mut d) = (3.92, -0.911, 6.26, 1.42);
                let (e, f, mut g) = (-48.2, 52.5, 8.31);
                if dntps_mm > 0.0 {
                    let dntps = dntps_mm * 1e-3;
                    let ka = 3e4;
                    let x = ka * dntps - ka * mg + 1.0;
                    mg = (-x + (x.powi(2) + 4.0 * ka * mg).sqrt()) / (2.0 * ka);
                }
                if mg < 0.0 || mg.is_nan() {
                    return Err(ToolError::invalid_argument(
                        "mg_mm",
                        "the free Mg2+ left after dNTP binding is not a valid concentration",
                    ));
                }
                if mon_mm > 0.0 {
                    let r = mg.sqrt() / mon;
                    if r < 0.22 {
                        return Ok(owczarzy2004(mon));
                    } else if r < 6.0 {
                        let l = mon.ln();
                        a = 3.92 * (0.843 - 0.352 * mon.sqrt() * l);
                        d = 1.42 * (1.279 - 4.03e-3 * l - 8.03e-3 * l.powi(2));
                        g = 8.31 * (0.486 - 0.258 * l + 5.25e-3 * l.powi(3));
                    }
                }
                if mg == 0.0 {
                    return Err(ToolError::invalid_argument(
                        "mg_mm",
                        "salt correction 7 needs Mg2+ (free of dNTPs) or monovalent ions; \
                         set mg_mm above dntps_mm, set na_mm/k_mm/tris_mm, or use another saltcorr",
                    ));
                }
                let lmg = mg.ln();
                SaltCorrection::Owczarzy2008 {
                    p: a + b * lmg,
                    q: c + d * lmg,
                    u: e + f * lmg + g * lmg.powi(2),
                }
            }
        })
    }

    /// The correction for a sequence of `len` bases with GC fraction `gc`.
    fn value(&self, len: usize, gc: f64) -> Result<f64, ToolError> {
        Ok(match *self {
            SaltCorrection::None => 0.0,
            SaltCorrection::Tm(v) => v,
            SaltCorrection::Entropy { ln_mon } => 0.368 * (len as f64 - 1.0) * ln_mon,
            SaltCorrection::Owczarzy2004 { ln_mon, square } => {
                (4.29 * gc - 3.95) * 1e-5 * ln_mon + square
            }
            SaltCorrection::Owczarzy2008 { p, q, u } => {
                if len < 2 {
                    return Err(ToolError::invalid_argument(
                        "sequence",
                        "salt correction 7 needs at least 2 bases",
                    ));
                }
                (p + gc * q + (1.0 / (2.0 * (len as f64 - 1.0))) * u) * 1e-5
            }
        })
    }
}

/// Upper-cases `sequence` and turns U into T, rejecting anything that is not
/// A, C, G, T or U.
pub fn normalize_acgt(argument: &str, sequence: &str) -> Result<Vec<u8>, ToolError> {
    let mut out = Vec::with_capacity(sequence.len());
    normalize_acgt_into(argument, sequence, &mut out)?;
    Ok(out)
}

/// Each byte as [`normalize_acgt`] reads it: upper-case A, C, G, T (U and
/// u read as T), 0 for a byte that is not allowed.
static ACGT_UPPER: [u8; 256] = {
    let mut t = [0u8; 256];
    let pairs = [
        (b'A', b'A'),
        (b'C', b'C'),
        (b'G', b'G'),
        (b'T', b'T'),
        (b'U', b'T'),
    ];
    let mut k = 0;
    while k < pairs.len() {
        let (from, to) = pairs[k];
        t[from as usize] = to;
        t[from.to_ascii_lowercase() as usize] = to;
        k += 1;
    }
    t
};

/// [`normalize_acgt`] into `out` (cleared first), to reuse one buffer.
///
/// One table lookup per byte with no branch, noting whether any byte was
/// refused (the refused one is looked for only then): a per-character
/// `match` cost more than the Tm itself.
fn normalize_acgt_into(argument: &str, sequence: &str, out: &mut Vec<u8>) -> Result<(), ToolError> {
    out.clear();
    let mut refused = false;
    out.extend(sequence.bytes().map(|b| {
        let n = ACGT_UPPER[usize::from(b)];
        refused |= n == 0;
        n
    }));
    if !refused {
        return Ok(());
    }
    let bad = out.iter().position(|&b| b == 0).unwrap_or_default();
    // Bytes before `bad` are ASCII letters, so `bad` starts a character.
    let c = sequence[bad..].chars().next().unwrap_or_default();
    Err(ToolError::invalid_argument(
        argument,
        format!("contains {c:?} at position {}; {ACGT_HINT}", bad + 1),
    ))
}

/// GC fraction of an upper-case ACGT sequence.
pub fn gc_fraction(seq: &[u8]) -> f64 {
    if seq.is_empty() {
        return 0.0;
    }
    let gc = seq.iter().filter(|&&b| b == b'G' || b == b'C').count();
    gc as f64 / seq.len() as f64
}

/// Options of [`tm_nn`], with Biopython's defaults.
#[derive(Debug, Clone, Copy)]
pub struct NnOptions {
    /// The nearest-neighbour table.
    pub table: NnTable,
    /// Ion concentrations (mM).
    pub salt: Salt,
    /// Concentration of the more concentrated strand (nM).
    pub dnac1: f64,
    /// Concentration of the less concentrated strand (nM).
    pub dnac2: f64,
    /// Salt correction method, 0-7.
    pub saltcorr: u8,
    /// The sequence binds itself (self-complementary duplex).
    pub selfcomp: bool,
}

impl Default for NnOptions {
    fn default() -> Self {
        NnOptions {
            table: DNA_NN3,
            salt: Salt::default(),
            dnac1: 25.0,
            dnac2: 25.0,
            saltcorr: 5,
            selfcomp: false,
        }
    }
}

/// Biopython's `Tm_NN(seq, nn_table, Na, K, Tris, Mg, dNTPs, dnac1, dnac2,
/// selfcomp, saltcorr)` against the perfect complement, for an upper-case
/// ACGT sequence (see [`normalize_acgt`]) of at least 2 bases. For many
/// sequences under the same conditions, build one [`NnModel`].
pub fn tm_nn(seq: &[u8], opts: &NnOptions) -> Result<f64, ToolError> {
    NnModel::new(opts)?.tm(seq)
}

/// Nearest-neighbour Tm under fixed conditions, for many sequences: the
/// options checked, the table's stacks resolved (see [`NnTable::stacks`])
/// and every term that depends only on the conditions (the strand
/// concentration term, the salt correction's logarithms) computed once.
///
/// Every value of Biopython's tables is a whole number of hundredths, so
/// ΔH and ΔS are summed exactly in integer hundredths and divided once:
/// Biopython adds them one by one in floating point, which differs from
/// the exact sum by rounding only (about 1e-13 °C on a Tm). In
/// WebAssembly an integer sum also stays in a register where a chain of
/// floating-point additions did not.
#[derive(Debug, Clone, Copy)]
pub struct NnModel {
    /// (ΔH, ΔS) of two stacks in a row, in hundredths: `[16 a + 4 b + c]`
    /// for the bases `abc` (indices in ACGT).
    triples: [[i32; 2]; 64],
    /// (ΔH, ΔS) of one stack, in hundredths: `[4 a + b]`.
    pairs: [[i32; 2]; 16],
    /// The table's initiation terms in hundredths, see [`NnModel::tm_of`].
    init: Terms,
    selfcomp: bool,
    /// R ln(Ct / x): the strand concentration term of the denominator.
    r_ln_k: f64,
    saltcorr: SaltCorrection,
}

/// A table's terms other than the stacks, as (ΔH, ΔS) in hundredths.
#[derive(Debug, Clone, Copy)]
struct Terms {
    init: [i32; 2],
    at: [i32; 2],
    gc: [i32; 2],
    one_gc: [i32; 2],
    all_at: [i32; 2],
    t_a: [i32; 2],
    sym: [i32; 2],
}

/// `(ΔH, ΔS)` in whole hundredths (exact: every tabled value has at most
/// two decimals).
fn hundredths((h, s): (f64, f64)) -> [i32; 2] {
    [(h * 100.0).round() as i32, (s * 100.0).round() as i32]
}

/// What one pass over the bases at the start of a text found.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    /// How many leading bytes are bases (A, C, G, T, U in either case).
    bases: usize,
    /// How many of them are G or C.
    gc: usize,
    /// Indices in ACGT of the first and last base.
    first: usize,
    last: usize,
    /// Sums of the stacks' ΔH and ΔS, in hundredths.
    dh: i64,
    ds: i64,
}

impl NnModel {
    /// Checks `opts` and works out the terms they fix; an error names the
    /// option that is wrong.
    pub fn new(opts: &NnOptions) -> Result<NnModel, ToolError> {
        opts.salt.validate()?;
        for (name, v) in [("dnac1_nm", opts.dnac1), ("dnac2_nm", opts.dnac2)] {
            if !v.is_finite() || v < 0.0 {
                return Err(ToolError::invalid_argument(
                    name,
                    format!("must be a finite concentration >= 0 (nM), got {v}"),
                ));
            }
        }
        let k = if opts.selfcomp {
            opts.dnac1 * 1e-9
        } else {
            (opts.dnac1 - (opts.dnac2 / 2.0)) * 1e-9
        };
        if k <= 0.0 {
            return Err(ToolError::invalid_argument(
                "dnac1_nm",
                if opts.selfcomp {
                    "must be above 0 nM".to_string()
                } else {
                    format!(
                        "must be above dnac2_nm / 2 (the Tm uses dnac1 - dnac2/2); got dnac1 {} and dnac2 {}",
                        opts.dnac1, opts.dnac2
                    )
                },
            ));
        }
        let t = &opts.table;
        let mut pairs = [[0; 2]; 16];
        for (i, row) in t.stacks().iter().enumerate() {
            for (j, &stack) in row.iter().enumerate() {
                pairs[4 * i + j] = hundredths(stack);
            }
        }
        let mut triples = [[0; 2]; 64];
        for (abc, triple) in triples.iter_mut().enumerate() {
            let (ab, bc) = (abc >> 2, abc & 15);
            *triple = [0, 1].map(|k| pairs[ab][k] + pairs[bc][k]);
        }
        Ok(NnModel {
            triples,
            pairs,
            init: Terms {
                init: hundredths(t.init),
                at: hundredths(t.init_at),
                gc: hundredths(t.init_gc),
                one_gc: hundredths(t.init_one_gc),
                all_at: hundredths(t.init_all_at),
                t_a: hundredths(t.init_5t_a),
                sym: hundredths(t.sym),
            },
            selfcomp: opts.selfcomp,
            r_ln_k: R_GAS * k.ln(),
            saltcorr: SaltCorrection::new(&opts.salt, opts.saltcorr)?,
        })
    }

    /// The Tm of `seq`, bases (A, C, G, T, U in either case) only, at least 2.
    pub fn tm(&self, seq: &[u8]) -> Result<f64, ToolError> {
        let scan = self.scan(seq);
        if scan.bases < seq.len() {
            let bad = seq[scan.bases];
            return Err(ToolError::invalid_argument(
                "sequence",
                format!(
                    "contains {:?} at position {}; {ACGT_HINT}",
                    char::from(bad),
                    scan.bases + 1
                ),
            ));
        }
        self.tm_of(&scan)
    }

    /// One pass over the bases at the start of `bytes` (up to the first
    /// byte that is not a base): their number, G and C, and stack sums.
    fn scan(&self, bytes: &[u8]) -> Scan {
        let class = |b: u8| BASE_CLASS[usize::from(b)];
        let Some(c0) = bytes.first().map(|&b| class(b)).filter(|&c| c < SEPARATOR) else {
            return Scan::default();
        };
        let (mut dh, mut ds) = (0i64, 0i64);
        let mut gc = usize::from(c0 >> 2);
        let mut prev = usize::from(c0 & 3);
        let mut n = 1;
        // Four bases per iteration while all four are bases, as two lookups
        // of two stacks each (in WebAssembly every loop iteration also pays
        // an interruption check).
        while let Some(&[a, b, c, d]) = bytes.get(n..n + 4) {
            let [a, b, c, d] = [a, b, c, d].map(class);
            if (a | b | c | d) >= SEPARATOR {
                break;
            }
            gc += usize::from((a >> 2) + (b >> 2) + (c >> 2) + (d >> 2));
            let [a, b, c, d] = [a, b, c, d].map(|x| usize::from(x & 3));
            let [h1, s1] = self.triples[(prev << 4 | a << 2 | b) & 63];
            let [h2, s2] = self.triples[(b << 4 | c << 2 | d) & 63];
            dh += i64::from(h1 + h2);
            ds += i64::from(s1 + s2);
            prev = d;
            n += 4;
        }
        while let Some(&b) = bytes.get(n)
            && class(b) < SEPARATOR
        {
            let next = usize::from(class(b) & 3);
            let [h, s] = self.pairs[(prev << 2 | next) & 15];
            dh += i64::from(h);
            ds += i64::from(s);
            gc += usize::from(class(b) >> 2);
            prev = next;
            n += 1;
        }
        Scan {
            bases: n,
            gc,
            first: usize::from(c0 & 3),
            last: prev,
            dh,
            ds,
        }
    }

    /// The Tm of the sequence `scan` read (all of it bases).
    fn tm_of(&self, scan: &Scan) -> Result<f64, ToolError> {
        let len = scan.bases;
        if len < 2 {
            return Err(ToolError::invalid_argument(
                "sequence",
                format!("has {len} base(s); the nearest-neighbour method needs at least 2"),
            ));
        }
        let t = &self.init;
        let (mut dh, mut ds) = (scan.dh, scan.ds);
        let mut add = |[h, s]: [i32; 2], times: i64| {
            dh += i64::from(h) * times;
            ds += i64::from(s) * times;
        };
        add(t.init, 1);
        add(if scan.gc == 0 { t.all_at } else { t.one_gc }, 1);
        // A 5' T and a 3' A (Biopython's `init_5T/A`).
        add(
            t.t_a,
            i64::from(scan.first == 3) + i64::from(scan.last == 0),
        );
        // A and T are 0 and 3, G and C 1 and 2.
        let at_end = |i: usize| i64::from(i == 0 || i == 3);
        let at = at_end(scan.first) + at_end(scan.last);
        add(t.at, at);
        add(t.gc, 2 - at);
        if self.selfcomp {
            add(t.sym, 1);
        }
        let dh = dh as f64 / 100.0;
        let mut ds = ds as f64 / 100.0;
        let gc = scan.gc as f64 / len as f64;
        let corr = self.saltcorr.value(len, gc)?;
        if let SaltCorrection::Entropy { .. } = self.saltcorr {
            ds += corr;
        }
        let mut tm = (1000.0 * dh) / (ds + self.r_ln_k) - 273.15;
        match self.saltcorr {
            SaltCorrection::Tm(_) => tm += corr,
            SaltCorrection::Owczarzy2004 { .. } | SaltCorrection::Owczarzy2008 { .. } => {
                tm = 1.0 / (1.0 / (tm + 273.15) + corr) - 273.15
            }
            SaltCorrection::None | SaltCorrection::Entropy { .. } => {}
        }
        if !tm.is_finite() {
            return Err(ToolError::invalid_argument(
                "sequence",
                "the melting temperature is undefined for these conditions (zero denominator)",
            ));
        }
        Ok(tm)
    }
}

/// Biopython's `Tm_Wallace(seq)` (strict): 4 °C per G/C/S, 2 °C per
/// A/T/W/U. Case-insensitive; other characters are rejected (Biopython
/// rejects the ambiguity codes and ignores the rest).
pub fn tm_wallace(sequence: &str) -> Result<f64, ToolError> {
    let (mut at, mut gc) = (0u64, 0u64);
    for (i, c) in sequence.chars().enumerate() {
        match c.to_ascii_uppercase() {
            'A' | 'T' | 'U' | 'W' => at += 1,
            'C' | 'G' | 'S' => gc += 1,
            _ => {
                return Err(ToolError::invalid_argument(
                    "sequence",
                    format!(
                        "contains {c:?} at position {}; the Wallace rule takes only A, C, G, T, U, S (G/C) and W (A/T)",
                        i + 1
                    ),
                ));
            }
        }
    }
    if at + gc == 0 {
        return Err(ToolError::invalid_argument("sequence", "must not be empty"));
    }
    Ok((2 * at + 4 * gc) as f64)
}

/// Biopython's `Tm_GC(seq, Na, K, Tris, Mg, dNTPs)` with its defaults
/// (`valueset=7`, which always applies salt correction 1): Tm = 81.5 +
/// 0.41 (%GC) - 600/N + 16.6 log10([Na+ equivalent] in M).
/// Case-insensitive A, C, G, T, U, S (G/C) and W (A/T).
pub fn tm_gc(sequence: &str, salt: &Salt) -> Result<f64, ToolError> {
    salt.validate()?;
    let (mut n, mut gc) = (0usize, 0usize);
    for (i, c) in sequence.chars().enumerate() {
        match c.to_ascii_uppercase() {
            'A' | 'T' | 'U' | 'W' => n += 1,
            'C' | 'G' | 'S' => {
                gc += 1;
                n += 1
            }
            _ => {
                return Err(ToolError::invalid_argument(
                    "sequence",
                    format!(
                        "contains {c:?} at position {}; the GC method takes only A, C, G, T, U, S (G/C) and W (A/T)",
                        i + 1
                    ),
                ));
            }
        }
    }
    if n == 0 {
        return Err(ToolError::invalid_argument("sequence", "must not be empty"));
    }
    let percent_gc = (gc as f64 / n as f64) * 100.0;
    let mut tm = 81.5 + 0.41 * percent_gc - 600.0 / n as f64;
    tm += salt_correction(salt, 1, n, gc as f64 / n as f64)?;
    Ok(tm)
}

/// The `tm` tool's arguments (`None` is the documented default).
#[derive(Debug, Clone, Default)]
pub struct TmArgs {
    /// `nn` (default), `wallace` or `gc`.
    pub method: Option<String>,
    /// Nearest-neighbour table name (default `DNA_NN3`).
    pub table: Option<String>,
    /// Na+ mM (50).
    pub na: Option<f64>,
    /// K+ mM (0).
    pub k: Option<f64>,
    /// Tris mM (0).
    pub tris: Option<f64>,
    /// Mg2+ mM (0).
    pub mg: Option<f64>,
    /// dNTPs mM (0).
    pub dntps: Option<f64>,
    /// nM (25).
    pub dnac1: Option<f64>,
    /// nM (25).
    pub dnac2: Option<f64>,
    /// 0-7 (5).
    pub saltcorr: Option<u8>,
    /// Self-complementary (false).
    pub selfcomp: Option<bool>,
}

/// The `method` of `tm` when the call gives none.
pub const DEFAULT_METHOD: &str = "nn";

/// A resolved `tm` method, with its options and defaults applied.
// One short-lived value per call: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
enum Method {
    Nn(NnModel),
    Wallace,
    Gc(Salt),
}

impl Method {
    fn resolve(args: &TmArgs) -> Result<Method, ToolError> {
        let d = Salt::default();
        let salt = Salt {
            na: args.na.unwrap_or(d.na),
            k: args.k.unwrap_or(d.k),
            tris: args.tris.unwrap_or(d.tris),
            mg: args.mg.unwrap_or(d.mg),
            dntps: args.dntps.unwrap_or(d.dntps),
        };
        let method = args.method.as_deref().unwrap_or(DEFAULT_METHOD);
        match method.to_ascii_lowercase().as_str() {
            "nn" => {
                let defaults = NnOptions::default();
                let opts = NnOptions {
                    table: match &args.table {
                        Some(t) => NnTable::by_name(t)?,
                        None => defaults.table,
                    },
                    salt,
                    dnac1: args.dnac1.unwrap_or(defaults.dnac1),
                    dnac2: args.dnac2.unwrap_or(defaults.dnac2),
                    saltcorr: args.saltcorr.unwrap_or(defaults.saltcorr),
                    selfcomp: args.selfcomp.unwrap_or(defaults.selfcomp),
                };
                Ok(Method::Nn(NnModel::new(&opts)?))
            }
            "wallace" => Ok(Method::Wallace),
            "gc" => Ok(Method::Gc(salt)),
            _ => Err(ToolError::invalid_argument(
                "method",
                format!("unknown method {method:?}; use \"nn\" (default), \"wallace\" or \"gc\""),
            )),
        }
    }

    /// The Tm of `sequence`; `buf` is scratch space.
    fn tm(&self, sequence: &str, buf: &mut Vec<u8>) -> Result<f64, ToolError> {
        match self {
            Method::Nn(model) => {
                let scan = model.scan(sequence.as_bytes());
                if scan.bases == sequence.len() {
                    return model.tm_of(&scan);
                }
                // Names the character refused.
                normalize_acgt_into("sequence", sequence, buf)?;
                model.tm(buf)
            }
            Method::Wallace => tm_wallace(sequence),
            Method::Gc(salt) => tm_gc(sequence, salt),
        }
    }
}

/// The `tm` tool: dispatches on the method and applies the defaults.
pub fn tm(sequence: &str, args: &TmArgs) -> Result<f64, ToolError> {
    Method::resolve(args)?.tm(sequence, &mut Vec::new())
}

/// Most sequences one `tm-many` call accepts.
pub const MAX_MANY: usize = 1_000_000;

/// The `tm-many` tool: [`tm`] of every sequence of `sequences` (one per
/// line, or separated by spaces, tabs, commas or semicolons; empty entries
/// are skipped) with the same options (read and checked once), in order.
/// An error names the sequence by its 0-based index and its line.
///
/// The list is one text rather than a list of strings because a component
/// receives a `list<string>` one allocation per string, each a call into the
/// component: for 100,000 primers that cost more than their Tms.
pub fn tm_many(sequences: &str, args: &TmArgs) -> Result<Vec<f64>, ToolError> {
    let method = Method::resolve(args)?;
    let bytes = sequences.as_bytes();
    let class = |i: usize| BASE_CLASS[usize::from(bytes[i])];
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        if class(start) == SEPARATOR {
            start += 1;
            continue;
        }
        // For the nearest-neighbour method one pass finds the sequence's
        // end, checks its bases and sums its stacks.
        let scan = match &method {
            Method::Nn(model) => model.scan(&bytes[start..]),
            _ => Scan::default(),
        };
        let mut end = start + scan.bases;
        let clean = scan.bases > 0 && (end == bytes.len() || class(end) == SEPARATOR);
        while end < bytes.len() && class(end) != SEPARATOR {
            end += 1;
        }
        let i = out.len();
        if i == MAX_MANY {
            return Err(ToolError::limit_exceeded(format!(
                "more than {MAX_MANY} sequences given; at most {MAX_MANY} per call (split the list)"
            )));
        }
        if i == 0 {
            // Room for as many more sequences of this one's length as the
            // text holds: growing by doubling copies the results over and
            // over, which in WebAssembly also faults in fresh pages.
            // At most the limit: a text of a million and more short
            // sequences gets its clear error below, not an allocation
            // failure in a small memory limit.
            out.reserve(((bytes.len() - start) / (end - start + 1) + 1).min(MAX_MANY));
        }
        // Separators are ASCII, so both ends are character boundaries.
        let tm = match &method {
            Method::Nn(model) if clean => model.tm_of(&scan),
            _ => method.tm(&sequences[start..end], &mut buf),
        };
        out.push(tm.map_err(|e| match e.argument() {
            Some("sequence") => {
                let line = 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count();
                ToolError::invalid_argument(format!("sequences[{i}] (line {line})"), e.detail())
            }
            _ => e,
        })?);
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nn(s: &str, opts: &NnOptions) -> f64 {
        tm_nn(&normalize_acgt("sequence", s).unwrap(), opts).unwrap()
    }

    // Expected values from the doctests in Biopython 1.85's
    // Bio/SeqUtils/MeltingTemp.py (module docstring), printed with %0.2f.
    #[test]
    fn biopython_doctests() {
        let s = "CGTTCCAAAGATGTGGGCATGAGCTTAC";
        let f = |x: f64| format!("{x:.2}");
        assert_eq!(f(tm_wallace(s).unwrap()), "84.00");
        assert_eq!(f(tm_gc(s, &Salt::default()).unwrap()), "58.97");
        assert_eq!(f(nn(s, &NnOptions::default())), "60.32");
        let table = |t| NnOptions {
            table: t,
            ..NnOptions::default()
        };
        assert_eq!(f(nn(s, &table(DNA_NN1))), "72.19");
        assert_eq!(f(nn(s, &table(DNA_NN2))), "65.47");
        assert_eq!(f(nn(s, &table(RNA_NN1))), "73.35");
        assert_eq!(f(nn(s, &table(R_DNA_NN1))), "58.45");
        let expected = [
            "54.27", "54.02", "59.60", "60.64", "60.32", "59.78", "59.78",
        ];
        for (i, e) in expected.iter().enumerate() {
            let o = NnOptions {
                saltcorr: i as u8 + 1,
                ..NnOptions::default()
            };
            assert_eq!(f(nn(s, &o)), *e, "saltcorr {}", i + 1);
        }
        let salted = |salt: Salt, saltcorr| NnOptions {
            salt,
            saltcorr,
            ..NnOptions::default()
        };
        let tris = Salt {
            tris: 10.0,
            ..Salt::default()
        };
        assert_eq!(f(nn(s, &salted(tris, 5))), "60.79");
        let mg = Salt { mg: 1.5, ..tris };
        assert_eq!(f(nn(s, &salted(mg, 5))), "67.39");
        assert_eq!(f(nn(s, &salted(mg, 7))), "66.81");
        let dntps = Salt { dntps: 0.6, ..mg };
        assert_eq!(f(nn(s, &salted(dntps, 7))), "66.04");
    }

    // salt_correction doctests (Biopython 1.85), printed with %0.2f.
    #[test]
    fn salt_correction_doctests() {
        let f = |salt: Salt, m| format!("{:.2}", salt_correction(&salt, m, 20, 0.5).unwrap());
        assert_eq!(f(Salt::default(), 1), "-21.60");
        assert_eq!(f(Salt::default(), 2), "-21.85");
        let s = Salt {
            na: 100.0,
            tris: 20.0,
            ..Salt::default()
        };
        assert_eq!(f(s, 2), "-16.45");
        assert_eq!(f(Salt { mg: 1.5, ..s }, 2), "-10.99");
    }

    /// Biopython's `Tm_NN` loop written out plainly (one stack at a time,
    /// in floating point), against the model's four-at-a-time integer sums,
    /// for every table and every length residue.
    #[test]
    fn kernel_equals_plain_sum() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let plain = |seq: &[u8], o: &NnOptions| -> f64 {
            let t = &o.table;
            let idx = |b: u8| b"ACGT".iter().position(|&x| x == b).unwrap();
            let st = t.stacks();
            let (mut dh, mut ds) = (t.init.0, t.init.1);
            let gc = seq.iter().filter(|&&b| b == b'G' || b == b'C').count();
            let one = if gc == 0 {
                t.init_all_at
            } else {
                t.init_one_gc
            };
            dh += one.0;
            ds += one.1;
            let (f, l) = (seq[0], seq[seq.len() - 1]);
            for end in [f == b'T', l == b'A'] {
                if end {
                    dh += t.init_5t_a.0;
                    ds += t.init_5t_a.1;
                }
            }
            for b in [f, l] {
                let term = if b == b'A' || b == b'T' {
                    t.init_at
                } else {
                    t.init_gc
                };
                dh += term.0;
                ds += term.1;
            }
            for w in seq.windows(2) {
                let (h, s) = st[idx(w[0])][idx(w[1])];
                dh += h;
                ds += s;
            }
            if o.selfcomp {
                dh += t.sym.0;
                ds += t.sym.1;
            }
            let mon: f64 = o.salt.na * 1e-3;
            ds += 0.368 * (seq.len() as f64 - 1.0) * mon.ln();
            let k = if o.selfcomp {
                o.dnac1
            } else {
                o.dnac1 - o.dnac2 / 2.0
            } * 1e-9;
            (1000.0 * dh) / (ds + R_GAS * k.ln()) - 273.15
        };
        for table in TABLES {
            for selfcomp in [false, true] {
                let o = NnOptions {
                    table,
                    selfcomp,
                    ..NnOptions::default()
                };
                let model = NnModel::new(&o).unwrap();
                for len in 2..=41 {
                    let seq: Vec<u8> = (0..len).map(|_| b"ACGT"[(next() % 4) as usize]).collect();
                    let (a, b) = (model.tm(&seq).unwrap(), plain(&seq, &o));
                    assert!((a - b).abs() < 1e-9, "{} {seq:?}: {a} vs {b}", table.name);
                }
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(normalize_acgt("sequence", "ACGN").is_err());
        let e = tm_nn(b"ACGN", &NnOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'N' at position 4"), "{e}");
        let e = tm_nn(b"A", &NnOptions::default()).unwrap_err().to_string();
        assert!(e.contains("at least 2"), "{e}");
        let opts = NnOptions {
            dnac1: 10.0,
            dnac2: 30.0,
            ..NnOptions::default()
        };
        assert!(tm_nn(b"ACGTACGT", &opts).is_err());
        let opts = NnOptions {
            salt: Salt {
                na: 0.0,
                ..Salt::default()
            },
            ..NnOptions::default()
        };
        assert!(tm_nn(b"ACGTACGT", &opts).is_err());
        assert!(salt_correction(&Salt::default(), 8, 10, 0.5).is_err());
        assert!(tm_wallace("ACGN").is_err());
        assert!(tm_gc("", &Salt::default()).is_err());
    }

    #[test]
    fn tool_dispatch_and_defaults() {
        let s = "CGTTCCAAAGATGTGGGCATGAGCTTAC";
        let f = |a: TmArgs| format!("{:.2}", tm(s, &a).unwrap());
        assert_eq!(f(TmArgs::default()), "60.32");
        let m = |x: &str| TmArgs {
            method: Some(x.into()),
            ..TmArgs::default()
        };
        assert_eq!(f(m("wallace")), "84.00");
        assert_eq!(f(m("GC")), "58.97");
        // Biopython 1.85: Tm_NN(s, nn_table=DNA_NN4) = 60.2715...
        let t = TmArgs {
            table: Some("dna_nn4".into()),
            ..TmArgs::default()
        };
        assert_eq!(f(t), "60.27");
        assert!(tm(s, &m("x")).unwrap_err().to_string().contains("wallace"));
        let t = TmArgs {
            table: Some("DNA_NN9".into()),
            ..TmArgs::default()
        };
        assert!(tm(s, &t).unwrap_err().to_string().contains("DNA_NN4"));
    }

    #[test]
    fn many_equals_one_by_one() {
        // Biopython 1.85 doctest values (see `biopython_doctests`): the
        // batch gives each sequence's own Tm, in order.
        let s = "CGTTCCAAAGATGTGGGCATGAGCTTAC";
        let f = |v: Vec<f64>| v.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>();
        let two = format!("{s}\n{s}");
        assert_eq!(
            f(tm_many(&two, &TmArgs::default()).unwrap()),
            ["60.32", "60.32"]
        );
        let t = TmArgs {
            table: Some("DNA_NN1".into()),
            ..TmArgs::default()
        };
        assert_eq!(f(tm_many(s, &t).unwrap()), ["72.19"]);
        let w = TmArgs {
            method: Some("wallace".into()),
            ..TmArgs::default()
        };
        assert_eq!(f(tm_many(s, &w).unwrap()), ["84.00"]);
        assert!(tm_many("", &TmArgs::default()).unwrap().is_empty());
        assert!(tm_many(" \r\n,;\t", &TmArgs::default()).unwrap().is_empty());
        // Every separator, runs of them, and a trailing one.
        let mixed = format!("{s}\r\n{s}, {s};{s}\t{s} \n\n{s}\n");
        assert_eq!(f(tm_many(&mixed, &TmArgs::default()).unwrap()).len(), 6);
        // Lower case and U (the batch path reads them without copying).
        let rna = s.to_ascii_lowercase().replace('t', "u");
        assert_eq!(
            f(tm_many(&format!("{rna};{s}"), &TmArgs::default()).unwrap()),
            ["60.32", "60.32"]
        );
        let e = tm_many(&format!("{s}\n\nACGN"), &TmArgs::default()).unwrap_err();
        assert_eq!(e.argument(), Some("sequences[1] (line 3)"), "{e}");
        assert!(e.to_string().contains("'N' at position 4"), "{e}");
        let e = tm_many(&format!("{s} A"), &TmArgs::default()).unwrap_err();
        assert_eq!(e.argument(), Some("sequences[1] (line 1)"), "{e}");
    }

    #[test]
    fn refused_characters_are_named_with_their_position() {
        let e = normalize_acgt("sequence", "acgtÄx")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'Ä' at position 5"), "{e}");
        let e = normalize_acgt("sequence", "ACG-T").unwrap_err().to_string();
        assert!(e.contains("'-' at position 4"), "{e}");
        assert_eq!(normalize_acgt("sequence", "aCgUu").unwrap(), b"ACGTT");
    }

    #[test]
    fn rna_is_read_as_dna() {
        let o = NnOptions::default();
        assert_eq!(nn("acguacgu", &o), nn("ACGTACGT", &o));
    }
}
