//! Bounded capture of a guest's stdout and stderr.
//!
//! The guest may write without limit; the host keeps the first `cap` bytes and
//! counts the rest, so a flood neither fails the guest's writes nor grows host
//! memory. The captured text ends with a marker saying how much was dropped.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// How many bytes the guest may hand over per write; any amount is accepted.
const WRITE_BUDGET: usize = 64 * 1024;

#[derive(Debug)]
struct Inner {
    kept: Vec<u8>,
    cap: usize,
    total: u64,
}

/// One captured output stream (stdout or stderr) of one call.
#[derive(Debug, Clone)]
pub struct CapturedOutput(Arc<Mutex<Inner>>);

/// The captured output after the call, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Captured {
    /// The first bytes written (lossy UTF-8), followed by a truncation marker
    /// when more was written than the policy's `max_output_bytes`.
    pub text: String,
    /// Everything the guest wrote, in bytes, including what was dropped.
    pub total_bytes: u64,
    /// Whether output was dropped.
    pub truncated: bool,
}

impl CapturedOutput {
    /// A capture keeping at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            kept: Vec::new(),
            cap,
            total: 0,
        })))
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.0.lock();
        inner.total += bytes.len() as u64;
        let room = inner.cap.saturating_sub(inner.kept.len());
        let take = room.min(bytes.len());
        inner.kept.extend_from_slice(&bytes[..take]);
    }

    /// The output so far, with a marker if it was truncated.
    pub fn finish(&self) -> Captured {
        let inner = self.0.lock();
        let mut text = String::from_utf8_lossy(&inner.kept).into_owned();
        let dropped = inner.total - inner.kept.len() as u64;
        if dropped > 0 {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!(
                "[output truncated: {dropped} more bytes not kept; the limit is {} bytes (policy limits.max_output_bytes)]",
                inner.cap
            ));
        }
        Captured {
            text,
            total_bytes: inner.total,
            truncated: dropped > 0,
        }
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_prefix_and_marks_truncation() {
        let out = CapturedOutput::new(5);
        out.push(b"abc");
        out.push(b"defgh");
        let c = out.finish();
        assert_eq!(c.total_bytes, 8);
        assert!(c.truncated);
        assert!(c.text.starts_with("abcde\n[output truncated: 3 more bytes"));
    }

    #[test]
    fn small_output_is_untouched() {
        let out = CapturedOutput::new(100);
        out.push(b"hello\n");
        let c = out.finish();
        assert_eq!(c.text, "hello\n");
        assert!(!c.truncated);
    }
}
