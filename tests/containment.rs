//! Containment, proven with a hostile component: every escape attempt fails
//! with a classified, clear error, and the host keeps serving other calls.

use std::time::{Duration, Instant};

use bioai::registry::{CallContext, CallFailure, Registry, ToolOutcome};
use bioai::runtime::Failure;
use bioai_e2e::{component, http_server, registry};
use serde_json::{Value, json};

fn hostile() -> std::path::PathBuf {
    component("test-plugins", "hostile")
}

async fn call(reg: &Registry, tool: &str, args: Value) -> ToolOutcome {
    reg.call(tool, &args, CallContext::default())
        .await
        .expect("tool exists")
}

/// The host still serves: a trivial call succeeds after whatever happened.
async fn still_serves(reg: &Registry) {
    let out = call(reg, "hostile.echo", json!({"text": "still here"})).await;
    assert_eq!(
        out.result.expect("echo works"),
        json!({"value": "still here"})
    );
}

fn failure(out: &ToolOutcome) -> &Failure {
    match &out.result {
        Err(CallFailure::Failure(f)) => f,
        other => panic!("expected a host-side failure, got {other:?}"),
    }
}

fn tool_error(out: &ToolOutcome) -> (&str, &'static str) {
    match &out.result {
        Err(CallFailure::ToolError { message, class, .. }) => (message, class),
        other => panic!("expected a tool error, got {other:?}"),
    }
}

/// Small memory and output caps with a generous deadline, so that only the
/// limit under test can stop the call, even on a loaded machine.
const CAPPED: &str = r#"
plugin = "hostile"
[limits]
timeout_ms = 30_000
fuel = 50_000_000_000
memory_mib = 64
max_output_bytes = 4096
"#;

const TIGHT: &str = r#"
plugin = "hostile"
[limits]
timeout_ms = 300
fuel = 50_000_000_000
memory_mib = 64
max_output_bytes = 4096
"#;

#[tokio::test]
async fn infinite_loop_stops_at_the_deadline() {
    let (reg, _d) = registry(&[("hostile", TIGHT)], &[hostile()]).await;
    let t = Instant::now();
    let out = call(&reg, "hostile.spin", json!({})).await;
    assert!(
        matches!(failure(&out), Failure::Deadline { timeout } if *timeout == Duration::from_millis(300)),
        "{:?}",
        out.result
    );
    assert!(t.elapsed() < Duration::from_secs(5), "stopped promptly");
    assert!(out.meters.fuel > 0, "the loop's fuel is metered");
    assert!(out.meters.wall >= Duration::from_millis(300));
    still_serves(&reg).await;
}

