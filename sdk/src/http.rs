//! Outgoing HTTP for plugins: blocking `GET` requests over `wasi:http`.
//!
//! The host sends every request on the plugin's behalf and checks it against
//! the plugin's policy (`[network] allow` in `policies/<plugin>.toml`); it
//! also applies the policy's per-host rate limits, so a request may wait
//! before it is sent. This module turns the `wasi:http` handshake into one
//! call and the host's refusals into errors a model can act on.
//!
//! ```no_run
//! use bioai_sdk::http::Client;
//!
//! # fn main() -> Result<(), bioai_sdk::http::HttpError> {
//! let client = Client::new("ncbi");
//! let url = format!(
//!     "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?{}",
//!     bioai_sdk::http::query(&[("db", "gene"), ("term", "TP53[sym] AND human[orgn]")]),
//! );
//! let response = client.get(&url, &[("accept", "application/json")])?;
//! if response.is_success() {
//!     let text = response.text()?;
//!     # let _ = text;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Responses are read whole into memory, up to [`Client::max_body_bytes`]
//! (default [`DEFAULT_MAX_BODY_BYTES`]); a larger body is an error rather
//! than a silently truncated result. Outside WebAssembly (native unit tests
//! of a plugin's logic) every request fails with [`HttpError::Unavailable`].

use std::fmt;
use std::time::Duration;

/// The default cap on a response body: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

/// The default time to wait for the connection and for the first byte of
/// the response, each.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A response read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers in the order received; names are lowercase.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body).map_err(|e| HttpError::NotUtf8 {
            at: e.valid_up_to(),
        })
    }
}

/// Why a request failed. The messages name the host and say what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL could not be used (not `http(s)://host/...`, or bad characters).
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host refused the request: the host name is not in the plugin's
    /// network allow-list.
    Denied {
        /// The host name of the URL.
        host: String,
        /// The plugin whose policy refused it.
        plugin: String,
    },
    /// The host refused the request: the name resolves to a private,
    /// loopback or otherwise non-public address.
    PrivateAddress {
        /// The host name of the URL.
        host: String,
        /// The plugin whose policy refused it.
        plugin: String,
    },
    /// No answer in time (DNS, connect, or first byte).
    Timeout {
        /// The host name of the URL.
        host: String,
    },
    /// The service could not be reached or the connection failed.
    Connection {
        /// The host name of the URL.
        host: String,
        /// What `wasi:http` reported.
        detail: String,
    },
    /// The body is larger than [`Client::max_body_bytes`].
    TooLarge {
        /// The host name of the URL.
        host: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The body is not UTF-8 (from [`Response::text`]).
    NotUtf8 {
        /// The offset of the first invalid byte.
        at: usize,
    },
    /// Requests can only be made from inside a WebAssembly component.
    Unavailable,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidUrl { url, reason } => write!(f, "invalid URL `{url}`: {reason}"),
            HttpError::Denied { host, plugin } => write!(
                f,
                "denied by policy: {host} is not in this plugin's network allow-list \
                 (policies/{plugin}.toml [network] allow)"
            ),
            HttpError::PrivateAddress { host, plugin } => write!(
                f,
                "denied by policy: {host} resolves to a non-public address, which this plugin may not \
                 reach (policies/{plugin}.toml [network] allow_private)"
            ),
            HttpError::Timeout { host } => write!(
                f,
                "{host} did not answer in time: the service may be slow or down; try again later"
            ),
            HttpError::Connection { host, detail } => write!(
                f,
                "could not get a response from {host} ({detail}): the service may be down; try again later"
            ),
            HttpError::TooLarge { host, limit } => write!(
                f,
                "the response from {host} is larger than {limit} bytes: ask for less (fewer ids or records)"
            ),
            HttpError::NotUtf8 { at } => {
                write!(f, "the response is not UTF-8 text (invalid byte at offset {at})")
            }
            HttpError::Unavailable => f.write_str(
                "HTTP requests can only be made from inside a WebAssembly component run by the host",
            ),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for String {
    fn from(e: HttpError) -> String {
        e.to_string()
    }
}

impl From<HttpError> for crate::ToolError {
    fn from(e: HttpError) -> crate::ToolError {
        crate::ToolError::message(e.to_string())
    }
}

/// Request settings: who is asking (for error messages) and the limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    plugin: String,
    max_body_bytes: usize,
    timeout: Duration,
}

