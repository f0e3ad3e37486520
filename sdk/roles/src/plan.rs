//! Plans: the steps the coder runs, and the built-in task templates that
//! build them deterministically from the run's inputs.
//!
//! A plan's JSON (the run state's `plan`):
//!
//! ```json
//! {"template": "crispr_knockout", "source": "template", "goal": "...",
//!  "search_queries": ["sgRNA design rules"],
//!  "steps": [{"id": "guides", "tool": "crispr.design_guides",
//!             "args": {"sequence": "...", "pam": "NGG"}, "essential": true}]}
//! ```
//!
//! A step with `for_each` runs once per item of an earlier step's result
//! array (`{"step": "parse", "path": "value", "bind": {"sequence":
//! "sequence"}, "label": "id"}`: for each item of `parse`'s `value`, the
//! argument `sequence` is the item's `sequence`; findings are labelled by
//! the item's `id`).
//!
//! An argument value `{"$from": "<step id>", "pointer": "/records/0/sequence"}`
//! is replaced, when the coder runs the step, with that part of the earlier
//! step's result (see [`crate::coder::resolve_refs`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The built-in template, if the plan comes from one.
    #[serde(default)]
    pub template: Option<String>,
    /// `template` or `llm`.
    #[serde(default)]
    pub source: String,
    /// What the run is to find out, in one sentence.
    #[serde(default)]
    pub goal: String,
    /// Queries for the retriever.
    #[serde(default)]
    pub search_queries: Vec<String>,
    /// The tool steps, in order.
    pub steps: Vec<Step>,
}

/// One tool step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Unique id within the plan.
    pub id: String,
    /// The tool's name, e.g. `crispr.design_guides`.
    pub tool: String,
    /// The arguments object.
    #[serde(default = "empty_object")]
    pub args: Value,
    /// Whether the run fails its evaluation when this step fails.
    #[serde(default = "yes")]
    pub essential: bool,
    /// Why the step is there (from the LLM's plan), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Run once per item of an earlier step's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<ForEach>,
}

/// Repeats a step over the items of an earlier step's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForEach {
    /// The earlier step's id.
    pub step: String,
    /// The field of its result holding the array (`value` for tools
    /// returning a list).
    pub path: String,
    /// Argument name -> item field.
    pub bind: BTreeMap<String, String>,
    /// The item field naming the item in findings.
    #[serde(default)]
    pub label: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn yes() -> bool {
    true
}

/// The built-in task templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// CRISPR knockout guide design.
    CrisprKnockout,
    /// PCR primer design.
    PcrPrimers,
    /// Restriction sites, digest and Golden Gate compatibility.
    CloningCheck,
    /// FASTA quality control.
    SequenceQc,
    /// Gene lookup in Ensembl and NCBI Gene.
    GeneLookup,
}

/// The templates' names, in the order the error messages list them.
pub const TEMPLATE_NAMES: [&str; 5] = [
    "crispr_knockout",
    "pcr_primers",
    "cloning_check",
    "sequence_qc",
    "gene_lookup",
];

/// The enzymes `cloning_check` tests by default.
pub const DEFAULT_ENZYMES: [&str; 7] =
    ["EcoRI", "BamHI", "HindIII", "XhoI", "NotI", "BsaI", "BsmBI"];

/// The error of a free-form task without LLM.
pub const NO_TEMPLATE_NO_LLM: &str = "this task matches no built-in template (crispr_knockout, \
    pcr_primers, cloning_check, sequence_qc, gene_lookup) and no LLM is configured: set \
    BIOAI_LLM_PROVIDER, BIOAI_LLM_MODEL and BIOAI_LLM_API_KEY (see README), or pass a template";

/// Keywords, most specific template first.
const KEYWORDS: [(Template, &[&str]); 5] = [
    (
        Template::CrisprKnockout,
        &[
            "crispr",
            "sgrna",
            "grna",
            "guide rna",
            "guides",
            "guide",
            "knockout",
            "knock-out",
            "knock out",
        ],
    ),
    (Template::PcrPrimers, &["primer", "pcr", "amplicon"]),
    (
        Template::CloningCheck,
        &[
            "restriction",
            "digest",
            "cloning",
            "golden gate",
            "golden-gate",
            "enzyme",
        ],
    ),
    (
        Template::SequenceQc,
        &[
            "qc",
            "orf",
            "fasta",
            "quality control",
            "open reading frame",
        ],
    ),
    (
        Template::GeneLookup,
        &[
            "look up",
            "lookup",
            "look-up",
            "gene info",
            "ensembl",
            "ncbi gene",
        ],
    ),
];

impl Template {
    /// Every template.
    pub const ALL: [Template; 5] = [
        Template::CrisprKnockout,
        Template::PcrPrimers,
        Template::CloningCheck,
        Template::SequenceQc,
        Template::GeneLookup,
    ];

