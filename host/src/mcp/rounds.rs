//! Multi-round-trip requests (MCP 2026-07-28, SEP-2322): how a plugin's
//! requests to the client (sampling, elicitation, roots) work when requests
//! are stateless and the server cannot send the client requests of its own.
//!
//! A call runs with a [`RoundClient`] holding the answers the client has
//! given so far. When the plugin asks for something that has no answer yet,
//! the round client notes the request and stops the call; the handler then
//! returns an input-required result with every open request and a sealed
//! `requestState` carrying the answers so far. The client retries the same
//! request with its answers (`inputResponses`) and the state; the call runs
//! again from the start, and this time its requests are answered at once.
//! Each round is a real, metered call; a plugin asks once for all it needs
//! ([`crate::runtime::ClientRequests::request_input`]) to keep rounds few.
//!
//! The state is sealed with HMAC-SHA256 ([`RequestStateCodec`]) under a
//! [`StateKey`] that hosts behind one load balancer share and that
//! survives restarts, bound to the method, the tool or prompt and its
//! arguments: a tampered state, one replayed against another call, or one
//! sealed under another key is refused, and the client starts over.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rmcp::ErrorData;
use rmcp::model::{
    ClientCapabilities, CreateMessageResult, ElicitResult, InputRequest as McpInputRequest,
    InputRequests, InputRequiredResult, InputResponses, ListRootsResult, RequestStateCodec,
    SealOptions,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::client::{
    declares, elicit_params, elicited, roots, sampled, sampling_params, unsupported_message,
};
use crate::runtime::{
    ClientFuture, ClientRequests, Elicited, Form, InputRequest, InputResponse, Root, Sampled,
    SamplingRequest,
};

/// How long a sealed state stays valid: a user may take a while to fill in
/// a form, but not days.
const STATE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The key that seals `requestState`. A client's retry may reach another
/// host behind the same load balancer, or the same host after a restart:
/// hosts that share a key accept each other's states. `bioai serve` and
/// `bioai stdio` take it from `BIOAI_MCP_STATE_KEY` (64 hex digits) or
/// from `mcp-state.key` in the data directory, created on first use
/// ([`StateKey::for_settings`]).
#[derive(Clone, PartialEq, Eq)]
pub struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A secret: never in logs.
        f.write_str("StateKey(..)")
    }
}

