//! What a run asks for, and the per-run directories it gets: a writable
//! scratch directory (with `out/` for results) and a read-only input
//! directory, both removed when the run ends.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::SandboxError;

/// Where the run's writable scratch directory is mounted in the guest (and
/// its working directory).
pub const GUEST_SCRATCH: &str = "/scratch";
/// Where the input files are mounted, read-only.
pub const GUEST_INPUTS: &str = "/inputs";
/// The directory inside the scratch directory whose files come back as the
/// run's output files.
pub const OUT_DIR: &str = "out";

/// One run of `sandbox.run_python`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The Python source to run as `__main__`.
    pub code: String,
    /// Packages the code needs (`uncertainties`, `numpy==1.24`...).
    #[serde(default)]
    pub requirements: Vec<String>,
    /// Files mounted read-only at `/inputs/<name>`.
    #[serde(default)]
    pub input_files: Vec<InputFile>,
    /// Wall-clock limit in seconds (at most the policy's timeout).
    #[serde(default = "default_timeout_s")]
    pub timeout_s: f64,
}

fn default_timeout_s() -> f64 {
    30.0
}

impl RunRequest {
    /// A request for `code` with no requirements, no inputs and the default
    /// timeout.
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            requirements: Vec::new(),
            input_files: Vec::new(),
            timeout_s: default_timeout_s(),
        }
    }

    /// The requested timeout, validated.
    pub(super) fn timeout(&self) -> Result<Duration, SandboxError> {
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(SandboxError::BadRequest(format!(
                "timeout_s must be a positive number of seconds, got {}",
                self.timeout_s
            )));
        }
        Ok(Duration::from_secs_f64(self.timeout_s.min(86_400.0)))
    }
}

/// A file to mount read-only for the run: a path in the project's
/// workspace, or inline content.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum InputFile {
    /// A file from the workspace, relative to the workspace root; mounted as
    /// `/inputs/<name or the path's file name>`.
    Workspace {
        /// Relative path inside the workspace (no `..`, not absolute).
        path: String,
        /// The name under `/inputs/`; default: the path's file name.
        #[serde(default)]
        name: Option<String>,
    },
    /// Inline text, mounted as `/inputs/<name>`.
    Inline {
        /// The file name under `/inputs/` (a single path component).
        name: String,
        /// The file's content (UTF-8 text).
        content: String,
    },
}

/// Who runs: the project's workspace and a cancellation token.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// The project's workspace on the host, where `input_files` paths are
    /// resolved; `None` allows inline inputs only.
    pub workspace: Option<PathBuf>,
    /// Cancelling stops the run promptly (its meters are kept).
    pub cancel: CancellationToken,
}

/// The per-run directories on the host, removed on drop.
#[derive(Debug)]
pub struct RunDir {
    root: PathBuf,
    /// Unique id of the run (also the name of its output directory).
    pub id: String,
}

impl RunDir {
    /// Creates `<parent>/<id>/{scratch/out,inputs}`; the parent is created
    /// with mode 0700 when missing.
    pub fn create(parent: &Path) -> Result<RunDir, SandboxError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let io = |what: &str, e: std::io::Error| {
            SandboxError::Io(format!("{what} under {}: {e}", parent.display()))
        };
        std::fs::create_dir_all(parent).map_err(|e| io("creating the scratch root", e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!(
            "run-{}-{:x}-{}",
            std::process::id(),
            nanos,
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let root = parent.join(&id);
        std::fs::create_dir(&root).map_err(|e| io("creating the run directory", e))?;
        let dir = RunDir { root, id };
        std::fs::create_dir_all(dir.scratch().join(OUT_DIR))
            .map_err(|e| io("creating the scratch directory", e))?;
        std::fs::create_dir(dir.inputs()).map_err(|e| io("creating the input directory", e))?;
        std::fs::create_dir(dir.meta()).map_err(|e| io("creating the run's meta directory", e))?;
        Ok(dir)
    }

    /// The writable scratch directory (the guest's working directory).
    pub fn scratch(&self) -> PathBuf {
        self.root.join("scratch")
    }

    /// The read-only input directory.
    pub fn inputs(&self) -> PathBuf {
        self.root.join("inputs")
    }

    /// Host-only files of the run (the native runner's script and report).
    pub fn meta(&self) -> PathBuf {
        self.root.join("meta")
    }

    /// The run's own directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Puts the request's input files into the input directory: workspace
    /// files are resolved safely (no `..`, no absolute paths, no symlink out
    /// of the workspace) and copied (hard-linked when possible), inline ones
    /// written. Returns the mounted names.
    pub fn stage_inputs(
        &self,
        files: &[InputFile],
        workspace: Option<&Path>,
    ) -> Result<Vec<String>, SandboxError> {
        let mut names = Vec::new();
        for file in files {
            let (name, written) = match file {
                InputFile::Inline { name, content } => {
                    let name = checked_name(name)?;
                    let to = self.inputs().join(&name);
                    (name, std::fs::write(&to, content).map(|_| ()))
                }
                InputFile::Workspace { path, name } => {
                    let from = resolve_in_workspace(workspace, path)?;
                    let name = match name {
                        Some(n) => checked_name(n)?,
                        None => from
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .ok_or_else(|| {
                                SandboxError::BadInput(format!("input {path:?} has no file name"))
                            })?,
                    };
                    let to = self.inputs().join(&name);
                    let linked = std::fs::hard_link(&from, &to)
                        .or_else(|_| std::fs::copy(&from, &to).map(|_| ()));
                    (name, linked)
                }
            };
            if names.contains(&name) {
                return Err(SandboxError::BadInput(format!(
                    "two input files are both named {name:?}; give one of them another `name`"
                )));
            }
            written.map_err(|e| {
                SandboxError::Io(format!("could not stage input file {name:?}: {e}"))
            })?;
            names.push(name);
        }
        Ok(names)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if let Err(e) = remove_all(&self.root) {
            tracing::error!(dir = %self.root.display(), "could not remove a sandbox run directory: {e}");
        }
    }
}

/// Removes a run directory even where the guest made parts read-only.
fn remove_all(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_dir_all(root) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            // A directory without write permission cannot be emptied: make
            // every directory writable again, then retry.
            let mut stack = vec![root.to_path_buf()];
            while let Some(dir) = stack.pop() {
                let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
                if let Ok(entries) = std::fs::read_dir(&dir) {
                    for entry in entries.flatten() {
                        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                            stack.push(entry.path());
                        }
                    }
                }
            }
            std::fs::remove_dir_all(root)
        }
    }
}

