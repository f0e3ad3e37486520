//! The Python sandbox's build and system dependencies.
//!
//! - `target/sandbox/python.wasm`: CPython as a component, built with
//!   componentize-py from `host/src/sandbox/python/` plus the pinned pure-Python
//!   packages of `host/src/sandbox/python/packages.txt` (wheels from PyPI into
//!   `target/python-sandbox/site`). Not in `target/plugins/`: the host loads
//!   every component there as ordinary tools, and this one must only be
//!   reached through the sandbox (which adds the per-run mounts).
//! - The native fallback's system packages (bubblewrap, Debian's python3
//!   with numpy and Biopython), installed with apt-get when missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use super::{python_references, root, run};

/// Debian packages the local fallback driver and its tests need.
const SYSTEM_PACKAGES: &[&str] = &[
    "bubblewrap",
    "python3",
    "python3-numpy",
    "python3-biopython",
];

/// The built component.
pub fn component_path() -> PathBuf {
    root().join("target/sandbox/python.wasm")
}

/// Builds `target/sandbox/python.wasm`; skipped when it is newer than its
/// sources and the installed packages.
pub fn build() -> Result<()> {
    python_references()?;
    let src = root().join("host/src/sandbox/python");
    let site = install_packages(&src.join("packages.txt"))?;
    let out = component_path();
    let sources: Vec<PathBuf> = ["app.py", "world.wit", "packages.txt"]
        .iter()
        .map(|f| src.join(f))
        .chain([site.join(".installed")])
        .collect();
    if is_newer(&out, &sources) {
        return Ok(());
    }
    std::fs::create_dir_all(out.parent().unwrap_or(&root()))?;
    let tmp = out.with_extension("wasm.tmp");
    run(
        Command::new(root().join("target/pyref/bin/componentize-py"))
            .current_dir(&src)
            .args([
                "-d",
                "world.wit",
                "-w",
                "python",
                "componentize",
                "app",
                "-p",
                ".",
            ])
            .arg("-p")
            .arg(&site)
            .arg("-o")
            .arg(&tmp),
    )?;
    std::fs::rename(&tmp, &out).with_context(|| format!("moving {} into place", tmp.display()))?;
    Ok(())
}

/// Installs the pinned packages (wheels only, no dependency resolution)
/// into `target/python-sandbox/site`, and checks they are pure Python.
fn install_packages(list: &Path) -> Result<PathBuf> {
    let wanted =
        std::fs::read_to_string(list).with_context(|| format!("reading {}", list.display()))?;
    let site = root().join("target/python-sandbox/site");
    let marker = site.join(".installed");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(site);
    }
    if site.exists() {
        std::fs::remove_dir_all(&site).with_context(|| format!("clearing {}", site.display()))?;
    }
    run(Command::new(root().join("target/pyref/bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--target",
        ])
        .arg(&site)
        .arg("-r")
        .arg(list))?;
    if let Some(native) = find_native(&site) {
        bail!(
            "{} is native code, but the sandbox component can only bundle pure-Python packages; remove its package from {}",
            native.display(),
            list.display()
        );
    }
    std::fs::write(&marker, wanted)?;
    Ok(site)
}

fn find_native(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_native(&path) {
                return Some(found);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "so" || e == "pyd" || e == "dylib")
        {
            return Some(path);
        }
    }
    None
}

fn is_newer(out: &Path, sources: &[PathBuf]) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(out) else {
        return false;
    };
    sources
        .iter()
        .all(|s| modified(s).is_some_and(|t: SystemTime| t < built))
}

/// Installs the fallback driver's Debian packages when any is missing
/// (as root, or through sudo when available).
pub fn system_packages() -> Result<()> {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .copied()
        .filter(|p| !installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        bail!(
            "the Python sandbox's fallback tests need {} (Debian/Ubuntu packages); install them with your system's package manager",
            missing.join(", ")
        );
    }
    let root_user = std::env::var("USER").ok().as_deref() == Some("root")
        || Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
    let apt = |args: &[&str]| -> Result<()> {
        if root_user {
            run(Command::new("apt-get").args(args))
        } else {
            run(Command::new("sudo").arg("apt-get").args(args))
        }
    };
    let env_ok = apt(&["install", "-y", "--no-install-recommends"]
        .iter()
        .copied()
        .chain(missing.iter().copied())
        .collect::<Vec<_>>());
    if env_ok.is_err() {
        // The package lists may be missing on a fresh machine.
        apt(&["update"])?;
        apt(&["install", "-y", "--no-install-recommends"]
            .iter()
            .copied()
            .chain(missing.iter().copied())
            .collect::<Vec<_>>())
        .context("installing the Python sandbox's fallback packages")?;
    }
    Ok(())
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}
