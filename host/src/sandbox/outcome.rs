//! What a run returns: output, the final value, the exception, output
//! files, meters, and the limit it hit (if any).

use std::path::Path;

use serde::Serialize;

/// Which engine ran the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// CPython as a WebAssembly component (the default).
    Component,
    /// Native CPython under bubblewrap (namespaces + seccomp).
    Bwrap,
    /// Native CPython in a Docker container.
    Docker,
}

/// One run's result. Present whenever the code was started, also when it
/// raised or hit a limit (then `error` says which).
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// The engine that ran the code.
    pub engine: EngineKind,
    /// Standard output, bounded by the policy's `max_output_bytes`.
    pub stdout: String,
    /// Standard error, bounded likewise.
    pub stderr: String,
    /// Whether stdout or stderr was cut at the limit.
    pub output_truncated: bool,
    /// The value of the final expression statement, if any and not `None`.
    pub value: Option<PyValue>,
    /// The exception the code raised, with its traceback.
    pub exception: Option<PyException>,
    /// The limit or sandbox failure that stopped the run, if any.
    pub error: Option<RunError>,
    /// Files the code wrote to `out/` in its working directory.
    pub files: Vec<OutputFile>,
    /// What the run consumed.
    pub meters: RunMeters,
}

impl RunOutcome {
    /// Whether the code ran to the end without an exception or a limit.
    pub fn is_success(&self) -> bool {
        self.exception.is_none() && self.error.is_none()
    }
}

/// The final expression's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PyValue {
    /// `repr()` of the value (bounded).
    pub repr: String,
    /// The value as JSON, when it is JSON-serializable.
    pub json: Option<serde_json::Value>,
}

/// An exception raised by the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PyException {
    /// The class, e.g. `ZeroDivisionError` or `json.decoder.JSONDecodeError`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `str()` of the exception.
    pub message: String,
    /// The formatted traceback, starting in the user's code.
    pub traceback: String,
}

/// Why a run was stopped by the sandbox rather than finishing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunError {
    /// The class of limit or failure.
    pub kind: ErrorKind,
    /// What happened and what to do about it.
    pub message: String,
}

/// Classes of [`RunError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The component ran out of fuel.
    OutOfFuel,
    /// The native process used up its CPU-time limit.
    CpuTime,
    /// The memory limit was reached.
    MemoryLimit,
    /// The wall-clock timeout passed.
    Timeout,
    /// stdout, stderr or the output files exceeded their limit.
    OutputLimit,
    /// The process-count limit was reached.
    ProcessLimit,
    /// The caller cancelled the run.
    Cancelled,
    /// The policy refused something the code needed (network, files).
    Denied,
    /// The interpreter itself crashed or could not start.
    Crashed,
}

/// A file the run wrote to `out/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// Path relative to `out/`, with `/` separators.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type guessed from the extension.
    pub media_type: String,
    /// The content, for small UTF-8 text files.
    pub text: Option<String>,
    /// Where the file was kept after the run: `bioai-sandbox://<run>/<name>`
    /// (resolved against the sandbox's output directory).
    pub uri: String,
}

/// What a run consumed. Fuel is metered on the component engine, CPU time on
/// the native drivers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunMeters {
    /// Wall-clock time of the run, in microseconds.
    pub wall_us: u64,
    /// Fuel consumed (component engine).
    pub fuel: Option<u64>,
    /// CPU time, user + system, in microseconds (native drivers).
    pub cpu_us: Option<u64>,
    /// Peak memory in bytes: linear memory (component) or maximum resident
    /// set size (native).
    pub peak_memory_bytes: Option<u64>,
    /// Outgoing network requests (allowed ones only).
    pub net_requests: u64,
    /// Bytes written to `out/`.
    pub output_file_bytes: u64,
}

/// Limits on collecting output files.
#[derive(Debug, Clone, Copy)]
pub(super) struct FileLimits {
    /// Files up to this size that are UTF-8 text come back inline.
    pub inline_text_bytes: u64,
    /// The most bytes of output files kept per run.
    pub max_total_bytes: u64,
    /// The most output files kept per run.
    pub max_files: usize,
}

