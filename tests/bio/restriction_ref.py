"""Independent reference for the `restriction` plugin's end-to-end tests.

Reads one JSON request on stdin and prints JSON results, computed with
Biopython 1.85's `Bio.Restriction` (REBASE data, its own site search and
digestion code; nothing here is shared with the Rust plugin):

- {"op": "enzymes", "names": [...]} -> {"enzymes": {name: {site, fst5,
  fst3, ovhg, ovhgseq, kind ("5'", "3'", "blunt"), palindromic, suppl}}}
- {"op": "commercial"} -> {"enzymes": [{name, site, cuts_twice}, ...]}:
  Biopython's `CommOnly` batch (enzymes with a commercial supplier).
- {"op": "search", "cases": [{sequence, enzymes, circular}, ...]}
  -> {"results": [{name: [0-based top-strand cuts, sorted]}, ...]}.
  Biopython's `enzyme.search` returns 1-based positions of the first base
  after the top-strand cut, so the 0-based cut is that minus 1.
- {"op": "digest", "cases": [{sequence, enzymes, circular}, ...]}
  -> {"results": [[fragment sequences], ...]}: with one enzyme, exactly
  `enzyme.catalyse(seq, linear=...)` (circular: Biopython lists the fragment
  across the origin first); with several, the sequence cut at the union of
  the enzymes' `search` positions (`RestrictionBatch.search`), in the same
  order convention.
"""

import json
import sys

from Bio.Restriction import AllEnzymes, CommOnly, RestrictionBatch
from Bio.Seq import Seq


def enzyme(name):
    return AllEnzymes.get(name)


def info(names):
    out = {}
    for n in names:
        e = enzyme(n)
        if e.is_5overhang():
            kind = "5'"
        elif e.is_3overhang():
            kind = "3'"
        else:
            kind = "blunt"
        out[n] = {
            "site": e.site,
            "fst5": e.fst5,
            "fst3": e.fst3,
            "ovhg": e.ovhg,
            "ovhgseq": e.ovhgseq,
            "kind": kind,
            "palindromic": e.is_palindromic(),
            "suppl": "".join(e.suppl),
        }
    return out


def search(case):
    seq = Seq(case["sequence"].upper())
    linear = not case["circular"]
    return {n: sorted(p - 1 for p in enzyme(n).search(seq, linear=linear)) for n in case["enzymes"]}


def digest(case):
    seq = Seq(case["sequence"].upper())
    linear = not case["circular"]
    if len(case["enzymes"]) == 1:
        return [str(f) for f in enzyme(case["enzymes"][0]).catalyse(seq, linear=linear)]
    rb = RestrictionBatch(case["enzymes"])
    cuts = sorted({p - 1 for ps in rb.search(seq, linear=linear).values() for p in ps})
    s = str(seq)
    if not cuts:
        return [s]
    if linear:
        bounds = [0] + cuts + [len(s)]
        return [s[a:b] for a, b in zip(bounds, bounds[1:])]
    frags = [s[cuts[-1]:] + s[: cuts[0]]]
    frags += [s[a:b] for a, b in zip(cuts, cuts[1:])]
    return frags


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    if op == "enzymes":
        out = {"enzymes": info(req["names"])}
    elif op == "commercial":
        out = {
            "enzymes": [
                {"name": str(e), "site": e.site, "cuts_twice": e.cut_twice()}
                for e in sorted(CommOnly, key=str)
            ]
        }
    elif op == "search":
        out = {"results": [search(c) for c in req["cases"]]}
    elif op == "digest":
        out = {"results": [digest(c) for c in req["cases"]]}
    else:
        raise SystemExit(f"unknown op {op}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
