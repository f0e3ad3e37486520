//! Outgoing network access under a policy: every HTTP request and every socket
//! address is checked against the plugin's `network` grant, and counted.
//!
//! HTTP requests are sent by our own connector rather than wasmtime-wasi-http's
//! default one, so that the host name is resolved once, every resolved address
//! is vetted (no DNS-rebinding window between check and connect), and the bytes
//! on the wire are metered. Requests to hosts with a policy rate limit wait
//! for their turn first (see [`super::ratelimit`]).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bioai_policy::NetworkGrant;
use http::uri::Scheme;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::meters::NetCounters;
use super::ratelimit::{RateKey, RateLimiter};

/// How long DNS resolution plus TCP connect may take when the guest sets no timeout.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The network side of one call: the grant, the counters and the denials.
#[derive(Clone)]
pub struct NetAccess {
    grant: Arc<NetworkGrant>,
    counters: Arc<NetCounters>,
    denials: Arc<Mutex<Vec<String>>>,
    pacing: Option<Pacing>,
}

/// What rate-limited requests of a call need: the runtime's shared
/// [`RateLimiter`], whose requests they are, and until when they may wait.
#[derive(Clone)]
struct Pacing {
    limiter: Arc<RateLimiter>,
    plugin: Arc<str>,
    env: Arc<[(String, String)]>,
    deadline: Instant,
}

impl NetAccess {
    /// Network access as `grant` allows, metered into `counters`.
    pub fn new(grant: Arc<NetworkGrant>, counters: Arc<NetCounters>) -> Self {
        Self {
            grant,
            counters,
            denials: Arc::default(),
            pacing: None,
        }
    }

    /// Applies the grant's `rate_limits` through the runtime's `limiter`,
    /// as requests of `plugin` whose environment is `env` (which selects
    /// `with_env` rates); requests wait for their turn until `deadline`.
    pub(crate) fn paced(
        mut self,
        limiter: Arc<RateLimiter>,
        plugin: &str,
        env: &[(String, String)],
        deadline: Instant,
    ) -> Self {
        if !self.grant.rate_limits.is_empty() {
            self.pacing = Some(Pacing {
                limiter,
                plugin: plugin.into(),
                env: env.into(),
                deadline,
            });
        }
        self
    }

    /// Waits until a request to `host:port` may start under the policy's
    /// rate limit for it, if any. Fails only when its turn would come after
    /// the call's deadline.
    async fn pace(&self, host: &str, port: u16) -> Result<(), HttpError> {
        let Some(pacing) = &self.pacing else {
            return Ok(());
        };
        let Some(limit) = self.grant.rate_limit_for(host, port) else {
            return Ok(());
        };
        let key = RateKey {
            plugin: pacing.plugin.clone(),
            pattern: limit.pattern.to_string(),
        };
        let rate = limit.effective(&pacing.env);
        let now = Instant::now();
        match pacing.limiter.reserve(&key, rate, now, pacing.deadline) {
            Ok(start) => {
                if start > now {
                    tracing::debug!(
                        host,
                        rate,
                        wait_ms = (start - now).as_millis() as u64,
                        "request waits for its turn under the policy's rate limit"
                    );
                    tokio::time::sleep_until(start.into()).await;
                }
                Ok(())
            }
            Err(past) => Err(HttpError::InternalError(Some(format!(
                "rate limit of {rate} requests/s for {}: the next free slot is {} ms away, after this \
                 call's deadline; retry later or raise limits.timeout_ms",
                limit.pattern,
                past.earliest.saturating_duration_since(now).as_millis()
            )))),
        }
    }

    /// What the policy refused during the call, in order.
    pub fn denials(&self) -> Vec<String> {
        self.denials.lock().clone()
    }

    fn deny(&self, what: String) {
        tracing::info!(denied = %what, "network access denied by policy");
        self.denials.lock().push(what);
    }

