//! Deterministic report rendering: the templates' tables (as Markdown and
//! TSV) and paragraphs, from the tool results in the findings.

use crate::findings;
use crate::plan::{Plan, Template};
use serde_json::Value;

/// A table of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The heading above it.
    pub title: String,
    /// The TSV file written for it, if any (e.g. `guides.tsv`).
    pub file: Option<String>,
    /// Column names.
    pub headers: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: &str, file: Option<&str>, headers: &[&str]) -> Table {
        Table {
            title: title.into(),
            file: file.map(str::to_string),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// The table in Markdown (`|` escaped in cells).
    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = format!(
            "| {} |\n",
            self.headers
                .iter()
                .map(|h| cell(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        out.push_str(&format!("|{}\n", "---|".repeat(self.headers.len())));
        for r in &self.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        out
    }

    /// The table as TSV (tabs and newlines in cells become spaces).
    pub fn to_tsv(&self) -> String {
        let cell = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let mut out = self
            .headers
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join("\t");
        out.push('\n');
        for r in &self.rows {
            out.push_str(&r.iter().map(|c| cell(c)).collect::<Vec<_>>().join("\t"));
            out.push('\n');
        }
        out
    }
}

/// The deterministic part of a report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rendered {
    /// The report's title.
    pub title: String,
    /// Markdown sections (paragraphs and tables, in order).
    pub sections: Vec<String>,
    /// The tables (also inside `sections`), for the TSV files.
    pub tables: Vec<Table>,
}

impl Rendered {
    fn table(&mut self, t: Table) {
        self.sections
            .push(format!("## {}\n\n{}", t.title, t.to_markdown()));
        self.tables.push(t);
    }
    fn para(&mut self, heading: &str, text: String) {
        self.sections.push(format!("## {heading}\n\n{text}\n"));
    }
}

fn s(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(x)) => x.clone(),
        Some(Value::Array(a)) => a.iter().map(|x| s(Some(x))).collect::<Vec<_>>().join(", "),
        Some(x) => x.to_string(),
    }
}

fn f(v: Option<&Value>, digits: usize) -> String {
    match v.and_then(Value::as_f64) {
        Some(x) => format!("{x:.digits$}"),
        None => "-".into(),
    }
}

fn u(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_u64).unwrap_or(0)
}

/// Renders the findings of `plan` for `task`.
pub fn render(
    task: &str,
    plan: &Plan,
    inputs: &serde_json::Map<String, Value>,
    found: &[Value],
) -> Rendered {
    match plan.template.as_deref().and_then(Template::from_name) {
        Some(Template::CrisprKnockout) => crispr(inputs, found),
        Some(Template::PcrPrimers) => pcr(found),
        Some(Template::CloningCheck) => cloning(found),
        Some(Template::SequenceQc) => qc(found),
        Some(Template::GeneLookup) => gene(found),
        None => generic(task, plan, found),
    }
}

