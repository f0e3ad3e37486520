//! The official MCP conformance suite (`@modelcontextprotocol/conformance`
//! 0.2.0-alpha.12 on Node 24, installed by `cargo xtask test` into
//! tests/mcp/node_modules) against `bioai serve` with the conformance
//! fixture plugin (tests/plugins/conformance, bare tool names through
//! tests/mcp/conformance-policies/), for both protocol eras.
//!
//! Every server scenario of the suite (`--suite all`: the active ones and
//! the pending and draft ones, such as caching hints and header validation)
//! runs for each spec version and every result is printed. The scenarios in
//! `SUPPORTED` must pass; the others need features the plugin contract does
//! not have yet: they are reported, and listed in the README's MCP section
//! as not supported.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Server, need, root};
use serde_json::Value;

/// Scenarios that must pass, per spec version.
const SUPPORTED: &[&str] = &[
    "server-initialize",
    "server-session-lifecycle",
    "ping",
    "logging-set-level",
    "tools-call-with-logging",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "server-sse-multiple-streams",
    "server-sse-polling",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "resources-subscribe",
    "resources-unsubscribe",
    "sep-2164-resource-not-found",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "completion-complete",
    "caching",
    "http-header-validation",
    "http-custom-header-server-validation",
    "dns-rebinding-protection",
    // 2025-11-25 only (2026-07-28 replaces server-to-client requests with
    // input-required results): plugins' `bioai:plugin/client` requests.
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
    // 2026-07-28 only: server-to-client requests as input-required rounds.
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-missing-input-response",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-unsupported-methods",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "input-required-result-ignore-extra-params",
    "input-required-result-validate-input",
    // `tool-details`: required client capabilities (-32021) and input
    // schemas richer than WIT types.
    "server-stateless",
    "json-schema-2020-12",
];

/// `bioai serve` with only the fixture plugin added to the shipped ones.
fn start_server(plugins: &Path, data: &Path) -> Server {
    Server::start(&[
        "--plugins".into(),
        plugins.into(),
        "--policies".into(),
        root().join("tests/mcp/conformance-policies").into(),
        "--data-dir".into(),
        data.into(),
    ])
}