#[tokio::test]
async fn waiting_in_a_host_call_stops_at_the_deadline() {
    let (reg, _d) = registry(&[("hostile", TIGHT)], &[hostile()]).await;
    let t = Instant::now();
    let out = call(&reg, "hostile.sleep_ms", json!({"ms": 60_000})).await;
    assert!(
        matches!(failure(&out), Failure::Deadline { .. }),
        "{:?}",
        out.result
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    still_serves(&reg).await;
}

#[tokio::test]
async fn fuel_exhaustion_is_classified_and_metered() {
    let policy = "plugin = \"hostile\"\n[limits]\nfuel = 5_000_000\n";
    let (reg, _d) = registry(&[("hostile", policy)], &[hostile()]).await;
    let out = call(
        &reg,
        "hostile.burn",
        json!({"iterations": 1_000_000_000u64}),
    )
    .await;
    assert!(
        matches!(failure(&out), Failure::OutOfFuel { limit: 5_000_000 }),
        "{:?}",
        out.result
    );
    assert_eq!(out.meters.fuel, 5_000_000, "all the fuel was consumed");
    // A small burn fits and is charged less than the budget.
    let out = call(&reg, "hostile.burn", json!({"iterations": 1000})).await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert!(out.meters.fuel > 1000 && out.meters.fuel < 5_000_000);
}

#[tokio::test]
async fn fuel_is_deterministic_for_the_same_input() {
    let (reg, _d) = registry(&[], &[hostile()]).await;
    let a = call(&reg, "hostile.burn", json!({"iterations": 10_000})).await;
    let b = call(&reg, "hostile.burn", json!({"iterations": 10_000})).await;
    let c = call(&reg, "hostile.burn", json!({"iterations": 20_000})).await;
    assert_eq!(a.result.as_ref().ok(), b.result.as_ref().ok());
    assert_eq!(a.meters.fuel, b.meters.fuel, "same work, same bill");
    assert!(c.meters.fuel > a.meters.fuel);
}

#[tokio::test]
async fn memory_bomb_stops_at_the_limit() {
    let (reg, _d) = registry(&[("hostile", CAPPED)], &[hostile()]).await;
    let out = call(&reg, "hostile.allocate_mib", json!({"mib": 4096})).await;
    assert!(
        matches!(failure(&out), Failure::MemoryLimit { limit_bytes } if *limit_bytes == 64 << 20),
        "{:?}",
        out.result
    );
    assert!(out.meters.peak_memory_bytes <= 64 << 20);
    assert!(
        out.meters.peak_memory_bytes > 32 << 20,
        "it did grow up to the limit"
    );
    // Within the limit, allocation works and the peak is metered.
    let out = call(&reg, "hostile.allocate_mib", json!({"mib": 8})).await;
    assert_eq!(out.result.expect("8 MiB fits"), json!({"value": 8}));
    assert!(out.meters.peak_memory_bytes >= 8 << 20);
    still_serves(&reg).await;
}

/// A data directory with one readable file, a secret next to it (outside the
/// grant), and a symlink inside the grant pointing at the secret.
fn data_dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let data = top.path().join("data");
    let work = top.path().join("work");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(data.join("genes.txt"), "TP53\n").unwrap();
    std::fs::write(top.path().join("secret.txt"), "do not read").unwrap();
    std::os::unix::fs::symlink(top.path().join("secret.txt"), data.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(top.path(), data.join("up")).unwrap();
    (top, data, work)
}

fn fs_policy(data: &std::path::Path, work: &std::path::Path) -> String {
    format!(
        "plugin = \"hostile\"\n\
         [[dirs]]\nhost = \"{}\"\nguest = \"/data\"\n\
         [[dirs]]\nhost = \"{}\"\nguest = \"/scratch\"\nwritable = true\n",
        data.display(),
        work.display()
    )
}

#[tokio::test]
async fn reading_outside_a_granted_directory_fails() {
    let (_top, data, work) = data_dirs();
    let policy = fs_policy(&data, &work);
    let (reg, _d) = registry(&[("hostile", &policy)], &[hostile()]).await;

    let ok = call(
        &reg,
        "hostile.read_file",
        json!({"path": "/data/genes.txt"}),
    )
    .await;
    assert_eq!(
        ok.result.expect("granted file reads"),
        json!({"value": "TP53\n"})
    );

    for path in [
        "/data/../secret.txt",
        "/data/link.txt",
        "/data/up/secret.txt",
        "/etc/passwd",
        "/proc/self/environ",
        "../secret.txt",
        "secret.txt",
    ] {
        let out = call(&reg, "hostile.read_file", json!({"path": path})).await;
        let (message, _) = tool_error(&out);
        assert!(!message.contains("do not read"), "{path} leaked: {message}");
    }
    let listing = call(&reg, "hostile.list_dir", json!({"path": "/"})).await;
    assert!(
        listing.result.is_err(),
        "the root is not granted: {:?}",
        listing.result
    );
    still_serves(&reg).await;
}

#[tokio::test]
async fn writing_to_a_read_only_mount_fails_and_the_writable_one_works() {
    let (_top, data, work) = data_dirs();
    let policy = fs_policy(&data, &work);
    let (reg, _d) = registry(&[("hostile", &policy)], &[hostile()]).await;

    let out = call(
        &reg,
        "hostile.write_file",
        json!({"path": "/data/genes.txt", "content": "overwritten"}),
    )
    .await;
    tool_error(&out);
    assert_eq!(
        std::fs::read_to_string(data.join("genes.txt")).unwrap(),
        "TP53\n"
    );
    let out = call(
        &reg,
        "hostile.write_file",
        json!({"path": "/data/new.txt", "content": "x"}),
    )
    .await;
    tool_error(&out);
    assert!(!data.join("new.txt").exists());

    let out = call(
        &reg,
        "hostile.write_file",
        json!({"path": "/scratch/out.txt", "content": "result"}),
    )
    .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    assert_eq!(
        std::fs::read_to_string(work.join("out.txt")).unwrap(),
        "result"
    );

    let out = call(
        &reg,
        "hostile.write_file",
        json!({"path": "/scratch/../escaped.txt", "content": "x"}),
    )
    .await;
    tool_error(&out);
    assert!(!work.parent().unwrap().join("escaped.txt").exists());
}

#[tokio::test]
async fn http_is_limited_to_the_allow_list_and_public_addresses() {
    let port = http_server().await;
    let url = format!("http://127.0.0.1:{port}/");

    // No network grant at all.
    let (reg, _d) = registry(&[], &[hostile()]).await;
    let out = call(&reg, "hostile.http_get", json!({"url": url})).await;
    let (message, class) = tool_error(&out);
    assert_eq!(class, "denied", "{message}");
    assert!(
        message.contains("not in the policy's network.allow"),
        "{message}"
    );
    assert_eq!(out.meters.net_requests, 0);

    // Listed by name, but the name resolves to a private address: the
    // machine's own host name resolves to loopback or a private address.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("host name")
        .trim()
        .to_string();
    let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map(|a| a.collect())
        .unwrap_or_default();
    assert!(
        !resolved.is_empty()
            && resolved
                .iter()
                .all(|a| !bioai::policy::is_public_ip(a.ip())),
        "this test needs the machine's host name `{host}` to resolve to a private address, got {resolved:?}"
    );
    let listed = format!("plugin = \"hostile\"\n[network]\nallow = [\"{host}\"]\n");
    let (reg, _d) = registry(&[("hostile", &listed)], &[hostile()]).await;
    let out = call(
        &reg,
        "hostile.http_get",
        json!({"url": format!("http://{host}:{port}/")}),
    )
    .await;
    let (message, class) = tool_error(&out);
    assert_eq!(class, "denied", "{message}");
    assert!(message.contains("non-public address"), "{message}");
    assert_eq!(out.meters.net_requests, 0, "no connection was made");
    still_serves(&reg).await;

    // Explicitly allowed private address: the request goes through and is metered.
    let allowed = format!(
        "plugin = \"hostile\"\n[network]\nallow = [\"127.0.0.1:{port}\"]\nallow_private = true\n"
    );
    let (reg, _d) = registry(&[("hostile", &allowed)], &[hostile()]).await;
    let out = call(&reg, "hostile.http_get", json!({"url": url})).await;
    let body = out.result.expect("allowed request succeeds");
    assert!(body["value"].as_str().unwrap().starts_with("200"), "{body}");
    assert!(body["value"].as_str().unwrap().ends_with("hello"), "{body}");
    assert_eq!(out.meters.net_requests, 1);
    assert!(out.meters.net_bytes_out > 20 && out.meters.net_bytes_in > 20);

    // A different port on the same host is not in the list.
    let out = call(
        &reg,
        "hostile.http_get",
        json!({"url": "http://127.0.0.1:9/"}),
    )
    .await;
    assert_eq!(tool_error(&out).1, "denied");
}

#[tokio::test]
async fn raw_sockets_need_a_grant() {
    let port = http_server().await;
    let (reg, _d) = registry(&[], &[hostile()]).await;
    let out = call(
        &reg,
        "hostile.tcp_connect",
        json!({"addr": format!("127.0.0.1:{port}")}),
    )
    .await;
    assert!(out.result.is_err(), "{:?}", out.result);
    let listed = format!(
        "plugin = \"hostile\"\n[network]\nallow = [\"127.0.0.1:{port}\"]\nallow_private = true\n"
    );
    let (reg, _d) = registry(&[("hostile", &listed)], &[hostile()]).await;
    let out = call(
        &reg,
        "hostile.tcp_connect",
        json!({"addr": format!("127.0.0.1:{port}")}),
    )
    .await;
    assert!(out.result.is_ok(), "{:?}", out.result);
    let out = call(&reg, "hostile.tcp_connect", json!({"addr": "127.0.0.1:9"})).await;
    assert!(out.result.is_err(), "{:?}", out.result);
}

#[tokio::test]
async fn only_granted_env_vars_are_visible() {
    // SAFETY-free: the host reads its own env at load; set one that a policy passes through.
    let policy = "plugin = \"hostile\"\n[env]\nREGION = \"cn-north\"\nFROM_HOST = { from_host = \"PATH\" }\n";
    let (reg, _d) = registry(&[("hostile", policy)], &[hostile()]).await;
    let vars = call(&reg, "hostile.env_vars", json!({})).await;
    let vars = vars.result.expect("env_vars works")["value"].clone();
    let names: Vec<&str> = vars
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["FROM_HOST", "REGION"]);
    for secret in ["HOME", "PATH", "USER", "CARGO"] {
        let out = call(&reg, "hostile.get_env", json!({"name": secret})).await;
        assert_eq!(
            out.result.unwrap(),
            json!({"value": null}),
            "{secret} is invisible"
        );
    }
    let out = call(&reg, "hostile.get_env", json!({"name": "REGION"})).await;
    assert_eq!(out.result.unwrap(), json!({"value": "cn-north"}));
}