impl Client {
    /// A client for plugin `plugin` (its policy file stem, used in error
    /// messages) with the default body cap and timeout.
    pub fn new(plugin: impl Into<String>) -> Self {
        Self {
            plugin: plugin.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets the largest response body accepted, in bytes.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets how long to wait for the connection and for the first byte of
    /// the response, each. (The host's per-call deadline still applies.)
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Sends `GET url` with the given extra headers (a `user-agent` of
    /// `bioai-sdk/VERSION (PLUGIN)` is added unless given) and reads the
    /// whole response. Any status counts as a response; check
    /// [`Response::is_success`].
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, HttpError> {
        let parts = Url::parse(url)?;
        imp::get(self, &parts, headers)
    }
}

/// `GET url` with a [`Client`] for `plugin`; see [`Client::get`].
pub fn get(plugin: &str, url: &str, headers: &[(&str, &str)]) -> Result<Response, HttpError> {
    Client::new(plugin).get(url, headers)
}

/// The base URL of a service: the value of environment variable `var` when
/// it is set and not empty, else `default`; without trailing `/`.
///
/// Plugins read their service's base URL this way so that an operator (or a
/// test, through the policy's `[env]`) can point them at a mirror or a
/// stand-in server. The policy's allow-list must still admit its host.
///
/// ```
/// let base = bioai_sdk::http::base_url("NO_SUCH_VAR_X", "https://rest.uniprot.org/").unwrap();
/// assert_eq!(base, "https://rest.uniprot.org");
/// ```
pub fn base_url(var: &str, default: &str) -> Result<String, HttpError> {
    let value = std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string());
    let value = value.trim().trim_end_matches('/').to_string();
    Url::parse(&value).map_err(|e| match e {
        HttpError::InvalidUrl { url, reason } => HttpError::InvalidUrl {
            url,
            reason: format!("{reason} (from the environment variable {var})"),
        },
        other => other,
    })?;
    Ok(value)
}

/// Percent-encodes `s` for use in a URL path segment or query value: every
/// byte except the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
///
/// ```
/// assert_eq!(bioai_sdk::http::encode("TP53[sym] AND human"), "TP53%5Bsym%5D%20AND%20human");
/// ```
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string (without the `?`) from name/value pairs, each encoded
/// with [`encode`].
///
/// ```
/// assert_eq!(bioai_sdk::http::query(&[("db", "gene"), ("term", "a&b")]), "db=gene&term=a%26b");
/// ```
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The parts of an absolute URL that `wasi:http` wants separately.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url<'a> {
    https: bool,
    /// `host[:port]`.
    authority: &'a str,
    /// The host name alone (no port, no brackets), lowercased.
    host: String,
    /// `/path?query`, at least `/`.
    path_and_query: String,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Result<Self, HttpError> {
        let bad = |reason: &str| HttpError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("write an absolute URL such as `https://host/path`"))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(bad("only http:// and https:// URLs are supported")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let mut path_and_query = &rest[end..];
        if let Some(hash) = path_and_query.find('#') {
            path_and_query = &path_and_query[..hash];
        }
        if authority.is_empty() {
            return Err(bad("the URL has no host"));
        }
        if authority.contains('@') {
            return Err(bad("user names and passwords in URLs are not supported"));
        }
        if url
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii())
        {
            return Err(bad(
                "it contains spaces, control or non-ASCII characters: percent-encode them (see `http::encode`)",
            ));
        }
        // `https://host` and `https://host?x` have the path `/`.
        let path_and_query = if path_and_query.starts_with('/') {
            path_and_query.to_string()
        } else {
            format!("/{path_and_query}")
        };
        Ok(Self {
            https,
            authority,
            host: host_of(authority),
            path_and_query,
        })
    }
}