    /// The check behind `wasi:sockets`: called for every bind, connect and datagram.
    pub fn socket_check(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let allowed = match usage {
            // Binding to the wildcard address is what the OS does implicitly
            // before a connect; it grants nothing by itself.
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                !self.grant.is_empty() && addr.ip().is_unspecified()
            }
            // Plugins are clients only: they never accept connections.
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
            _ => self.grant.allows_socket_addr(addr),
        };
        if allowed {
            if matches!(usage, SocketAddrUse::TcpConnect) {
                self.counters.add_request();
            }
        } else {
            self.deny(format!(
                "socket {usage:?} to {addr}: address not allowed by the policy's network.allow"
            ));
        }
        allowed
    }

    /// Resolves `host:port` (already on the allow-list) and returns the
    /// addresses the policy allows, or the reason for refusing.
    async fn vet(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, HttpError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| HttpError::DnsError {
                rcode: Some(e.to_string()),
                info_code: None,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(HttpError::DestinationNotFound);
        }
        // Refuse the name if any of its addresses is off-limits: a name that
        // mixes public and private addresses is a rebinding trick.
        if let Some(bad) = addrs.iter().find(|a| !self.grant.allows_ip(a.ip())) {
            self.deny(format!(
                "HTTP to {host}:{port}: resolves to non-public address {}; set network.allow_private = true to allow it",
                bad.ip()
            ));
            return Err(HttpError::DestinationIpProhibited);
        }
        Ok(addrs)
    }
}

impl WasiHttpHooks for NetAccess {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let this = self.clone();
        Box::new(async move { this.send(request, options).await })
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

impl NetAccess {
    async fn send(
        self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<(http::Response<WasiBody>, IoFuture), HttpError> {
        let uri = request.uri().clone();
        let host = uri
            .host()
            .ok_or(HttpError::HttpRequestUriInvalid)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let use_tls = uri.scheme() == Some(&Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if use_tls { 443 } else { 80 });
        let connect_timeout = options
            .and_then(|o| o.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let first_byte_timeout = options
            .and_then(|o| o.first_byte_timeout)
            .unwrap_or(Duration::from_secs(600));

        // Allow-list first (a refused request uses no rate slot), then the
        // rate limit (its wait is not connect time), then DNS vetting.
        if !self.grant.allows_host(&host, port) {
            self.deny(format!(
                "HTTP to {host}:{port}: host not in the policy's network.allow"
            ));
            return Err(HttpError::HttpRequestDenied);
        }
        self.pace(&host, port).await?;
        let addrs = tokio::time::timeout(connect_timeout, self.vet(&host, port))
            .await
            .map_err(|_| HttpError::DnsTimeout)??;
        let tcp = tokio::time::timeout(connect_timeout, TcpStream::connect(&addrs[..]))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(HttpError::Connect)?;
        self.counters.add_request();
        let counted = CountingStream {
            inner: tcp,
            counters: self.counters.clone(),
        };

        let stream: Box<dyn Stream> = if use_tls {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let name = match host.parse::<std::net::IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::from(ip),
                Err(_) => rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(HttpError::InvalidDnsNameError)?,
            };
            Box::new(
                connector
                    .connect(name, counted)
                    .await
                    .map_err(HttpError::Tls)?,
            )
        } else {
            Box::new(counted)
        };

        let (mut sender, conn) = tokio::time::timeout(
            connect_timeout,
            hyper::client::conn::http1::handshake(TokioIo::new(stream)),
        )
        .await
        .map_err(|_| HttpError::ConnectionTimeout)??;

        // The request line carries only the path; the authority is in `Host`.
        *request.uri_mut() = http::Uri::builder()
            .path_and_query(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
            .build()
            .map_err(|_| HttpError::HttpRequestUriInvalid)?;

        let conn = tokio::spawn(conn);
        let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)??;
        let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
        let io: IoFuture = Box::new(async move {
            match conn.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(HttpError::from(e)),
                Err(_) => Err(HttpError::ConnectionTerminated),
            }
        });
        Ok((response, io))
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

/// A TCP stream that counts the bytes crossing it.
struct CountingStream {
    inner: TcpStream,
    counters: Arc<NetCounters>,
}

impl AsyncRead for CountingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.counters.add_in(read);
        res
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            self.counters.add_out(n);
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