/// Runs the suite for one spec version; returns scenario -> failed checks.
fn run_suite(url: &str, version: &str) -> BTreeMap<String, Vec<String>> {
    let out = tempfile::tempdir().unwrap();
    let mcp = root().join("tests/mcp");
    let status = Command::new(need(&mcp.join("node_modules/.bin/node")))
        .arg(need(&mcp.join(
            "node_modules/@modelcontextprotocol/conformance/dist/index.js",
        )))
        .args(["server", "--url", url, "--spec-version", version])
        .args(["--suite", "all", "-o"])
        .arg(out.path())
        .current_dir(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run the conformance suite");
    // The suite exits non-zero when any scenario fails; judge per scenario.
    let _ = status;
    let mut results = BTreeMap::new();
    for entry in std::fs::read_dir(out.path()).unwrap().flatten() {
        let dir = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = dir.strip_prefix("server-") else {
            continue;
        };
        // `server-<scenario>-<YYYY-MM-DDThh-mm-ss-mmmZ>`.
        let scenario = strip_timestamp(rest);
        let checks: Value = serde_json::from_str(
            &std::fs::read_to_string(entry.path().join("checks.json")).unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        let failed: Vec<String> = checks
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|c| c["status"] == "FAILURE")
            .map(|c| format!("{}: {}", c["id"], c["errorMessage"]))
            .collect();
        results.insert(scenario, failed);
    }
    results
}

/// `name-2026-11-30T07-43-33-456Z` -> `name`.
fn strip_timestamp(dir: &str) -> String {
    let b = dir.as_bytes();
    for i in 0..b.len() {
        let stamp = &b[i..];
        let digits = |r: std::ops::Range<usize>| {
            stamp.len() > r.end && stamp[r].iter().all(u8::is_ascii_digit)
        };
        if stamp.len() > 12
            && stamp[0] == b'-'
            && digits(1..5)
            && stamp[5] == b'-'
            && digits(6..8)
            && stamp[8] == b'-'
            && digits(9..11)
            && stamp[11] == b'T'
        {
            return dir[..i].to_string();
        }
    }
    dir.to_string()
}

/// `bioai serve` with the conformance fixture in a fresh plugin directory
/// and data directory (kept alive by the returned handles).
fn fixture_server() -> ([tempfile::TempDir; 2], Server) {
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(
        need(&root().join("target/test-plugins/conformance.wasm")),
        plugins.path().join("conformance.wasm"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = start_server(plugins.path(), data.path());
    ([plugins, data], server)
}

fn check_version(version: &str) {
    // The server is dropped (stopped) before its directories.
    let (_dirs, server) = fixture_server();
    let results = run_suite(&server.url, version);
    assert!(
        !results.is_empty(),
        "the conformance suite produced no results"
    );
    let mut broken = Vec::new();
    for (scenario, failed) in &results {
        let verdict = if failed.is_empty() { "pass" } else { "FAIL" };
        let note = if SUPPORTED.contains(&scenario.as_str()) {
            ""
        } else {
            " (not supported yet)"
        };
        println!("{version} {scenario}: {verdict}{note}");
        for f in failed {
            println!("    {f}");
        }
        if !failed.is_empty() && SUPPORTED.contains(&scenario.as_str()) {
            broken.push(format!("{scenario}: {}", failed.join("; ")));
        }
    }
    assert!(
        broken.is_empty(),
        "conformance scenarios that must pass failed for {version}:\n{}",
        broken.join("\n")
    );
}

#[test]
fn conformance_2026_07_28() {
    check_version("2026-07-28");
}

#[test]
fn conformance_2025_11_25() {
    check_version("2025-11-25");
}

/// One HTTP/1.1 exchange: status, headers (lowercase names) and body.
fn post(url: &str, headers: &[(&str, &str)], body: &Value) -> (u16, String, String) {
    use std::io::{Read, Write};
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("url has an authority");
    let body = body.to_string();
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n\
         content-type: application/json\r\naccept: application/json, text/event-stream\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// The JSON-RPC message with an `id` in a JSON or SSE (possibly chunked) body.
fn response(body: &str) -> Value {
    body.lines()
        .map(|l| l.strip_prefix("data:").unwrap_or(l).trim())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("id").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC response in {body}"))
}

/// A stateless 2026-07-28 request for `method` (on `name`, for the
/// `Mcp-Name` header) with `params`, declaring the client capabilities
/// `caps` in its `_meta`: the HTTP status and the JSON-RPC response.
fn modern(
    url: &str,
    id: u64,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    caps: Value,
) -> (u16, Value) {
    params["_meta"] = serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { "name": "modern", "version": "1" },
        "io.modelcontextprotocol/clientCapabilities": caps
    });
    let mut headers = vec![
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
    ];
    headers.extend(name.map(|n| ("mcp-name", n)));
    let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let (status, _, body) = post(url, &headers, &body);
    (status, response(&body))
}

/// The text of a tool result that must be an error.
fn error_text(result: &Value) -> String {
    assert_eq!(result["isError"], true, "expected a failed call: {result}");
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A plugin's sampling, elicitation and roots requests fail promptly, with a
/// message the plugin passes on, when there is no client to ask (a
/// 2025-11-25 session or a 2026-07-28 request whose client declared no
/// capability); a 2026-07-28 client that can answer is asked through an
/// input-required round.
#[test]
fn client_requests_fail_with_a_message_or_become_input_required_rounds() {
    // The server is dropped (stopped) before its directories.
    let (_dirs, server) = fixture_server();

    // 2025-11-25 session without capabilities.
    let init = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "no-capabilities", "version": "1" }
        }
    });
    let (status, head, body) = post(&server.url, &[], &init);
    assert_eq!(status, 200, "initialize: {body}");
    let session = head
        .lines()
        .find_map(|l| l.strip_prefix("mcp-session-id:"))
        .map(str::trim)
        .expect("a session id")
        .to_string();
    let session_headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(&server.url, &session_headers, &initialized);
    for (id, tool, args, capability) in [
        (
            2,
            "test_sampling",
            serde_json::json!({"prompt": "hi"}),
            "sampling",
        ),
        (
            3,
            "test_elicitation",
            serde_json::json!({"message": "hi"}),
            "elicitation",
        ),
        (4, "test_list_roots", serde_json::json!({}), "roots"),
    ] {
        let call = serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": tool, "arguments": args }
        });
        let (status, _, body) = post(&server.url, &session_headers, &call);
        assert_eq!(status, 200, "{tool}: {body}");
        let text = error_text(&response(&body)["result"]);
        assert!(
            text.contains(&format!("did not declare the `{capability}` capability")),
            "{tool}: {text}"
        );
    }

    // A stateless 2026-07-28 request that did not declare sampling: the
    // plugin hears why at once.
    let stateless = |id: u64, caps: Value, extra: Value| {
        let mut params =
            serde_json::json!({"name": "test_sampling", "arguments": {"prompt": "hi"}});
        for (k, v) in extra.as_object().into_iter().flatten() {
            params[k] = v.clone();
        }
        modern(
            &server.url,
            id,
            "tools/call",
            Some("test_sampling"),
            params,
            caps,
        )
    };
    let (status, r) = stateless(5, serde_json::json!({}), Value::Null);
    assert_eq!(status, 200, "{r}");
    let text = error_text(&r["result"]);
    assert!(
        text.contains("did not declare the `sampling` capability"),
        "{text}"
    );

    // One that did: an input-required round for the plugin's single request
    // (keyed by its order in the call), then the answer through the retry.
    let (status, r) = stateless(6, serde_json::json!({"sampling": {}}), Value::Null);
    assert_eq!(status, 200, "{r}");
    let round = &r["result"];
    assert_eq!(round["resultType"], "input_required", "{r}");
    let asked = &round["inputRequests"]["sampling-1"];
    assert_eq!(asked["method"], "sampling/createMessage", "{r}");
    assert_eq!(
        asked["params"]["messages"][0]["content"]["text"], "hi",
        "{r}"
    );
    let state = round["requestState"].as_str().expect("a requestState");
    let answer = serde_json::json!({
        "role": "assistant", "model": "test-model", "stopReason": "endTurn",
        "content": { "type": "text", "text": "Paris" }
    });
    let (status, r) = stateless(
        7,
        serde_json::json!({"sampling": {}}),
        serde_json::json!({"inputResponses": {"sampling-1": answer}, "requestState": state}),
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["result"]["content"][0]["text"], "LLM response: Paris",
        "{r}"
    );

    // The state of another call is refused.
    let (_, r) = stateless(
        8,
        serde_json::json!({"sampling": {}}),
        serde_json::json!({
            "arguments": { "prompt": "something else" },
            "inputResponses": {"sampling-1": answer},
            "requestState": state
        }),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("integrity check"),
        "{r}"
    );
}