/// Why a state key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum StateKeyError {
    /// The key text is not 32 bytes in hexadecimal.
    #[error(
        "the MCP state key in {origin} is not 64 hexadecimal digits: {problem}; \
         write 32 random bytes in hex there (e.g. from `openssl rand -hex 32`), \
         the same on every host that serves the same clients"
    )]
    Malformed {
        /// Where the text came from.
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The key file could not be read or created.
    #[error("cannot read or create the MCP state key file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl StateKey {
    /// The name of the key file in the data directory.
    pub const FILE_NAME: &str = "mcp-state.key";

    /// A fresh random key: states survive neither a restart nor a trip to
    /// another host.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random source failed");
        Self(key)
    }

    /// The key in `text` (64 hex digits, surrounding whitespace ignored);
    /// `origin` names where the text came from in the error.
    pub fn from_hex(text: &str, origin: &str) -> Result<Self, StateKeyError> {
        let malformed = |problem: String| StateKeyError::Malformed {
            origin: origin.to_string(),
            problem,
        };
        let text = text.trim();
        if text.len() != 64 {
            return Err(malformed(format!("it has {} characters", text.len())));
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks(2)) {
            let digits = std::str::from_utf8(pair).ok();
            *byte = digits
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| {
                    malformed(format!("`{}` is not a hex byte", digits.unwrap_or("?")))
                })?;
        }
        Ok(Self(key))
    }

    /// The key in hexadecimal, as [`StateKey::from_hex`] reads it.
    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key in the file at `path`, made (readable by its owner only)
    /// when there is none yet. Hosts starting together on one data
    /// directory end up with the same key: the file appears whole or not
    /// at all (written aside, then hard-linked into place, which fails if
    /// another host got there first).
    pub fn load_or_create(path: &std::path::Path) -> Result<Self, StateKeyError> {
        let io = |source| StateKeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let origin = || path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::from_hex(&text, &origin()),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            Err(_) => {}
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let key = Self::random();
        let mut aside = tempfile::Builder::new()
            .prefix(".mcp-state.key.")
            .tempfile_in(dir.unwrap_or(std::path::Path::new(".")))
            .map_err(io)?;
        // tempfile creates it with mode 0600.
        std::io::Write::write_all(&mut aside, format!("{}\n", key.to_hex()).as_bytes())
            .and_then(|()| aside.as_file().sync_all())
            .map_err(io)?;
        match std::fs::hard_link(aside.path(), path) {
            Ok(()) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(io)?;
                Self::from_hex(&text, &origin())
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The key `bioai serve` and `bioai stdio` use: `BIOAI_MCP_STATE_KEY`
    /// when set (for hosts on several machines), else the key file in the
    /// data directory.
    pub fn for_settings(settings: &crate::config::Settings) -> Result<Self, StateKeyError> {
        match &settings.mcp_state_key {
            Some(hex) => Self::from_hex(hex, "BIOAI_MCP_STATE_KEY"),
            None => Self::load_or_create(&settings.data_dir.join(Self::FILE_NAME)),
        }
    }
}

/// Seals and opens the `requestState` of this server's rounds.
pub(super) struct Rounds {
    codec: RequestStateCodec,
}

/// What a sealed state carries: the answers of the rounds before.
#[derive(Serialize, Deserialize, Default)]
struct State {
    answers: BTreeMap<String, Value>,
}

impl Rounds {
    /// Rounds sealed under `key`.
    pub(super) fn new(key: &StateKey) -> Self {
        Self {
            codec: RequestStateCodec::new(key.0.to_vec()),
        }
    }

    /// The client of one round of the request `binding` names (method, name
    /// and arguments; computed only when there is a state to open): the
    /// answers of the echoed `state` and the retry's `responses`. A state
    /// that fails verification is an invalid-params error; so is a response
    /// that is not a JSON object.
    pub(super) fn client(
        &self,
        binding: impl FnOnce() -> Vec<u8>,
        state: Option<&str>,
        responses: Option<InputResponses>,
        capabilities: ClientCapabilities,
        stop: CancellationToken,
    ) -> Result<Arc<RoundClient>, ErrorData> {
        let mut answers = match state {
            None => BTreeMap::new(),
            Some(sealed) => {
                let state: State = self.codec.open_json_with(sealed, &binding()).map_err(|e| {
                    ErrorData::invalid_params(
                        format!(
                            "requestState failed its integrity check ({e}): it was changed, \
                             belongs to another request or expired, or the server restarted; \
                             send the request again without requestState and inputResponses"
                        ),
                        None,
                    )
                })?;
                state.answers
            }
        };
        for (key, value) in responses.unwrap_or_default() {
            if !value.is_object() {
                return Err(ErrorData::invalid_params(
                    format!(
                        "inputResponses.{key} must be the client's result object \
                         (an elicitation, sampling or roots result), not {value}"
                    ),
                    None,
                ));
            }
            answers.insert(key, value);
        }
        Ok(Arc::new(RoundClient {
            answers,
            capabilities,
            asked: AtomicU32::new(0),
            open: parking_lot::Mutex::new(Open::default()),
            stop,
        }))
    }

    /// After the call: the input-required result, when the call stopped
    /// for input (or an error, when an answer was malformed); `None` when
    /// it ran to its end. `binding` is computed only to seal a state.
    pub(super) fn outcome(
        &self,
        client: &RoundClient,
        binding: impl FnOnce() -> Vec<u8>,
    ) -> Option<Result<InputRequiredResult, ErrorData>> {
        let open = std::mem::take(&mut *client.open.lock());
        if let Some(message) = open.malformed {
            return Some(Err(ErrorData::invalid_params(message, None)));
        }
        if open.requests.is_empty() {
            return None;
        }
        let state = State {
            answers: client.answers.clone(),
        };
        let binding = binding();
        let options = SealOptions::new().associated_data(&binding).ttl(STATE_TTL);
        Some(
            self.codec
                .seal_json_with(&state, &options)
                .map(|sealed| InputRequiredResult::new(Some(open.requests), Some(sealed)))
                .map_err(|e| {
                    ErrorData::internal_error(
                        format!("requestState could not be sealed: {e}"),
                        None,
                    )
                }),
        )
    }
}

/// What binds a state to its request: the method, the tool's, prompt's or
/// resource's name and the arguments.
pub(super) fn binding(method: &str, name: &str, arguments: &Value) -> Vec<u8> {
    let mut b = format!("{method}\n{name}\n").into_bytes();
    b.extend_from_slice(arguments.to_string().as_bytes());
    b
}

/// The requests a round stopped for.
#[derive(Default)]
struct Open {
    requests: InputRequests,
    /// Set when an answer the plugin needs is malformed.
    malformed: Option<String>,
}

/// The plugin's client during one round of a stateless request.
pub(super) struct RoundClient {
    answers: BTreeMap<String, Value>,
    capabilities: ClientCapabilities,
    /// Single requests so far: their keys are their order in the call.
    asked: AtomicU32,
    open: parking_lot::Mutex<Open>,
    /// Stops the call when it needs input it does not have.
    stop: CancellationToken,
}

impl RoundClient {
    /// The next key for a single request of `kind`.
    fn next_key(&self, kind: &str) -> String {
        let n = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{kind}-{n}")
    }

    /// One request's answer from a batch of one.
    fn single<T: Send + 'static>(
        &self,
        kind: &str,
        request: InputRequest,
        take: fn(InputResponse) -> Option<T>,
    ) -> ClientFuture<T> {
        let key = self.next_key(kind);
        let answers = self.request_input(vec![(key, request)]);
        Box::pin(async move {
            match answers.await.into_iter().next() {
                Some(InputResponse::Failed(e)) => Err(e),
                Some(answer) => take(answer)
                    .ok_or_else(|| "the client answered with a different kind of result".into()),
                None => Err("the client gave no answer".into()),
            }
        })
    }

    /// The answer to `request` under `key`: `Ok(Some)` from the client's
    /// answers, `Ok(None)` when it must be asked for, `Err` (why) when the
    /// client's answer is not a result of the request's method.
    fn lookup(&self, key: &str, request: &InputRequest) -> Result<Option<InputResponse>, String> {
        let Some(value) = self.answers.get(key) else {
            return Ok(None);
        };
        let malformed = |what: &str, e: serde_json::Error| {
            format!(
                "inputResponses.{key} is not {what} ({e}); answer the request `{key}` with \
                 the result its method returns"
            )
        };
        let answer = match request {
            InputRequest::Elicit(_) => serde_json::from_value::<ElicitResult>(value.clone())
                .map(|r| InputResponse::Elicited(elicited(r)))
                .map_err(|e| malformed("an elicitation result", e))?,
            InputRequest::CreateMessage(_) => {
                serde_json::from_value::<CreateMessageResult>(value.clone())
                    .map_err(|e| malformed("a sampling result", e))
                    .map(|r| {
                        sampled(r).map_or_else(InputResponse::Failed, InputResponse::Sampled)
                    })?
            }
            InputRequest::ListRoots => serde_json::from_value::<ListRootsResult>(value.clone())
                .map(|r| InputResponse::Roots(roots(r)))
                .map_err(|e| malformed("a roots result", e))?,
        };
        Ok(Some(answer))
    }

    /// `request` as an MCP input request, or why it cannot be sent.
    fn to_mcp(&self, request: &InputRequest) -> Result<McpInputRequest, String> {
        let (what, capability) = match request {
            InputRequest::Elicit(_) => ("form elicitation", "elicitation"),
            InputRequest::CreateMessage(_) => ("sampling", "sampling"),
            InputRequest::ListRoots => ("roots", "roots"),
        };
        if !declares(&self.capabilities, capability) {
            return Err(unsupported_message(what, capability));
        }
        let (method, params) = match request {
            InputRequest::Elicit(Form {
                message,
                requested_schema,
            }) => (
                "elicitation/create",
                serde_json::to_value(elicit_params(message, requested_schema)?),
            ),
            InputRequest::CreateMessage(r) => (
                "sampling/createMessage",
                serde_json::to_value(sampling_params(r.clone())?),
            ),
            InputRequest::ListRoots => ("roots/list", Ok(json!({}))),
        };
        let params = params.map_err(|e| e.to_string())?;
        serde_json::from_value(json!({ "method": method, "params": params }))
            .map_err(|e| format!("the request cannot be sent to the client: {e}"))
    }
}

