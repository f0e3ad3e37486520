//! Shared by the MCP test binaries: paths and a running `bioai serve`.

#![allow(dead_code)] // each test binary uses a different part

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// `path`, which `cargo xtask test` must have installed or built.
pub fn need(path: &Path) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (it installs the MCP clients and the conformance suite, and builds the plugins)",
        path.display()
    );
    path.to_path_buf()
}

/// `--cache-dir` shared by every `bioai` the tests start (as the in-process
/// tests' runtime does), so the Python sandbox component and the plugins are
/// compiled once per checkout, not once per test's fresh data directory.
pub fn cache_args() -> Vec<std::ffi::OsString> {
    vec![
        "--cache-dir".into(),
        root().join("target").join("test-cache").into(),
    ]
}

/// A running `bioai serve` on a free loopback port; killed on drop.
pub struct Server {
    pub child: Child,
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub url: String,
}

impl Server {
    /// Starts `bioai ARGS serve --bind 127.0.0.1:0` and waits for the address
    /// it prints; its log is echoed to the test's stderr.
    pub fn start(args: &[OsString]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_with_env(args: &[OsString], env: &[(&str, String)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bioai"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(cache_args())
            .args(args)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("BIOAI_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start bioai serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(at) = line.find("serving MCP at ") {
                    let url: String = line[at + "serving MCP at ".len()..]
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != ';')
                        .collect();
                    let _ = tx.send(url);
                    sent = true;
                }
                eprintln!("[bioai] {line}");
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("bioai serve printed its address");
        Server { child, url }
    }

    /// CPU time (user + system) the server process has used so far.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/<pid>/stat");
        // Fields after the parenthesised command name; utime and stime are
        // fields 14 and 15 (1-based), in clock ticks.
        let after = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // /proc reports in USER_HZ, which Linux fixes at 100 for user space.
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
