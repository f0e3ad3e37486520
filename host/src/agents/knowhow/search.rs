//! Hybrid retrieval: vector candidates from the store, re-ranked with a
//! keyword score and fused by reciprocal rank.
//!
//! 1. The query is embedded and the store returns the [`CANDIDATES`] nearest
//!    know-how chunks and (for a tenant) document chunks.
//! 2. The candidates are scored with BM25 (Robertson and Zaragoza 2009),
//!    using the candidate set itself as the corpus for document
//!    frequencies and average length. Scoring only candidates keeps the
//!    store's API unchanged (no full-text index in either backend) and is
//!    cheap; its limit is that a passage the vector search ranks below the
//!    candidates cannot be rescued by keywords alone.
//! 3. The two rankings are fused by reciprocal-rank fusion (Cormack, Clarke
//!    and Büttcher 2009): `score = 1/(60 + vector rank) + 1/(60 + keyword
//!    rank)`, the keyword term only for passages with a keyword match.
//!
//! Why RRF rather than a weighted sum of scores: cosine distances and BM25
//! scores live on unrelated scales (BM25 grows with query length and depends
//! on the candidate set), so a weighted sum needs per-corpus normalisation
//! and a tuned weight, while RRF uses ranks only, needs no tuning, and is
//! robust when one signal is uninformative (a query with no rare term, or a
//! paraphrase that shares no word with the passage). Exact technical terms
//! (enzyme names, "MIT", "3'") are where embeddings of a small model are
//! weakest and BM25 strongest, which is what the fusion is for.

use std::collections::{HashMap, HashSet};

use bioai_store::{Hit, Uuid};

/// Vector candidates taken from each table before re-ranking.
pub const CANDIDATES: usize = 50;

/// The RRF constant of Cormack et al.
pub const RRF_K: f64 = 60.0;

/// BM25 parameters (the usual defaults).
const BM25_K1: f64 = 1.2;
const BM25_B: f64 = 0.75;

/// Where a passage comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The shared know-how library (`know_how_index`).
    KnowHow,
    /// The tenant's own documents (`documents`).
    Document,
}

/// A retrieved passage with what is needed to cite it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Passage {
    /// The row id in its table.
    pub id: Uuid,
    /// The guide's title, or the document's source for documents.
    pub title: String,
    /// The chunk's text.
    pub text: String,
    /// Where it comes from: the know-how item's URL (or source), the
    /// document's source.
    pub source_uri: String,
    /// SPDX licence id (empty for the tenant's own documents).
    pub licence: String,
    /// Required attribution (empty for documents).
    pub attribution: String,
    /// Know-how or the tenant's document.
    pub origin: Origin,
    /// The fused score (higher is better).
    pub score: f64,
    /// Cosine distance to the query (0 = same direction).
    pub distance: f64,
    /// The BM25 score over the candidates (0 = no query term).
    pub keyword_score: f64,
}

/// Lowercased word tokens without stop words. Keeps digits and treats
/// `3'`/`5'` as the tokens `3prime`/`5prime`, which matter in this domain.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            let primed =
                (c == '\'' || c == '\u{2032}' || c == '\u{2019}') && (word == "3" || word == "5");
            if primed {
                word.push_str("prime");
            }
            if !STOP_WORDS.contains(&word.as_str()) {
                out.push(std::mem::take(&mut word));
            } else {
                word.clear();
            }
        }
    }
    if !word.is_empty() && !STOP_WORDS.contains(&word.as_str()) {
        out.push(word);
    }
    out
}

/// English function words that carry no topic.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "its", "many", "much", "of", "on", "or", "should", "that", "the",
    "their", "there", "these", "this", "to", "was", "what", "when", "where", "which", "who", "why",
    "with", "you", "your",
];

/// BM25 scores of `docs` for `query`, with the documents themselves as the
/// corpus.
pub fn bm25(query: &str, docs: &[&str]) -> Vec<f64> {
    let terms: Vec<String> = {
        let mut seen = HashSet::new();
        tokenize(query)
            .into_iter()
            .filter(|t| seen.insert(t.clone()))
            .collect()
    };
    let docs: Vec<Vec<String>> = docs.iter().map(|d| tokenize(d)).collect();
    let n = docs.len() as f64;
    if docs.is_empty() || terms.is_empty() {
        return vec![0.0; docs.len()];
    }
    let avgdl = (docs.iter().map(Vec::len).sum::<usize>() as f64 / n).max(1.0);
    let df: HashMap<&str, usize> = terms
        .iter()
        .map(|t| {
            (
                t.as_str(),
                docs.iter().filter(|d| d.iter().any(|w| w == t)).count(),
            )
        })
        .collect();
    docs.iter()
        .map(|d| {
            let len = d.len() as f64;
            terms
                .iter()
                .map(|t| {
                    let tf = d.iter().filter(|w| *w == t).count() as f64;
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let df = df[t.as_str()] as f64;
                    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                    idf * tf * (BM25_K1 + 1.0)
                        / (tf + BM25_K1 * (1.0 - BM25_B + BM25_B * len / avgdl))
                })
                .sum()
        })
        .collect()
}