fn crispr(inputs: &serde_json::Map<String, Value>, found: &[Value]) -> Rendered {
    let gene = inputs.get("gene").and_then(Value::as_str);
    let mut r = Rendered {
        title: match gene {
            Some(g) => format!("CRISPR knockout guides for {g}"),
            None => "CRISPR knockout guides".into(),
        },
        ..Rendered::default()
    };
    // The last successful design (the coder re-runs the step on retries).
    let Some((res, args)) = findings::of_step(found, "guides")
        .filter_map(|f| Some((f.get("result")?, f.get("args")?)))
        .last()
    else {
        r.para(
            "Result",
            "The guide design failed; no guides to report.".into(),
        );
        return r;
    };
    let guides = res
        .get("guides")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut t = Table::new(
        "Top guides",
        Some("guides.tsv"),
        &[
            "Rank",
            "Protospacer",
            "PAM",
            "Strand",
            "Start",
            "GC",
            "Rule Set 1",
            "Flags",
        ],
    );
    for (i, g) in guides.iter().enumerate() {
        let flags = g
            .get("flags")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty());
        t.rows.push(vec![
            (i + 1).to_string(),
            s(g.get("protospacer")),
            s(g.get("pam")),
            match g.get("strand").and_then(Value::as_str) {
                Some("plus") => "+".into(),
                Some("minus") => "-".into(),
                other => other.unwrap_or("-").into(),
            },
            s(g.get("start")),
            f(g.get("gc"), 2),
            f(g.get("score"), 3),
            flags.map_or("none".into(), |a| s(Some(&Value::Array(a.clone())))),
        ]);
    }
    r.table(t);
    let (lo, hi) = (f(args.get("min_gc"), 2), f(args.get("max_gc"), 2));
    let best = guides.iter().find(|g| {
        g.get("flags")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
            && g.get("score").is_some_and(Value::is_number)
    });
    let target = gene.map_or("the target".to_string(), str::to_string);
    let mut plan = format!(
        "{} candidate guides were found on both strands of the target sequence, {} of which pass \
         the filters (no TTTT, no homopolymer of 5 or more, GC fraction within {lo}-{hi}). ",
        u(res.get("total_found")),
        u(res.get("total_passing")),
    );
    match best {
        Some(g) => plan.push_str(&format!(
            "The best passing guide is {} (PAM {}, {} strand, start {}, Rule Set 1 score {}). To knock \
             out {target}, take two or three passing guides with the highest scores that cut early in \
             a coding exon shared by all transcripts, clone each spacer into a U6-driven sgRNA vector \
             (add a 5' G if the spacer does not start with one), deliver them with SpCas9, and confirm \
             editing by sequencing a PCR amplicon of the cut site (e.g. with indel decomposition) or a \
             T7E1 assay; confirm loss of the protein by western blot. Check off-target sites against \
             the genome (crispr.off_targets) before ordering.",
            s(g.get("protospacer")),
            s(g.get("pam")),
            if g.get("strand").and_then(Value::as_str) == Some("minus") { "-" } else { "+" },
            s(g.get("start")),
            f(g.get("score"), 3),
        )),
        None => plan.push_str(
            "No guide passes every filter with a Rule Set 1 score; consider a longer or different \
             target region (scores need 20-nt protospacers with an NGG PAM and 30 nt of context).",
        ),
    }
    r.para("Knockout plan", plan);
    r
}

fn pcr(found: &[Value]) -> Rendered {
    let mut r = Rendered {
        title: "PCR primer design".into(),
        ..Rendered::default()
    };
    let Some(res) = findings::result_of(found, "primers") else {
        r.para(
            "Result",
            "The primer design failed; no primers to report.".into(),
        );
        return r;
    };
    let pairs = res
        .get("pairs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut t = Table::new(
        "Primer pairs",
        Some("primers.tsv"),
        &[
            "Rank",
            "Left primer",
            "Left Tm (°C)",
            "Left GC",
            "Right primer",
            "Right Tm (°C)",
            "Right GC",
            "Product (bp)",
            "Penalty",
        ],
    );
    for (i, p) in pairs.iter().enumerate() {
        t.rows.push(vec![
            (i + 1).to_string(),
            s(p.pointer("/left/sequence")),
            f(p.pointer("/left/tm"), 1),
            f(p.pointer("/left/gc"), 2),
            s(p.pointer("/right/sequence")),
            f(p.pointer("/right/tm"), 1),
            f(p.pointer("/right/gc"), 2),
            s(p.get("product_size")),
            f(p.get("penalty"), 2),
        ]);
    }
    r.table(t);
    r.para(
        "Summary",
        format!(
            "{} pair(s) reported from {} left and {} right primer candidates within the GC and Tm limits \
             ({} pairs met the product size and Tm difference limits).",
            pairs.len(),
            u(res.get("left_ok")),
            u(res.get("right_ok")),
            u(res.get("pairs_ok")),
        ),
    );
    r
}