/// A tool's `tool-details`: its own JSON Schema 2020-12 input schema is
/// listed and enforced (a call breaking its `if`/`then` is refused, naming
/// what is missing), its MCP name replaces the WIT one, and a tool that
/// requires sampling refuses a client that did not declare it with -32021
/// and HTTP 400 before it runs.
#[test]
fn tool_details_shape_the_schema_the_name_and_the_required_capabilities() {
    let (_dirs, server) = fixture_server();
    let (_, listed) = modern(
        &server.url,
        1,
        "tools/list",
        None,
        serde_json::json!({}),
        serde_json::json!({}),
    );
    let tools = listed["result"]["tools"].as_array().expect("tools");
    let tool = tools
        .iter()
        .find(|t| t["name"] == "json_schema_2020_12_tool")
        .unwrap_or_else(|| panic!("the renamed tool is listed: {listed}"));
    assert!(!tools.iter().any(|t| t["name"] == "json_schema_tool"));
    let schema = &tool["inputSchema"];
    assert_eq!(
        schema["$defs"]["address"]["$anchor"], "addressDef",
        "{schema}"
    );
    assert_eq!(schema["additionalProperties"], false, "{schema}");

    // `tool` called with `args` by a client declaring `caps`.
    let call = |id: u64, tool: &str, args: Value, caps: Value| {
        let params = serde_json::json!({"name": tool, "arguments": args});
        modern(&server.url, id, "tools/call", Some(tool), params, caps)
    };
    let schema_call = |id: u64, args: Value| {
        let r = call(id, "json_schema_2020_12_tool", args, serde_json::json!({})).1;
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (r, text)
    };
    let (ok, text) = schema_call(
        2,
        serde_json::json!({
            "name": "Ada", "address": {"city": "London"}, "contact_method": "phone", "phone": "123"
        }),
    );
    assert_eq!(text, "Ada (London) by phone: 123", "{ok}");
    // Phone chosen but only an email given: `then` requires `phone`.
    let (refused, text) = schema_call(
        3,
        serde_json::json!({"contact_method": "phone", "email": "a@b.c"}),
    );
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert!(text.contains("\"phone\" is a required property"), "{text}");
    // A property the schema does not allow, refused by the schema check.
    let (refused, text) = schema_call(4, serde_json::json!({"email": "a@b.c", "fax": "1"}));
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert!(text.contains("the tool's input schema"), "{text}");

    // Sampling required, not declared: refused before the tool runs.
    let missing = serde_json::json!({"elicitation": {}});
    let (status, r) = call(5, "test_missing_capability", serde_json::json!({}), missing);
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert!(
        r["error"]["data"]["requiredCapabilities"]["sampling"].is_object(),
        "{r}"
    );
    // Declared: the tool runs (and asks the model in an input-required round).
    let declared = serde_json::json!({"sampling": {}});
    let (status, r) = call(
        6,
        "test_missing_capability",
        serde_json::json!({}),
        declared,
    );
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
}
