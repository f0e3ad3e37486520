//! LLM providers for agent roles (`bioai::agents::llm`) against a stand-in
//! server answering like the OpenAI Chat Completions and Anthropic Messages
//! APIs: text with exact usage, streamed and not, a tool call round trip,
//! retries on 429 and 5xx, an immediate failure on 400, and a dropped
//! stream.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bioai::agents::llm::{
    ChatMessage, ChatRequest, Completion, Llm, LlmConfig, LlmError, ProviderKind, TokenUsage,
    ToolSpec,
};
use bioai_e2e::llm_standin::{LlmStandIn, Reply};
use serde_json::json;

const OPENAI_MODEL: &str = "gpt-standin";
const ANTHROPIC_MODEL: &str = "claude-standin";

fn config(server: &LlmStandIn, kind: ProviderKind, stream: bool) -> LlmConfig {
    let (base, model) = match kind {
        ProviderKind::OpenAi => (server.openai_base(), OPENAI_MODEL),
        ProviderKind::Anthropic => (server.anthropic_base(), ANTHROPIC_MODEL),
    };
    LlmConfig {
        kind,
        base_url: base,
        api_key: Some("sk-test-123".to_string()),
        model: model.to_string(),
        stream,
        max_retries: 3,
        timeout: Duration::from_secs(10),
    }
}

fn llm(server: &LlmStandIn, kind: ProviderKind, stream: bool) -> Llm {
    Llm::new(config(server, kind, stream)).expect("a valid configuration")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            ChatMessage::system("You are a terse lab assistant."),
            ChatMessage::user(text),
        ],
        tools: vec![],
        max_tokens: 256,
        temperature: Some(0.2),
    }
}

/// Completes `request`, returning the result and the streamed text pieces.
async fn complete(llm: &Llm, request: &ChatRequest) -> (Result<Completion, LlmError>, Vec<String>) {
    let seen = Mutex::new(Vec::new());
    let on_text = |t: &str| seen.lock().unwrap().push(t.to_string());
    let result = llm.complete(request, Some(&on_text)).await;
    (result, seen.into_inner().unwrap())
}

fn exact(input_tokens: u64, output_tokens: u64) -> TokenUsage {
    TokenUsage {
        input_tokens,
        output_tokens,
        estimated: false,
    }
}

const ANSWER: &str = "GC content of ACGT is 50 percent.";

#[tokio::test]
async fn openai_text_with_exact_usage_streamed_and_not() {
    for stream in [false, true] {
        let server = LlmStandIn::start().await;
        server.push(Reply::text(ANSWER, 23, 9));
        let (result, pieces) = complete(
            &llm(&server, ProviderKind::OpenAi, stream),
            &ask("GC of ACGT?"),
        )
        .await;
        let c = result.expect("the completion succeeds");
        assert_eq!(c.text, ANSWER);
        assert_eq!(c.usage, exact(23, 9), "stream: {stream}");
        assert_eq!(c.model, OPENAI_MODEL);
        assert_eq!(c.stop_reason, "stop");
        assert!(c.tool_calls.is_empty());
        assert_eq!(pieces.concat(), ANSWER);
        if stream {
            assert_eq!(pieces.len(), 7, "text arrives word by word: {pieces:?}");
        } else {
            assert_eq!(pieces.len(), 1);
        }

        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.path, "/v1/chat/completions");
        assert_eq!(r.header("authorization"), Some("Bearer sk-test-123"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.body["model"], OPENAI_MODEL);
        assert_eq!(r.body["max_tokens"], 256);
        assert!((r.body["temperature"].as_f64().unwrap() - 0.2).abs() < 1e-6);
        assert_eq!(
            r.body["messages"],
            json!([
                {"role": "system", "content": "You are a terse lab assistant."},
                {"role": "user", "content": "GC of ACGT?"},
            ])
        );
        assert!(r.body.get("tools").is_none());
        if stream {
            assert_eq!(r.body["stream"], true);
            assert_eq!(r.body["stream_options"], json!({"include_usage": true}));
        } else {
            assert!(r.body.get("stream").is_none());
        }
    }
}

#[tokio::test]
async fn anthropic_text_with_exact_usage_streamed_and_not() {
    for stream in [false, true] {
        let server = LlmStandIn::start().await;
        server.push(Reply::text(ANSWER, 31, 11));
        let (result, pieces) = complete(
            &llm(&server, ProviderKind::Anthropic, stream),
            &ask("GC of ACGT?"),
        )
        .await;
        let c = result.expect("the completion succeeds");
        assert_eq!(c.text, ANSWER);
        assert_eq!(c.usage, exact(31, 11), "stream: {stream}");
        assert_eq!(c.model, ANTHROPIC_MODEL);
        assert_eq!(c.stop_reason, "end_turn");
        assert_eq!(pieces.concat(), ANSWER);
        assert_eq!(pieces.len(), if stream { 7 } else { 1 });

        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.path, "/v1/messages");
        assert_eq!(r.header("x-api-key"), Some("sk-test-123"));
        assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
        assert!(r.header("authorization").is_none());
        assert_eq!(r.body["model"], ANTHROPIC_MODEL);
        assert_eq!(r.body["max_tokens"], 256);
        assert_eq!(r.body["system"], "You are a terse lab assistant.");
        assert_eq!(
            r.body["messages"],
            json!([{"role": "user", "content": [{"type": "text", "text": "GC of ACGT?"}]}])
        );
        assert_eq!(r.body.get("stream").is_some(), stream);
    }
}

