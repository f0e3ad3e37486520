//! The MCP server driven by independent, official clients, over HTTP and
//! over stdio: the Python SDK (`mcp` 2.3.0, modes 2026-07-28 and legacy),
//! the TypeScript SDK v2 (`@modelcontextprotocol/client`, auto negotiation)
//! and the legacy TypeScript SDK v1 (`@modelcontextprotocol/sdk`).
//!
//! Each client runs the same scenario (tests/mcp/py_client.py,
//! tests/mcp/ts_client.mjs) against the real `bioai` binary and prints what
//! it saw; the judging happens here. `cargo xtask test` installs the clients
//! (target/pyref, tests/mcp/node_modules) and builds the plugins.
//!
//! These tests live beside the binary (not in tests/) because they run it.

mod common;

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, need, root};
use serde_json::{Value, json};

fn python() -> PathBuf {
    need(&root().join("target/pyref/bin/python"))
}

fn node() -> PathBuf {
    need(&root().join("tests/mcp/node_modules/.bin/node"))
}

/// The server's arguments: the shipped plugins plus the test plugins
/// (`bench` for progress, `hostile` for a call that never ends).
fn server_args(data_dir: &Path) -> Vec<OsString> {
    need(&root().join("target/plugins/seq.wasm"));
    need(&root().join("target/test-plugins/bench.wasm"));
    vec![
        "--plugins".into(),
        root().join("target/test-plugins").into(),
        "--policies".into(),
        root().join("tests/mcp/policies").into(),
        "--data-dir".into(),
        data_dir.into(),
    ]
}

fn serve(data_dir: &Path) -> Server {
    Server::start(&server_args(data_dir))
}

/// Runs a client and parses the JSON report it prints.
fn run_client(mut cmd: Command) -> Value {
    let started = Instant::now();
    let out = cmd.output().expect("start the client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "client failed after {:?}: {}\nstdout: {stdout}\nstderr: {stderr}",
        started.elapsed(),
        out.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("client report is not JSON ({e}): {stdout}\nstderr: {stderr}"))
}

fn python_client(mode: &str, transport: &[String]) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/mcp/py_client.py"))
        .args(["--mode", mode])
        .args(transport);
    run_client(cmd)
}

/// `tests/mcp/py_client_requests.py`: the conformance fixture's tools that
/// ask the client, with the Python SDK answering through its callbacks.
fn python_client_requests(mode: &str, transport: &[String]) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/mcp/py_client_requests.py"))
        .args(["--mode", mode, "--prefix", "conformance."])
        .args(transport);
    run_client(cmd)
}

