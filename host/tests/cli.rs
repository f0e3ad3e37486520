//! The `bioai` command line, run as a user would run it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bioai() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bioai"));
    // Compiled components are shared with the other tests.
    c.env("BIOAI_CACHE_DIR", root().join("target/test-cache"));
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn policy_check_accepts_the_shipped_policies() {
    let out = bioai()
        .args(["policy", "check"])
        .arg(root().join("policies"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("policies OK"));
}

#[test]
fn policy_check_prints_every_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "plugin = \"bad\"\n\n[limits]\nmemory_mib = \"lots\"\n\n[network]\nallow = [\"https://x.org/path\"]\n",
    )
    .unwrap();
    let out = bioai()
        .args(["policy", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4:"), "{err}");
    assert!(err.contains("limits.memory_mib"), "{err}");
    assert!(err.contains("bad.toml:7:"), "{err}");
    assert!(err.contains("network.allow[0]"), "{err}");
    assert!(err.contains("2 error(s)"), "{err}");
}

/// `bioai plugin inspect` of the built plugin `name`, as JSON.
fn inspect(name: &str, data: &std::path::Path) -> serde_json::Value {
    let file = root().join(format!("target/plugins/{name}.wasm"));
    assert!(
        file.is_file(),
        "run `cargo xtask test` to build the plugins"
    );
    let out = bioai()
        .args(["plugin", "inspect"])
        .arg(&file)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn plugin_inspect_prints_tools_schemas_and_policy() {
    let data = tempfile::tempdir().unwrap();
    let report = inspect("seq", data.path());
    assert_eq!(report["namespace"], "seq");
    let tools = report["tools"].as_array().unwrap();
    assert!(tools.iter().any(|t| t["name"] == "seq.gc_content"
        && t["input_schema"]["properties"]["sequence"]["type"] == "string"));
    assert!(
        report["policy"]["file"]
            .as_str()
            .unwrap()
            .ends_with("seq.toml")
    );
}

#[test]
fn plugin_inspect_takes_the_name_of_a_loaded_plugin() {
    let data = tempfile::tempdir().unwrap();
    let run = |arg: &str| {
        bioai()
            .args(["plugin", "inspect", arg, "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap()
    };
    let out = run("crispr");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["plugin"], "crispr", "{report}");
    let out = run("crisp");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("crisp is neither a component file nor a plugin")
            && err.contains("one of: align, coder, codon, crispr,"),
        "{err}"
    );
}

#[test]
fn plugin_inspect_and_list_show_agent_roles_and_their_grants() {
    let data = tempfile::tempdir().unwrap();
    let report = inspect("coder", data.path());
    let role = &report["agent_role"];
    assert_eq!(role["llm"], true, "{report}");
    assert_eq!(role["workspace"], "none", "{report}");
    assert_eq!(role["search"], false, "{report}");
    assert!(
        role["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.starts_with("seq."))),
        "{report}"
    );
    // A tool plugin is not a role.
    let report = inspect("seq", data.path());
    assert!(report["agent_role"].is_null(), "{report}");

    let out = bioai()
        .args(["plugin", "list", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The coder's block: its header line, then indented lines.
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("coder"))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with(' '))
        .map(|(_, l)| l)
        .collect();
    assert!(
        block
            .iter()
            .any(|l| l.contains("agent role (bioai:plugin/role)") && l.contains("llm: yes")),
        "{text}"
    );
}

#[test]
fn call_prints_result_and_meters() {
    let data = tempfile::tempdir().unwrap();
    let out = bioai()
        .args(["call", "seq.gc_content", r#"{"sequence": "GGCCAATT"}"#])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["result"]["value"], 0.5);
    assert!(report["meters"]["fuel"].as_u64().unwrap() > 0);

    let out = bioai()
        .args(["call", "seq.gc_content", r#"{"seq": "GGCC"}"#])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error"]["class"], "bad_arguments");
    assert!(report["error"]["message"].as_str().unwrap().contains("seq"));
}

#[test]
fn serve_answers_health_and_tools() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = bioai()
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data.path())
        .spawn()
        .unwrap();
    let mut body = String::new();
    // Up to two minutes: on a cold compiled-component cache the server
    // first compiles the Python sandbox's CPython component.
    for _ in 0..2400 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .unwrap();
            s.read_to_string(&mut body).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
}
