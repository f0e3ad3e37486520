"""Independent reference for the `align` plugin: Biopython's PairwiseAligner.

Reads a JSON request on stdin:
    {"cases": [{"a": str, "b": str, "mode": "global"|"local",
                "match": float, "mismatch": float,
                "gap_open": float, "gap_extend": float,
                "matrix": null|"EDNAFULL"|"BLOSUM62",
                "end_gaps_free": bool}, ...]}
and prints {"scores": [float, ...]}, one optimal score per case, computed by
Bio.Align.PairwiseAligner (Biopython 1.85). Scores are added (penalties are
negative): a gap of length L scores open_gap_score + (L-1)*extend_gap_score.
EDNAFULL is NCBI NUC.4.4 as shipped with Biopython. Sequences are
upper-cased first (the plugin is case-insensitive).

With "matrices": ["EDNAFULL", ...] in the request, the output also has
"matrices": {name: {"alphabet": str, "scores": [[float]]}}, Biopython's
matrices, so that the test can re-score alignments without the plugin's copy.
"""

import json
import sys

from Bio.Align import PairwiseAligner, substitution_matrices

MATRICES = {"EDNAFULL": "NUC.4.4", "BLOSUM62": "BLOSUM62"}


def aligner_for(case):
    aligner = PairwiseAligner()
    aligner.mode = case.get("mode") or "global"
    matrix = case.get("matrix")
    if matrix:
        aligner.substitution_matrix = substitution_matrices.load(MATRICES[matrix])
    else:
        aligner.match_score = case.get("match", 1.0)
        aligner.mismatch_score = case.get("mismatch", 0.0)
    aligner.open_gap_score = case.get("gap_open", 0.0)
    aligner.extend_gap_score = case.get("gap_extend", 0.0)
    if case.get("end_gaps_free"):
        aligner.end_gap_score = 0.0
    return aligner


def main():
    request = json.load(sys.stdin)
    scores = []
    for case in request["cases"]:
        aligner = aligner_for(case)
        scores.append(float(aligner.score(case["a"].upper(), case["b"].upper())))
    out = {"scores": scores}
    if request.get("matrices"):
        out["matrices"] = {}
        for name in request["matrices"]:
            m = substitution_matrices.load(MATRICES[name])
            out["matrices"][name] = {
                "alphabet": m.alphabet,
                "scores": [[float(m[x, y]) for y in m.alphabet] for x in m.alphabet],
            }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