/// What the client must have seen of a plugin asking it for input.
fn judge_client_requests(who: &str, r: &Value) {
    let text = |tool: &str| {
        let t = &r[tool];
        assert_eq!(t["is_error"], false, "{who}: {tool}: {r}");
        t["text"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(
        text("test_input_required_result_multiple_inputs"),
        "name: Ada; greeting: Paris; roots: file:///data/project",
        "{who}"
    );
    assert_eq!(
        text("test_input_required_result_multi_round"),
        "Ada likes teal",
        "{who}"
    );
    assert_eq!(
        text("test_list_roots"),
        "Roots:\nfile:///data/project",
        "{who}"
    );
    assert_eq!(
        r["prompt"], "Answer with this context in mind: oncology",
        "{who}: {r}"
    );
    // Each callback ran once per request: the 2026-07-28 retries carry the
    // earlier answers in the request state rather than asking again.
    let asked: Vec<&str> = r["asked"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        r["resource"], "Context: oncology",
        "{who}: resources/read asks too: {r}"
    );
    assert_eq!(asked.len(), 8, "{who}: {asked:?}");
    // On a session, an abandoned call withdraws its open request.
    if who.contains("legacy") {
        assert_eq!(r["withdrawn"], true, "{who}: {r}");
    }
}

/// A plugin's sampling, elicitation and roots requests reach a real client
/// and come back: over the session (2025-11-25) and as input-required
/// rounds (2026-07-28), over HTTP and stdio.
#[test]
fn python_sdk_answers_a_plugins_requests_in_both_eras() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    for mode in ["2026-07-28", "legacy"] {
        let who = format!("python mcp ({mode}, http)");
        let r = python_client_requests(mode, &["--url".into(), server.url.clone()]);
        judge_client_requests(&who, &r);
        let who = format!("python mcp ({mode}, stdio)");
        let r = python_client_requests(mode, &stdio_transport(data.path()));
        judge_client_requests(&who, &r);
    }
}

fn ts_client(sdk: &str, transport: &[String]) -> Value {
    let mut cmd = Command::new(node());
    cmd.current_dir(root().join("tests/mcp"))
        .arg("ts_client.mjs")
        .args(["--sdk", sdk])
        .args(transport);
    run_client(cmd)
}

fn stdio_transport(data_dir: &Path) -> Vec<String> {
    let mut t = vec![
        "--stdio".to_string(),
        env!("CARGO_BIN_EXE_bioai").to_string(),
    ];
    t.extend(
        common::cache_args()
            .into_iter()
            .chain(server_args(data_dir))
            .map(|a| a.to_string_lossy().into_owned()),
    );
    t.push("stdio".into());
    t
}

/// What every client must have seen.
fn judge(who: &str, r: &Value) {
    let tools = &r["tools"];
    for name in ["seq.gc_content", "bench.steps", "hostile.spin"] {
        assert!(
            tools.get(name).is_some(),
            "{who}: tools/list lacks {name}: {tools}"
        );
    }
    let gc = &tools["seq.gc_content"];
    assert_eq!(gc["has_input_schema"], true, "{who}: {gc}");
    assert_eq!(gc["has_output_schema"], true, "{who}: {gc}");
    assert!(
        !gc["description"].as_str().unwrap_or_default().is_empty(),
        "{who}: no description: {gc}"
    );

    // A structured result: GGCCAT is 4/6 GC.
    let s = &r["structured"];
    assert_eq!(s["is_error"], false, "{who}: {s}");
    let value = s["structured"]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("{who}: no structured value: {s}"));
    assert!((value - 4.0 / 6.0).abs() < 1e-9, "{who}: gc = {value}");
    assert!(
        s["text"].as_str().unwrap_or_default().contains("0.666"),
        "{who}: text rendering lacks the value: {s}"
    );
    let meters = &s["meta"]["io.bioaisaas/meters"];
    assert!(
        meters["fuel"].as_u64().unwrap_or(0) > 0,
        "{who}: no fuel meter: {s}"
    );
    assert!(
        meters["peak_memory_bytes"].as_u64().unwrap_or(0) > 0,
        "{who}: no memory meter: {s}"
    );
    assert!(meters.get("wall_us").is_some(), "{who}: no wall meter: {s}");

    // A bad argument names the field.
    let bad = &r["bad_argument"];
    assert_eq!(bad["is_error"], true, "{who}: {bad}");
    assert!(
        bad["text"]
            .as_str()
            .unwrap_or_default()
            .contains("sequence"),
        "{who}: the error does not name the field: {bad}"
    );

    // A tool's own error is a result with isError and a useful message.
    let failed = &r["tool_error"];
    assert_eq!(failed["is_error"], true, "{who}: {failed}");
    assert!(
        failed["text"].as_str().unwrap_or_default().len() > 10,
        "{who}: no useful message: {failed}"
    );

    // Progress reports arrive, increasing.
    let p = &r["progress"];
    assert_eq!(p["is_error"], false, "{who}: {p}");
    let notes = p["notifications"].as_array().cloned().unwrap_or_default();
    assert!(
        notes.len() >= 3,
        "{who}: expected progress notifications: {p}"
    );
    let values: Vec<f64> = notes
        .iter()
        .filter_map(|n| n["progress"].as_f64())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "{who}: progress not increasing: {values:?}"
    );

    // A cancelled call comes back as cancelled, and the connection still works.
    let c = &r["cancel"];
    assert_eq!(
        c["cancelled"], true,
        "{who}: the endless call was not cancelled: {c}"
    );
    let after = &r["after_cancel"];
    assert_eq!(after["is_error"], false, "{who}: {after}");
    assert_eq!(after["structured"]["value"], 0.0, "{who}: {after}");
}