/// The host part of `host[:port]` / `[v6]:port`, lowercased.
fn host_of(authority: &str) -> String {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    host.to_ascii_lowercase()
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{Client, HttpError, Response, Url};
    use wasi::http::outgoing_handler;
    use wasi::http::types::{
        ErrorCode, Fields, IncomingBody, Method, OutgoingRequest, RequestOptions, Scheme,
    };
    use wasi::io::streams::StreamError;

    /// How much to ask the body stream for at a time.
    const CHUNK: u64 = 64 * 1024;

    pub(super) fn get(
        client: &Client,
        url: &Url<'_>,
        headers: &[(&str, &str)],
    ) -> Result<Response, HttpError> {
        let host = url.host.clone();
        let internal = |what: &str| HttpError::Connection {
            host: host.clone(),
            detail: what.to_string(),
        };
        let mut list: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.as_bytes().to_vec()))
            .collect();
        // Services ask clients to identify themselves.
        if !list.iter().any(|(k, _)| k == "user-agent") {
            let agent = format!(
                "bioai-sdk/{} ({})",
                env!("CARGO_PKG_VERSION"),
                client.plugin
            );
            list.push(("user-agent".into(), agent.into_bytes()));
        }
        let fields = Fields::from_list(&list).map_err(|e| HttpError::InvalidUrl {
            url: format!("{}{}", url.authority, url.path_and_query),
            reason: format!(
                "a request header was refused ({e:?}); use plain ASCII header names and values"
            ),
        })?;
        let request = OutgoingRequest::new(fields);
        request
            .set_method(&Method::Get)
            .map_err(|()| internal("the GET method was refused"))?;
        let scheme = if url.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        request
            .set_scheme(Some(&scheme))
            .map_err(|()| internal("the scheme was refused"))?;
        request
            .set_authority(Some(url.authority))
            .map_err(|()| HttpError::InvalidUrl {
                url: url.authority.to_string(),
                reason: "the host part is not valid".into(),
            })?;
        request
            .set_path_with_query(Some(&url.path_and_query))
            .map_err(|()| HttpError::InvalidUrl {
                url: url.path_and_query.clone(),
                reason: "the path is not valid".into(),
            })?;

        let options = RequestOptions::new();
        let nanos = u64::try_from(client.timeout.as_nanos()).unwrap_or(u64::MAX);
        // Hosts may not support every timeout; an unsupported one is not an error.
        let _ = options.set_connect_timeout(Some(nanos));
        let _ = options.set_first_byte_timeout(Some(nanos));
        let _ = options.set_between_bytes_timeout(Some(nanos));

        let future = outgoing_handler::handle(request, Some(options))
            .map_err(|e| error_code(e, client, &host))?;
        let response = loop {
            match future.get() {
                Some(result) => break result,
                None => future.subscribe().block(),
            }
        };
        let response = response
            .map_err(|()| internal("the response was already taken"))?
            .map_err(|e| error_code(e, client, &host))?;
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect::<Vec<_>>();
        let too_large = || HttpError::TooLarge {
            host: host.clone(),
            limit: client.max_body_bytes,
        };
        // Refuse early when the server announces a body over the cap.
        if let Some((_, len)) = headers.iter().find(|(k, _)| k == "content-length")
            && len
                .trim()
                .parse::<u64>()
                .is_ok_and(|n| n > client.max_body_bytes as u64)
        {
            return Err(too_large());
        }

        let body = response
            .consume()
            .map_err(|()| internal("the response body was already taken"))?;
        let mut bytes = Vec::new();
        {
            // The stream must be dropped before the body is finished.
            let stream = body
                .stream()
                .map_err(|()| internal("the response body stream was already taken"))?;
            loop {
                match stream.blocking_read(CHUNK) {
                    Ok(chunk) => {
                        if bytes.len() + chunk.len() > client.max_body_bytes {
                            return Err(too_large());
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Err(StreamError::Closed) => break,
                    Err(StreamError::LastOperationFailed(e)) => {
                        return Err(match wasi::http::types::http_error_code(&e) {
                            Some(code) => error_code(code, client, &host),
                            None => internal(&e.to_debug_string()),
                        });
                    }
                }
            }
        }
        let _trailers = IncomingBody::finish(body);
        Ok(Response {
            status,
            headers,
            body: bytes,
        })
    }

    /// Maps a `wasi:http` error to ours; the host's policy refusals first.
    fn error_code(code: ErrorCode, client: &Client, host: &str) -> HttpError {
        let host = host.to_string();
        match code {
            ErrorCode::HttpRequestDenied => HttpError::Denied {
                host,
                plugin: client.plugin.clone(),
            },
            ErrorCode::DestinationIpProhibited => HttpError::PrivateAddress {
                host,
                plugin: client.plugin.clone(),
            },
            ErrorCode::DnsTimeout
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout => HttpError::Timeout { host },
            ErrorCode::HttpResponseBodySize(_) => HttpError::TooLarge {
                host,
                limit: client.max_body_bytes,
            },
            other => HttpError::Connection {
                host,
                detail: format!("{other:?}"),
            },
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{Client, HttpError, Response, Url};

    pub(super) fn get(
        _client: &Client,
        _url: &Url<'_>,
        _headers: &[(&str, &str)],
    ) -> Result<Response, HttpError> {
        Err(HttpError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_parts() {
        let u = Url::parse("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=gene")
            .unwrap();
        assert!(u.https);
        assert_eq!(u.authority, "eutils.ncbi.nlm.nih.gov");
        assert_eq!(u.host, "eutils.ncbi.nlm.nih.gov");
        assert_eq!(u.path_and_query, "/entrez/eutils/esearch.fcgi?db=gene");

        let u = Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(!u.https);
        assert_eq!(u.authority, "127.0.0.1:8080");
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.path_and_query, "/");

        let u = Url::parse("http://[::1]:80?x=1#frag").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.path_and_query, "/?x=1");

        for bad in [
            "eutils.ncbi.nlm.nih.gov/x",
            "ftp://host/x",
            "https:///x",
            "https://user@host/",
            "https://host/a b",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(HttpError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(query(&[]), "");
    }

    #[test]
    fn denial_message_names_the_policy() {
        let e = HttpError::Denied {
            host: "example.org".into(),
            plugin: "ncbi".into(),
        };
        assert_eq!(
            e.to_string(),
            "denied by policy: example.org is not in this plugin's network allow-list \
             (policies/ncbi.toml [network] allow)"
        );
    }

    #[test]
    fn native_requests_are_unavailable() {
        assert_eq!(
            get("x", "https://example.org/", &[]),
            Err(HttpError::Unavailable)
        );
    }
}