/// A candidate before fusion.
pub(crate) struct Candidate {
    pub hit: Hit,
    pub origin: Origin,
}

/// Fuses vector order and BM25 into passages, best first, at most `k`.
pub(crate) fn fuse(query: &str, candidates: Vec<Candidate>, k: usize) -> Vec<Passage> {
    let mut candidates = candidates;
    // One vector ranking over both tables: smaller distance first.
    candidates.sort_by(|a, b| a.hit.distance.total_cmp(&b.hit.distance));
    let texts: Vec<&str> = candidates.iter().map(|c| c.hit.content.as_str()).collect();
    let keyword = bm25(query, &texts);
    let mut by_keyword: Vec<usize> = (0..candidates.len())
        .filter(|&i| keyword[i] > 0.0)
        .collect();
    by_keyword.sort_by(|&a, &b| keyword[b].total_cmp(&keyword[a]).then(a.cmp(&b)));
    let mut keyword_rank = vec![None; candidates.len()];
    for (rank, &i) in by_keyword.iter().enumerate() {
        keyword_rank[i] = Some(rank);
    }
    let mut passages: Vec<Passage> = candidates
        .into_iter()
        .enumerate()
        .map(|(vector_rank, c)| {
            let mut score = 1.0 / (RRF_K + vector_rank as f64 + 1.0);
            if let Some(r) = keyword_rank[vector_rank] {
                score += 1.0 / (RRF_K + r as f64 + 1.0);
            }
            // Know-how cites its title, URL and licence; a tenant's
            // document its source.
            let (title, source_uri, licence, attribution) = match c.hit.citation {
                Some(cite) => (
                    cite.title,
                    cite.url.unwrap_or(c.hit.source),
                    cite.licence,
                    cite.attribution,
                ),
                None => (
                    c.hit.source.clone(),
                    c.hit.source,
                    String::new(),
                    String::new(),
                ),
            };
            Passage {
                id: c.hit.id,
                title,
                text: c.hit.content,
                source_uri,
                licence,
                attribution,
                origin: c.origin,
                score,
                distance: c.hit.distance,
                keyword_score: keyword[vector_rank],
            }
        })
        .collect();
    // Ties (one passage first by vector, the other first by keywords) go to
    // the stronger keyword match: exact technical terms are the more precise
    // signal.
    passages.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.keyword_score.total_cmp(&a.keyword_score))
            .then(a.distance.total_cmp(&b.distance))
    });
    passages.truncate(k);
    passages
}

#[cfg(test)]
mod tests {
    use super::*;
    use bioai_store::Citation;

    #[test]
    fn tokenize_keeps_domain_tokens() {
        assert_eq!(
            tokenize("GC clamp at the 3' end of BsaI-HFv2 primers"),
            vec!["gc", "clamp", "3prime", "end", "bsai", "hfv2", "primers"]
        );
        assert_eq!(tokenize("How many?"), Vec::<String>::new());
    }

    #[test]
    fn bm25_prefers_rare_matching_terms() {
        let docs = [
            "the primer has a GC clamp at the 3' end",
            "GC content of the genome",
            "BsaI cuts outside its site",
        ];
        let s = bm25("GC clamp", &docs);
        assert!(s[0] > s[1] && s[1] > 0.0 && s[2] == 0.0, "{s:?}");
        assert_eq!(bm25("", &docs), vec![0.0; 3]);
        assert!(bm25("x", &[]).is_empty());
    }

    fn cand(content: &str, distance: f64) -> Candidate {
        Candidate {
            hit: Hit {
                id: Uuid::new_v4(),
                content: content.to_string(),
                distance,
                source: "bioai-knowhow://test#0".to_string(),
                citation: Some(Citation {
                    title: "T".to_string(),
                    licence: "CC-BY-4.0".to_string(),
                    attribution: String::new(),
                    url: Some("https://example.org/t".to_string()),
                }),
            },
            origin: Origin::KnowHow,
        }
    }

    #[test]
    fn fusion_lets_keywords_lift_a_close_second() {
        // Vector order: a, b, c. Only b has the query's rare term.
        let out = fuse(
            "BsaI overhang",
            vec![
                cand("fusion site design in general", 0.30),
                cand("BsaI overhang clash", 0.31),
                cand("unrelated", 0.90),
            ],
            2,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].text, "BsaI overhang clash");
        assert!(out[0].score > out[1].score);
        assert!(out[0].keyword_score > out[1].keyword_score);
        assert_eq!(out[0].source_uri, "https://example.org/t");
        assert_eq!(out[0].licence, "CC-BY-4.0");
    }
}
