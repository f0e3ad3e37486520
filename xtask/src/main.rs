//! Build orchestration: `cargo xtask <setup|build|run|test|bench>`.
//!
//! Nothing but cargo is needed to start; every command first makes sure the
//! tools it needs are installed (idempotently).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

mod knowhow;
mod mcp;
mod postgres;
mod python_sandbox;

/// Extra components only the test suite loads, beyond `tests/plugins/*`:
/// (cargo package, installed file name).
const EXTRA_TEST_PLUGINS: &[(&str, &str)] = &[("bioai-plugin-template", "hello")];

const WASM_TARGET: &str = "wasm32-wasip2";
const PLUGIN_PROFILE: &str = "plugin";

/// The crates in `dir` (each subdirectory with a Cargo.toml), as (package,
/// file name) pairs; the package is named after its directory.
fn crates_in(dir: &str) -> Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    let path = root().join(dir);
    for entry in std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            found.push((name.clone(), name));
        }
    }
    found.sort();
    Ok(found)
}

/// Our plugins: every crate in `plugins/`.
fn plugins() -> Result<Vec<(String, String)>> {
    crates_in("plugins")
}

/// Test-only components: every crate in `tests/plugins/`, plus the SDK template.
fn test_plugins() -> Result<Vec<(String, String)>> {
    let mut all = crates_in("tests/plugins")?;
    all.extend(
        EXTRA_TEST_PLUGINS
            .iter()
            .map(|(p, n)| (p.to_string(), n.to_string())),
    );
    Ok(all)
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup    install what the build needs (rustup target wasm32-wasip2)
  build    build the release host and every plugin (for packaging and benchmarks)
  run      set up, build, and serve on the embedded default (extra args go to `bioai serve`)
  test     set up, build the plugins, run the whole test suite, clippy and rustfmt checks
  bench    build in release and print every benchmark's figures: runtime, MCP load, call
           recording, Python sandbox, bio kernels (component vs native), metering ingest
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match cmd.as_str() {
        "setup" => setup(),
        "build" => {
            setup()?;
            build_plugins(&plugins()?, "plugins")?;
            python_sandbox::build()?;
            knowhow::model()?;
            cargo(&["build", "--release", "-p", "bioai"])
        }
        "run" => {
            setup()?;
            build_plugins(&plugins()?, "plugins")?;
            python_sandbox::build()?;
            knowhow::model()?;
            let mut a = vec!["run", "--release", "-p", "bioai", "--", "serve"];
            a.extend(rest.iter().map(String::as_str));
            cargo(&a)
        }
        "test" => test(),
        "bench" => {
            setup()?;
            python_references()?;
            python_components()?;
            build_plugins(&plugins()?, "plugins")?;
            build_plugins(&test_plugins()?, "test-plugins")?;
            python_sandbox::build()?;
            knowhow::model()?;
            // The recording and ingest benchmarks write to PostgreSQL too,
            // and its migrations need pgvector.
            postgres::prepare(&root())?;
            for bench in ["runtime", "mcp", "recording", "sandbox", "bio", "agents"] {
                cargo(&["bench", "-p", "bioai", "--bench", bench])?;
            }
            cargo(&["bench", "-p", "bioai-store", "--bench", "ingest"])?;
            Ok(())
        }
        "" | "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new(cargo_bin()).args(args).current_dir(root()))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", describe(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Installs the wasm32-wasip2 standard library if rustup lacks it.
fn setup() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context(
            "rustup is needed to install the wasm32-wasip2 target; install it from rustup.rs",
        )?;
    let list = String::from_utf8_lossy(&installed.stdout);
    if !list.lines().any(|l| l.trim() == WASM_TARGET) {
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// Builds components for wasm32-wasip2 and copies them to `target/<dest>/`.
fn build_plugins(plugins: &[(String, String)], dest: &str) -> Result<()> {
    build_plugins_linted(plugins, dest, None)
}

/// [`build_plugins`], compiling the workspace's crates with `lint` (see
/// [`lint_wrapper`]) when given.
fn build_plugins_linted(
    plugins: &[(String, String)],
    dest: &str,
    lint: Option<&Path>,
) -> Result<()> {
    let mut args = vec![
        "build",
        "--target",
        WASM_TARGET,
        "--profile",
        PLUGIN_PROFILE,
    ];
    for (pkg, _) in plugins {
        args.extend(["-p", pkg.as_str()]);
    }
    let mut cmd = Command::new(cargo_bin());
    cmd.args(&args).current_dir(root());
    if let Some(wrapper) = lint {
        cmd.env("RUSTC_WORKSPACE_WRAPPER", wrapper);
    }
    run(&mut cmd)?;
    let out = root().join("target").join(dest);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let built = root().join("target").join(WASM_TARGET).join(PLUGIN_PROFILE);
    for (pkg, name) in plugins {
        let from = built.join(format!("{}.wasm", pkg.replace('-', "_")));
        let to = out.join(format!("{name}.wasm"));
        std::fs::copy(&from, &to)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    Ok(())
}

/// Installs the Python reference implementations (Biopython, primer3-py)
/// that the bio tools' tests compare against, and the MCP Python SDK, into
/// `target/pyref`. Skipped when the installed set already matches
/// `tests/bio/requirements.txt` + `tests/mcp/requirements.txt`.
fn python_references() -> Result<()> {
    // Bio references, and the official MCP Python SDK for the client tests.
    let files = [
        root().join("tests/bio/requirements.txt"),
        root().join("tests/mcp/requirements.txt"),
    ];
    let mut wanted = String::new();
    for f in &files {
        wanted.push_str(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        );
    }
    let venv = root().join("target/pyref");
    let marker = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv))
        .context("Python 3 with the venv module is needed for the reference tests")?;
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"]);
    for f in &files {
        pip.arg("-r").arg(f);
    }
    run(&mut pip)?;
    std::fs::write(&marker, wanted)?;
    Ok(())
}

/// Builds the Python test components (`tests/python-plugins/<name>/`, a WIT
/// world plus `app.py`) with componentize-py, the way a third-party author
/// would; skipped when the output is newer than its sources.
fn python_components() -> Result<()> {
    let dir = root().join("tests/python-plugins");
    let out = root().join("target/test-plugins");
    std::fs::create_dir_all(&out)?;
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let src = entry?.path();
        if !src.join("app.py").is_file() {
            continue;
        }
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = out.join(format!("{name}.wasm"));
        let newest_source = ["app.py", "world.wit"]
            .iter()
            .filter_map(|f| {
                std::fs::metadata(src.join(f))
                    .and_then(|m| m.modified())
                    .ok()
            })
            .max();
        let built = std::fs::metadata(&target).and_then(|m| m.modified()).ok();
        if let (Some(s), Some(b)) = (newest_source, built)
            && b > s
        {
            continue;
        }
        run(
            Command::new(root().join("target/pyref/bin/componentize-py"))
                .current_dir(&src)
                .args(["-d", "world.wit", "-w", &name, "componentize", "app", "-o"])
                .arg(&target),
        )?;
    }
    Ok(())
}

fn test() -> Result<()> {
    setup()?;
    let lint = lint_wrapper()?;
    python_references()?;
    mcp::node_clients()?;
    python_components()?;
    // The components, linted for the target they ship on while they build.
    build_plugins_linted(&plugins()?, "plugins", Some(&lint))?;
    build_plugins_linted(&test_plugins()?, "test-plugins", Some(&lint))?;
    python_sandbox::build()?;
    python_sandbox::system_packages()?;
    knowhow::reference()?;
    postgres::prepare(&root())?;
    cargo(&["fmt", "--all", "--", "--check"])
        .context("formatting differs: run `cargo fmt --all`")?;
    // The test build is also the clippy pass (`--all-targets`, every
    // warning an error): a separate `cargo clippy` type-checked every
    // dependency again, minutes of a clean run.
    let (passed, failed, ignored) = cargo_test(&["test", "--workspace", "--all-targets"], &lint)?;
    println!("tests: {passed} passed, {failed} failed, {ignored} skipped");
    Ok(())
}

/// Writes `target/xtask/clippy-deny-warnings`, a `RUSTC_WORKSPACE_WRAPPER`
/// that compiles the workspace's own crates with clippy-driver and
/// `-D warnings`: what `cargo clippy -- -D warnings` does, in a build that
/// also produces the binaries (dependencies are compiled by plain rustc).
fn lint_wrapper() -> Result<PathBuf> {
    let beside_cargo = Path::new(&cargo_bin()).with_file_name("clippy-driver");
    let driver = if beside_cargo.is_file() {
        beside_cargo
    } else {
        let out = Command::new("rustup")
            .args(["which", "clippy-driver"])
            .output()
            .context("looking for clippy-driver with `rustup which`")?;
        if !out.status.success() {
            bail!("clippy is not installed: run `rustup component add clippy`");
        }
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    };
    let dir = root().join("target/xtask");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let wrapper = dir.join("clippy-deny-warnings");
    let script = format!(
        "#!/bin/sh\n# Written by `cargo xtask test`: compiles a workspace crate with clippy's lints,\n\
         # every warning an error.\nexec '{}' \"$@\" -D warnings\n",
        driver.display()
    );
    // Rewritten only when it changes: cargo rebuilds the workspace's crates
    // when their compiler wrapper is newer.
    if std::fs::read_to_string(&wrapper).ok().as_deref() != Some(script.as_str()) {
        std::fs::write(&wrapper, &script)
            .with_context(|| format!("writing {}", wrapper.display()))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(wrapper)
}

/// Runs `cargo test` with the workspace's crates compiled through `lint`,
/// echoing its output, and adds up the `test result:` lines of every test
/// binary, so the whole suite ends with one total.
fn cargo_test(args: &[&str], lint: &Path) -> Result<(u64, u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut cmd = Command::new(cargo_bin());
    cmd.args(args)
        .current_dir(root())
        .env("RUSTC_WORKSPACE_WRAPPER", lint)
        .stdout(std::process::Stdio::piped());
    eprintln!("+ {}", describe(&cmd));
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start `{}`", describe(&cmd)))?;
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                let count = |word: &str| -> u64 {
                    rest.split(';')
                        .find_map(|part| part.trim().strip_suffix(word))
                        .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                        .unwrap_or(0)
                };
                passed += count(" passed");
                failed += count(" failed");
                ignored += count(" ignored");
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        if failed > 0 {
            bail!(
                "`{}` failed ({status}): {failed} test(s) failed",
                describe(&cmd)
            );
        }
        bail!(
            "`{}` failed ({status}) before its tests ended: see the compiler, clippy or test output above",
            describe(&cmd)
        );
    }
    Ok((passed, failed, ignored))
}
