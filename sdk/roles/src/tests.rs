//! Native tests of the roles with a fake host. Tool results have the shapes
//! the host gives (WIT records as objects with snake_case fields, lists
//! wrapped as `{"value": [...]}`) and numbers the tools' own tests
//! established.

use crate::evaluator::parse_verdict;
use crate::host::{Host, ToolFailure};
use crate::plan::{NO_TEMPLATE_NO_LLM, Template, gc_window};
use crate::planner::parse_llm_plan;
use crate::{Outcome, Role, State, findings, step};
use bioai_sdk::agent::{
    Completion, CompletionRequest, Origin, Passage, Source, ToolCall, ToolSpec, Usage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet, VecDeque};

type ToolFn = Box<dyn FnMut(&Value) -> Result<Value, ToolFailure>>;

#[derive(Default)]
struct Fake {
    tools: BTreeMap<String, ToolFn>,
    calls: Vec<(String, Value)>,
    llm: VecDeque<Completion>,
    requests: Vec<CompletionRequest>,
    passages: Vec<Passage>,
    files: BTreeMap<String, String>,
    traces: Vec<(String, String)>,
}

impl Fake {
    fn tool(
        mut self,
        name: &str,
        f: impl FnMut(&Value) -> Result<Value, ToolFailure> + 'static,
    ) -> Self {
        self.tools.insert(name.into(), Box::new(f));
        self
    }
    fn answer(mut self, text: &str) -> Self {
        self.llm.push_back(completion(text, Vec::new()));
        self
    }
}

fn completion(text: &str, tool_calls: Vec<ToolCall>) -> Completion {
    Completion {
        text: text.into(),
        tool_calls,
        stop_reason: "stop".into(),
        model: "fake".into(),
        usage: Usage {
            input_tokens: 1,
            output_tokens: 1,
        },
    }
}

impl Host for Fake {
    fn llm_available(&mut self) -> bool {
        !self.llm.is_empty()
    }
    fn complete(&mut self, request: &CompletionRequest) -> Result<Completion, String> {
        self.requests.push(request.clone());
        self.llm.pop_front().ok_or_else(|| "no LLM".to_string())
    }
    fn list_tools(&mut self) -> Vec<ToolSpec> {
        self.tools
            .keys()
            .map(|n| ToolSpec {
                name: n.clone(),
                description: format!("the tool {n}"),
                parameters: "{}".into(),
            })
            .collect()
    }
    fn call_tool(&mut self, name: &str, args: &Value) -> Result<Value, ToolFailure> {
        self.calls.push((name.into(), args.clone()));
        match self.tools.get_mut(name) {
            Some(f) => f(args),
            None => Err(ToolFailure::new("unknown_tool", format!("no tool {name}"))),
        }
    }
    fn search(&mut self, _query: &str, limit: u32) -> Result<Vec<Passage>, String> {
        Ok(self.passages.iter().take(limit as usize).cloned().collect())
    }
    fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), String> {
        self.files
            .insert(path.into(), String::from_utf8(data.to_vec()).unwrap());
        Ok(())
    }
    fn trace(&mut self, kind: &str, summary: &str, _detail: &str) {
        self.traces.push((kind.into(), summary.into()));
    }
}

fn handoff(o: Outcome, expect: &str) -> State {
    match o {
        Outcome::Handoff { outcome, state, .. } => {
            assert_eq!(outcome, expect);
            *state
        }
        Outcome::Final(_) => panic!("unexpected final report"),
        Outcome::Fail(m) => panic!("unexpected failure: {m}"),
    }
}

fn fail(o: Outcome) -> String {
    match o {
        Outcome::Fail(m) => m,
        other => panic!("expected a failure, got {}", other.label()),
    }
}

/// Runs planner, retriever, coder and evaluator; returns the state and
/// the evaluator's outcome label.
fn run_to_evaluation(host: &mut Fake, state: State) -> (State, String) {
    let s = handoff(step(Role::Planner, host, state), "done");
    let s = handoff(step(Role::Retriever, host, s), "done");
    let s = handoff(step(Role::Coder, host, s), "done");
    match step(Role::Evaluator, host, s) {
        Outcome::Handoff { outcome, state, .. } => (*state, outcome),
        other => panic!("evaluator: {}", other.label()),
    }
}

