//! Consistent error strings for tools returning `result<T, string>`.

use std::fmt;

/// What went wrong, which decides the prefix of the error string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A plain message with no prefix.
    Message,
    /// An argument was malformed or out of range: `invalid argument `name`: ...`.
    InvalidArgument,
    /// Something the call referred to does not exist: `not found: ...`.
    NotFound,
    /// A valid request the plugin does not support: `unsupported: ...`.
    Unsupported,
    /// The input or the work exceeds a limit of the plugin: `limit exceeded: ...`.
    LimitExceeded,
    /// A bug or an unexpected state in the plugin: `internal error: ...`.
    Internal,
}

/// An error of a tool call, turned into the `string` of a WIT
/// `result<T, string>` with [`String::from`] (or `?`, or [`bail!`](crate::bail)).
///
/// The string is `<prefix>: <detail>`, with a prefix chosen by the
/// [`ErrorKind`], so that every plugin words its errors the same way. Write
/// the detail for the model calling the tool: say what was wrong *and* what
/// to do instead.
///
/// ```
/// use bioai_sdk::ToolError;
///
/// let e = ToolError::invalid_argument(
///     "sequence",
///     "contains 'X' at position 12; use A, C, G, T or IUPAC codes",
/// );
/// assert_eq!(
///     String::from(e),
///     "invalid argument `sequence`: contains 'X' at position 12; use A, C, G, T or IUPAC codes"
/// );
///
/// fn parse_table(n: u8) -> Result<u8, String> {
///     if n == 0 {
///         return Err(ToolError::invalid_argument("table", "must be between 1 and 33").into());
///     }
///     Ok(n)
/// }
/// assert!(parse_table(0).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    kind: ErrorKind,
    argument: Option<String>,
    detail: String,
}

impl ToolError {
    /// An error whose string is exactly `message`.
    pub fn message(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Message, None, message.into())
    }

    /// The argument `argument` is invalid: ``invalid argument `argument`: detail``.
    pub fn invalid_argument(argument: impl Into<String>, detail: impl fmt::Display) -> Self {
        Self::new(
            ErrorKind::InvalidArgument,
            Some(argument.into()),
            detail.to_string(),
        )
    }

    /// Something does not exist: `not found: detail`.
    pub fn not_found(detail: impl fmt::Display) -> Self {
        Self::new(ErrorKind::NotFound, None, detail.to_string())
    }

    /// A valid request that the plugin does not support: `unsupported: detail`.
    pub fn unsupported(detail: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Unsupported, None, detail.to_string())
    }

    /// The input or the work is over a limit: `limit exceeded: detail`.
    pub fn limit_exceeded(detail: impl fmt::Display) -> Self {
        Self::new(ErrorKind::LimitExceeded, None, detail.to_string())
    }

    /// A bug or an unexpected state: `internal error: detail`.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, None, detail.to_string())
    }

    fn new(kind: ErrorKind, argument: Option<String>, detail: String) -> Self {
        Self {
            kind,
            argument,
            detail,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The name of the offending argument, for [`ErrorKind::InvalidArgument`].
    pub fn argument(&self) -> Option<&str> {
        self.argument.as_deref()
    }

    /// The detail: the error string without its prefix.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Message => f.write_str(&self.detail),
            ErrorKind::InvalidArgument => match &self.argument {
                Some(arg) => write!(f, "invalid argument `{arg}`: {}", self.detail),
                None => write!(f, "invalid argument: {}", self.detail),
            },
            ErrorKind::NotFound => write!(f, "not found: {}", self.detail),
            ErrorKind::Unsupported => write!(f, "unsupported: {}", self.detail),
            ErrorKind::LimitExceeded => write!(f, "limit exceeded: {}", self.detail),
            ErrorKind::Internal => write!(f, "internal error: {}", self.detail),
        }
    }
}

impl std::error::Error for ToolError {}

impl From<ToolError> for String {
    fn from(e: ToolError) -> Self {
        e.to_string()
    }
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self::message(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self::message(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(ToolError::message("plain").to_string(), "plain");
        assert_eq!(
            ToolError::not_found("record `x`").to_string(),
            "not found: record `x`"
        );
        assert_eq!(
            ToolError::unsupported("table 7").to_string(),
            "unsupported: table 7"
        );
        assert_eq!(
            ToolError::limit_exceeded("input over 64 MiB").to_string(),
            "limit exceeded: input over 64 MiB"
        );
        assert_eq!(
            ToolError::internal("oops").to_string(),
            "internal error: oops"
        );
    }

    #[test]
    fn question_mark_converts_into_string() {
        fn inner() -> Result<(), ToolError> {
            Err(ToolError::invalid_argument("n", "must be positive"))
        }
        fn outer() -> Result<(), String> {
            inner()?;
            Ok(())
        }
        assert_eq!(
            outer().unwrap_err(),
            "invalid argument `n`: must be positive"
        );
    }
}
