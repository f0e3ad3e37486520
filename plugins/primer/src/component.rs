//! The component glue: WIT bindings and the exported interface.

bioai_sdk::generate!("bioai:primer/primer");

use crate::{design, tm};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ArgumentDetail, ToolDetail};
use exports::bioai::primer::pcr::{self as api, Primer, PrimerCheck, PrimerDesign, PrimerPair};

struct PrimerPlugin;

fn tool(name: &str, title: &str) -> ToolInfo {
    ToolInfo {
        name: name.into(),
        title: Some(title.into()),
        annotations: None,
    }
}

impl metadata::Guest for PrimerPlugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("primer".into()),
            title: "PCR primers".into(),
            description: "Primer melting temperatures exactly as Biopython computes them \
                          (nearest-neighbour, Wallace, GC; every salt correction) and \
                          ranked primer-pair design with dimer and hairpin checks."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![
                tool("tm", "Melting temperature"),
                tool("tm-many", "Melting temperatures of many primers"),
                tool("check", "Check a primer"),
                tool("design", "Design primer pairs"),
            ],
            pricing: None,
        }
    }
}

fn primer(p: design::Primer) -> Primer {
    Primer {
        sequence: p.sequence,
        start: p.start,
        length: p.length,
        tm: p.tm,
        gc: p.gc,
        gc_clamp: p.gc_clamp,
        hairpin_dg: p.hairpin_dg,
        hairpin_flag: p.hairpin_flag,
        self_dimer_dg: p.self_dimer_dg,
        self_dimer_flag: p.self_dimer_flag,
        penalty: p.penalty,
    }
}

impl api::Guest for PrimerPlugin {
    #[allow(clippy::too_many_arguments)]
    fn tm(
        sequence: String,
        method: Option<String>,
        table: Option<String>,
        na_mm: Option<f64>,
        k_mm: Option<f64>,
        tris_mm: Option<f64>,
        mg_mm: Option<f64>,
        dntps_mm: Option<f64>,
        dnac1_nm: Option<f64>,
        dnac2_nm: Option<f64>,
        saltcorr: Option<u8>,
        selfcomp: Option<bool>,
    ) -> Result<f64, String> {
        let args = tm::TmArgs {
            method,
            table,
            na: na_mm,
            k: k_mm,
            tris: tris_mm,
            mg: mg_mm,
            dntps: dntps_mm,
            dnac1: dnac1_nm,
            dnac2: dnac2_nm,
            saltcorr,
            selfcomp,
        };
        Ok(tm::tm(&sequence, &args)?)
    }

    #[allow(clippy::too_many_arguments)]
    fn tm_many(
        sequences: String,
        method: Option<String>,
        table: Option<String>,
        na_mm: Option<f64>,
        k_mm: Option<f64>,
        tris_mm: Option<f64>,
        mg_mm: Option<f64>,
        dntps_mm: Option<f64>,
        dnac1_nm: Option<f64>,
        dnac2_nm: Option<f64>,
        saltcorr: Option<u8>,
        selfcomp: Option<bool>,
    ) -> Result<Vec<f64>, String> {
        let args = tm::TmArgs {
            method,
            table,
            na: na_mm,
            k: k_mm,
            tris: tris_mm,
            mg: mg_mm,
            dntps: dntps_mm,
            dnac1: dnac1_nm,
            dnac2: dnac2_nm,
            saltcorr,
            selfcomp,
        };
        Ok(tm::tm_many(&sequences, &args)?)
    }

