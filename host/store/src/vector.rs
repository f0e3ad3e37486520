//! Embeddings: 384-dimensional f32 vectors (all-MiniLM-L6-v2's size).
//!
//! PostgreSQL stores them as pgvector `vector(384)` and searches an HNSW index;
//! SQLite stores little-endian f32 BLOBs and the store searches them by brute
//! force, with the same cosine distance as pgvector's `<=>`.

use crate::StoreError;

/// The embedding dimension of `documents` and `know_how_index`.
pub const DIM: usize = 384;

/// A 384-dimensional embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Checks the dimension and that every component is finite.
    pub fn new(values: Vec<f32>) -> Result<Self, StoreError> {
        if values.len() != DIM {
            return Err(StoreError::Invalid(format!(
                "an embedding must have {DIM} dimensions, this one has {}",
                values.len()
            )));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(StoreError::Invalid(
                "an embedding must not contain NaN or infinite values".to_string(),
            ));
        }
        Ok(Self(values))
    }

    /// The components.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Little-endian f32 bytes, the SQLite BLOB form.
    pub(crate) fn to_blob(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Reads a BLOB written by [`Embedding::to_blob`].
    pub(crate) fn from_blob(bytes: &[u8]) -> Result<Self, StoreError> {
        if bytes.len() != DIM * 4 {
            return Err(StoreError::Corrupt(format!(
                "an embedding BLOB has {} bytes, expected {}",
                bytes.len(),
                DIM * 4
            )));
        }
        Ok(Self(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// Cosine distance, `1 - cos(a, b)`, as pgvector's `<=>` computes it
    /// (accumulated in f64; NaN when either vector is zero, as in pgvector).
    pub fn cosine_distance(&self, other: &Embedding) -> f64 {
        let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
        for (a, b) in self.0.iter().zip(&other.0) {
            let (a, b) = (f64::from(*a), f64::from(*b));
            dot += a * b;
            na += a * a;
            nb += b * b;
        }
        let sim = dot / (na * nb).sqrt();
        // Rounding can push |cos| slightly above 1.
        1.0 - sim.clamp(-1.0, 1.0)
    }
}