fn cloning(found: &[Value]) -> Rendered {
    let mut r = Rendered {
        title: "Cloning check".into(),
        ..Rendered::default()
    };
    let sites = findings::result_of(found, "sites")
        .and_then(|v| v.get("value"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut t = Table::new(
        "Restriction sites",
        Some("sites.tsv"),
        &["Enzyme", "Site", "Cuts", "Positions", "Overhang"],
    );
    let mut cutters = Vec::new();
    let mut golden_gate = Vec::new();
    for e in &sites {
        let name = s(e.get("enzyme"));
        let list = e
            .get("sites")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let positions: Vec<String> = list.iter().map(|x| s(x.get("position"))).collect();
        if !list.is_empty() {
            cutters.push(format!("{name} ({}x)", list.len()));
        }
        if ["bsai", "bsmbi", "esp3i", "bbsi", "sapi"].contains(&name.to_ascii_lowercase().as_str())
            && !list.is_empty()
        {
            golden_gate.push(format!("{name} at {}", positions.join(", ")));
        }
        t.rows.push(vec![
            name,
            s(e.get("recognition_site")),
            list.len().to_string(),
            if positions.is_empty() {
                "-".into()
            } else {
                positions.join(", ")
            },
            s(e.get("overhang_kind")),
        ]);
    }
    r.table(t);
    let frags = findings::result_of(found, "digest")
        .and_then(|v| v.get("value"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut ft = Table::new(
        "Digest fragments",
        None,
        &[
            "#",
            "Start",
            "End",
            "Length",
            "Left enzymes",
            "Right enzymes",
        ],
    );
    for (i, fr) in frags.iter().enumerate() {
        ft.rows.push(vec![
            (i + 1).to_string(),
            s(fr.get("start")),
            s(fr.get("end")),
            s(fr.get("length")),
            s(fr.get("left_enzymes")),
            s(fr.get("right_enzymes")),
        ]);
    }
    for row in &mut ft.rows {
        for c in row.iter_mut() {
            if c.is_empty() {
                *c = "-".into();
            }
        }
    }
    r.table(ft);
    let mut text = if cutters.is_empty() {
        "None of the enzymes tested cuts the sequence.".to_string()
    } else {
        format!(
            "Enzymes that cut: {}. The digest gives {} fragment(s).",
            cutters.join(", "),
            frags.len()
        )
    };
    if golden_gate.is_empty() {
        text.push_str(" No internal BsaI or BsmBI site: the sequence is compatible with Golden Gate assembly with these enzymes.");
    } else {
        text.push_str(&format!(
            " Warning: internal Type IIS sites ({}) must be removed (domesticated, e.g. by a silent \
             mutation) before Golden Gate assembly with that enzyme.",
            golden_gate.join("; ")
        ));
    }
    r.para("Summary", text);
    r
}

fn qc(found: &[Value]) -> Rendered {
    let mut r = Rendered {
        title: "Sequence QC".into(),
        ..Rendered::default()
    };
    let Some(records) = findings::result_of(found, "parse")
        .and_then(|v| v.get("value"))
        .and_then(Value::as_array)
    else {
        r.para(
            "Result",
            format!(
                "The FASTA did not parse: {}",
                findings::error_of(found, "parse").unwrap_or("unknown error")
            ),
        );
        return r;
    };
    let by_item = |step: &str, id: &str| {
        findings::of_step(found, step)
            .find(|f| f.get("item").and_then(Value::as_str) == Some(id))
            .cloned()
    };
    let mut t = Table::new(
        "Records",
        Some("qc.tsv"),
        &[
            "Record",
            "Length",
            "GC",
            "N",
            "Other ambiguous",
            "ORFs",
            "Longest ORF (nt)",
            "Longest ORF position",
        ],
    );
    for rec in records {
        let id = s(rec.get("id"));
        let stats = by_item("stats", &id).and_then(|f| f.get("result").cloned());
        let orfs = by_item("orfs", &id).and_then(|f| f.get("result").cloned());
        let orf_list = orfs
            .as_ref()
            .and_then(|o| o.get("value"))
            .and_then(Value::as_array)
            .cloned();
        let longest = orf_list.as_ref().and_then(|l| {
            l.iter()
                .max_by_key(|o| u(o.get("end")).saturating_sub(u(o.get("start"))))
        });
        t.rows.push(vec![
            id,
            stats.as_ref().map_or_else(
                || {
                    rec.get("sequence")
                        .and_then(Value::as_str)
                        .map_or(0, str::len)
                        .to_string()
                },
                |x| s(x.get("length")),
            ),
            f(stats.as_ref().and_then(|x| x.get("gc_fraction")), 3),
            s(stats.as_ref().and_then(|x| x.pointer("/composition/n"))),
            s(stats
                .as_ref()
                .and_then(|x| x.pointer("/composition/ambiguous"))),
            orf_list
                .as_ref()
                .map_or("-".into(), |l| l.len().to_string()),
            longest.map_or("-".into(), |o| {
                (u(o.get("end")) - u(o.get("start"))).to_string()
            }),
            longest.map_or("-".into(), |o| {
                format!(
                    "{}-{} ({})",
                    u(o.get("start")),
                    u(o.get("end")),
                    s(o.get("strand"))
                )
            }),
        ]);
    }
    r.table(t);
    let errors = found
        .iter()
        .filter(|f| findings::is_tool(f) && f.get("error").is_some())
        .count();
    let mut text = format!("{} record(s) parsed.", records.len());
    if errors > 0 {
        text.push_str(&format!(" {errors} per-record check(s) failed (e.g. letters outside the IUPAC nucleotide alphabet); see the findings."));
    }
    r.para("Summary", text);
    r
}

fn gene(found: &[Value]) -> Rendered {
    let mut r = Rendered {
        title: "Gene lookup".into(),
        ..Rendered::default()
    };
    let mut t = Table::new("Gene", Some("gene.tsv"), &["Field", "Value"]);
    if let Some(g) = findings::result_of(found, "ensembl") {
        r.title = format!("Gene lookup: {}", s(g.get("display_name")));
        let strand = match g.get("strand").and_then(Value::as_i64) {
            Some(1) => "+",
            Some(-1) => "-",
            _ => "?",
        };
        let id = match g.get("version").and_then(Value::as_u64) {
            Some(v) => format!("{}.{v}", s(g.get("id"))),
            None => s(g.get("id")),
        };
        for (k, v) in [
            ("Symbol", s(g.get("display_name"))),
            ("Ensembl id", id),
            ("Species", s(g.get("species"))),
            (
                "Location",
                format!(
                    "{} {}:{}-{} ({strand})",
                    s(g.get("assembly")),
                    s(g.get("seq_region")),
                    s(g.get("start")),
                    s(g.get("end"))
                ),
            ),
            ("Biotype", s(g.get("biotype"))),
            ("Description", s(g.get("description"))),
            ("Canonical transcript", s(g.get("canonical_transcript"))),
        ] {
            t.rows.push(vec![k.into(), v]);
        }
    } else {
        t.rows.push(vec![
            "Ensembl".into(),
            format!(
                "not found ({})",
                findings::error_of(found, "ensembl").unwrap_or("not run")
            ),
        ]);
    }
    match findings::result_of(found, "ncbi") {
        Some(n) => {
            t.rows.push(vec!["NCBI Gene ids".into(), s(n.get("ids"))]);
            t.rows
                .push(vec!["NCBI Gene matches".into(), s(n.get("count"))]);
        }
        None => t.rows.push(vec![
            "NCBI Gene ids".into(),
            format!(
                "search failed ({})",
                findings::error_of(found, "ncbi").unwrap_or("not run")
            ),
        ]),
    }
    for row in &mut t.rows {
        if row[1].is_empty() {
            row[1] = "-".into();
        }
    }
    r.table(t);
    r
}

fn generic(task: &str, plan: &Plan, found: &[Value]) -> Rendered {
    let mut r = Rendered {
        title: crate::llm::truncate(task.lines().next().unwrap_or("Report"), 80),
        ..Rendered::default()
    };
    let mut t = Table::new(
        "Tool calls",
        Some("steps.tsv"),
        &["Step", "Tool", "Status", "Result (excerpt)"],
    );
    for fnd in found.iter().filter(|x| findings::is_tool(x)) {
        let step = match fnd.get("item") {
            Some(i) => format!("{} [{}]", s(fnd.get("step")), s(Some(i))),
            None => s(fnd.get("step")),
        };
        let (status, excerpt) = match (fnd.get("result"), fnd.pointer("/error/message")) {
            (Some(res), _) => ("ok", crate::llm::truncate(&res.to_string(), 200)),
            (None, Some(e)) => ("failed", crate::llm::truncate(&s(Some(e)), 200)),
            _ => ("?", String::new()),
        };
        t.rows
            .push(vec![step, s(fnd.get("tool")), status.into(), excerpt]);
    }
    if !plan.goal.is_empty() {
        r.para("Goal", plan.goal.clone());
    }
    r.table(t);
    r
}
