//! The know-how library: embeddings, guides and retrieval.
//!
//! The retriever role of an agent run searches two tables of the store: the
//! shared know-how library (`know_how_index`: our own guides, with source
//! and licence) and the tenant's own documents (`documents`).
//!
//! - [`embed`]: sentence embeddings, all-MiniLM-L6-v2 on the CPU (candle) or
//!   an OpenAI-compatible endpoint, behind [`Embeddings`].
//! - [`guides`]: the guides in `host/knowhow/*.md`, compiled into the binary,
//!   and their chunking by section.
//! - [`search`]: hybrid retrieval, vector candidates re-ranked with BM25 and
//!   fused by reciprocal rank.
//!
//! [`KnowHow`] ties them together: [`KnowHow::ingest_builtin`] stores the
//! guides' chunks (idempotently) and [`KnowHow::search`] returns
//! [`Passage`]s with what is needed to cite them.

pub mod embed;
pub mod guides;
pub mod search;

use std::collections::HashSet;
use std::path::PathBuf;

use bioai_store::{NewKnowHow, Store, StoreError, UserId};

pub use embed::{Embedder, Embeddings, EmbeddingsConfig, OpenAiConfig, OpenAiEmbeddings};
pub use guides::{Chunk, Guide};
pub use search::{Origin, Passage};

use search::Candidate;

/// Errors of the know-how library. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum KnowHowError {
    /// The local embedding model is missing or unreadable.
    #[error(
        "cannot load the embedding model from {}: {message}. `cargo xtask build` (or run/test) installs all-MiniLM-L6-v2 into target/knowhow-model/all-MiniLM-L6-v2; or set BIOAI_EMBEDDING_MODEL to a sentence-transformers model directory",
        dir.display()
    )]
    Model {
        /// The directory tried.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Running the local model failed.
    #[error("embedding failed: {0}")]
    Inference(String),
    /// The remote embedding provider failed or answered unexpectedly.
    #[error("embedding provider: {0}")]
    Provider(String),
    /// The `BIOAI_EMBEDDING_*` settings are invalid.
    #[error("embedding settings: {0}")]
    Config(String),
    /// A built-in guide is malformed (a build-time mistake).
    #[error("know-how guide `{slug}`: {message}")]
    Guide {
        /// The guide's slug.
        slug: String,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The know-how library: an embedding provider plus the operations on the
/// store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KnowHow {
    embeddings: Embeddings,
}

impl KnowHow {
    /// A library using `embeddings` for both ingestion and queries.
    pub fn new(embeddings: Embeddings) -> Self {
        Self { embeddings }
    }

    /// A library with the provider configured by `BIOAI_EMBEDDING_*`.
    pub fn from_env() -> Result<Self, KnowHowError> {
        Ok(Self::new(Embeddings::from_env()?))
    }

    /// The embedding provider.
    pub fn embeddings(&self) -> &Embeddings {
        &self.embeddings
    }

    /// Stores the chunks of the built-in guides that are not stored yet and
    /// returns how many were added (0 when all are present).
    ///
    /// Each chunk's `source` is `bioai-knowhow://<slug>#<hash>`, the hash
    /// covering the chunk's text and the embedding model, so an unchanged
    /// chunk is recognised without embedding it again. Rows of our scheme
    /// that no longer match a current chunk (an edited guide, another
    /// embedding model) or that duplicate one (two hosts ingesting at once)
    /// are deleted.
    pub async fn ingest_builtin(&self, store: &Store) -> Result<usize, KnowHowError> {
        let chunks = guides::builtin_chunks()?;
        let model = self.embeddings.model_id();
        let wanted: Vec<(String, &Chunk)> = chunks
            .iter()
            .map(|c| (c.stored_source(&model), c))
            .collect();
        let wanted_sources: HashSet<&str> = wanted.iter().map(|(s, _)| s.as_str()).collect();

        let existing = store.know_how_sources(guides::SCHEME).await?;
        let mut present = HashSet::new();
        let mut obsolete = Vec::new();
        for (id, source) in existing {
            if wanted_sources.contains(source.as_str()) && present.insert(source) {
                continue;
            }
            obsolete.push(id);
        }
        store.delete_know_how(&obsolete).await?;

        let missing: Vec<&(String, &Chunk)> = wanted
            .iter()
            .filter(|(s, _)| !present.contains(s))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let texts: Vec<&str> = missing.iter().map(|(_, c)| c.content.as_str()).collect();
        let vectors = self.embeddings.embed(&texts).await?;
        for ((source, chunk), embedding) in missing.iter().zip(vectors) {
            store
                .add_know_how(&NewKnowHow {
                    source: source.clone(),
                    title: chunk.title.clone(),
                    content: chunk.content.clone(),
                    licence: chunk.licence.clone(),
                    attribution: chunk.attribution.clone(),
                    url: Some(chunk.url.clone()),
                    embedding,
                })
                .await?;
        }
        tracing::info!(
            added = missing.len(),
            removed = obsolete.len(),
            "know-how guides ingested"
        );
        Ok(missing.len())
    }

    /// The `k` passages best matching `query`, best first: know-how chunks
    /// and, when `tenant` is given, that tenant's document chunks. See
    /// [`search`] for the ranking.
    pub async fn search(
        &self,
        store: &Store,
        tenant: Option<UserId>,
        query: &str,
        k: usize,
    ) -> Result<Vec<Passage>, KnowHowError> {
        if k == 0 || query.trim().is_empty() {
            return Ok(Vec::new());
        }
        let q = self
            .embeddings
            .embed(&[query])
            .await?
            .pop()
            .ok_or_else(|| KnowHowError::Inference("no embedding for the query".to_string()))?;
        let n = search::CANDIDATES.max(k);
        let mut candidates: Vec<Candidate> = store
            .search_know_how(&q, n)
            .await?
            .into_iter()
            .map(|hit| Candidate {
                hit,
                origin: Origin::KnowHow,
            })
            .collect();
        if let Some(tenant) = tenant {
            candidates.extend(
                store
                    .search_documents(tenant, &q, n)
                    .await?
                    .into_iter()
                    .map(|hit| Candidate {
                        hit,
                        origin: Origin::Document,
                    }),
            );
        }
        // The same text twice (e.g. during a concurrent ingest) counts once.
        let mut seen = HashSet::new();
        candidates.retain(|c| seen.insert((c.origin, c.hit.content.clone())));

        Ok(search::fuse(query, candidates, k))
    }
}
