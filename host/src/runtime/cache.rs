//! Compiled components cached on disk, keyed by the component's hash and the
//! engine's settings, so a restart does not recompile.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Creates the cache directory, readable only by the host's user: the files in
/// it are native code that the host maps executable.
pub(super) fn prepare_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// SHA-256 of the component bytes, hex.
pub(super) fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The cache file name: component digest plus a hash of everything in the
/// engine's configuration that affects compiled code, plus our version.
fn key(engine: &Engine, digest: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    format!("{digest}-{:016x}.cwasm", h.finish())
}

/// Returns the compiled component, from the cache when possible.
pub(super) fn compile(
    engine: &Engine,
    cache_dir: Option<&Path>,
    digest: &str,
    bytes: &[u8],
) -> wasmtime::Result<Component> {
    let Some(dir) = cache_dir else {
        return Component::new(engine, bytes);
    };
    let key = key(engine, digest);
    let path = dir.join(&key);
    if let Some(component) = load(engine, &path) {
        return Ok(component);
    }
    // Hosts sharing the cache (or tests starting several at once) wait for
    // the one compiling this component instead of compiling it again.
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{key}.lock")));
    if let Ok(file) = &lock
        && let Err(e) = file.lock()
    {
        tracing::debug!("compiling without the cache lock: {e}");
    }
    if let Some(component) = load(engine, &path) {
        return Ok(component);
    }
    let component = Component::new(engine, bytes)?;
    match component.serialize() {
        Ok(artifact) => {
            if let Err(e) = write_atomically(dir, &path, &artifact) {
                tracing::warn!(path = %path.display(), "could not write compiled-component cache entry: {e}");
            }
        }
        Err(e) => tracing::warn!("could not serialize compiled component: {e:#}"),
    }
    // The lock is released when `lock` is closed.
    drop(lock);
    Ok(component)
}

/// The cached component at `path`, if there is a usable one.
fn load(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file is in the host's private cache directory (created
    // 0700 by `prepare_dir`) and was written there by `Component::serialize`
    // under a name that includes the engine's compatibility hash; wasmtime
    // additionally checks the artifact's header against this engine and
    // returns an error (handled below) on any mismatch.
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %path.display(), "discarding unusable compiled-component cache entry: {e:#}");
            let _ = std::fs::remove_file(path);
            None
        }
    }
}

/// Writes to a temporary file and renames it into place, so a concurrent
/// reader never sees a half-written artifact.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