impl ClientRequests for RoundClient {
    fn can_sample(&self) -> bool {
        self.capabilities.sampling.is_some()
    }

    fn create_message(&self, request: SamplingRequest) -> ClientFuture<Sampled> {
        self.single(
            "sampling",
            InputRequest::CreateMessage(request),
            |a| match a {
                InputResponse::Sampled(s) => Some(s),
                _ => None,
            },
        )
    }

    fn elicit(&self, message: String, requested_schema: String) -> ClientFuture<Elicited> {
        let form = Form {
            message,
            requested_schema,
        };
        self.single("elicitation", InputRequest::Elicit(form), |a| match a {
            InputResponse::Elicited(e) => Some(e),
            _ => None,
        })
    }

    fn list_roots(&self) -> ClientFuture<Vec<Root>> {
        self.single("roots", InputRequest::ListRoots, |a| match a {
            InputResponse::Roots(r) => Some(r),
            _ => None,
        })
    }

    fn request_input(
        &self,
        requests: Vec<(String, InputRequest)>,
    ) -> crate::runtime::AnswersFuture {
        let mut answers = Vec::with_capacity(requests.len());
        let mut open = InputRequests::new();
        for (key, request) in &requests {
            let answer = match self.lookup(key, request) {
                Ok(Some(answer)) => answer,
                Ok(None) => match self.to_mcp(request) {
                    Ok(r) => {
                        open.insert(key.clone(), r);
                        continue;
                    }
                    // The client cannot be asked: the plugin hears why now.
                    Err(e) => InputResponse::Failed(e),
                },
                Err(malformed) => {
                    self.open.lock().malformed = Some(malformed);
                    self.stop.cancel();
                    return Box::pin(std::future::pending());
                }
            };
            answers.push(answer);
        }
        if open.is_empty() {
            return Box::pin(async move { answers });
        }
        // Stop the call; it runs again when the client has answered.
        self.open.lock().requests.extend(open);
        self.stop.cancel();
        Box::pin(std::future::pending())
    }