/// After the client cancelled `hostile.spin` (an endless loop), the server
/// must not keep burning CPU on it.
fn assert_idle(server: &Server, who: &str) {
    std::thread::sleep(Duration::from_millis(300));
    let before = server.cpu_time();
    std::thread::sleep(Duration::from_millis(1500));
    let used = server.cpu_time() - before;
    assert!(
        used < Duration::from_millis(400),
        "{who}: the server used {used:?} of CPU in 1.5 s after the client cancelled: the component was not interrupted"
    );
}

#[test]
fn python_sdk_over_http_in_both_eras() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    for mode in ["2026-07-28", "legacy"] {
        let who = format!("python mcp ({mode}, http)");
        let r = python_client(mode, &["--url".into(), server.url.clone()]);
        judge(&who, &r);
        assert_idle(&server, &who);
    }
}

#[test]
fn python_sdk_over_stdio_in_both_eras() {
    let data = tempfile::tempdir().unwrap();
    for mode in ["2026-07-28", "legacy"] {
        let who = format!("python mcp ({mode}, stdio)");
        let r = python_client(mode, &stdio_transport(data.path()));
        judge(&who, &r);
    }
}

#[test]
fn typescript_sdks_over_http() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    for sdk in ["v2", "v1"] {
        let who = format!("typescript {sdk} (http)");
        let r = ts_client(sdk, &["--url".into(), server.url.clone()]);
        judge(&who, &r);
        assert_idle(&server, &who);
    }
}

#[test]
fn typescript_sdks_over_stdio() {
    let data = tempfile::tempdir().unwrap();
    for sdk in ["v2", "v1"] {
        let who = format!("typescript {sdk} (stdio)");
        let r = ts_client(sdk, &stdio_transport(data.path()));
        judge(&who, &r);
    }
}

/// A raw HTTP/1.1 request on loopback; returns (status, body).
fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("url has an authority");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn foreign_origins_get_403_and_local_pages_pass() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let headers = |origin: &'static str| {
        vec![
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
            ("origin", origin),
        ]
    };
    let (status, _) = http(
        &server.url,
        "POST",
        "/mcp",
        &headers("https://evil.example"),
        list,
    );
    assert_eq!(status, 403, "a foreign Origin must be refused");
    let (status, body) = http(
        &server.url,
        "POST",
        "/mcp",
        &headers("http://localhost:3000"),
        list,
    );
    assert_eq!(status, 200, "a page on this machine may call: {body}");
    assert!(body.contains("seq.gc_content"), "{body}");
}

#[test]
fn plugins_added_and_removed_at_run_time_change_the_tool_list() {
    let data = tempfile::tempdir().unwrap();
    let extra = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--plugins".into(),
        extra.path().into(),
        "--data-dir".into(),
        data.path().into(),
    ]);
    let has_hello = || {
        let (status, body) = http(&server.url, "GET", "/tools", &[], "");
        assert_eq!(status, 200, "{body}");
        body.contains("hello.greet")
    };
    let wait_for = |want: bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if has_hello() == want {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "hello.greet present = {} after 20 s, wanted {want}",
            has_hello()
        );
    };
    assert!(!has_hello());
    let listener = listen_for_tool_list_changes(&server.url);
    std::fs::copy(
        need(&root().join("target/test-plugins/hello.wasm")),
        extra.path().join("hello.wasm"),
    )
    .unwrap();
    wait_for(true);
    let notified = listener
        .recv_timeout(Duration::from_secs(20))
        .expect("a subscriptions/listen stream got notifications/tools/list_changed");
    assert!(
        notified.contains("notifications/tools/list_changed"),
        "{notified}"
    );
    std::fs::remove_file(extra.path().join("hello.wasm")).unwrap();
    wait_for(false);
}