fn gc_tool() -> ToolSpec {
    ToolSpec {
        name: "seq_gc_content".to_string(),
        description: "GC content of a DNA sequence".to_string(),
        parameters: json!({
            "type": "object",
            "properties": {"seq": {"type": "string"}},
            "required": ["seq"],
        }),
    }
}

#[tokio::test]
async fn tool_call_round_trip_on_both_providers() {
    for kind in [ProviderKind::OpenAi, ProviderKind::Anthropic] {
        for stream in [false, true] {
            let what = format!("{kind:?}, stream: {stream}");
            let server = LlmStandIn::start().await;
            let id = match kind {
                ProviderKind::OpenAi => "call_abc",
                ProviderKind::Anthropic => "toolu_abc",
            };
            let args = r#"{"seq":"ACGTACGT"}"#;
            server.push(Reply::tool_calls(
                "Let me compute that.",
                &[(id, "seq_gc_content", args)],
                40,
                18,
            ));
            server.push(Reply::text("It is 50 percent.", 70, 6));
            let llm = llm(&server, kind, stream);

            let mut request = ask("GC of ACGTACGT?");
            request.tools.push(gc_tool());
            let (first, _) = complete(&llm, &request).await;
            let first = first.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(first.text, "Let me compute that.", "{what}");
            assert_eq!(first.tool_calls.len(), 1, "{what}");
            let call = &first.tool_calls[0];
            assert_eq!(call.id, id);
            assert_eq!(call.name, "seq_gc_content");
            let parsed: serde_json::Value = serde_json::from_str(&call.arguments).unwrap();
            assert_eq!(parsed, json!({"seq": "ACGTACGT"}), "{what}");
            assert_eq!(first.usage, exact(40, 18), "{what}");
            assert_eq!(
                first.stop_reason,
                match kind {
                    ProviderKind::OpenAi => "tool_calls",
                    ProviderKind::Anthropic => "tool_use",
                }
            );

            request.messages.push(ChatMessage::from_completion(&first));
            request
                .messages
                .push(ChatMessage::tool_result(&call.id, "0.5"));
            let (second, _) = complete(&llm, &request).await;
            let second = second.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(second.text, "It is 50 percent.");
            assert_eq!(second.usage, exact(70, 6));

            let reqs = server.requests();
            assert_eq!(reqs.len(), 2);
            let body = &reqs[1].body;
            match kind {
                ProviderKind::OpenAi => {
                    assert_eq!(
                        body["tools"],
                        json!([{"type": "function", "function": {
                            "name": "seq_gc_content",
                            "description": "GC content of a DNA sequence",
                            "parameters": gc_tool().parameters,
                        }}])
                    );
                    let m = body["messages"].as_array().unwrap();
                    assert_eq!(m.len(), 4, "{what}: {m:?}");
                    assert_eq!(
                        m[2],
                        json!({"role": "assistant", "content": "Let me compute that.",
                            "tool_calls": [{"id": id, "type": "function",
                                "function": {"name": "seq_gc_content", "arguments": args}}]})
                    );
                    assert_eq!(
                        m[3],
                        json!({"role": "tool", "tool_call_id": id, "content": "0.5"})
                    );
                }
                ProviderKind::Anthropic => {
                    assert_eq!(
                        body["tools"],
                        json!([{
                            "name": "seq_gc_content",
                            "description": "GC content of a DNA sequence",
                            "input_schema": gc_tool().parameters,
                        }])
                    );
                    let m = body["messages"].as_array().unwrap();
                    assert_eq!(m.len(), 3, "{what}: {m:?}");
                    assert_eq!(
                        m[1],
                        json!({"role": "assistant", "content": [
                            {"type": "text", "text": "Let me compute that."},
                            {"type": "tool_use", "id": id, "name": "seq_gc_content",
                             "input": {"seq": "ACGTACGT"}},
                        ]})
                    );
                    assert_eq!(
                        m[2],
                        json!({"role": "user", "content": [
                            {"type": "tool_result", "tool_use_id": id, "content": "0.5"}
                        ]})
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn rate_limit_then_success_is_retried_after_retry_after() {
    for kind in [ProviderKind::OpenAi, ProviderKind::Anthropic] {
        let server = LlmStandIn::start().await;
        server.push(Reply::status(429, "Rate limit reached").retry_after("1"));
        server.push(Reply::text(ANSWER, 5, 9));
        let started = Instant::now();
        let (result, _) = complete(&llm(&server, kind, true), &ask("GC?")).await;
        let c = result.expect("succeeds on the retry");
        assert_eq!(c.text, ANSWER);
        assert_eq!(c.usage, exact(5, 9));
        assert_eq!(server.requests().len(), 2, "one retry");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After: 1 is honoured ({:?})",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_given_up() {
    let server = LlmStandIn::start().await;
    server.push(Reply::status(500, "internal error"));
    server.push(Reply::status(529, "Overloaded"));
    server.push(Reply::text(ANSWER, 5, 9));
    let (result, _) = complete(&llm(&server, ProviderKind::Anthropic, false), &ask("GC?")).await;
    assert_eq!(result.expect("third time lucky").text, ANSWER);
    assert_eq!(server.requests().len(), 3);

    let server = LlmStandIn::start().await;
    server.push(Reply::status(503, "down for maintenance"));
    server.push(Reply::status(503, "still down"));
    server.push(Reply::text(ANSWER, 5, 9));
    let mut cfg = config(&server, ProviderKind::OpenAi, true);
    cfg.max_retries = 1;
    let e = Llm::new(cfg)
        .unwrap()
        .complete(&ask("GC?"), None)
        .await
        .unwrap_err();
    match &e {
        LlmError::Unavailable { attempts, last, .. } => {
            assert_eq!(*attempts, 2);
            assert!(
                last.contains("503") && last.contains("still down"),
                "{last}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(e.usage().is_none());
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.pending(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_unavailable() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = LlmConfig::new(ProviderKind::OpenAi, "m");
    cfg.base_url = format!("http://127.0.0.1:{port}/v1");
    cfg.max_retries = 2;
    let e = Llm::new(cfg)
        .unwrap()
        .complete(&ask("GC?"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, LlmError::Unavailable { attempts: 3, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn bad_request_fails_at_once_with_the_message() {
    for kind in [ProviderKind::OpenAi, ProviderKind::Anthropic] {
        let server = LlmStandIn::start().await;
        server.push(Reply::status(
            400,
            "max_tokens: 999999 > 8192, which is the maximum allowed",
        ));
        server.push(Reply::text(ANSWER, 5, 9));
        let (result, _) = complete(&llm(&server, kind, true), &ask("GC?")).await;
        let e = result.unwrap_err();
        match &e {
            LlmError::Rejected {
                status, message, ..
            } => {
                assert_eq!(*status, 400);
                assert_eq!(
                    message,
                    "max_tokens: 999999 > 8192, which is the maximum allowed"
                );
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        let text = e.to_string();
        assert!(
            text.contains("HTTP 400") && text.contains("maximum allowed"),
            "{text}"
        );
        assert!(e.usage().is_none());
        assert_eq!(server.requests().len(), 1, "not retried");
    }
}

#[tokio::test]
async fn a_dropped_stream_is_interrupted_with_partial_text_and_usage() {
    let text = "The quick brown fox jumps over the lazy dog.";
    for kind in [ProviderKind::OpenAi, ProviderKind::Anthropic] {
        let server = LlmStandIn::start().await;
        // OpenAI: the role chunk, "The", " quick". Anthropic: message_start,
        // content_block_start, ping, "The", " quick".
        let after = match kind {
            ProviderKind::OpenAi => 3,
            ProviderKind::Anthropic => 5,
        };
        server.push(Reply::text(text, 17, 12).drop_after(after));
        server.push(Reply::text(text, 17, 12));
        let (result, pieces) = complete(&llm(&server, kind, true), &ask("A pangram?")).await;
        let e = result.unwrap_err();
        let LlmError::Interrupted { partial, reason } = &e else {
            panic!("expected Interrupted, got {e:?}");
        };
        assert_eq!(partial.text, "The quick", "{kind:?}");
        assert_eq!(pieces.concat(), "The quick");
        assert!(reason.contains("connection"), "{reason}");
        assert!(partial.usage.estimated);
        // "The quick" is 9 bytes: 3 tokens at 4 bytes a token.
        assert_eq!(partial.usage.output_tokens, 3);
        match kind {
            // No usage chunk arrived: the prompt is estimated too.
            ProviderKind::OpenAi => assert!(partial.usage.input_tokens > 0),
            // message_start reported the input exactly.
            ProviderKind::Anthropic => assert_eq!(partial.usage.input_tokens, 17),
        }
        assert_eq!(e.usage(), Some(partial.usage));
        assert!(e.to_string().contains("interrupted"), "{e}");
        assert_eq!(server.requests().len(), 1, "not retried");
    }
}

#[tokio::test]
async fn a_missing_api_key_is_not_sent_and_local_servers_work() {
    let server = LlmStandIn::start().await;
    server.push(Reply::text(ANSWER, 1, 2));
    let mut cfg = config(&server, ProviderKind::OpenAi, false);
    cfg.api_key = None;
    let c = Llm::new(cfg)
        .unwrap()
        .complete(&ask("GC?"), None)
        .await
        .unwrap();
    assert_eq!(c.usage, exact(1, 2));
    assert!(server.requests()[0].header("authorization").is_none());
}
