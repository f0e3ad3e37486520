//! The component glue: WIT bindings and the exported interfaces.

bioai_sdk::generate!("bioai:align/align");

use crate::{Request, pairwise};
use exports::bioai::align::pairwise_alignment::{self, Alignment};
use exports::bioai::plugin::metadata::{self, Annotations, PluginInfo, ToolInfo};
use exports::bioai::plugin::tool_details::{self, ToolDetail};

struct Align;

impl metadata::Guest for Align {
    fn describe() -> PluginInfo {
        PluginInfo {
            namespace: Some("align".into()),
            title: "Pairwise alignment".into(),
            description: "Optimal global (Needleman-Wunsch) and local (Smith-Waterman) \
                          pairwise alignment with affine gaps, scored like Biopython's \
                          PairwiseAligner, with EDNAFULL and BLOSUM62."
                .into(),
            version: env!("CARGO_PKG_VERSION").into(),
            annotations: Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            },
            tools: vec![ToolInfo {
                name: "pairwise".into(),
                title: Some("Pairwise alignment".into()),
                annotations: None,
            }],
            pricing: None,
        }
    }
}

impl pairwise_alignment::Guest for Align {
    #[allow(clippy::too_many_arguments)]
    fn pairwise(
        a: String,
        b: String,
        mode: Option<String>,
        match_: Option<f64>,
        mismatch: Option<f64>,
        gap_open: Option<f64>,
        gap_extend: Option<f64>,
        matrix: Option<String>,
        end_gaps_free: Option<bool>,
        score_only: Option<bool>,
    ) -> Result<Alignment, String> {
        let (la, lb) = (a.len(), b.len());
        let req = Request {
            a,
            b,
            mode,
            match_score: match_,
            mismatch_score: mismatch,
            gap_open,
            gap_extend,
            matrix,
            end_gaps_free,
            score_only,
        };
        let r = pairwise(&req)?;
        bioai_sdk::log!(info, "aligned"; len_a = la, len_b = lb, score = r.score);
        Ok(Alignment {
            score: r.score,
            aligned_a: r.aligned_a,
            aligned_b: r.aligned_b,
            length: r.length,
            matches: r.matches,
            identity: r.identity,
            gaps: r.gaps,
            a_start: r.a_start,
            a_end: r.a_end,
            b_start: r.b_start,
            b_end: r.b_end,
        })
    }
}

impl tool_details::Guest for Align {
    fn tool_details() -> Vec<ToolDetail> {
        bioai_sdk::argument_details! {
            "pairwise" => [
                ("a", "the first sequence: letters only (and `*` for a stop), no gaps", None),
                ("b", "the second sequence, same rules", None),
                ("mode", "`global` (Needleman-Wunsch/Gotoh) or `local` (Smith-Waterman/Gotoh)", Some("\"global\"".into())),
                ("match", "score of two identical letters (not with `matrix`)", Some("1.0".into())),
                ("mismatch", "score of two different letters (not with `matrix`)", Some("0.0".into())),
                ("gap-open", "score of a gap's first position, <= 0 (e.g. -10)", Some("0.0".into())),
                ("gap-extend", "score of each further position of the same gap, <= 0 (e.g. -0.5)", Some("0.0".into())),
                ("matrix", "`EDNAFULL` or `BLOSUM62` instead of match/mismatch; none by default", None),
                ("end-gaps-free", "global mode: gaps at either end cost nothing", Some("false".into())),
                ("score-only", "only the score and end coordinates, in memory linear in len(b)", Some("false".into())),
            ],
        }
    }
}

export!(Align);