/// Opens a 2026-07-28 `subscriptions/listen` stream for tool-list changes;
/// the receiver gets the first `notifications/tools/list_changed` line.
fn listen_for_tool_list_changes(url: &str) -> std::sync::mpsc::Receiver<String> {
    use std::io::Write;
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("url has an authority")
        .to_string();
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let mut stream = std::net::TcpStream::connect(&authority).expect("connect");
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\n\
         mcp-method: subscriptions/listen\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let (tx, rx) = std::sync::mpsc::channel();
    // Wait for the acknowledgement, so the change below happens after it.
    let (ack_tx, ack_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if line.contains("notifications/subscriptions/acknowledged") {
                let _ = ack_tx.send(());
            }
            if line.contains("notifications/tools/list_changed") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    ack_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("subscriptions/listen was acknowledged");
    rx
}

/// The JSON-RPC message in a response body, plain JSON or SSE `data:` lines.
fn jsonrpc(body: &str) -> Value {
    let text = if body.trim_start().starts_with('{') {
        body.trim().to_string()
    } else {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .rfind(|l| l.contains("\"jsonrpc\""))
            .unwrap_or_default()
            .to_string()
    };
    // Chunked transfer encoding wraps the body in size lines; find the JSON.
    let start = text.find('{').unwrap_or(0);
    let end = text.rfind('}').map_or(text.len(), |e| e + 1);
    serde_json::from_str(&text[start..end]).unwrap_or_else(|e| panic!("not JSON-RPC ({e}): {body}"))
}

fn modern_request(url: &str, id: u64, method: &str, name: Option<&str>, params: Value) -> Value {
    let capabilities = json!({ "extensions": { "io.modelcontextprotocol/tasks": {} } });
    let (status, body) = modern_post(url, id, method, name, params, capabilities);
    assert_eq!(status, 200, "{method}: {body}");
    jsonrpc(&body)
}

/// A 2026-07-28 request from a client with `capabilities`: the HTTP status
/// and body.
fn modern_post(
    url: &str,
    id: u64,
    method: &str,
    name: Option<&str>,
    params: Value,
    capabilities: Value,
) -> (u16, String) {
    let mut params = params;
    params["_meta"] = serde_json::json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    });
    let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
    ];
    if let Some(name) = name {
        headers.push(("mcp-name", name));
    }
    http(url, "POST", "/mcp", &headers, &body.to_string())
}

/// A 2026-07-28 client's retry of an input-required call may reach another
/// host, or the same host restarted: hosts with the same
/// `BIOAI_MCP_STATE_KEY` accept each other's `requestState`, a host keeps
/// its own key in its data directory across restarts, and a host with
/// another key refuses the state with a message saying what to do.
#[test]
fn input_required_rounds_survive_a_restart_and_a_change_of_host() {
    const TOOL: &str = "conformance.test_input_required_result_elicitation";
    let call = |url: &str, state: Option<&str>| {
        let mut params = json!({ "name": TOOL, "arguments": {} });
        if let Some(state) = state {
            params["requestState"] = json!(state);
            params["inputResponses"] =
                json!({ "user_name": { "action": "accept", "content": { "name": "Ada" } } });
        }
        let capabilities = json!({ "elicitation": {} });
        modern_post(url, 1, "tools/call", Some(TOOL), params, capabilities)
    };
    // The first round: stopped for the user's name, with a sealed state.
    let ask = |url: &str| {
        let (status, body) = call(url, None);
        let r = jsonrpc(&body);
        assert_eq!(status, 200, "{body}");
        assert_eq!(r["result"]["resultType"], "input_required", "{r}");
        r["result"]["requestState"]
            .as_str()
            .expect("a requestState")
            .to_string()
    };
    let answered = |url: &str, state: &str, who: &str| {
        let (status, body) = call(url, Some(state));
        let r = jsonrpc(&body);
        assert_eq!(status, 200, "{who}: {body}");
        assert_eq!(
            r["result"]["content"][0]["text"], "Hello, Ada!",
            "{who}: {r}"
        );
    };

    let key = [("BIOAI_MCP_STATE_KEY", "5a".repeat(32))];
    let (one, two, own) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let a = Server::start_with_env(&server_args(one.path()), &key);
    let b = Server::start_with_env(&server_args(two.path()), &key);
    let state = ask(&a.url);
    answered(&b.url, &state, "another host with the same key");

    let c = serve(own.path());
    let (status, body) = call(&c.url, Some(&state));
    assert!(
        body.contains("integrity") && body.contains("without requestState"),
        "a host with another key: {status} {body}"
    );
    let own_state = ask(&c.url);
    drop(c);
    let c = serve(own.path());
    answered(&c.url, &own_state, "the same host restarted");
    drop((a, b, c));
}

