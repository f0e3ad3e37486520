//! [`PolicyError`] and byte-offset to line/column conversion.

use std::fmt;
use std::path::PathBuf;

/// One problem in one policy file: file, 1-based line and column, the field
/// path (e.g. `network.allow[2]`, `limits.memory_mib`), and a message that
/// says what to do.
///
/// Displayed as `policies/ncbi.toml:12:10: network.allow[2]: <message>`.
/// Array indices in field paths are 0-based. Line and column are 0 when the
/// problem has no position in the file (the file or directory cannot be
/// read); the display then leaves them out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// The policy file (or policy directory) the problem is in, as given.
    pub file: PathBuf,
    /// 1-based line, or 0 when the problem has no position.
    pub line: usize,
    /// 1-based column in characters, or 0 when the problem has no position.
    pub column: usize,
    /// The field the problem is in, as a dotted path such as
    /// `dirs[0].guest`; `None` for syntax errors and whole-file problems.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Maps byte offsets of one text to 1-based line and column (in characters).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, line_starts }
    }

    /// 1-based (line, column) of a byte offset; offsets past the end are
    /// clamped, offsets inside a character count as that character.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let idx = LineIndex::new("ab\ncdé\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(2), (1, 3));
        assert_eq!(idx.position(3), (2, 1));
        assert_eq!(idx.position(5), (2, 3));
        // Inside the two-byte é.
        assert_eq!(idx.position(6), (2, 3));
        assert_eq!(idx.position(7), (2, 4));
        assert_eq!(idx.position(8), (3, 1));
        assert_eq!(idx.position(9), (4, 1));
        assert_eq!(idx.position(100), (4, 2));
    }

    #[test]
    fn display() {
        let e = PolicyError {
            file: "policies/ncbi.toml".into(),
            line: 12,
            column: 10,
            field: Some("network.allow[2]".into()),
            message: "bad".into(),
        };
        assert_eq!(
            e.to_string(),
            "policies/ncbi.toml:12:10: network.allow[2]: bad"
        );
        let e = PolicyError {
            line: 0,
            column: 0,
            field: None,
            ..e
        };
        assert_eq!(e.to_string(), "policies/ncbi.toml: bad");
    }
}