    /// The template's name, e.g. `crispr_knockout`.
    pub fn name(self) -> &'static str {
        match self {
            Template::CrisprKnockout => TEMPLATE_NAMES[0],
            Template::PcrPrimers => TEMPLATE_NAMES[1],
            Template::CloningCheck => TEMPLATE_NAMES[2],
            Template::SequenceQc => TEMPLATE_NAMES[3],
            Template::GeneLookup => TEMPLATE_NAMES[4],
        }
    }

    /// The template named `name` (case-insensitive, `-` read as `_`).
    pub fn from_name(name: &str) -> Option<Template> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        Template::ALL.into_iter().find(|t| t.name() == n)
    }

    /// The template a task's text asks for, by keyword (whole words,
    /// case-insensitive; more specific templates first), with the keyword.
    pub fn recognise(task: &str) -> Option<(Template, &'static str)> {
        let text = normalise(task);
        KEYWORDS.iter().find_map(|(t, words)| {
            words
                .iter()
                .find(|w| contains_words(&text, w))
                .map(|w| (*t, *w))
        })
    }

    /// The retriever's query for the template's topic.
    pub fn topic(self) -> &'static str {
        match self {
            Template::CrisprKnockout => "sgRNA design rules",
            Template::PcrPrimers => "PCR primer design",
            Template::CloningCheck => "Golden Gate cloning overhangs",
            Template::SequenceQc => "sequence QC FASTA",
            Template::GeneLookup => "gene annotation Ensembl NCBI Gene",
        }
    }

    /// The plan for `inputs`; an error names a missing or invalid input.
    pub fn plan(self, inputs: &Map<String, Value>) -> Result<Plan, String> {
        let t = self.name();
        let (goal, steps) = match self {
            Template::CrisprKnockout => {
                let sequence = required_str(inputs, "sequence", t)?;
                let gene = optional_str(inputs, "gene", t)?;
                let args = json!({
                    "sequence": sequence,
                    "pam": optional_str(inputs, "pam", t)?.unwrap_or("NGG"),
                    "guide_length": optional_u64(inputs, "guide_length", t)?.unwrap_or(20),
                    "min_gc": GC_WINDOW.0,
                    "max_gc": GC_WINDOW.1,
                    "max_results": optional_u64(inputs, "max_results", t)?.unwrap_or(10),
                });
                let goal = match gene {
                    Some(g) => format!("Design SpCas9 guides to knock out {g}"),
                    None => "Design SpCas9 guides against the target sequence".to_string(),
                };
                (
                    goal,
                    vec![step("guides", "crispr.design_guides", args, true)],
                )
            }
            Template::PcrPrimers => {
                let template = required_str(inputs, "template", t)?;
                let mut args = json!({
                    "template": template,
                    "target_start": required_u64(inputs, "target_start", t)?,
                    "target_length": required_u64(inputs, "target_length", t)?,
                });
                for key in ["product_min", "product_max"] {
                    if let Some(v) = optional_u64(inputs, key, t)? {
                        args[key] = json!(v);
                    }
                }
                (
                    "Design PCR primer pairs around the target region".to_string(),
                    vec![step("primers", "primer.design", args, true)],
                )
            }
            Template::CloningCheck => {
                let sequence = required_str(inputs, "sequence", t)?;
                let enzymes = match inputs.get("enzymes") {
                    None | Some(Value::Null) => DEFAULT_ENZYMES.iter().map(|e| json!(e)).collect(),
                    Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => {
                        a.clone()
                    }
                    Some(_) => {
                        return Err(format!(
                            "input `enzymes` of template {t} must be a non-empty list of enzyme names"
                        ));
                    }
                };
                let circular = match inputs.get("circular") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(format!(
                            "input `circular` of template {t} must be true or false"
                        ));
                    }
                };
                let args = json!({"sequence": sequence, "enzymes": enzymes, "circular": circular});
                (
                    "Check restriction sites, the digest and Golden Gate compatibility".to_string(),
                    vec![
                        step("sites", "restriction.find_sites", args.clone(), true),
                        step("digest", "restriction.digest", args, true),
                    ],
                )
            }
            Template::SequenceQc => {
                let fasta = required_str(inputs, "fasta", t)?;
                let min_length = optional_u64(inputs, "min_length", t)?.unwrap_or(75);
                let each = |bind: &str| ForEach {
                    step: "parse".into(),
                    path: "value".into(),
                    bind: BTreeMap::from([(bind.to_string(), "sequence".to_string())]),
                    label: Some("id".into()),
                };
                let mut stats = step("stats", "seq.stats", json!({}), false);
                stats.for_each = Some(each("sequence"));
                let mut orfs = step(
                    "orfs",
                    "seq.find_orfs",
                    json!({"min_length": min_length}),
                    false,
                );
                orfs.for_each = Some(each("sequence"));
                (
                    "Quality-check the FASTA records: length, GC, ambiguity and ORFs".to_string(),
                    vec![
                        step("parse", "seq.parse_fasta", json!({"text": fasta}), true),
                        stats,
                        orfs,
                    ],
                )
            }
            Template::GeneLookup => {
                let symbol = required_str(inputs, "symbol", t)?;
                let species = optional_str(inputs, "species", t)?.unwrap_or("homo_sapiens");
                let organism = species.replace('_', " ");
                (
                    format!("Look up the gene {symbol} in {organism}"),
                    vec![
                        step(
                            "ensembl",
                            "ensembl.lookup",
                            json!({"symbol": symbol, "species": species}),
                            false,
                        ),
                        step(
                            "ncbi",
                            "ncbi.esearch",
                            json!({"db": "gene", "term": format!("{symbol}[sym] AND {organism}[orgn]")}),
                            false,
                        ),
                    ],
                )
            }
        };
        Ok(Plan {
            template: Some(t.to_string()),
            source: "template".into(),
            goal,
            search_queries: vec![self.topic().to_string()],
            steps,
        })
    }
}