    fn check(sequence: String, partner: Option<String>) -> Result<PrimerCheck, String> {
        let c = design::check(&sequence, partner.as_deref())?;
        Ok(PrimerCheck {
            tm: c.tm,
            gc: c.gc,
            gc_clamp: c.gc_clamp,
            hairpin_dg: c.hairpin_dg,
            hairpin_flag: c.hairpin_flag,
            self_dimer_dg: c.self_dimer_dg,
            self_dimer_flag: c.self_dimer_flag,
            cross_dimer_dg: c.cross_dimer_dg,
            cross_dimer_flag: c.cross_dimer_flag,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn design(
        template: String,
        target_start: u32,
        target_length: u32,
        product_min: Option<u32>,
        product_max: Option<u32>,
        primer_min: Option<u32>,
        primer_opt: Option<u32>,
        primer_max: Option<u32>,
        tm_min: Option<f64>,
        tm_opt: Option<f64>,
        tm_max: Option<f64>,
        gc_min: Option<f64>,
        gc_max: Option<f64>,
    ) -> Result<PrimerDesign, String> {
        let d = design::Params::new(target_start, target_length);
        let params = design::Params {
            product_min: product_min.unwrap_or(d.product_min),
            product_max: product_max.unwrap_or(d.product_max),
            primer_min: primer_min.unwrap_or(d.primer_min),
            primer_opt: primer_opt.unwrap_or(d.primer_opt),
            primer_max: primer_max.unwrap_or(d.primer_max),
            tm_min: tm_min.unwrap_or(d.tm_min),
            tm_opt: tm_opt.unwrap_or(d.tm_opt),
            tm_max: tm_max.unwrap_or(d.tm_max),
            gc_min: gc_min.unwrap_or(d.gc_min),
            gc_max: gc_max.unwrap_or(d.gc_max),
            ..d
        };
        let out = design::design(&template, &params)?;
        bioai_sdk::log!(
            info,
            "designed primers";
            template_length = template.len(),
            pairs = out.pairs.len(),
            left_ok = out.left_ok,
            right_ok = out.right_ok,
        );
        Ok(PrimerDesign {
            pairs: out
                .pairs
                .into_iter()
                .map(|p| PrimerPair {
                    left: primer(p.left),
                    right: primer(p.right),
                    product_size: p.product_size,
                    cross_dimer_dg: p.cross_dimer_dg,
                    cross_dimer_flag: p.cross_dimer_flag,
                    penalty: p.penalty,
                })
                .collect(),
            left_considered: out.left_considered,
            left_ok: out.left_ok,
            right_considered: out.right_considered,
            right_ok: out.right_ok,
            pairs_ok: out.pairs_ok,
        })
    }
}

/// One argument's detail.
fn arg(name: &str, description: &str, default_json: Option<String>) -> ArgumentDetail {
    ArgumentDetail {
        name: name.into(),
        description: Some(description.into()),
        default_json,
    }
}

/// A number as JSON text (`50.0`, never `inf`: defaults are finite).
fn json_f64(x: f64) -> String {
    format!("{x:?}")
}

impl tool_details::Guest for PrimerPlugin {
    fn tool_details() -> Vec<ToolDetail> {
        let tm_args = |first: &str, what: &str| {
            let d = tm::NnOptions::default();
            vec![
                arg(first, what, None),
                arg(
                    "method",
                    "`nn` (nearest-neighbour), `wallace` or `gc`",
                    Some(format!("{:?}", tm::DEFAULT_METHOD)),
                ),
                arg(
                    "table",
                    "nearest-neighbour table: DNA_NN1-4, RNA_NN1-3 or R_DNA_NN1",
                    Some(format!("{:?}", d.table.name)),
                ),
                arg("na-mm", "Na+ in mM", Some(json_f64(d.salt.na))),
                arg("k-mm", "K+ in mM", Some(json_f64(d.salt.k))),
                arg("tris-mm", "Tris in mM", Some(json_f64(d.salt.tris))),
                arg("mg-mm", "Mg2+ in mM", Some(json_f64(d.salt.mg))),
                arg("dntps-mm", "dNTPs in mM", Some(json_f64(d.salt.dntps))),
                arg(
                    "dnac1-nm",
                    "concentration of the higher-concentrated strand, nM",
                    Some(json_f64(d.dnac1)),
                ),
                arg(
                    "dnac2-nm",
                    "concentration of the other strand, nM",
                    Some(json_f64(d.dnac2)),
                ),
                arg(
                    "saltcorr",
                    "salt correction as in Biopython's MeltingTemp: 0 none, 1-7",
                    Some(d.saltcorr.to_string()),
                ),
                arg(
                    "selfcomp",
                    "the sequence is self-complementary (uses dnac1 alone)",
                    Some(d.selfcomp.to_string()),
                ),
            ]
        };
        let d = design::Params::new(0, 0);
        let mut details = bioai_sdk::argument_details! {
            "design" => [
                ("template", "the template DNA (A/C/G/T, any case)", None),
                ("target-start", "0-based start of the region the product must span", None),
                ("target-length", "length of that region", None),
                ("product-min", "smallest product, bp", Some(d.product_min.to_string())),
                ("product-max", "largest product, bp", Some(d.product_max.to_string())),
                ("primer-min", "shortest primer, nt (10 to 36)", Some(d.primer_min.to_string())),
                ("primer-opt", "optimal primer length, nt", Some(d.primer_opt.to_string())),
                ("primer-max", "longest primer, nt (10 to 36)", Some(d.primer_max.to_string())),
                ("tm-min", "lowest primer Tm, deg C", Some(json_f64(d.tm_min))),
                ("tm-opt", "optimal primer Tm, deg C", Some(json_f64(d.tm_opt))),
                ("tm-max", "highest primer Tm, deg C", Some(json_f64(d.tm_max))),
                ("gc-min", "lowest primer GC fraction (0.0-1.0)", Some(json_f64(d.gc_min))),
                ("gc-max", "highest primer GC fraction (0.0-1.0)", Some(json_f64(d.gc_max))),
            ],
            "check" => [
                ("sequence", "the primer, 5'->3', 2 to 100 bases of A, C, G, T or U", None),
                ("partner", "a second primer (e.g. the reverse one) to check the cross-dimer with", None),
            ],
        };
        details.push(ToolDetail {
            tool: "tm".into(),
            name: None,
            input_schema: None,
            requires: vec![],
            arguments: tm_args("sequence", "the primer, 5'->3': A, C, G, T or U for `nn`"),
        });
        details.push(ToolDetail {
            tool: "tm-many".into(),
            name: None,
            input_schema: None,
            requires: vec![],
            arguments: tm_args(
                "sequences",
                "primers, one per line (or separated by spaces, commas or semicolons)",
            ),
        });
        details
    }
}

export!(PrimerPlugin);
