"""Independent reference for the `primer` plugin's end-to-end tests.

Reads one JSON request on stdin and prints JSON results, computed with
Biopython 1.85 (`Bio.SeqUtils.MeltingTemp`) and primer3-py 2.0.3 directly:

- {"op": "tm", "cases": [{"sequence", "method", "table", "na", "k", "tris",
  "mg", "dntps", "dnac1", "dnac2", "saltcorr", "selfcomp"}, ...]}
  -> [{"value": Tm} | {"error": message}, ...]
  method "nn" = Tm_NN, "wallace" = Tm_Wallace, "gc" = Tm_GC (defaults).
- {"op": "structures", "primers": [seq, ...], "pairs": [[a, b], ...]}
  -> {"hairpin": [dG], "homodimer": [dG], "heterodimer": [dG]} in kcal/mol
  at 37 C from primer3's thermodynamic alignment (calc_hairpin,
  calc_homodimer, calc_heterodimer) at 50 mM monovalent, no Mg2+/dNTPs,
  50 nM DNA.
- {"op": "design", "cases": [{"template", "target_start", "target_length",
  "product_min", "product_max", "primer_min", "primer_opt", "primer_max",
  "tm_min", "tm_opt", "tm_max", "gc_min", "gc_max"}, ...]}
  -> [{"pairs": [{"left_start", "left_length", "right_start",
  "right_length", "product_size", "left_tm", "right_tm"}], "error": str?}]
  from primer3's design_primers with the same constraints (positions on the
  forward strand, right interval half-open like the plugin's).
"""

import json
import sys

import primer3
from Bio.SeqUtils import MeltingTemp as mt

TABLES = {
    name: getattr(mt, name)
    for name in (
        "DNA_NN1",
        "DNA_NN2",
        "DNA_NN3",
        "DNA_NN4",
        "RNA_NN1",
        "RNA_NN2",
        "RNA_NN3",
        "R_DNA_NN1",
    )
}


def tm_case(c):
    seq = c["sequence"]
    ions = dict(Na=c["na"], K=c["k"], Tris=c["tris"], Mg=c["mg"], dNTPs=c["dntps"])
    method = c["method"]
    try:
        if method == "nn":
            v = mt.Tm_NN(
                seq,
                nn_table=TABLES[c["table"]],
                dnac1=c["dnac1"],
                dnac2=c["dnac2"],
                selfcomp=c["selfcomp"],
                saltcorr=c["saltcorr"],
                **ions,
            )
        elif method == "wallace":
            v = mt.Tm_Wallace(seq)
        elif method == "gc":
            v = mt.Tm_GC(seq, **ions)
        else:
            raise ValueError(f"unknown method {method}")
        return {"value": float(v)}
    except (ValueError, ZeroDivisionError) as e:
        return {"error": str(e)}


THERMO = dict(mv_conc=50.0, dv_conc=0.0, dntp_conc=0.0, dna_conc=50.0, temp_c=37.0)


def structures(req):
    hp = [primer3.bindings.calc_hairpin(s, **THERMO).dg / 1000.0 for s in req["primers"]]
    homo = [primer3.bindings.calc_homodimer(s, **THERMO).dg / 1000.0 for s in req["primers"]]
    het = [
        primer3.bindings.calc_heterodimer(a, b, **THERMO).dg / 1000.0
        for a, b in req["pairs"]
    ]
    return {"hairpin": hp, "homodimer": homo, "heterodimer": het}


def design_case(c):
    seq_args = {
        "SEQUENCE_ID": "t",
        "SEQUENCE_TEMPLATE": c["template"],
        "SEQUENCE_TARGET": [c["target_start"], c["target_length"]],
    }
    glob = {
        "PRIMER_NUM_RETURN": 5,
        "PRIMER_OPT_SIZE": c["primer_opt"],
        "PRIMER_MIN_SIZE": c["primer_min"],
        "PRIMER_MAX_SIZE": c["primer_max"],
        "PRIMER_OPT_TM": c["tm_opt"],
        "PRIMER_MIN_TM": c["tm_min"],
        "PRIMER_MAX_TM": c["tm_max"],
        "PRIMER_MIN_GC": c["gc_min"] * 100.0,
        "PRIMER_MAX_GC": c["gc_max"] * 100.0,
        "PRIMER_PRODUCT_SIZE_RANGE": [[c["product_min"], c["product_max"]]],
        "PRIMER_SALT_MONOVALENT": 50.0,
        "PRIMER_SALT_DIVALENT": 0.0,
        "PRIMER_DNTP_CONC": 0.0,
        "PRIMER_DNA_CONC": 50.0,
        "PRIMER_TM_FORMULA": 1,
        "PRIMER_SALT_CORRECTIONS": 1,
    }
    try:
        r = primer3.bindings.design_primers(seq_args, glob)
    except (OSError, ValueError, KeyError) as e:
        return {"pairs": [], "error": str(e)}
    pairs = []
    for i in range(r.get("PRIMER_PAIR_NUM_RETURNED", 0)):
        ls, ll = r[f"PRIMER_LEFT_{i}"]
        # primer3 reports a right primer as (3' end position, length).
        re3, rl = r[f"PRIMER_RIGHT_{i}"]
        pairs.append(
            {
                "left_start": ls,
                "left_length": ll,
                "right_start": re3 - rl + 1,
                "right_length": rl,
                "product_size": r[f"PRIMER_PAIR_{i}_PRODUCT_SIZE"],
                "left_tm": r[f"PRIMER_LEFT_{i}_TM"],
                "right_tm": r[f"PRIMER_RIGHT_{i}_TM"],
            }
        )
    return {"pairs": pairs}


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    if op == "tm":
        out = [tm_case(c) for c in req["cases"]]
    elif op == "structures":
        out = structures(req)
    elif op == "design":
        out = [design_case(c) for c in req["cases"]]
    else:
        raise SystemExit(f"unknown op {op}")
    json.dump(out, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
