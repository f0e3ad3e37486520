//! Error types: bad tool arguments, values that do not match their WIT type,
//! and functions whose signature cannot be exposed as a tool.

use std::fmt;

/// What kind of problem an [`ArgError`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgErrorKind {
    /// The value at [`ArgError::path`] has the wrong JSON type, is out of
    /// range, or is not one of the allowed names.
    Invalid,
    /// A required argument or record field is absent.
    Missing,
    /// An argument or record field that the tool does not know.
    Unknown {
        /// The names accepted at that level, in declaration order.
        accepted: Vec<String>,
    },
    /// The arguments as a whole are not a JSON object.
    NotAnObject,
    /// The argument's WIT type (a resource, handle, future, stream,
    /// error-context, ...) cannot be written as JSON at all.
    Unsupported {
        /// The WIT type, e.g. `own<blob>`.
        wit_type: String,
    },
}

/// A bad tool argument.
///
/// Says which field ([`path`](Self::path), such as `parts[2].name` or
/// `sequence`), what was expected and what was found. The `Display` form is
/// meant to be shown to the caller (a model or a person) as is, e.g.
/// ``argument `parts[2].name`: expected a string, found the number 3``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ArgError {
    /// Where the problem is: argument name, then `.field` for record fields,
    /// `[i]` for list/tuple items, `.case` for variant payloads and
    /// `.ok`/`.err` for results. Empty for the arguments object itself.
    pub path: String,
    /// What was expected, as a phrase (`a string`, `an integer from 0 to 255`).
    pub expected: String,
    /// What was found, as a phrase (`the number 3`, `nothing`).
    pub found: String,
    /// The kind of problem; decides the wording of the message.
    pub kind: ArgErrorKind,
}

impl ArgError {
    /// A value of the wrong shape or out of range.
    pub(crate) fn invalid(
        path: &crate::path::Path<'_>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        ArgError {
            path: path.to_string(),
            expected: expected.into(),
            found: found.into(),
            kind: ArgErrorKind::Invalid,
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ArgError {
            path,
            expected,
            found,
            kind,
        } = self;
        match kind {
            ArgErrorKind::Invalid => {
                write!(f, "argument `{path}`: expected {expected}, found {found}")
            }
            ArgErrorKind::Missing => {
                write!(
                    f,
                    "missing required argument `{path}` (expected {expected})"
                )
            }
            ArgErrorKind::Unknown { accepted } if accepted.is_empty() => {
                write!(f, "unknown argument `{path}`: nothing is accepted here")
            }
            ArgErrorKind::Unknown { accepted } => {
                write!(f, "unknown argument `{path}`; accepted: ")?;
                for (i, name) in accepted.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
            ArgErrorKind::NotAnObject => {
                write!(f, "the arguments must be {expected}, found {found}")
            }
            ArgErrorKind::Unsupported { wit_type } => write!(
                f,
                "argument `{path}` has the WIT type `{wit_type}`, which cannot be passed as JSON"
            ),
        }
    }
}

/// A component value that cannot be converted to JSON: it does not match its
/// WIT type (a host bug or a mismatched `Resolve`), or the type has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The value does not have the shape its WIT type says.
    #[error("{} does not match its WIT type: expected {expected}, found {found}", at(.path))]
    Mismatch {
        /// Where in the value (`items[1].name`); empty for the value itself.
        path: String,
        /// The WIT type or case that was expected.
        expected: String,
        /// What the value actually is.
        found: String,
    },
    /// The function returned a different number of values than it declares.
    #[error("the function should return {expected} value(s), but returned {found}")]
    ResultCount {
        /// Number of results the WIT signature declares (0 or 1).
        expected: usize,
        /// Number of values actually passed in.
        found: usize,
    },
    /// The value's WIT type (resource, handle, future, stream, error-context)
    /// has no JSON form.
    #[error("{} has the WIT type `{wit_type}`, which cannot be converted to JSON", at(.path))]
    Unsupported {
        /// Where in the value; empty for the value itself.
        path: String,
        /// The WIT type, e.g. `own<blob>`.
        wit_type: String,
    },
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "the returned value".to_owned()
    } else {
        format!("the returned value at `{path}`")
    }
}

/// A function that cannot be offered as a tool because a parameter (or the
/// result) uses a type with no JSON form. Returned by
/// [`ToolSignature::check_supported`](crate::ToolSignature::check_supported).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnsupportedTypeError {
    /// The WIT name of the function.
    pub function: String,
    /// The WIT name of the offending parameter; `None` when it is the result.
    pub param: Option<String>,
    /// Where inside the parameter (or result) the type sits, e.g. `opts.blob`
    /// (JSON names); equal to the parameter's JSON name when it is the
    /// parameter's own type, empty for the result's own type.
    pub path: String,
    /// The unsupported WIT type, e.g. `own<blob>` or `stream<u8>`.
    pub wit_type: String,
}

impl fmt::Display for UnsupportedTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let UnsupportedTypeError {
            function,
            param,
            path,
            wit_type,
        } = self;
        write!(f, "function `{function}` cannot be a tool: ")?;
        match param {
            Some(param) => write!(f, "parameter `{param}`")?,
            None => f.write_str("its result")?,
        }
        write!(f, " uses the WIT type `{wit_type}`")?;
        if !path.is_empty() && param.as_deref().map(crate::snake_case).as_deref() != Some(path) {
            write!(f, " (at `{path}`)")?;
        }
        match param {
            Some(_) => f.write_str(
                "; resources, handles, futures, streams, error-context and maps \
                 cannot be tool arguments",
            ),
            None => f.write_str(
                "; resources, handles, futures, streams and error-context \
                 cannot be returned as JSON",
            ),
        }
    }
}
