//! Which engine a run's `requirements` need: the packages bundled into the
//! CPython component, and the ones that need native code (the fallback).

/// The pinned pure-Python packages bundled into the sandbox component, as
/// `host/src/sandbox/python/packages.txt` lists them (the same file the component's
/// build reads, so the two cannot drift).
const PACKAGES_TXT: &str = include_str!("python/packages.txt");

/// Packages known to need compiled extension modules (so they cannot run in
/// the WebAssembly component), with the module name they are imported as.
const NATIVE: &[(&str, &str)] = &[
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("scipy", "scipy"),
    ("biopython", "Bio"),
    ("scikit-learn", "sklearn"),
    ("matplotlib", "matplotlib"),
    ("statsmodels", "statsmodels"),
    ("pysam", "pysam"),
    ("h5py", "h5py"),
    ("lxml", "lxml"),
    ("pillow", "PIL"),
    ("pyarrow", "pyarrow"),
    ("polars", "polars"),
    ("numba", "numba"),
    ("torch", "torch"),
    ("scikit-bio", "skbio"),
    ("anndata", "anndata"),
    ("scanpy", "scanpy"),
    ("pyyaml", "yaml"),
    ("primer3-py", "primer3"),
];

/// A package bundled into the component: its normalized name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundled {
    /// The normalized distribution name (lowercase, `-` separators).
    pub name: String,
    /// The pinned version.
    pub version: String,
}

/// The bundled packages, in `packages.txt` order.
pub fn bundled() -> Vec<Bundled> {
    PACKAGES_TXT
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, version) = l.split_once("==")?;
            Some(Bundled {
                name: normalize(name),
                version: version.trim().to_string(),
            })
        })
        .collect()
}

/// One entry of a run's `requirements`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// As the caller wrote it.
    pub raw: String,
    /// The normalized distribution name.
    pub name: String,
    /// The version after `==`, if pinned exactly.
    pub pinned: Option<String>,
}

impl Requirement {
    /// Parses `name`, `name==1.2`, `name>=1` (specifiers other than `==` are
    /// accepted and not checked: the installed version is what runs).
    pub fn parse(raw: &str) -> Result<Requirement, String> {
        let text = raw.trim();
        let end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(end);
        if name.is_empty() {
            return Err(format!(
                "requirement {raw:?} does not start with a package name (write e.g. \"uncertainties\" or \"uncertainties==3.2.2\")"
            ));
        }
        let rest = rest.trim();
        let pinned = rest
            .strip_prefix("==")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let valid_rest = rest.is_empty()
            || pinned.is_some()
            || ["<", ">", "!", "~", "="]
                .iter()
                .any(|p| rest.starts_with(p));
        if !valid_rest {
            return Err(format!(
                "requirement {raw:?} is not a package name with an optional version specifier"
            ));
        }
        Ok(Requirement {
            raw: raw.to_string(),
            name: normalize(name),
            pinned,
        })
    }

    /// The module this package is imported as (`biopython` is `Bio`).
    pub fn import_name(&self) -> String {
        NATIVE
            .iter()
            .find(|(n, _)| *n == self.name)
            .map(|(_, m)| m.to_string())
            .unwrap_or_else(|| self.name.replace('-', "_"))
    }
}

/// Why a requirement cannot run in the component engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotBundled {
    /// The requirement as written.
    pub requirement: String,
    /// Why, in words for the user.
    pub reason: String,
}

/// Checks `requirements` against the bundled set; `Ok` when the component
/// engine can run them all, else the first one it cannot and why.
pub fn check(requirements: &[Requirement]) -> Result<(), NotBundled> {
    let bundled = bundled();
    for r in requirements {
        match bundled.iter().find(|b| b.name == r.name) {
            Some(b) => {
                if let Some(v) = &r.pinned
                    && *v != b.version
                {
                    return Err(NotBundled {
                        requirement: r.raw.clone(),
                        reason: format!(
                            "the component engine bundles {} {} and cannot install another version",
                            b.name, b.version
                        ),
                    });
                }
            }
            None => {
                let reason = if NATIVE.iter().any(|(n, _)| *n == r.name) {
                    format!(
                        "{} needs compiled (native) extension modules, which cannot run in the WebAssembly engine",
                        r.name
                    )
                } else {
                    format!(
                        "{} is not bundled in the WebAssembly engine (bundled: {})",
                        r.name,
                        bundled
                            .iter()
                            .map(|b| b.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(NotBundled {
                    requirement: r.raw.clone(),
                    reason,
                });
            }
        }
    }
    Ok(())
}

/// PEP 503 normalization: lowercase, runs of `-_.` become `-`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Requirement {
        Requirement::parse(s).expect("parses")
    }

    #[test]
    fn bundled_list_is_pinned_and_nonempty() {
        let b = bundled();
        assert!(b.iter().any(|p| p.name == "uncertainties"), "{b:?}");
        assert!(b.iter().all(|p| !p.version.is_empty()));
    }

    #[test]
    fn parses_names_and_pins() {
        assert_eq!(req("Uncertainties").name, "uncertainties");
        assert_eq!(req("scikit_learn>=1").name, "scikit-learn");
        assert_eq!(req("mpmath == 1.3.0").pinned.as_deref(), Some("1.3.0"));
        assert!(Requirement::parse("").is_err());
        assert!(Requirement::parse("numpy; rm -rf /").is_err());
        assert_eq!(req("biopython").import_name(), "Bio");
        assert_eq!(req("python-dateutil").import_name(), "python_dateutil");
    }

    #[test]
    fn routes_native_and_unknown_packages() {
        assert!(check(&[req("uncertainties"), req("mpmath")]).is_ok());
        let e = check(&[req("numpy")]).expect_err("numpy is native");
        assert!(e.reason.contains("native"), "{}", e.reason);
        let e = check(&[req("left-pad")]).expect_err("not bundled");
        assert!(e.reason.contains("not bundled"), "{}", e.reason);
        let e = check(&[req("uncertainties==1.0")]).expect_err("other version");
        assert!(e.reason.contains("another version"), "{}", e.reason);
    }
}
