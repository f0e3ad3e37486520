"""Independent reference for the `seq` plugin's parse-fastq, find-orfs,
stats and translate tools, computed with Biopython 1.85.

Reads a JSON request on stdin:
    {"fastq": [{"text": str, "offset": 33|64}, ...],
     "orfs":  [{"sequence": str, "min_length": int, "both_strands": bool,
                "table": int}, ...],
     "stats": [{"sequence": str, "window": int}, ...],
     "translate": [{"sequence": str, "table": int, "to_stop": bool}, ...]}
and prints {"fastq": [...], "orfs": [...], "stats": [...],
"translate": [...]}, one entry per case:

fastq: Bio.SeqIO.parse(handle, "fastq") (offset 33) or "fastq-illumina"
    (offset 64). {"records": [{"id", "description", "sequence", "quality",
    "phred"}]} or {"error": message}. "description" is Biopython's
    description (the whole title) without the leading identifier, trimmed,
    which is what the plugin reports; "quality" is rebuilt from
    letter_annotations["phred_quality"] (chr(q + offset)).

orfs: no library finds ORFs, so this is an independent implementation of
    the rule the plugin documents (ATG only; for each in-frame stop codon
    the ORF from the first ATG after the previous stop; no ORF without a
    stop; length includes the stop), written over Biopython: each frame of
    each strand is translated with Seq.translate(table=...) and a codon is a
    stop when Biopython translates it to "*"; the reverse strand is
    Seq.reverse_complement() (reverse_complement_rna() for RNA); the protein
    is Seq(orf).translate(table=..., to_stop=True). Returns {"orfs":
    [{"start", "end", "strand", "frame", "sequence", "protein"}]} sorted by
    (start, end, strand) with forward before reverse.

stats: Bio.SeqUtils: length and letter counts (str.count), gc_fraction
    (default ambiguous="remove"; U is replaced by T first, since the plugin
    counts U like T), molecular_weight(seq, "DNA" or "RNA" when the sequence
    has U, double_stranded=False, circular=False, monoisotopic=False), None
    when Biopython raises ValueError (ambiguous letters, or both T and U) or
    the sequence is empty (Biopython would return one water, 18.0153, which
    the plugin does not report), and GC_skew(seq, window).

translate: str(Seq(sequence).translate(table=table, to_stop=to_stop)),
    {"protein": str} or {"error": message}. Biopython's own handling of
    ambiguous codons (B, J, Z, X); a trailing partial codon is dropped (its
    warning ignored).
"""

import io
import json
import sys
import warnings

from Bio import BiopythonWarning, SeqIO
from Bio.Seq import Seq
from Bio.SeqUtils import GC_skew, gc_fraction, molecular_weight

warnings.simplefilter("ignore", BiopythonWarning)


def fastq_case(case):
    offset = case.get("offset", 33)
    fmt = {33: "fastq", 64: "fastq-illumina"}[offset]
    try:
        records = []
        for rec in SeqIO.parse(io.StringIO(case["text"]), fmt):
            phred = list(rec.letter_annotations["phred_quality"])
            rest = rec.description.split(None, 1)
            records.append(
                {
                    "id": rec.id,
                    "description": rest[1].strip() if len(rest) == 2 else "",
                    "sequence": str(rec.seq),
                    "quality": "".join(chr(q + offset) for q in phred),
                    "phred": phred,
                }
            )
        return {"records": records}
    except Exception as e:  # noqa: BLE001 - any parse failure is an error case
        return {"error": f"{type(e).__name__}: {e}"}


def orfs_case(case):
    seq = case["sequence"]
    table = case.get("table", 1)
    min_length = case.get("min_length", 75)
    n = len(seq)
    strands = [("forward", seq)]
    if case.get("both_strands", True):
        if "U" in seq.upper():
            strands.append(("reverse", str(Seq(seq).reverse_complement_rna())))
        else:
            strands.append(("reverse", str(Seq(seq).reverse_complement())))
    found = []
    for strand, s in strands:
        for frame in range(3):
            codons = (n - frame) // 3
            protein = str(Seq(s[frame : frame + 3 * codons]).translate(table=table))
            start = None
            for k, aa in enumerate(protein):
                pos = frame + 3 * k
                codon = s[pos : pos + 3].upper().replace("U", "T")
                if aa == "*":
                    if start is not None and pos + 3 - start >= min_length:
                        orf = s[start : pos + 3]
                        if strand == "forward":
                            a, b = start, pos + 3
                        else:
                            a, b = n - (pos + 3), n - start
                        found.append(
                            {
                                "start": a,
                                "end": b,
                                "strand": strand,
                                "frame": start % 3,
                                "sequence": orf,
                                "protein": str(Seq(orf).translate(table=table, to_stop=True)),
                            }
                        )
                    start = None
                elif start is None and codon == "ATG":
                    start = pos
    found.sort(key=lambda o: (o["start"], o["end"], o["strand"] != "forward"))
    return {"orfs": found}


def stats_case(case):
    seq = case["sequence"]
    window = case.get("window", 100)
    up = seq.upper()
    counts = {k: up.count(k.upper()) for k in "acgtun"}
    counts["ambiguous"] = len(seq) - sum(counts.values())
    weight = None
    if seq:
        seq_type = "RNA" if "U" in up else "DNA"
        try:
            weight = molecular_weight(seq, seq_type)
        except ValueError:
            weight = None
    return {
        "length": len(seq),
        "composition": counts,
        "gc_fraction": gc_fraction(up.replace("U", "T")),
        "molecular_weight": weight,
        "gc_skew": GC_skew(seq, window),
    }


def translate_case(case):
    seq = case["sequence"]
    n = len(seq) - len(seq) % 3
    try:
        protein = Seq(seq[:n]).translate(table=case["table"], to_stop=case["to_stop"])
        return {"protein": str(protein)}
    except Exception as e:  # noqa: BLE001 - Biopython refuses the case
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    request = json.load(sys.stdin)
    out = {
        "fastq": [fastq_case(c) for c in request.get("fastq", [])],
        "orfs": [orfs_case(c) for c in request.get("orfs", [])],
        "stats": [stats_case(c) for c in request.get("stats", [])],
        "translate": [translate_case(c) for c in request.get("translate", [])],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
