//! A test-only plugin that misbehaves on request.
//!
//! Built with plain `wit-bindgen` (not `bioai-sdk`), to show that any
//! component loads as a plugin. See `wit/hostile.wit` for what each export
//! does.

wit_bindgen::generate!({
    world: "hostile",
});

use exports::test::hostile::attacks::Guest;
use std::io::{Read as _, Write as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const MIB: usize = 1 << 20;

/// Chunks from `allocate-mib`, kept alive for the life of the instance.
static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

struct Hostile;

/// Writes `bytes` bytes of `x` lines (1024 bytes each, the last one
/// shorter) with `println!`/`eprintln!`-style macros.
fn flood(bytes: u64, stderr: bool) {
    let line = "x".repeat(1023);
    let full = bytes / 1024;
    let rest = (bytes % 1024) as usize;
    for _ in 0..full {
        if stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    if rest > 0 {
        let tail = &line[..rest - 1];
        if stderr {
            eprintln!("{tail}");
        } else {
            println!("{tail}");
        }
    }
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

fn http_get(url: &str) -> Result<String, String> {
    use wasi::http::outgoing_handler;
    use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};

    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not an absolute URL: {url:?}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_string()),
    };
    let request = OutgoingRequest::new(Fields::new());
    request
        .set_method(&Method::Get)
        .map_err(|()| "invalid method".to_string())?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "invalid scheme".to_string())?;
    request
        .set_authority(Some(authority))
        .map_err(|()| format!("invalid authority {authority:?}"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| format!("invalid path {path:?}"))?;

    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    let response = loop {
        match future.get() {
            Some(result) => break result,
            None => future.subscribe().block(),
        }
    };
    let response = response
        .map_err(|()| "response already taken".to_string())?
        .map_err(|e| format!("{e:?}"))?;
    let status = response.status();
    let body = response
        .consume()
        .map_err(|()| "response body already taken".to_string())?;
    let mut bytes = Vec::new();
    {
        // The stream must be dropped before the body is finished.
        let stream = body
            .stream()
            .map_err(|()| "response body stream already taken".to_string())?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(wasi::io::streams::StreamError::Closed) => break,
                Err(e) => return Err(format!("{e:?}")),
            }
        }
    }
    let _trailers = wasi::http::types::IncomingBody::finish(body);
    Ok(format!("{status} {}", String::from_utf8_lossy(&bytes)))
}

impl Guest for Hostile {
    fn spin() {
        let mut i: u64 = 0;
        loop {
            i = std::hint::black_box(i.wrapping_add(1));
        }
    }

    fn sleep_ms(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn allocate_mib(mib: u32) -> u32 {
        // Infallible allocations: when memory cannot grow, the allocator
        // aborts and the call traps.
        let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(mib as usize);
        for i in 0..mib {
            // Every byte is written, so the memory is really committed.
            chunks.push(std::hint::black_box(vec![(i % 251) as u8 + 1; MIB]));
        }
        let allocated = std::hint::black_box(&chunks).len() as u32;
        // Keep the chunks alive for the life of the instance.
        KEPT.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(chunks);
        allocated
    }

    fn read_file(path: String) -> Result<String, String> {
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn write_file(path: String, content: String) -> Result<(), String> {
        std::fs::write(&path, content).map_err(|e| e.to_string())
    }

    fn list_dir(path: String) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&path).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn http_get(url: String) -> Result<String, String> {
        http_get(&url)
    }

    fn tcp_connect(addr: String) -> Result<(), String> {
        let stream = std::net::TcpStream::connect(addr.as_str()).map_err(|e| e.to_string())?;
        drop(stream);
        Ok(())
    }

    fn get_env(name: String) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn env_vars() -> Vec<(String, String)> {
        std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect()
    }

    fn flood_stdout(bytes: u64) {
        flood(bytes, false);
    }

    fn flood_stderr(bytes: u64) {
        flood(bytes, true);
    }

    fn burn(iterations: u64) -> u64 {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..iterations {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        x
    }

    fn trap() {
        panic!("hostile: deliberate trap");
    }

    fn echo(text: String) -> String {
        text
    }

    fn counter() -> u32 {
        static CALLS: AtomicU32 = AtomicU32::new(0);
        CALLS.fetch_add(1, Ordering::SeqCst) + 1
    }
}

export!(Hostile);
