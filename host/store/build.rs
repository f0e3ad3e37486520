//! Embeds `migrations/postgres/` and `migrations/sqlite/` in the crate:
//! writes `$OUT_DIR/migrations.rs`, one `(version, description, sql)` per
//! file, which `src/schema.rs` turns into sqlx migrators. File names follow
//! sqlx's convention, `<version>_<description>.sql`.
//!
//! This does what `sqlx::migrate!` does without sqlx's macro crate, which
//! would build both database drivers (and SQLite's C source) a second time
//! for the compiler on every clean build.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut out = String::new();
    for backend in ["postgres", "sqlite"] {
        let dir = root.join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<(i64, String, std::path::PathBuf)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading the migrations in {}: {e}", dir.display()))
            .map(|entry| entry.expect("a migration directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .map(|path| {
                let name = path.file_stem().unwrap_or_default().to_string_lossy();
                let (version, description) = name.split_once('_').unwrap_or_else(|| {
                    panic!(
                        "{}: name a migration <version>_<description>.sql",
                        path.display()
                    )
                });
                let version = version.parse().unwrap_or_else(|_| {
                    panic!(
                        "{}: the version (before the first `_`) must be an integer",
                        path.display()
                    )
                });
                assert!(
                    !description.ends_with(".up") && !description.ends_with(".down"),
                    "{}: reversible migrations are not supported",
                    path.display()
                );
                (version, description.replace('_', " "), path)
            })
            .collect();
        files.sort();
        writeln!(
            out,
            "/// `migrations/{backend}/`: (version, description, SQL), ascending.\n\
             pub(crate) const {}: &[(i64, &str, &str)] = &[",
            backend.to_uppercase()
        )
        .expect("write to a String");
        for (version, description, path) in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let path = path.canonicalize().expect("a migration's absolute path");
            writeln!(
                out,
                "    ({version}, {description:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .expect("write to a String");
        }
        out.push_str("];\n");
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migrations.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}