fn report(host: &mut Fake, state: State) -> String {
    match step(Role::Reporter, host, state) {
        Outcome::Final(r) => r.markdown,
        other => panic!("reporter: {}", other.label()),
    }
}

// CRISPOR's example 30-mer TATA|GCTGCGATCTGAGGTAGGGA|GGG|ACC scores
// 0.713089368437 and TCCG|CACCTGTCACGGTCGGGGCT|TGG|CGC 0.0189838463593
// (plugins/crispr/src/rule_set_1.rs).
fn crispr_result(flag_all: bool) -> Value {
    json!({
        "guides": [
            {"protospacer": "GCTGCGATCTGAGGTAGGGA", "pam": "GGG", "strand": "plus", "start": 4,
             "gc": 0.6, "score": 0.713089368437, "flags": if flag_all { json!(["poly_t"]) } else { json!([]) }},
            {"protospacer": "CACCTGTCACGGTCGGGGCT", "pam": "TGG", "strand": "minus", "start": 40,
             "gc": 0.7, "score": 0.0189838463593, "flags": ["gc_out_of_range"]}
        ],
        "total_found": 2,
        "total_passing": if flag_all { 0 } else { 1 }
    })
}

#[test]
fn recognises_templates_by_keyword_most_specific_first() {
    let r = |t: &str| Template::recognise(t).map(|(t, _)| t);
    assert_eq!(
        r("Design sgRNAs to knock out TP53"),
        Some(Template::CrisprKnockout)
    );
    assert_eq!(
        r("CRISPR knockout of BRAF exon 2"),
        Some(Template::CrisprKnockout)
    );
    assert_eq!(
        r("design PCR primers for this amplicon"),
        Some(Template::PcrPrimers)
    );
    assert_eq!(
        r("Check my plasmid for Golden Gate cloning"),
        Some(Template::CloningCheck)
    );
    assert_eq!(
        r("restriction digest of the insert"),
        Some(Template::CloningCheck)
    );
    assert_eq!(r("QC this FASTA and find ORFs"), Some(Template::SequenceQc));
    assert_eq!(r("Look up BRAF"), Some(Template::GeneLookup));
    assert_eq!(
        r("gene info for TP53 from Ensembl"),
        Some(Template::GeneLookup)
    );
    // A CRISPR task mentioning its FASTA input is still a CRISPR task.
    assert_eq!(
        r("pick guides from the attached FASTA"),
        Some(Template::CrisprKnockout)
    );
    // Whole words only: "orfan" is not "orf", "epcrx" not "pcr".
    assert_eq!(r("Summarise the orfan epcrx literature"), None);
    assert_eq!(
        Template::from_name("CRISPR-knockout"),
        Some(Template::CrisprKnockout)
    );
    assert_eq!(Template::from_name("nope"), None);
}

