"""Independent reference for the `crispr` plugin's end-to-end tests.

Reads one JSON request on stdin and prints JSON results:

- {"op": "rule_set_1", "contexts": [30-mer, ...]} -> {"scores": [...]}
- {"op": "design", "cases": [{sequence, pam, guide_length, min_gc, max_gc,
  max_results}, ...]} -> {"results": [{guides, total_found, total_passing}]}
- {"op": "off_targets", "cases": [{guide, fasta, max_mismatches}, ...]}
  -> {"results": [{hits, total_hits, truncated, perfect_matches,
  specificity}]}

Written separately from the Rust code. Sequence handling (reverse
complement, IUPAC codes, GC fraction, FASTA parsing) uses Biopython 1.85.
The scores have no library implementation, so they are transcriptions of
the published models:

- Rule Set 1: Doench JG et al., "Rational design of highly active sgRNAs for
  CRISPR-Cas9-mediated gene inactivation", Nat Biotechnol 32:1262 (2014),
  doi:10.1038/nbt.3026, supplementary on-target score calculator
  (`calc_score`); weights keyed as in that script (base + 1-based position
  for single nucleotides, two bases + 1-based position of the first for
  di-nucleotides).
- MIT hit score: Hsu PD et al., "DNA targeting specificity of RNA-guided
  Cas9 nucleases", Nat Biotechnol 31:827 (2013), doi:10.1038/nbt.2647, as
  given on crispr.mit.edu and in CRISPOR (Haeussler et al., Genome Biol
  17:148, 2016): 100 * prod(1 - M[pos]) * 1/((19 - mean_dist)/19*4 + 1)
  * 1/n^2, the distance term 1 for n < 2, the 1/n^2 term 1 for n = 0.
  Guide specificity 100 / (100 + sum of hit scores without the on-target).
"""

import io
import json
import math
import sys

from Bio import SeqIO
from Bio.Data.IUPACData import ambiguous_dna_values
from Bio.Seq import reverse_complement
from Bio.SeqUtils import gc_fraction

# ---------------------------------------------------------------- Rule Set 1

RS1_INTERCEPT = 0.597636154
RS1_GC_LOW = -0.202625894
RS1_GC_HIGH = -0.166587752
RS1_SINGLE = {
    "G2": -0.275377128, "A3": -0.323887456, "C3": 0.172128871,
    "C4": -0.100666209, "C5": -0.20180294, "G5": 0.245956633,
    "A6": 0.036440041, "C6": 0.098376835, "C7": -0.741181291,
    "G7": -0.393264397, "A12": -0.466099015, "A15": 0.085376945,
    "C15": -0.013813972, "A16": 0.272620512, "C16": -0.119022648,
    "T16": -0.285944222, "A17": 0.097454592, "G17": -0.17554617,
    "C18": -0.345795451, "G18": -0.678096426, "A19": 0.22508903,
    "C19": -0.507794051, "G20": -0.417373597, "T20": -0.054306959,
    "G21": 0.379899366, "T21": -0.090712644, "C22": 0.057823319,
    "T22": -0.530567296, "T23": -0.877007428, "C24": -0.876235846,
    "G24": 0.278916259, "T24": -0.403102218, "A25": -0.077300704,
    "C25": 0.287935617, "T25": -0.221637217, "G28": -0.689016682,
    "T28": 0.117877577, "C29": -0.160445304, "G30": 0.386342585,
}
RS1_DOUBLE = {
    "GT2": -0.625778696, "GC5": 0.300043317, "AA6": -0.834836245,
    "TA6": 0.760627772, "GG7": -0.490816749, "GG12": -1.516907439,
    "TA12": 0.7092612, "TC12": 0.496298609, "TT12": -0.586873894,
    "GG13": -0.334563735, "GA14": 0.76384993, "GC14": -0.53702517,
    "TG17": -0.798146133, "GG19": -0.66680873, "TC19": 0.353183252,
    "CC20": 0.748072092, "TG20": -0.367266772, "AC21": 0.568209132,
    "CG21": 0.329072074, "GA21": -0.836456755, "GG21": -0.782207584,
    "TC22": -1.029692957, "CG23": 0.856197823, "CT23": -0.463207679,
    "AA24": -0.579492389, "AG24": 0.649075537, "AG25": -0.077300704,
    "CG25": 0.287935617, "TG25": -0.221637217, "GT27": 0.117877577,
    "GG29": -0.697740024,
}


def rule_set_1(ctx):
    assert len(ctx) == 30
    core = ctx[4:24]
    gc = sum(1 for b in core if b in "GC")
    total = RS1_INTERCEPT
    if gc < 10:
        total += (10 - gc) * RS1_GC_LOW
    elif gc > 10:
        total += (gc - 10) * RS1_GC_HIGH
    for i in range(30):
        total += RS1_SINGLE.get(f"{ctx[i]}{i + 1}", 0.0)
        if i + 1 < 30:
            total += RS1_DOUBLE.get(f"{ctx[i:i + 2]}{i + 1}", 0.0)
    return 1.0 / (1.0 + math.exp(-total))


