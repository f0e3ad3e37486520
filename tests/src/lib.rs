//! Shared helpers of the end-to-end tests: where the test components are, a
//! runtime shared by the tests of one binary, registries with ad-hoc
//! policies, and a real HTTP server on loopback.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bioai::policy::PolicySet;
use bioai::registry::Registry;
use bioai::runtime::{Runtime, RuntimeConfig};

pub mod agent_runs;
pub mod gene_standin;
pub mod llm_standin;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// A component built by `cargo xtask` (`dir` is `plugins` or `test-plugins`).
pub fn component(dir: &str, name: &str) -> PathBuf {
    let path = root().join("target").join(dir).join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run the tests with `cargo xtask test`, which builds the components first",
        path.display()
    );
    path
}

/// One runtime per test binary, with a compiled-component cache shared by all
/// test runs so components compile once.
pub fn runtime() -> Arc<Runtime> {
    static RT: OnceLock<Arc<Runtime>> = OnceLock::new();
    RT.get_or_init(|| {
        Arc::new(
            Runtime::new(&RuntimeConfig {
                cache_dir: Some(root().join("target").join("test-cache")),
                max_concurrent_instances: 64,
                ..RuntimeConfig::default()
            })
            .expect("the runtime starts"),
        )
    })
    .clone()
}

/// A registry with the given policy files (name, TOML text) written to a
/// temporary directory, and the given components loaded.
pub async fn registry(
    policies: &[(&str, &str)],
    components: &[PathBuf],
) -> (Registry, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in policies {
        std::fs::write(dir.path().join(format!("{name}.toml")), text).expect("write policy");
    }
    let set = PolicySet::load(&[dir.path().to_path_buf()])
        .unwrap_or_else(|e| panic!("test policies are valid: {e:?}"));
    let mut reg = Registry::new(runtime(), set);
    for c in components {
        reg.load_file(c)
            .await
            .unwrap_or_else(|e| panic!("{} loads: {e}", c.display()));
    }
    (reg, dir)
}

/// A minimal real HTTP/1.1 server on loopback answering every request with
/// `200 hello`; returns its port. It runs until the test's runtime ends.
pub async fn http_server() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
            });
        }
    });
    port
}

/// Checks the `default` that `tool`'s input schema advertises for each
/// argument in `expected` (values from the public API, not from
/// our own output); `null` means the argument advertises no default.
pub fn assert_schema_defaults(reg: &Registry, tool: &str, expected: &[(&str, serde_json::Value)]) {
    let properties = &reg
        .tool(tool)
        .unwrap_or_else(|| panic!("{tool} is listed"))
        .input_schema["properties"];
    for (argument, value) in expected {
        assert_eq!(
            properties[argument]["default"], *value,
            "{tool}.{argument}: {}",
            properties[argument]
        );
    }
}

/// Checks that the `default`s `tool`'s input schema advertises are what
/// the tool uses: a call with `required` alone and one with every
/// advertised default given explicitly return the same result. Panics when
/// the tool advertises no default (a test of nothing).
pub async fn defaults_are_what_the_tool_uses(
    reg: &Registry,
    tool: &str,
    required: serde_json::Value,
) {
    let schema = &reg
        .tool(tool)
        .unwrap_or_else(|| panic!("{tool} is listed"))
        .input_schema;
    let mut explicit = required.clone();
    let mut given = 0;
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(default) = property.get("default") {
            explicit[name] = default.clone();
            given += 1;
        }
    }
    assert!(given > 0, "{tool} advertises no defaults: {schema}");
    let mut results = Vec::new();
    for args in [&required, &explicit] {
        let out = reg
            .call(tool, args, bioai::registry::CallContext::default())
            .await
            .unwrap_or_else(|e| panic!("{tool} {args}: {e}"));
        results.push(
            out.result
                .unwrap_or_else(|e| panic!("{tool} {args} failed: {e}")),
        );
    }
    assert_eq!(
        results[0], results[1],
        "{tool}: giving the advertised defaults {explicit} changes the result"
    );
}

/// Runs an independent Python reference (`tests/bio/<script>.py`, with
/// Biopython and primer3-py from `target/pyref`, installed by `cargo xtask
/// test`): `input` goes to its stdin as JSON, its stdout is parsed as JSON.
pub fn reference(script: &str, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write;
    let python = root().join("target/pyref/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run the tests with `cargo xtask test`, which installs the Python references",
        python.display()
    );
    let script_path = root().join("tests/bio").join(format!("{script}.py"));
    let mut child = std::process::Command::new(&python)
        .arg(&script_path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the Python reference");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write reference input");
    let out = child.wait_with_output().expect("reference finishes");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reference prints JSON")
}

/// A small deterministic PRNG (xorshift64*), so every test run generates the
/// same inputs. Seed it with a non-zero constant: `Rng(0x5eed)`.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One element of `xs`.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// `len` letters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| self.pick(alphabet) as char).collect()
    }

    /// Random DNA (A, C, G, T) of `len` bases.
    pub fn dna(&mut self, len: usize) -> String {
        (0..len).map(|_| b"ACGT"[self.below(4)] as char).collect()
    }
}