    fn awaiting_input(&self) -> bool {
        let open = self.open.lock();
        !open.requests.is_empty() || open.malformed.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(v: Value) -> ClientCapabilities {
        serde_json::from_value(v).unwrap()
    }

    /// A round's client for `caps` with the given state and responses.
    fn round(
        rounds: &Rounds,
        bind: &[u8],
        state: Option<&str>,
        responses: Option<InputResponses>,
        caps_json: Value,
        stop: &CancellationToken,
    ) -> Result<Arc<RoundClient>, ErrorData> {
        rounds.client(
            || bind.to_vec(),
            state,
            responses,
            caps(caps_json),
            stop.clone(),
        )
    }

    fn form() -> InputRequest {
        InputRequest::Elicit(Form {
            message: "What is your name?".into(),
            requested_schema: r#"{"type":"object","properties":{"name":{"type":"string"}}}"#.into(),
        })
    }

    #[tokio::test]
    async fn an_unanswered_request_stops_the_call_and_is_sealed_with_the_answers() {
        let rounds = Rounds::new(&StateKey::random());
        let bind = binding("tools/call", "t", &json!({}));
        let stop = CancellationToken::new();
        let client = round(
            &rounds,
            &bind,
            None,
            None,
            json!({"elicitation": {}}),
            &stop,
        )
        .unwrap();
        let answers = client.request_input(vec![("user_name".into(), form())]);
        assert!(stop.is_cancelled());
        assert!(client.awaiting_input());
        drop(answers);
        let result = rounds.outcome(&client, || bind.clone()).unwrap().unwrap();
        let v = serde_json::to_value(&result).unwrap();
        assert_eq!(v["resultType"], "input_required");
        assert_eq!(
            v["inputRequests"]["user_name"]["method"],
            "elicitation/create"
        );
        let state = v["requestState"].as_str().unwrap().to_string();

        // The retry: answered from the responses, the state verified.
        let mut responses = InputResponses::new();
        responses.insert(
            "user_name".into(),
            json!({"action": "accept", "content": {"name": "Ada"}}),
        );
        let stop = CancellationToken::new();
        let client = round(
            &rounds,
            &bind,
            Some(&state),
            Some(responses),
            json!({"elicitation": {}}),
            &stop,
        )
        .unwrap();
        let answers = client
            .request_input(vec![("user_name".into(), form())])
            .await;
        assert!(!stop.is_cancelled());
        match &answers[0] {
            InputResponse::Elicited(e) => {
                assert_eq!(e.content.as_deref(), Some(r#"{"name":"Ada"}"#))
            }
            other => panic!("{other:?}"),
        }
        assert!(rounds.outcome(&client, || bind.clone()).is_none());

        // Tampered, or replayed against another tool: refused.
        let tampered = format!("{state}x");
        for (s, b) in [
            (tampered.as_str(), bind.clone()),
            (state.as_str(), binding("tools/call", "other", &json!({}))),
        ] {
            let e = refused(&rounds, &b, s);
            assert!(e.message.contains("integrity"), "{}", e.message);
        }
    }

    /// The error of a round of `rounds` that echoes `state`, which it must
    /// refuse.
    fn refused(rounds: &Rounds, bind: &[u8], state: &str) -> ErrorData {
        round(
            rounds,
            bind,
            Some(state),
            None,
            json!({}),
            &CancellationToken::new(),
        )
        .err()
        .expect("refused")
    }

    /// The `requestState` of a round of `rounds` stopped for one form.
    fn sealed_state(rounds: &Rounds, bind: &[u8]) -> String {
        let stop = CancellationToken::new();
        let client = round(rounds, bind, None, None, json!({"elicitation": {}}), &stop).unwrap();
        drop(client.request_input(vec![("user_name".into(), form())]));
        let result = rounds.outcome(&client, || bind.to_vec()).unwrap().unwrap();
        let v = serde_json::to_value(&result).unwrap();
        v["requestState"].as_str().unwrap().to_string()
    }

    #[test]
    fn hosts_sharing_a_key_accept_each_others_states() {
        let key = StateKey::random();
        let bind = binding("tools/call", "t", &json!({}));
        let state = sealed_state(&Rounds::new(&key), &bind);
        // Another host (or this one restarted) with the same key.
        let opened = round(
            &Rounds::new(&key),
            &bind,
            Some(&state),
            None,
            json!({}),
            &CancellationToken::new(),
        );
        assert!(opened.is_ok(), "{:?}", opened.err());
        // A host with another key refuses it.
        let e = refused(&Rounds::new(&StateKey::random()), &bind, &state);
        assert!(e.message.contains("integrity"), "{}", e.message);
    }

    #[test]
    fn state_keys_are_64_hex_digits() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let key = StateKey::from_hex(&format!(" {hex}\n"), "test").unwrap();
        assert_eq!(key.to_hex(), hex.to_lowercase());
        assert_eq!(format!("{key:?}"), "StateKey(..)", "never printed");
        for (bad, problem) in [
            ("abc", "3 characters"),
            (&hex[..62], "62 characters"),
            (&format!("{}zz", &hex[..62]), "`zz` is not a hex byte"),
            (&format!("{}é", &hex[..62]), "`é` is not a hex byte"),
        ] {
            let e = StateKey::from_hex(bad, "BIOAI_MCP_STATE_KEY")
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"))
                .to_string();
            assert!(
                e.contains("BIOAI_MCP_STATE_KEY") && e.contains(problem),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn the_key_file_is_made_once_for_its_owner_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(StateKey::FILE_NAME);
        let key = StateKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert_eq!(StateKey::load_or_create(&path).unwrap(), key);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [StateKey::FILE_NAME], "no temporary file left");

        // An operator's own key is used as written; a damaged one is an
        // error naming the file, not silently replaced.
        let hex = "ab".repeat(32);
        std::fs::write(&path, &hex).unwrap();
        assert_eq!(
            StateKey::load_or_create(&path).unwrap(),
            StateKey::from_hex(&hex, "x").unwrap()
        );
        std::fs::write(&path, "not a key").unwrap();
        let e = StateKey::load_or_create(&path).err().unwrap().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
    }

    #[tokio::test]
    async fn requests_the_client_cannot_answer_fail_at_once_and_others_stay_open() {
        let rounds = Rounds::new(&StateKey::random());
        let bind = binding("tools/call", "t", &json!({}));
        let stop = CancellationToken::new();
        let client = round(&rounds, &bind, None, None, json!({"sampling": {}}), &stop).unwrap();
        let sample = InputRequest::CreateMessage(SamplingRequest {
            messages: vec![],
            max_tokens: 10,
            system_prompt: None,
            temperature: None,
            stop_sequences: vec![],
        });
        drop(client.request_input(vec![("form".into(), form()), ("llm".into(), sample)]));
        let v = serde_json::to_value(rounds.outcome(&client, || bind.clone()).unwrap().unwrap())
            .unwrap();
        let keys: Vec<&String> = v["inputRequests"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["llm"]);
    }

    #[test]
    fn malformed_answers_are_refused_with_the_key() {
        let rounds = Rounds::new(&StateKey::random());
        let bind = binding("tools/call", "t", &json!({}));
        let mut responses = InputResponses::new();
        responses.insert("user_name".into(), json!(12345));
        let e = round(
            &rounds,
            &bind,
            None,
            Some(responses),
            json!({}),
            &CancellationToken::new(),
        )
        .err()
        .expect("refused");
        assert!(
            e.message.contains("inputResponses.user_name"),
            "{}",
            e.message
        );

        let mut responses = InputResponses::new();
        responses.insert("user_name".into(), json!({"no": "action"}));
        let stop = CancellationToken::new();
        let client = round(&rounds, &bind, None, Some(responses), json!({}), &stop).unwrap();
        drop(client.request_input(vec![("user_name".into(), form())]));
        assert!(stop.is_cancelled());
        let e = rounds
            .outcome(&client, || bind.clone())
            .unwrap()
            .err()
            .unwrap();
        assert!(
            e.message.contains("not an elicitation result"),
            "{}",
            e.message
        );
    }
}
