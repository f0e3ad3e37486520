//! Positions inside a value, for error messages.
//!
//! Conversions walk large values (a list of 100,000 primers); a position is
//! a chain of borrowed segments on the stack and becomes text only when an
//! error names it, so the walk allocates nothing for it.

use std::fmt;

/// Where a value sits: a top-level name, `.field` or `[i]` below another
/// position. Renders as `parts[2].name`; the empty root renders as nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// A top-level name (a tool argument's JSON name), or `""`.
    Root(&'a str),
    /// A record field, variant case or result case below `.0`.
    Field(&'a Path<'a>, &'a str),
    /// A list, tuple or map-pair position below `.0`.
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// The top, which renders as nothing.
    pub(crate) const TOP: Path<'static> = Path::Root("");

    fn is_empty(&self) -> bool {
        matches!(self, Path::Root(""))
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Field(parent, field) if parent.is_empty() => f.write_str(field),
            Path::Field(parent, field) => write!(f, "{parent}.{field}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Path;

    #[test]
    fn renders_like_the_json_path() {
        let top = Path::TOP;
        let parts = Path::Field(&top, "parts");
        let second = Path::Index(&parts, 2);
        assert_eq!(Path::Field(&second, "name").to_string(), "parts[2].name");
        assert_eq!(Path::Index(&top, 0).to_string(), "[0]");
        assert_eq!(Path::Root("seq").to_string(), "seq");
        assert_eq!(Path::TOP.to_string(), "");
    }
}
