//! The NCBI genetic codes (translation tables).
//!
//! Data from NCBI's `gc.prt` (the "ncbieaa" strings, genetic codes as of the
//! April 2024 update). Each string gives the amino acid of the 64 codons with
//! bases in the order T, C, A, G: index `16 * b1 + 4 * b2 + b3` with T=0,
//! C=1, A=2, G=3, so `TTT` is 0 and `GGG` is 63. `*` is a stop.
//!
//! Ids 7 and 8 were withdrawn by NCBI (merged into 4 and 1) and 17-20 were
//! never assigned.

/// One NCBI genetic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneticCode {
    /// NCBI id (`transl_table`).
    pub id: u8,
    /// NCBI name.
    pub name: &'static str,
    /// Amino acid per codon, 64 ASCII bytes in TCAG order.
    pub amino_acids: &'static [u8; 64],
}

/// Every NCBI genetic code, by increasing id.
pub const GENETIC_CODES: &[GeneticCode] = &[
    code(
        1,
        "Standard",
        b"FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        2,
        "Vertebrate Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG",
    ),
    code(
        3,
        "Yeast Mitochondrial",
        b"FFLLSSSSYY**CCWWTTTTPPPPHHQQRRRRIIMMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        4,
        "Mold Mitochondrial; Protozoan Mitochondrial; Coelenterate Mitochondrial; Mycoplasma; Spiroplasma",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        5,
        "Invertebrate Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSSSSVVVVAAAADDEEGGGG",
    ),
    code(
        6,
        "Ciliate Nuclear; Dasycladacean Nuclear; Hexamita Nuclear",
        b"FFLLSSSSYYQQCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        9,
        "Echinoderm Mitochondrial; Flatworm Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    code(
        10,
        "Euplotid Nuclear",
        b"FFLLSSSSYY**CCCWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        11,
        "Bacterial, Archaeal and Plant Plastid",
        b"FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        12,
        "Alternative Yeast Nuclear",
        b"FFLLSSSSYY**CC*WLLLSPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        13,
        "Ascidian Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSSGGVVVVAAAADDEEGGGG",
    ),
    code(
        14,
        "Alternative Flatworm Mitochondrial",
        b"FFLLSSSSYYY*CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    code(
        15,
        "Blepharisma Macronuclear",
        b"FFLLSSSSYY*QCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        16,
        "Chlorophycean Mitochondrial",
        b"FFLLSSSSYY*LCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        21,
        "Trematode Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNNKSSSSVVVVAAAADDEEGGGG",
    ),
    code(
        22,
        "Scenedesmus obliquus Mitochondrial",
        b"FFLLSS*SYY*LCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        23,
        "Thraustochytrium Mitochondrial",
        b"FF*LSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        24,
        "Rhabdopleuridae Mitochondrial",
        b"FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSSKVVVVAAAADDEEGGGG",
    ),
    code(
        25,
        "Candidate Division SR1 and Gracilibacteria",
        b"FFLLSSSSYY**CCGWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        26,
        "Pachysolen tannophilus Nuclear",
        b"FFLLSSSSYY**CC*WLLLAPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        27,
        "Karyorelict Nuclear",
        b"FFLLSSSSYYQQCCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        28,
        "Condylostoma Nuclear",
        b"FFLLSSSSYYQQCCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        29,
        "Mesodinium Nuclear",
        b"FFLLSSSSYYYYCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        30,
        "Peritrich Nuclear",
        b"FFLLSSSSYYEECC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        31,
        "Blastocrithidia Nuclear",
        b"FFLLSSSSYYEECCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        32,
        "Balanophoraceae Plastid",
        b"FFLLSSSSYY*WCC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    ),
    code(
        33,
        "Cephalodiscidae Mitochondrial",
        b"FFLLSSSSYYY*CCWWLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSSKVVVVAAAADDEEGGGG",
    ),
];

const fn code(id: u8, name: &'static str, amino_acids: &'static [u8; 64]) -> GeneticCode {
    GeneticCode {
        id,
        name,
        amino_acids,
    }
}

/// The genetic code with NCBI id `id`.
pub fn by_id(id: u8) -> Option<&'static GeneticCode> {
    GENETIC_CODES.iter().find(|c| c.id == id)
}

/// The supported ids, for error messages: `1-6, 9-16, 21-33`.
pub const SUPPORTED_IDS: &str = "1-6, 9-16, 21-33";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_ncbi_ones() {
        let ids: Vec<u8> = GENETIC_CODES.iter().map(|c| c.id).collect();
        let expected: Vec<u8> = (1..=6).chain(9..=16).chain(21..=33).collect();
        assert_eq!(ids, expected, "SUPPORTED_IDS is {SUPPORTED_IDS}");
        assert!(by_id(7).is_none() && by_id(8).is_none() && by_id(17).is_none());
    }

    #[test]
    fn only_amino_acids_and_stops() {
        for c in GENETIC_CODES {
            assert!(
                c.amino_acids
                    .iter()
                    .all(|&b| b == b'*' || b"ACDEFGHIKLMNPQRSTVWY".contains(&b)),
                "table {}",
                c.id
            );
        }
    }
}