#[tokio::test]
async fn output_beyond_the_cap_is_truncated_with_a_marker() {
    let (reg, _d) = registry(&[("hostile", CAPPED)], &[hostile()]).await;
    let out = call(
        &reg,
        "hostile.flood_stdout",
        json!({"bytes": 10_000_000u64}),
    )
    .await;
    assert!(
        out.result.is_ok(),
        "flooding is not a failure: {:?}",
        out.result
    );
    assert!(out.stdout.truncated);
    assert_eq!(out.stdout.total_bytes, 10_000_000);
    assert!(out.stdout.text.len() < 4096 + 200);
    assert!(
        out.stdout.text.contains("[output truncated:"),
        "{}",
        &out.stdout.text[out.stdout.text.len() - 150..]
    );
    let out = call(&reg, "hostile.flood_stderr", json!({"bytes": 1_000_000u64})).await;
    assert!(out.stderr.truncated);
    still_serves(&reg).await;
}

#[tokio::test]
async fn a_trap_is_contained_and_described() {
    let (reg, _d) = registry(&[], &[hostile()]).await;
    let out = call(&reg, "hostile.trap", json!({})).await;
    match failure(&out) {
        Failure::Trap { message } => assert!(
            message.contains("unreachable") || message.contains("panic"),
            "{message}"
        ),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(
        out.stderr.text.contains("panicked"),
        "the panic message is captured: {}",
        out.stderr.text
    );
    still_serves(&reg).await;
}

#[tokio::test]
async fn bad_arguments_name_the_field() {
    let (reg, _d) = registry(&[], &[hostile()]).await;
    let out = call(&reg, "hostile.allocate_mib", json!({"mib": "lots"})).await;
    match failure(&out) {
        Failure::BadArguments { message } => assert!(message.contains("mib"), "{message}"),
        other => panic!("expected bad arguments, got {other:?}"),
    }
    let out = call(&reg, "hostile.allocate_mib", json!({})).await;
    assert!(matches!(failure(&out), Failure::BadArguments { .. }));
    let out = call(&reg, "hostile.allocate_mib", json!({"mib": -1})).await;
    assert!(matches!(failure(&out), Failure::BadArguments { .. }));
    assert_eq!(out.meters.fuel, 0, "nothing ran");
}

#[tokio::test]
async fn cancellation_interrupts_promptly_and_keeps_meters() {
    let policy = "plugin = \"hostile\"\n[limits]\ntimeout_ms = 60_000\n";
    let (reg, _d) = registry(&[("hostile", policy)], &[hostile()]).await;
    let ctx = CallContext::default();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let t = Instant::now();
    let out = reg.call("hostile.spin", &json!({}), ctx).await.unwrap();
    assert!(
        matches!(failure(&out), Failure::Cancelled),
        "{:?}",
        out.result
    );
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(
        out.meters.fuel > 0,
        "fuel up to the cancellation is metered"
    );
    still_serves(&reg).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spinning_call_does_not_block_others() {
    // The spinners would run for minutes; they are cancelled once the check is done.
    let policy =
        "plugin = \"hostile\"\n[limits]\ntimeout_ms = 600_000\nfuel = 1_000_000_000_000_000\n";
    let (reg, _d) = registry(&[("hostile", policy)], &[hostile()]).await;
    let reg = std::sync::Arc::new(reg);
    let stop = bioai::registry::CancellationToken::new();
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let reg = reg.clone();
            let ctx = CallContext {
                cancel: stop.clone(),
                ..CallContext::default()
            };
            tokio::spawn(async move { reg.call("hostile.spin", &json!({}), ctx).await.unwrap() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Served while 4 guests spin on 2 threads: had a spinner held its thread,
    // this would wait for the spinners' 10-minute deadline.
    tokio::time::timeout(Duration::from_secs(30), still_serves(&reg))
        .await
        .expect("a trivial call is served while guests spin");
    stop.cancel();
    for s in spinners {
        let out = s.await.unwrap();
        assert!(
            matches!(failure(&out), Failure::Cancelled),
            "{:?}",
            out.result
        );
    }
}

#[tokio::test]
async fn no_state_carries_over_between_calls() {
    let (reg, _d) = registry(&[], &[hostile()]).await;
    for _ in 0..3 {
        let out = call(&reg, "hostile.counter", json!({})).await;
        assert_eq!(
            out.result.unwrap(),
            json!({"value": 1}),
            "each call gets a fresh instance"
        );
    }
}
