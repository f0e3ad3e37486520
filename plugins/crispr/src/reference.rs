//! Where an off-target search's reference comes from: FASTA text in the
//! call, or a FASTA file in a directory the plugin's policy mounts
//! (`[[dirs]]` in `policies/crispr.toml`), so a genome need not travel
//! through every call.

use std::borrow::Cow;
use std::io::ErrorKind as Io;

use crate::fasta;
use bioai_sdk::ToolError;

/// The FASTA text `value` stands for: `value` itself when it is text (its
/// first non-blank character is `>`, or it has a line break), else
/// the contents of the file at that absolute guest path. A file is read
/// only when it fits the search's limit, and must be uncompressed text.
pub fn load<'a>(arg: &str, value: &'a str) -> Result<Cow<'a, str>, ToolError> {
    let path = value.trim();
    if path.is_empty() || path.starts_with('>') || value.contains('\n') {
        return Ok(Cow::Borrowed(value));
    }
    if !path.starts_with('/') {
        return Err(ToolError::invalid_argument(
            arg,
            format!(
                "`{path}` is neither FASTA text (which starts with a `>name` header line) \
                 nor an absolute path to a FASTA file in a data directory this plugin's \
                 policy mounts (e.g. `/data/genomes/chr1.fa`)"
            ),
        ));
    }
    let unreadable = |e: std::io::Error| match e.kind() {
        Io::NotFound | Io::PermissionDenied => ToolError::not_found(format!(
            "`{path}`: no such file in the directories this plugin may read ({e}); \
             an operator grants a directory with `[[dirs]]` in the plugin's policy"
        )),
        _ => ToolError::invalid_argument(arg, format!("cannot read `{path}`: {e}")),
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(ToolError::invalid_argument(
            arg,
            format!("`{path}` is a directory; name a FASTA file in it"),
        ));
    }
    let limit = 2 * fasta::MAX_BASES as u64;
    if meta.len() > limit {
        return Err(ToolError::limit_exceeded(format!(
            "`{path}` is {} bytes; search at most 50 Mbp per call (split the reference \
             into files of at most {limit} bytes)",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    String::from_utf8(bytes).map(Cow::Owned).map_err(|_| {
        ToolError::invalid_argument(
            arg,
            format!("`{path}` is not FASTA text (compressed? give an uncompressed .fa file)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_used_as_given() {
        for text in [">a\nACGT\n", "  >a ACGT", "ACGT\nACGT", ""] {
            assert!(matches!(load("r", text), Ok(Cow::Borrowed(t)) if t == text));
        }
    }

    #[test]
    fn a_path_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chr.fa");
        std::fs::write(&file, ">chr\nACGT\n").unwrap();
        let path = file.to_str().unwrap();
        assert_eq!(load("r", path).unwrap(), ">chr\nACGT\n");
        assert_eq!(load("r", &format!(" {path} ")).unwrap(), ">chr\nACGT\n");
    }

    #[test]
    fn bad_paths_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.fa.gz"), [0x1f, 0x8b, 0xff, 0x00]).unwrap();
        let d = dir.path().to_str().unwrap();
        let cases = [
            ("ACGT".to_string(), "neither FASTA text"),
            ("genome.fa".to_string(), "absolute path"),
            (format!("{d}/missing.fa"), "no such file"),
            (d.to_string(), "is a directory"),
            (format!("{d}/x.fa.gz"), "uncompressed"),
        ];
        for (value, expected) in cases {
            let e = load("reference_fasta", &value).unwrap_err().to_string();
            assert!(e.contains(expected), "{value}: {e}");
        }
    }
}