#[test]
fn builds_plans_from_inputs_with_defaults() {
    let p = Template::CrisprKnockout
        .plan(
            json!({"sequence": "ACGT", "gene": "TP53"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(p.template.as_deref(), Some("crispr_knockout"));
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.steps[0].tool, "crispr.design_guides");
    assert_eq!(
        p.steps[0].args,
        json!({"sequence": "ACGT", "pam": "NGG", "guide_length": 20, "min_gc": 0.4, "max_gc": 0.6, "max_results": 10})
    );
    assert_eq!(p.search_queries, ["sgRNA design rules"]);

    let p = Template::PcrPrimers
        .plan(json!({"template": "ACGT", "target_start": "5", "target_length": 10, "product_max": 250}).as_object().unwrap())
        .unwrap();
    assert_eq!(
        p.steps[0].args,
        json!({"template": "ACGT", "target_start": 5, "target_length": 10, "product_max": 250})
    );

    let p = Template::CloningCheck
        .plan(json!({"sequence": "GGGGAATTCCCC"}).as_object().unwrap())
        .unwrap();
    let tools: Vec<_> = p.steps.iter().map(|s| s.tool.as_str()).collect();
    assert_eq!(tools, ["restriction.find_sites", "restriction.digest"]);
    assert_eq!(
        p.steps[0].args["enzymes"],
        json!(["EcoRI", "BamHI", "HindIII", "XhoI", "NotI", "BsaI", "BsmBI"])
    );
    assert_eq!(p.steps[0].args["circular"], json!(false));

    let p = Template::GeneLookup
        .plan(json!({"symbol": "TP53"}).as_object().unwrap())
        .unwrap();
    assert_eq!(
        p.steps[0].args,
        json!({"symbol": "TP53", "species": "homo_sapiens"})
    );
    assert_eq!(
        p.steps[1].args,
        json!({"db": "gene", "term": "TP53[sym] AND homo sapiens[orgn]"})
    );

    let p = Template::SequenceQc
        .plan(
            json!({"fasta": ">a\nACGT\n", "min_length": 0})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(p.steps[0].args, json!({"text": ">a\nACGT\n"}));
    assert_eq!(p.steps[2].args, json!({"min_length": 0}));
    assert!(p.steps[1].for_each.is_some() && !p.steps[1].essential);
    // The plan round-trips through its JSON.
    let back: crate::plan::Plan =
        serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn missing_or_invalid_inputs_name_the_input_and_template() {
    let e = Template::CrisprKnockout
        .plan(&serde_json::Map::new())
        .unwrap_err();
    assert!(
        e.contains("`sequence`") && e.contains("crispr_knockout"),
        "{e}"
    );
    let e = Template::PcrPrimers
        .plan(
            json!({"template": "ACGT", "target_start": 1})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
    assert!(
        e.contains("`target_length`") && e.contains("pcr_primers"),
        "{e}"
    );
    let e = Template::PcrPrimers
        .plan(
            json!({"template": "ACGT", "target_start": -1, "target_length": 3})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
    assert!(e.contains("`target_start`"), "{e}");
    let e = Template::CloningCheck
        .plan(
            json!({"sequence": "ACGT", "enzymes": "EcoRI"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
    assert!(e.contains("`enzymes`"), "{e}");

    // Through the planner: a fail step result.
    let mut host = Fake::default();
    let m = fail(step(
        Role::Planner,
        &mut host,
        State::new("Look up a gene", json!({"species": "mus_musculus"})),
    ));
    assert!(m.contains("`symbol`") && m.contains("gene_lookup"), "{m}");
}

#[test]
fn free_form_task_without_llm_fails_with_the_configuration_hint() {
    let mut host = Fake::default();
    let m = fail(step(
        Role::Planner,
        &mut host,
        State::new("What is the meaning of life?", json!({})),
    ));
    assert_eq!(m, NO_TEMPLATE_NO_LLM);
    assert!(m.contains("BIOAI_LLM_PROVIDER"));
    let mut s = State::new("anything", json!({}));
    s.template = Some("bogus".into());
    assert!(fail(step(Role::Planner, &mut host, s)).contains("unknown template `bogus`"));
}

#[test]
fn gc_window_widens_and_clamps() {
    assert_eq!(gc_window(0), (0.4, 0.6));
    assert_eq!(gc_window(1), (0.3, 0.7));
    assert_eq!(gc_window(2), (0.2, 0.8));
    assert_eq!(gc_window(5), (0.2, 0.8));
}

#[test]
fn crispr_run_accepts_and_reports_guides() {
    let mut host = Fake::default().tool("crispr.design_guides", |_| Ok(crispr_result(false)));
    host.passages.push(Passage {
        title: "sgRNA design".into(),
        text: "Avoid TTTT in U6-driven guides.".into(),
        source: Source {
            title: "sgRNA design".into(),
            uri: "bioai-knowhow://crispr/sgrna-design".into(),
            licence: Some("CC-BY-4.0".into()),
        },
        origin: Origin::KnowHow,
        score: 0.9,
    });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new(
            "Design sgRNAs to knock out TP53",
            json!({"sequence": "ACGTACGT", "gene": "TP53"}),
        ),
    );
    assert_eq!(verdict, "accept");
    assert_eq!(s.template.as_deref(), Some("crispr_knockout"));
    assert_eq!(host.calls.len(), 1);
    assert_eq!(host.calls[0].1["min_gc"], json!(0.4));
    assert!(
        s.sources
            .iter()
            .any(|x| x.uri == "bioai-knowhow://crispr/sgrna-design")
    );
    assert!(
        s.sources
            .iter()
            .any(|x| x.uri == "bioai-tool://crispr.design_guides")
    );
    assert!(
        host.traces
            .iter()
            .all(|(k, _)| k == "reasoning" || k == "note")
    );

    let md = report(&mut host, s);
    assert!(md.starts_with("# CRISPR knockout guides for TP53"), "{md}");
    assert!(
        md.contains("| 1 | GCTGCGATCTGAGGTAGGGA | GGG | + | 4 | 0.60 | 0.713 | none |"),
        "{md}"
    );
    assert!(
        md.contains("| 2 | CACCTGTCACGGTCGGGGCT | TGG | - | 40 | 0.70 | 0.019 | gc_out_of_range |"),
        "{md}"
    );
    assert!(
        md.contains("## Knockout plan")
            && md.contains("The best passing guide is GCTGCGATCTGAGGTAGGGA"),
        "{md}"
    );
    assert!(md.contains("bioai-knowhow://crispr/sgrna-design"), "{md}");
    let tsv = &host.files["guides.tsv"];
    assert_eq!(
        tsv.lines().next().unwrap(),
        "Rank\tProtospacer\tPAM\tStrand\tStart\tGC\tRule Set 1\tFlags"
    );
    assert_eq!(tsv.lines().count(), 3);
    assert_eq!(host.files["report.md"], md);
}

#[test]
fn crispr_rejection_retries_with_a_wider_gc_window() {
    let mut host = Fake::default().tool("crispr.design_guides", |args| {
        // Everything flagged until the window is widened to 0.3-0.7.
        Ok(crispr_result(args["min_gc"] != json!(0.3)))
    });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new("crispr knockout", json!({"sequence": "ACGT"})),
    );
    assert_eq!(verdict, "reject");
    let fb = s.feedback.clone().unwrap();
    assert!(fb.contains("no guide passes"), "{fb}");
    // The host re-enters the coder with attempt 1.
    let mut s = s;
    s.attempt = 1;
    let s = handoff(step(Role::Coder, &mut host, s), "done");
    assert_eq!(host.calls.last().unwrap().1["min_gc"], json!(0.3));
    assert_eq!(host.calls.last().unwrap().1["max_gc"], json!(0.7));
    // The old tool findings are replaced, the background kept.
    assert_eq!(
        s.findings.iter().filter(|f| findings::is_tool(f)).count(),
        1
    );
    assert!(s.findings.iter().any(|f| f["kind"] == "background"));
    let s = handoff(step(Role::Evaluator, &mut host, s), "accept");
    let md = report(&mut host, s);
    assert!(md.contains("0.30-0.70"), "{md}");
    assert!(!md.contains("Warning"), "{md}");
}

#[test]
fn reporter_warns_when_the_rejection_stands() {
    let mut host = Fake::default().tool("crispr.design_guides", |_| Ok(crispr_result(true)));
    let (s, verdict) =
        run_to_evaluation(&mut host, State::new("crispr", json!({"sequence": "ACGT"})));
    assert_eq!(verdict, "reject");
    let md = report(&mut host, s);
    assert!(
        md.contains("> **Warning:** the evaluator rejected these results: no guide passes"),
        "{md}"
    );
}

#[test]
fn pcr_report_lists_pairs() {
    // `CGTTCCAAAGATGTGGGCATGAGCTTAC` has a Tm of 60.32 (plugins/primer/wit/primer.wit).
    let primer = |seq: &str, start: u32, tm: f64, gc: f64| {
        json!({"sequence": seq, "start": start, "length": seq.len(), "tm": tm, "gc": gc, "gc_clamp": 2,
               "hairpin_dg": 0.0, "hairpin_flag": false, "self_dimer_dg": -3.1, "self_dimer_flag": false, "penalty": 8.3})
    };
    let result = json!({
        "pairs": [{"left": primer("CGTTCCAAAGATGTGGGCATGAGCTTAC", 10, 60.32, 0.5),
                   "right": primer("GTAAGCTCATGCCCACATCTTTGGAACG", 180, 60.32, 0.5),
                   "product_size": 198, "cross_dimer_dg": -4.0, "cross_dimer_flag": false, "penalty": 16.6}],
        "left_considered": 100, "left_ok": 12, "right_considered": 100, "right_ok": 9, "pairs_ok": 3
    });
    let mut host = Fake::default().tool("primer.design", move |_| Ok(result.clone()));
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new(
            "PCR primers please",
            json!({"template": "ACGT", "target_start": 50, "target_length": 100}),
        ),
    );
    assert_eq!(verdict, "accept");
    let md = report(&mut host, s);
    assert!(md.contains("| 1 | CGTTCCAAAGATGTGGGCATGAGCTTAC | 60.3 | 0.50 | GTAAGCTCATGCCCACATCTTTGGAACG | 60.3 | 0.50 | 198 | 16.60 |"), "{md}");
    assert!(host.files.contains_key("primers.tsv"));

    let mut host = Fake::default().tool("primer.design", |_| {
        Ok(json!({"pairs": [], "left_considered": 10, "left_ok": 0, "right_considered": 10, "right_ok": 0, "pairs_ok": 0}))
    });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new(
            "primers",
            json!({"template": "ACGT", "target_start": 1, "target_length": 2}),
        ),
    );
    assert_eq!(verdict, "reject");
    let mut s = s;
    s.attempt = 2;
    handoff(step(Role::Coder, &mut host, s), "done");
    assert_eq!(host.calls.last().unwrap().1["product_max"], json!(700));
}

#[test]
fn cloning_check_reports_cutters_fragments_and_golden_gate() {
    // `GGGGAATTCCCC`: EcoRI site at 3, top cut 4, bottom cut 8, overhang AATT;
    // digest GGGG + AATTCCCC (plugins/restriction/wit/restriction.wit).
    let ecori = json!({"enzyme": "EcoRI", "recognition_site": "GAATTC", "palindromic": true, "top_offset": 1,
        "bottom_offset": -1, "overhang_kind": "five_prime", "overhang_length": 4, "suppliers": "BCFIKMNOQRSX",
        "sites": [{"position": 3, "strand": "forward", "top_cut": 4, "bottom_cut": 8, "overhang": "AATT"}]});
    let bsai = json!({"enzyme": "BsaI", "recognition_site": "GGTCTC", "palindromic": false, "top_offset": 7,
        "bottom_offset": 5, "overhang_kind": "five_prime", "overhang_length": 4, "suppliers": "N", "sites": []});
    let mut host = Fake::default()
        .tool("restriction.find_sites", move |_| Ok(json!({"value": [ecori.clone(), bsai.clone()]})))
        .tool("restriction.digest", |_| {
            Ok(json!({"value": [
                {"start": 0, "end": 4, "length": 4, "sequence": "GGGG", "left_enzymes": [], "right_enzymes": ["EcoRI"]},
                {"start": 4, "end": 12, "length": 8, "sequence": "AATTCCCC", "left_enzymes": ["EcoRI"], "right_enzymes": []}
            ]}))
        });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new(
            "check this insert for cloning",
            json!({"sequence": "GGGGAATTCCCC", "enzymes": ["EcoRI", "BsaI"]}),
        ),
    );
    assert_eq!(verdict, "accept");
    assert_eq!(host.calls[0].1["enzymes"], json!(["EcoRI", "BsaI"]));
    let md = report(&mut host, s);
    assert!(
        md.contains("| EcoRI | GAATTC | 1 | 3 | five_prime |"),
        "{md}"
    );
    assert!(
        md.contains("| BsaI | GGTCTC | 0 | - | five_prime |"),
        "{md}"
    );
    assert!(md.contains("| 1 | 0 | 4 | 4 | - | EcoRI |"), "{md}");
    assert!(md.contains("| 2 | 4 | 12 | 8 | EcoRI | - |"), "{md}");
    assert!(md.contains("Enzymes that cut: EcoRI (1x)"), "{md}");
    assert!(md.contains("No internal BsaI or BsmBI site"), "{md}");

    // An essential step failing is a rejection.
    let mut host = Fake::default()
        .tool("restriction.find_sites", |_| {
            Err(ToolFailure::new(
                "tool_error",
                "position 5: `N` is not A, C, G or T",
            ))
        })
        .tool("restriction.digest", |_| {
            Err(ToolFailure::new(
                "tool_error",
                "position 5: `N` is not A, C, G or T",
            ))
        });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new("restriction sites", json!({"sequence": "GGGGN"})),
    );
    assert_eq!(verdict, "reject");
    assert!(s.feedback.unwrap().contains("essential step `sites`"));
}

#[test]
fn sequence_qc_runs_per_record_steps() {
    // `CCATGAAATTTTAGCC` with min_length 0: one ORF, start 2, end 14, forward,
    // frame 2 (plugins/seq/wit/seq.wit); `AGC`: length 3, GC 0.667.
    let mut host = Fake::default()
        .tool("seq.parse_fasta", |_| {
            Ok(json!({"value": [
                {"id": "r1", "description": "", "sequence": "CCATGAAATTTTAGCC"},
                {"id": "r2", "description": "demo", "sequence": "AGC"}
            ]}))
        })
        .tool("seq.stats", |a| {
            let seq = a["sequence"].as_str().unwrap();
            let (len, gc) = if seq == "AGC" { (3, 2.0 / 3.0) } else { (16, 0.375) };
            Ok(json!({"length": len, "composition": {"a": 0, "c": 0, "g": 0, "t": 0, "u": 0, "n": 0, "ambiguous": 0},
                      "gc_fraction": gc, "molecular_weight": null, "molecular_weight_note": null, "gc_skew": []}))
        })
        .tool("seq.find_orfs", |a| {
            if a["sequence"] == "CCATGAAATTTTAGCC" {
                Ok(json!({"value": [{"start": 2, "end": 14, "strand": "forward", "frame": 2, "sequence": "ATGAAATTTTAG", "protein": "MKF"}]}))
            } else {
                Ok(json!({"value": []}))
            }
        });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new(
            "QC my FASTA",
            json!({"fasta": ">r1\nCCATGAAATTTTAGCC\n>r2 demo\nAGC\n", "min_length": 0}),
        ),
    );
    assert_eq!(verdict, "accept");
    let stats_calls: Vec<_> = host
        .calls
        .iter()
        .filter(|(n, _)| n == "seq.stats")
        .collect();
    assert_eq!(stats_calls.len(), 2);
    assert_eq!(stats_calls[1].1["sequence"], "AGC");
    let orf_call = host
        .calls
        .iter()
        .find(|(n, _)| n == "seq.find_orfs")
        .unwrap();
    assert_eq!(
        orf_call.1,
        json!({"min_length": 0, "sequence": "CCATGAAATTTTAGCC"})
    );
    assert_eq!(
        findings::of_step(&s.findings, "stats")
            .filter(|f| f["item"] == "r2")
            .count(),
        1
    );
    let md = report(&mut host, s);
    assert!(
        md.contains("| r1 | 16 | 0.375 | 0 | 0 | 1 | 12 | 2-14 (forward) |"),
        "{md}"
    );
    assert!(
        md.contains("| r2 | 3 | 0.667 | 0 | 0 | 0 | - | - |"),
        "{md}"
    );
    assert!(host.files["qc.tsv"].starts_with("Record\tLength"));
}

#[test]
fn gene_lookup_reports_ensembl_and_ncbi() {
    // BRAF as Ensembl describes it (plugins/ensembl/src/gene.rs).
    let mut host = Fake::default()
        .tool("ensembl.lookup", |_| {
            Ok(json!({"id": "ENSG00000157764", "version": 14, "display_name": "BRAF", "object_type": "Gene",
                "biotype": "protein_coding", "species": "homo_sapiens", "assembly": "GRCh38", "seq_region": "7",
                "start": 140719327u64, "end": 140924929u64, "strand": -1,
                "description": "B-Raf proto-oncogene, serine/threonine kinase [Source:HGNC Symbol;Acc:HGNC:1097]",
                "canonical_transcript": "ENST00000646891.2", "source": "ensembl_havana"}))
        })
        .tool("ncbi.esearch", |_| Err(ToolFailure::new("tool_error", "NCBI is unreachable")));
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new("Look up BRAF", json!({"symbol": "BRAF"})),
    );
    assert_eq!(verdict, "accept");
    let md = report(&mut host, s);
    assert!(md.contains("| Ensembl id | ENSG00000157764.14 |"), "{md}");
    assert!(
        md.contains("| Location | GRCh38 7:140719327-140924929 (-) |"),
        "{md}"
    );
    assert!(md.contains("| Biotype | protein_coding |"), "{md}");
    assert!(
        md.contains("| NCBI Gene ids | search failed (NCBI is unreachable) |"),
        "{md}"
    );

    // NCBI ids from the esearch test (plugins/ncbi/src/esearch.rs); Ensembl fails.
    let mut host = Fake::default()
        .tool("ensembl.lookup", |_| Err(ToolFailure::new("tool_error", "not found")))
        .tool("ncbi.esearch", |_| {
            Ok(json!({"db": "gene", "count": 31, "retmax": 2, "retstart": 0, "ids": ["7157", "22059"],
                "query_translation": "TP53[sym]", "translations": [], "warnings": []}))
        });
    let (s, verdict) = run_to_evaluation(
        &mut host,
        State::new("gene info TP53", json!({"symbol": "TP53"})),
    );
    assert_eq!(verdict, "accept");
    let md = report(&mut host, s);
    assert!(md.contains("| NCBI Gene ids | 7157, 22059 |"), "{md}");
    assert!(md.contains("| Ensembl | not found (not found) |"), "{md}");

    let mut host = Fake::default()
        .tool("ensembl.lookup", |_| {
            Err(ToolFailure::new("tool_error", "not found"))
        })
        .tool("ncbi.esearch", |_| {
            Ok(
                json!({"db": "gene", "count": 0, "retmax": 20, "retstart": 0, "ids": [],
                "query_translation": "", "translations": [], "warnings": ["No items found."]}),
            )
        });
    let (_, verdict) =
        run_to_evaluation(&mut host, State::new("lookup", json!({"symbol": "NOPE1"})));
    assert_eq!(verdict, "reject");
}

#[test]
fn llm_plans_are_validated() {
    let known: HashSet<String> = ["seq.gc_content".to_string()].into();
    let p = parse_llm_plan(
        "Here is the plan:\n```json\n{\"goal\": \"GC\", \"steps\": [{\"tool\": \"seq.gc_content\", \"args\": {\"sequence\": \"ACGT\"}}]}\n```",
        &known,
    )
    .unwrap();
    assert_eq!(p.source, "llm");
    assert_eq!(p.steps[0].id, "s1");
    assert!(p.steps[0].essential);
    let e = parse_llm_plan(
        r#"{"steps": [{"id": "a", "tool": "rm.rf", "args": {}}]}"#,
        &known,
    )
    .unwrap_err();
    assert!(e.contains("unknown tool `rm.rf`"), "{e}");
    assert!(parse_llm_plan("no json here", &known).is_err());
    assert!(parse_llm_plan(r#"{"steps": []}"#, &known).is_err());
    assert!(
        parse_llm_plan(
            r#"{"steps": [{"id": "a", "tool": "seq.gc_content", "args": [1]}]}"#,
            &known
        )
        .is_err()
    );
}

#[test]
fn verdicts_parse_defensively() {
    let v =
        parse_verdict("Sure! {\"verdict\": \"Accept\", \"reason\": \"GC is 0.5 as asked\"} done")
            .unwrap();
    assert!(v.accept && v.reason == "GC is 0.5 as asked");
    assert!(
        !parse_verdict(r#"{"verdict":"reject","reason":"wrong tool"}"#)
            .unwrap()
            .accept
    );
    assert!(parse_verdict(r#"{"verdict":"maybe"}"#).is_none());
    assert!(parse_verdict("accept").is_none());
}

#[test]
fn llm_path_plans_runs_repairs_and_evaluates() {
    let mut host = Fake::default()
        .tool("seq.gc_content", |a| match a["sequence"].as_str() {
            Some("ACTGSSSS") => Ok(json!({"value": 0.75})),
            _ => Err(ToolFailure::new("bad_arguments", "missing `sequence`")),
        })
        .answer(r#"{"goal": "GC content", "search_queries": ["GC content"], "steps": [{"id": "gc", "tool": "seq.gc_content", "args": {"seq": "ACTGSSSS"}}]}"#);
    let s = handoff(
        step(
            Role::Planner,
            &mut host,
            State::new("What is the GC content of ACTGSSSS?", json!({})),
        ),
        "done",
    );
    assert_eq!(s.plan.as_ref().unwrap().source, "llm");
    let s = handoff(step(Role::Retriever, &mut host, s), "done");
    // The coder's call fails; the LLM repairs it with a tool call.
    host.llm.push_back(completion(
        "",
        vec![ToolCall {
            id: "c1".into(),
            name: "seq.gc_content".into(),
            arguments: r#"{"sequence":"ACTGSSSS"}"#.into(),
        }],
    ));
    let s = handoff(step(Role::Coder, &mut host, s), "done");
    let f = findings::of_step(&s.findings, "gc").next().unwrap();
    assert_eq!(f["result"], json!({"value": 0.75}));
    assert_eq!(f["repaired"], json!(true));
    assert!(!host.requests.last().unwrap().tools.is_empty());
    // The evaluator asks the LLM; an unparsable answer falls back to the checks.
    host.llm
        .push_back(completion("looks fine to me", Vec::new()));
    let s = handoff(step(Role::Evaluator, &mut host, s), "accept");
    host.llm.push_back(completion(
        "{\"verdict\": \"reject\", \"reason\": \"the value is not explained\"}",
        Vec::new(),
    ));
    let s2 = handoff(step(Role::Evaluator, &mut host, s.clone()), "reject");
    assert_eq!(s2.feedback.as_deref(), Some("the value is not explained"));
    // The reporter puts the LLM's summary above the deterministic table.
    host.llm.push_back(completion(
        "The GC content of ACTGSSSS is **0.75**.",
        Vec::new(),
    ));
    let md = report(&mut host, s);
    let summary = md.find("The GC content of ACTGSSSS is **0.75**.").unwrap();
    let table = md.find("| gc | seq.gc_content | ok |").unwrap();
    assert!(summary < table, "{md}");
    assert!(host.files.contains_key("steps.tsv"));
}

#[test]
fn state_round_trips_through_wit() {
    let mut s = State::new("task", json!({"sequence": "ACGT"}));
    s.plan = Some(Template::CrisprKnockout.plan(&s.inputs).unwrap());
    s.findings
        .push(json!({"step": "background", "kind": "background", "passages": []}));
    s.attempt = 2;
    s.feedback = Some("why".into());
    let back = State::from_wit(s.clone().into_wit()).unwrap();
    assert_eq!(back, s);
    let mut w = State::new("t", json!({})).into_wit();
    w.plan = "null".into();
    w.inputs = "[1]".into();
    assert!(State::from_wit(w).unwrap_err().contains("JSON object"));
}

#[test]
fn plan_steps_can_use_earlier_results() {
    use crate::coder::resolve_refs;
    let found = vec![json!({"step": "fetch", "tool": "ncbi.efetch", "args": {},
        "result": {"db": "nuccore", "rettype": "fasta", "raw": "",
                   "records": [{"id": "NM_000546.6", "description": "TP53", "sequence": "ACGT", "length": 4}]}})];
    let args = json!({"sequence": {"$from": "fetch", "pointer": "/records/0/sequence"}, "pam": "NGG", "list": [{"$from": "fetch", "pointer": "/db"}]});
    assert_eq!(
        resolve_refs(args, &found).unwrap(),
        json!({"sequence": "ACGT", "pam": "NGG", "list": ["nuccore"]})
    );
    let e = resolve_refs(
        json!({"x": {"$from": "fetch", "pointer": "/records/9"}}),
        &found,
    )
    .unwrap_err();
    assert!(e.contains("nothing at `/records/9`"), "{e}");
    let e = resolve_refs(json!({"$from": "nope", "pointer": ""}), &found).unwrap_err();
    assert!(e.contains("step `nope`"), "{e}");

    // Through the coder: the second step gets the first one's output.
    let mut host = Fake::default()
        .tool("ncbi.efetch", |_| {
            Ok(json!({"records": [{"id": "x", "sequence": "ACTGSSSS"}]}))
        })
        .tool("seq.gc_content", |a| {
            Ok(json!({"value": if a["sequence"] == "ACTGSSSS" { 0.75 } else { 0.0 }}))
        });
    let mut s = State::new("GC of a fetched record", json!({}));
    s.plan = Some(
        parse_llm_plan(
            r#"{"goal": "g", "steps": [
                {"id": "fetch", "tool": "ncbi.efetch", "args": {"db": "nuccore", "ids": ["x"]}},
                {"id": "gc", "tool": "seq.gc_content", "args": {"sequence": {"$from": "fetch", "pointer": "/records/0/sequence"}}}]}"#,
            &HashSet::new(),
        )
        .unwrap(),
    );
    let s = handoff(step(Role::Coder, &mut host, s), "done");
    assert_eq!(
        findings::result_of(&s.findings, "gc").unwrap(),
        &json!({"value": 0.75})
    );
}