# ------------------------------------------------------------------ design


def pam_matches(actual, pattern):
    return all(a in "ACGT" and a in ambiguous_dna_values[p]
               for a, p in zip(actual, pattern))


def flags_of(proto, gc, lo, hi):
    out = []
    if "TTTT" in proto:
        out.append("poly_t")
    if any(b * 5 in proto for b in "ACGT"):
        out.append("homopolymer")
    if gc < lo or gc > hi:
        out.append("gc_out_of_range")
    return out


def design(case):
    seq = case["sequence"].upper()
    pam = case.get("pam") or "NGG"
    pam = pam.upper()
    glen = case.get("guide_length") or 20
    lo = case.get("min_gc", 0.4)
    hi = case.get("max_gc", 0.6)
    top = case.get("max_results") or 50
    n = len(seq)
    found = []
    for strand, text in (("plus", seq), ("minus", reverse_complement(seq))):
        for p in range(0, n - glen - len(pam) + 1):
            proto = text[p:p + glen]
            actual = text[p + glen:p + glen + len(pam)]
            if not pam_matches(actual, pam):
                continue
            if any(b not in "ACGT" for b in proto):
                continue
            gc = gc_fraction(proto)
            score = None
            if glen == 20 and len(pam) == 3 and actual[1:] == "GG" and p >= 4 and p + 26 <= n:
                ctx = text[p - 4:p + 26]
                if all(b in "ACGT" for b in ctx):
                    score = rule_set_1(ctx)
            start = p if strand == "plus" else n - p - glen
            found.append({
                "protospacer": proto, "pam": actual, "strand": strand,
                "start": start, "gc": gc, "score": score,
                "flags": flags_of(proto, gc, lo, hi),
            })
    found.sort(key=lambda g: (len(g["flags"]) > 0, g["score"] is None,
                              -(g["score"] or 0.0), g["start"],
                              0 if g["strand"] == "plus" else 1))
    return {
        "guides": found[:top],
        "total_found": len(found),
        "total_passing": sum(1 for g in found if not g["flags"]),
    }


# -------------------------------------------------------------- off-targets

MIT_M = [0, 0, 0.014, 0, 0, 0.395, 0.317, 0, 0.389, 0.079, 0.445, 0.508,
         0.613, 0.851, 0.732, 0.828, 0.615, 0.804, 0.685, 0.583]


def mit_hit(guide, site):
    mm = [i for i in range(20) if guide[i] != site[i]]
    s1 = 1.0
    for i in mm:
        s1 *= 1 - MIT_M[i]
    if len(mm) < 2:
        s2 = 1.0
    else:
        gaps = [b - a for a, b in zip(mm, mm[1:])]
        mean = sum(gaps) / len(gaps)
        s2 = 1.0 / (((19 - mean) / 19.0) * 4 + 1)
    s3 = 1.0 if not mm else 1.0 / (len(mm) ** 2)
    return s1 * s2 * s3 * 100


def off_targets(case):
    guide = case["guide"].upper()
    maxmm = case.get("max_mismatches")
    maxmm = 4 if maxmm is None else maxmm
    gl = len(guide)
    hits = []
    for ri, rec in enumerate(SeqIO.parse(io.StringIO(case["fasta"]), "fasta")):
        seq = str(rec.seq).upper()
        n = len(seq)
        for strand, text in (("plus", seq), ("minus", reverse_complement(seq))):
            for p in range(0, n - gl - 3 + 1):
                pam = text[p + gl:p + gl + 3]
                if pam[1:] != "GG":
                    continue
                site = text[p:p + gl]
                mm = [i for i in range(gl) if site[i] != guide[i]]
                if len(mm) > maxmm:
                    continue
                hits.append({
                    "record_id": rec.id,
                    "start": p if strand == "plus" else n - p - gl,
                    "strand": strand, "sequence": site, "pam": pam,
                    "mismatches": len(mm), "mismatch_positions": mm,
                    "mit_score": mit_hit(guide, site) if gl == 20 else None,
                    "_order": ri,
                })
    hits.sort(key=lambda h: (h["mismatches"], h["_order"], h["start"],
                             0 if h["strand"] == "plus" else 1))
    for h in hits:
        del h["_order"]
    perfect = sum(1 for h in hits if h["mismatches"] == 0)
    spec = None
    if gl == 20:
        total = sum(h["mit_score"] for h in hits)
        if perfect:
            total -= 100.0  # the on-target perfect match
        spec = 100.0 / (100.0 + total)
    return {
        "hits": hits[:1000], "total_hits": len(hits),
        "truncated": len(hits) > 1000, "perfect_matches": perfect,
        "specificity": spec,
    }


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    if op == "rule_set_1":
        out = {"scores": [rule_set_1(c.upper()) for c in req["contexts"]]}
    elif op == "design":
        out = {"results": [design(c) for c in req["cases"]]}
    elif op == "off_targets":
        out = {"results": [off_targets(c) for c in req["cases"]]}
    else:
        raise SystemExit(f"unknown op {op!r}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