/// A file name for `/inputs/`: one normal path component.
fn checked_name(name: &str) -> Result<String, SandboxError> {
    let mut parts = Path::new(name).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(n)), None) if !name.contains('/') && !name.contains('\0') => {
            Ok(n.to_string_lossy().into_owned())
        }
        _ => Err(SandboxError::BadInput(format!(
            "input file name {name:?} must be a single file name (no `/`, `..` or absolute path)"
        ))),
    }
}

/// Resolves a workspace-relative path to a regular file inside the
/// workspace, refusing `..`, absolute paths and symlinks that lead out.
fn resolve_in_workspace(workspace: Option<&Path>, rel: &str) -> Result<PathBuf, SandboxError> {
    let Some(workspace) = workspace else {
        return Err(SandboxError::BadInput(format!(
            "input file {rel:?} names a workspace path, but this run has no workspace; pass the content inline instead"
        )));
    };
    let path = Path::new(rel);
    if rel.is_empty() || rel.contains('\0') {
        return Err(SandboxError::BadInput(format!(
            "input path {rel:?} is empty or invalid"
        )));
    }
    if path.is_absolute() {
        return Err(SandboxError::BadInput(format!(
            "input path {rel:?} is absolute; give a path relative to the workspace"
        )));
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(SandboxError::BadInput(format!(
            "input path {rel:?} contains `..`; give a path inside the workspace"
        )));
    }
    let root = workspace.canonicalize().map_err(|e| {
        SandboxError::Io(format!(
            "the workspace {} cannot be opened: {e}",
            workspace.display()
        ))
    })?;
    let full = root.join(path).canonicalize().map_err(|e| {
        SandboxError::BadInput(format!("input file {rel:?} is not in the workspace: {e}"))
    })?;
    if !full.starts_with(&root) {
        return Err(SandboxError::BadInput(format!(
            "input path {rel:?} is a symlink that leads outside the workspace"
        )));
    }
    if !full.is_file() {
        return Err(SandboxError::BadInput(format!(
            "input path {rel:?} is not a regular file"
        )));
    }
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_paths_cannot_leave_the_workspace() {
        let ws = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(ws.path().join("a.txt"), "a").expect("write");
        std::fs::write(outside.path().join("secret"), "s").expect("write");
        std::os::unix::fs::symlink(outside.path().join("secret"), ws.path().join("link"))
            .expect("symlink");
        let ok = resolve_in_workspace(Some(ws.path()), "a.txt").expect("inside");
        assert!(ok.ends_with("a.txt"));
        for bad in [
            "../x",
            "/etc/passwd",
            "link",
            "",
            "missing.txt",
            "sub/../../x",
        ] {
            let e = resolve_in_workspace(Some(ws.path()), bad).expect_err(bad);
            assert!(matches!(e, SandboxError::BadInput(_)), "{bad}: {e}");
        }
        assert!(resolve_in_workspace(None, "a.txt").is_err());
    }

    #[test]
    fn run_dir_stages_inputs_and_is_removed() {
        let parent = tempfile::tempdir().expect("tempdir");
        let path;
        {
            let dir = RunDir::create(parent.path()).expect("create");
            path = dir.path().to_path_buf();
            let names = dir
                .stage_inputs(
                    &[InputFile::Inline {
                        name: "x.txt".into(),
                        content: "hello".into(),
                    }],
                    None,
                )
                .expect("stage");
            assert_eq!(names, ["x.txt"]);
            assert_eq!(
                std::fs::read_to_string(dir.inputs().join("x.txt")).expect("read"),
                "hello"
            );
            assert!(
                dir.stage_inputs(
                    &[InputFile::Inline {
                        name: "../y".into(),
                        content: String::new()
                    }],
                    None
                )
                .is_err()
            );
        }
        assert!(!path.exists(), "run dir removed on drop");
    }
}
