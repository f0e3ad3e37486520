//! An incremental parser of Server-Sent Events (the `text/event-stream`
//! format both providers stream in), following the WHATWG rules that matter
//! here: `event:` and `data:` fields, several `data:` lines joined with a
//! newline, comments (`:`) ignored, a blank line dispatching the event, and
//! LF, CRLF or CR line ends (also when split across network chunks).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Feeds bytes in as they arrive and hands back the complete events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    /// The event being built.
    event: Option<String>,
    data: Option<String>,
    /// The last byte seen was a CR: a LF right after it is the same line end.
    after_cr: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `bytes` and returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                _ => self.pending.push(b),
            }
        }
        out
    }

    /// Whether a partial event (a line or fields without the closing blank
    /// line) is buffered: at the end of the body it means the stream was cut.
    pub fn has_partial(&self) -> bool {
        !self.pending.is_empty() || self.data.is_some() || self.event.is_some()
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.pending);
        if line.is_empty() {
            // Dispatch; an event without data is dropped, as the spec says.
            let event = self.event.take();
            if let Some(data) = self.data.take() {
                out.push(SseEvent { event, data });
            }
            return;
        }
        let line = String::from_utf8_lossy(&line);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            // `id` and `retry` do not matter for one request's answer.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    #[test]
    fn parses_events_fields_and_comments() {
        let mut p = SseParser::new();
        let out = p.feed(
            b": keep-alive\n\nevent: message_start\ndata: {\"a\":1}\n\ndata:x\ndata: y\nid: 7\n\n",
        );
        assert_eq!(
            out,
            vec![ev(Some("message_start"), "{\"a\":1}"), ev(None, "x\ny")]
        );
        assert!(!p.has_partial());
    }

    #[test]
    fn events_split_anywhere_across_chunks_and_line_ends() {
        let text = b"event: a\r\ndata: one\r\n\r\ndata: two\r\rdata: three\n\n";
        let whole = SseParser::new().feed(text);
        assert_eq!(
            whole,
            vec![ev(Some("a"), "one"), ev(None, "two"), ev(None, "three")]
        );
        for split in 1..text.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&text[..split]);
            got.extend(p.feed(&text[split..]));
            assert_eq!(got, whole, "split at {split}");
        }
        // Byte by byte.
        let mut p = SseParser::new();
        let got: Vec<_> = text.iter().flat_map(|b| p.feed(&[*b])).collect();
        assert_eq!(got, whole);
    }

    #[test]
    fn a_cut_event_is_partial_and_not_dispatched() {
        let mut p = SseParser::new();
        assert_eq!(
            p.feed(b"data: {\"choices\":[]}\n\ndata: {\"cho"),
            vec![ev(None, "{\"choices\":[]}")]
        );
        assert!(p.has_partial());
        let mut p = SseParser::new();
        assert!(p.feed(b"data: whole line\n").is_empty());
        assert!(p.has_partial());
    }

    #[test]
    fn multibyte_text_split_between_chunks_survives() {
        let text = "data: héllo ✓\n\n".as_bytes();
        let mut p = SseParser::new();
        let mut got = p.feed(&text[..8]);
        got.extend(p.feed(&text[8..]));
        assert_eq!(got, vec![ev(None, "héllo ✓")]);
    }
}
