"""Independent reference for the `codon` plugin's end-to-end tests.

Reads one JSON request on stdin and prints JSON results:

- {"op": "cai", "cases": [{"cds": str, "host": str}, ...]}
  -> {"results": [{"sharp_li": float|null, "biopython": float|null}, ...]}
- {"op": "best", "cases": [{"protein": str, "host": str}, ...]}
  -> {"results": [cds, ...]}  (most frequent codon per amino acid; ties:
  alphabetically first codon, as the plugin documents)
- {"op": "check", "cases": [{"cds": str, "sites": [str, ...]}, ...]}
  -> {"results": [{"protein": str, "gc": float,
                   "hits": [[start, ...] per site]}, ...]}

Written separately from the Rust code. Codon usage comes from the PyPI
package python-codon-tables (0.1.18; Kazusa tables), read at run time here
(the plugin has a generated copy). It ships no Cricetulus griseus (CHO)
table; host "cho" reads Kazusa's table for taxid 10029 from
plugins/codon/data/cricetulus_griseus_10029.txt (the published counts) and
turns the counts into relative frequencies per amino acid here, rounded to
2 decimals like the Kazusa fractions.

CAI is computed twice:

1. "sharp_li": straight from Sharp PM & Li WH, "The codon adaptation index",
   Nucleic Acids Res 15(3):1281-1295 (1987): w = f(codon) / max f over the
   synonymous codons (synonymous families from Biopython's standard table);
   CAI = exp(mean ln w) over the codons, excluding ATG, TGG and stop codons.
2. "biopython": Biopython 1.85's Bio.SeqUtils.CodonAdaptationIndex, whose
   constructor only learns weights from reference sequences, so it is built
   empty and its dict of weights is filled with the w above; the stop codons
   are deleted from it, because its calculate() skips ATG and TGG and skips
   a stop codon only when the stop is missing from the index.

Both give null when no codon counts. Translation uses Bio.Seq.translate,
GC uses Bio.SeqUtils.gc_fraction, site search uses Bio.SeqUtils.nt_search
(IUPAC, forward strand) on the site and on its Bio.Seq.reverse_complement.
"""

import json
import math
import os
import re
import sys

from Bio.Data.CodonTable import standard_dna_table
from Bio.Seq import reverse_complement, translate
from Bio.SeqUtils import CodonAdaptationIndex, gc_fraction, nt_search

try:
    import python_codon_tables as pct
except ImportError:  # pragma: no cover
    sys.exit(
        "python-codon-tables is missing: target/pyref/bin/pip install python-codon-tables==0.1.18"
    )

TABLES = {
    "e_coli": "e_coli_316407",
    "s_cerevisiae": "s_cerevisiae_4932",
    "h_sapiens": "h_sapiens_9606",
    "m_musculus": "m_musculus_10090",
}

CHO_TABLE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "..",
    "plugins",
    "codon",
    "data",
    "cricetulus_griseus_10029.txt",
)


def families():
    fam = {}
    for codon, aa in standard_dna_table.forward_table.items():
        fam.setdefault(aa, []).append(codon)
    fam["*"] = list(standard_dna_table.stop_codons)
    return fam


FAMILIES = families()


def cho_freqs():
    with open(CHO_TABLE) as f:
        text = f.read()
    counts = {
        codon.replace("U", "T"): int(n)
        for codon, n in re.findall(r"([ACGU]{3})\s+[0-9.]+\(\s*(\d+)\)", text)
    }
    assert len(counts) == 64, counts
    out = {}
    for codons in FAMILIES.values():
        total = sum(counts[c] for c in codons)
        for c in codons:
            out[c] = round(counts[c] / total, 2)
    return out


def freqs(host):
    if host == "cho":
        return cho_freqs()
    table = pct.get_codons_table(TABLES[host])  # {aa: {codon: f}}, T not U
    return {codon: f for aa in table.values() for codon, f in aa.items()}


def relative_adaptiveness(host):
    f = freqs(host)
    w = {}
    for codons in FAMILIES.values():
        top = max(f[c] for c in codons)
        for c in codons:
            w[c] = f[c] / top
    return w


def cai_sharp_li(cds, w):
    logs = []
    for i in range(0, len(cds), 3):
        c = cds[i : i + 3]
        if c in ("ATG", "TGG") or c in standard_dna_table.stop_codons:
            continue
        logs.append(math.log(w[c]))
    if not logs:
        return None
    return math.exp(sum(logs) / len(logs))


def cai_biopython(cds, w):
    index = CodonAdaptationIndex([])
    index.update(w)
    for stop in standard_dna_table.stop_codons:
        del index[stop]
    try:
        return index.calculate(cds)
    except ZeroDivisionError:
        return None


def best_cds(protein, host):
    f = freqs(host)
    out = []
    for aa in protein:
        codons = sorted(FAMILIES[aa])
        out.append(max(codons, key=lambda c: (f[c], [-ord(x) for x in c])))
    return "".join(out)


def hits(cds, site):
    starts = set(nt_search(cds, site)[1:])
    starts |= set(nt_search(cds, reverse_complement(site))[1:])
    return sorted(starts)


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    results = []
    weights = {}
    for case in req["cases"]:
        if op == "cai":
            host = case["host"]
            if host not in weights:
                weights[host] = relative_adaptiveness(host)
            w = weights[host]
            results.append(
                {
                    "sharp_li": cai_sharp_li(case["cds"], w),
                    "biopython": cai_biopython(case["cds"], w),
                }
            )
        elif op == "best":
            results.append(best_cds(case["protein"], case["host"]))
        elif op == "check":
            cds = case["cds"]
            results.append(
                {
                    "protein": translate(cds),
                    "gc": gc_fraction(cds),
                    "hits": [hits(cds, s.upper()) for s in case["sites"]],
                }
            )
        else:
            raise SystemExit(f"unknown op {op}")
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