/// Copies the regular files below `out` (no symlinks followed) to
/// `keep/<relative path>` and describes them. Returns the files and, if a
/// limit was passed, the error (the files within the limit are still kept).
pub(super) fn collect_files(
    out: &Path,
    keep: &Path,
    run_id: &str,
    limits: FileLimits,
) -> (Vec<OutputFile>, Option<RunError>) {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut error = None;
    let mut stack = vec![out.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    for path in found {
        let Ok(rel) = path.strip_prefix(out) else {
            continue;
        };
        let name = rel.to_string_lossy().replace('\\', "/");
        let size = std::fs::symlink_metadata(&path)
            .map(|m| m.len())
            .unwrap_or(0);
        if files.len() >= limits.max_files || total.saturating_add(size) > limits.max_total_bytes {
            error = Some(RunError {
                kind: ErrorKind::OutputLimit,
                message: format!(
                    "the run's output files exceed the limit of {} files / {} bytes; {name} and any later files were dropped (write fewer or smaller files to out/)",
                    limits.max_files, limits.max_total_bytes
                ),
            });
            break;
        }
        let dest = keep.join(rel);
        let copied = dest
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .and_then(|_| std::fs::copy(&path, &dest));
        if let Err(e) = copied {
            tracing::warn!(file = %path.display(), "could not keep a sandbox output file: {e}");
            continue;
        }
        total += size;
        let media_type = media_type(&name);
        let text = (size <= limits.inline_text_bytes && is_text(media_type))
            .then(|| std::fs::read(&dest).ok())
            .flatten()
            .and_then(|b| String::from_utf8(b).ok());
        files.push(OutputFile {
            uri: format!("bioai-sandbox://{run_id}/{name}"),
            name,
            size,
            media_type: media_type.to_string(),
            text,
        });
    }
    (files, error)
}

fn is_text(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || matches!(
            media_type,
            "application/json" | "application/x-fasta" | "application/xml"
        )
}

/// A media type from the file's extension (common scientific formats first).
pub fn media_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" | "out" => "text/plain",
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "fa" | "fasta" | "fna" | "faa" => "application/x-fasta",
        "fq" | "fastq" | "gb" | "gbk" | "vcf" | "bed" | "gff" | "gff3" | "sam" | "pdb" | "py" => {
            "text/plain"
        }
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "gz" => "application/gzip",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_files_with_limits() {
        let out = tempfile::tempdir().expect("tempdir");
        let keep = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(out.path().join("sub")).expect("mkdir");
        std::fs::write(out.path().join("a.csv"), "x,y\n1,2\n").expect("write");
        std::fs::write(out.path().join("sub/b.bin"), [0u8, 159, 146, 150]).expect("write");
        std::os::unix::fs::symlink("/etc/passwd", out.path().join("link")).expect("symlink");
        let limits = FileLimits {
            inline_text_bytes: 1024,
            max_total_bytes: 1 << 20,
            max_files: 10,
        };
        let (files, err) = collect_files(out.path(), keep.path(), "r1", limits);
        assert!(err.is_none());
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.csv", "sub/b.bin"], "symlinks are not followed");
        assert_eq!(files[0].text.as_deref(), Some("x,y\n1,2\n"));
        assert_eq!(files[0].media_type, "text/csv");
        assert_eq!(files[1].text, None);
        assert_eq!(files[1].uri, "bioai-sandbox://r1/sub/b.bin");
        assert!(keep.path().join("sub/b.bin").is_file());

        let tight = FileLimits {
            max_total_bytes: 5,
            ..limits
        };
        let keep2 = tempfile::tempdir().expect("tempdir");
        let (files, err) = collect_files(out.path(), keep2.path(), "r2", tight);
        assert!(files.is_empty());
        assert_eq!(err.map(|e| e.kind), Some(ErrorKind::OutputLimit));
    }
}
