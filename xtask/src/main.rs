//! Build orchestration: `cargo xtask <setup|build|run|test|bench>`.
//!
//! Nothing but cargo is needed to start; every command first makes sure the
//! tools it needs are installed (idempotently).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Our plugins: (cargo package, installed file name).
const PLUGINS: &[(&str, &str)] = &[("seq", "seq")];

/// Components only the test suite loads.
const TEST_PLUGINS: &[(&str, &str)] = &[
    ("hostile", "hostile"),
    ("bench", "bench"),
    ("bioai-plugin-template", "hello"),
];

const WASM_TARGET: &str = "wasm32-wasip2";
const PLUGIN_PROFILE: &str = "plugin";

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup    install what the build needs (rustup target wasm32-wasip2)
  build    build the release host and every plugin (for packaging and benchmarks)
  run      set up, build, and serve on the embedded default (extra args go to `bioai serve`)
  test     set up, build the plugins, run the whole test suite, clippy and rustfmt checks
  bench    build in release and print the runtime benchmark figures
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match cmd.as_str() {
        "setup" => setup(),
        "build" => {
            setup()?;
            build_plugins(PLUGINS, "plugins")?;
            cargo(&["build", "--release", "-p", "bioai"])
        }
        "run" => {
            setup()?;
            build_plugins(PLUGINS, "plugins")?;
            let mut a = vec!["run", "--release", "-p", "bioai", "--", "serve"];
            a.extend(rest.iter().map(String::as_str));
            cargo(&a)
        }
        "test" => test(),
        "bench" => {
            setup()?;
            build_plugins(PLUGINS, "plugins")?;
            build_plugins(TEST_PLUGINS, "test-plugins")?;
            cargo(&["bench", "-p", "bioai", "--bench", "runtime"])
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
fn build_plugins(plugins: &[(&str, &str)], dest: &str) -> Result<()> {
    let mut args = vec![
        "build",
        "--target",
        WASM_TARGET,
        "--profile",
        PLUGIN_PROFILE,
    ];
    for (pkg, _) in plugins {
        args.extend(["-p", pkg]);
    }
    cargo(&args)?;
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

fn test() -> Result<()> {
    setup()?;
    build_plugins(PLUGINS, "plugins")?;
    build_plugins(TEST_PLUGINS, "test-plugins")?;
    cargo(&["fmt", "--all", "--", "--check"])
        .context("formatting differs: run `cargo fmt --all`")?;
    cargo(&["test", "--workspace", "--all-targets"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&[
        "clippy",
        "--target",
        WASM_TARGET,
        "-p",
        "seq",
        "-p",
        "hostile",
        "-p",
        "bench",
        "-p",
        "bioai-sdk",
        "--",
        "-D",
        "warnings",
    ])
}