#[test]
fn long_calls_run_as_tasks_that_can_be_polled_and_cancelled() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let url = server.url.as_str();
    // hostile's test policy allows 600 s, so its calls are long-running.
    let start = |id: u64, ms: u64| {
        let r = modern_request(
            url,
            id,
            "tools/call",
            Some("hostile.sleep_ms"),
            serde_json::json!({"name": "hostile.sleep_ms", "arguments": {"ms": ms}}),
        );
        r["result"]["taskId"]
            .as_str()
            .unwrap_or_else(|| panic!("expected a task: {r}"))
            .to_string()
    };
    let status = |id: u64, task: &str| -> Value {
        modern_request(
            url,
            id,
            "tasks/get",
            Some(task),
            serde_json::json!({"taskId": task}),
        )["result"]
            .clone()
    };

    let quick = start(1, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let s = status(2, &quick);
        if s["status"] == "completed" {
            break s;
        }
        assert!(Instant::now() < deadline, "task never completed: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_ne!(done["result"]["isError"], true, "{done}");
    let wall = done["result"]["_meta"]["io.bioaisaas/meters"]["wall_us"].as_u64();
    assert!(
        wall.is_some_and(|w| w >= 200_000),
        "meters of the task's call: {done}"
    );

    let slow = start(3, 600_000);
    std::thread::sleep(Duration::from_millis(200));
    let r = modern_request(
        url,
        4,
        "tasks/cancel",
        Some(&slow),
        serde_json::json!({"taskId": slow}),
    );
    assert!(r.get("error").is_none(), "{r}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = status(5, &slow);
        if s["status"] == "cancelled" {
            break;
        }
        assert!(Instant::now() < deadline, "task was not cancelled: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `sandbox.run_python` is listed and called like a plugin tool: the run's
/// output, final value, files (inline text and a resource link that
/// resources/read serves), Python exceptions as error results that keep the
/// traceback, and clear errors for bad arguments and native packages.
#[test]
fn python_sandbox_is_an_mcp_tool() {
    need(&root().join("target/sandbox/python.wasm"));
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let url = server.url.as_str();

    let list = modern_request(url, 1, "tools/list", None, json!({}));
    let tool = list["result"]["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "sandbox.run_python"))
        .unwrap_or_else(|| panic!("tools/list lacks sandbox.run_python: {list}"))
        .clone();
    assert_eq!(tool["inputSchema"]["required"], json!(["code"]), "{tool}");
    assert!(
        tool["outputSchema"]["properties"]["files"].is_object(),
        "{tool}"
    );

    let call = |id: u64, args: Value| -> Value {
        let r = modern_request(
            url,
            id,
            "tools/call",
            Some("sandbox.run_python"),
            json!({"name": "sandbox.run_python", "arguments": args}),
        );
        r.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("tools/call failed: {r}"))
    };

    let code = "import statistics\n\
        print(open('/inputs/n.txt').read().strip())\n\
        open('out/table.csv', 'w').write('a,b\\n1,2\\n')\n\
        open('out/blob.bin', 'wb').write(bytes(range(256)) * 300)\n\
        statistics.mean([1, 2, 3, 4])\n";
    let ok = call(
        2,
        json!({"code": code, "input_files": [{"name": "n.txt", "content": "42\n"}]}),
    );
    assert_ne!(ok["isError"], true, "{ok}");
    let s = &ok["structuredContent"];
    assert_eq!(s["engine"], "component", "{ok}");
    assert_eq!(s["stdout"], "42\n", "{ok}");
    assert_eq!(s["value"]["json"], 2.5, "{ok}");
    let files = s["files"].as_array().cloned().unwrap_or_default();
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("no output file {n}: {ok}"))
            .clone()
    };
    assert_eq!(by_name("table.csv")["text"], "a,b\n1,2\n", "{ok}");
    let blob = by_name("blob.bin");
    assert_eq!(blob["size"], 256 * 300, "{ok}");
    let meters = &ok["_meta"]["io.bioaisaas/meters"];
    assert!(meters["fuel"].as_u64().unwrap_or(0) > 0, "{ok}");

    // The link to the binary file resolves through resources/read.
    let uri = blob["uri"].as_str().expect("uri").to_string();
    let read = modern_request(url, 3, "resources/read", Some(&uri), json!({"uri": uri}));
    let contents = &read["result"]["contents"][0];
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            contents["blob"]
                .as_str()
                .unwrap_or_else(|| panic!("no blob: {read}")),
        )
        .expect("base64");
    assert_eq!(bytes.len(), 256 * 300);
    assert_eq!(&bytes[..3], &[0, 1, 2]);
    let missing = format!("{}{}", uri, ".nope");
    let read = modern_request(
        url,
        4,
        "resources/read",
        Some(&missing),
        json!({"uri": missing}),
    );
    assert!(read.get("error").is_some(), "{read}");

    // An exception is an error result; the traceback and output stay.
    let raised = call(5, json!({"code": "print('before')\n1/0"}));
    assert_eq!(raised["isError"], true, "{raised}");
    let text = raised["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("ZeroDivisionError"), "{raised}");
    assert!(text.contains("before"), "{raised}");
    assert_eq!(
        raised["structuredContent"]["exception"]["type"], "ZeroDivisionError",
        "{raised}"
    );
    assert_eq!(
        raised["_meta"]["io.bioaisaas/error"]["class"], "python_exception",
        "{raised}"
    );

    // Bad arguments name the field; native packages say what to do.
    let bad = call(6, json!({"code": 7}));
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(
        bad["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("`code`"),
        "{bad}"
    );
    let native = call(
        7,
        json!({"code": "import numpy", "requirements": ["numpy"]}),
    );
    assert_eq!(native["isError"], true, "{native}");
    let text = native["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("numpy") && text.contains("BIOAI_SANDBOX_FALLBACK"),
        "{native}"
    );

    // A limit is an error result with the meters of what ran.
    let spin = call(8, json!({"code": "while True: pass", "timeout_s": 0.5}));
    assert_eq!(spin["isError"], true, "{spin}");
    assert_eq!(
        spin["_meta"]["io.bioaisaas/error"]["class"], "deadline",
        "{spin}"
    );
    assert!(
        spin["_meta"]["io.bioaisaas/meters"]["fuel"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{spin}"
    );
}

/// A client that sends a call and goes away: the component is interrupted
/// and the call is still recorded, as cancelled, with its meters.
#[test]
fn a_call_whose_client_disconnects_is_interrupted_and_recorded() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let authority = server
        .url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("authority")
        .to_string();
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "hostile.spin", "arguments": {},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}}
        }
    })
    .to_string();
    let mut stream = std::net::TcpStream::connect(&authority).expect("connect");
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\n\
         mcp-method: tools/call\r\nmcp-name: hostile.spin\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    std::thread::sleep(Duration::from_millis(700));
    drop(stream);
    assert_idle(&server, "a client that disconnected");

    let db = format!("sqlite://{}", data.path().join("bioai.db").display());
    let rows: Vec<(String, String, Option<String>, i64, i64)> = tokio::runtime::Runtime::new()
        .expect("tokio")
        .block_on(async {
            let store = bioai::store::Store::open(&db).await.expect("open the server's db");
            let pool = store.sqlite_pool().expect("sqlite");
            bioai::store::sqlx::query_as(
                "SELECT tool, status, error_class, fuel, wall_us FROM tool_calls WHERE tool = 'hostile.spin'",
            )
            .fetch_all(pool)
            .await
            .expect("query tool_calls")
        });
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (_, status, class, fuel, wall_us) = &rows[0];
    assert_eq!(status, "cancelled", "{rows:?}");
    assert_eq!(class.as_deref(), Some("cancelled"), "{rows:?}");
    assert!(
        *fuel > 0 && *wall_us >= 500_000,
        "meters up to the cancel: {rows:?}"
    );
}