/// `crispr_knockout`'s GC window on the first attempt.
pub const GC_WINDOW: (f64, f64) = (0.4, 0.6);

/// `crispr_knockout`'s GC window on retry `attempt` (0 = first try): widened
/// by 0.1 on each side per attempt, clamped to [0.2, 0.8].
pub fn gc_window(attempt: u32) -> (f64, f64) {
    let w = 0.1 * f64::from(attempt);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    (
        round((GC_WINDOW.0 - w).max(0.2)),
        round((GC_WINDOW.1 + w).min(0.8)),
    )
}

/// `pcr_primers`' largest product on retry `attempt`: the input's (default
/// 300) plus 200 per attempt, at most 10,000 (the tool's limit).
pub fn product_max(input: Option<u64>, attempt: u32) -> u64 {
    (input.unwrap_or(300) + 200 * u64::from(attempt)).min(10_000)
}

/// The arguments of `step` on retry `attempt` of a template plan:
/// `crispr_knockout` widens the GC window ([`gc_window`]), `pcr_primers` the
/// product size range ([`product_max`]); other steps are run again as
/// planned.
pub fn retry_args(template: Option<Template>, step: &Step, attempt: u32) -> Value {
    let mut args = step.args.clone();
    if template == Some(Template::PcrPrimers)
        && step.tool == "primer.design"
        && attempt > 0
        && let Value::Object(m) = &mut args
    {
        let max = product_max(m.get("product_max").and_then(Value::as_u64), attempt);
        m.insert("product_max".into(), json!(max));
    }
    if template == Some(Template::CrisprKnockout)
        && step.tool == "crispr.design_guides"
        && attempt > 0
        && let Value::Object(m) = &mut args
    {
        let (lo, hi) = gc_window(attempt);
        m.insert("min_gc".into(), json!(lo));
        m.insert("max_gc".into(), json!(hi));
    }
    args
}

fn step(id: &str, tool: &str, args: Value, essential: bool) -> Step {
    Step {
        id: id.into(),
        tool: tool.into(),
        args,
        essential,
        why: None,
        for_each: None,
    }
}

fn missing(name: &str, template: &str) -> String {
    format!("template {template} needs the input `{name}` (put it in the run's inputs)")
}

fn required_str<'a>(
    inputs: &'a Map<String, Value>,
    name: &str,
    t: &str,
) -> Result<&'a str, String> {
    match optional_str(inputs, name, t)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(missing(name, t)),
    }
}

fn optional_str<'a>(
    inputs: &'a Map<String, Value>,
    name: &str,
    t: &str,
) -> Result<Option<&'a str>, String> {
    match inputs.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("input `{name}` of template {t} must be a string")),
    }
}

fn required_u64(inputs: &Map<String, Value>, name: &str, t: &str) -> Result<u64, String> {
    optional_u64(inputs, name, t)?.ok_or_else(|| missing(name, t))
}

fn optional_u64(inputs: &Map<String, Value>, name: &str, t: &str) -> Result<Option<u64>, String> {
    match inputs.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) => Ok(Some(v)),
            None => Err(format!(
                "input `{name}` of template {t} must be a whole number >= 0"
            )),
        },
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
            format!("input `{name}` of template {t} must be a whole number >= 0, not `{s}`")
        }),
        Some(_) => Err(format!(
            "input `{name}` of template {t} must be a whole number >= 0"
        )),
    }
}

/// Lower case, every run of non-alphanumeric characters (but `-`) as one
/// space, padded with spaces.
fn normalise(text: &str) -> String {
    let mut out = String::from(" ");
    for c in text.chars() {
        if c.is_alphanumeric() || c == '-' {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

/// Whether normalised `text` contains `phrase` as whole words (a plural
/// `s` allowed).
fn contains_words(text: &str, phrase: &str) -> bool {
    text.contains(&format!(" {phrase} ")) || text.contains(&format!(" {phrase}s "))
}
