//! [`PolicySet`]: every policy file of the policy directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::PolicyError;
use crate::{Policy, load_file_positioned};

/// The policies of all `*.toml` files in the policy directories, by plugin.
///
/// A plugin without a policy file gets [`Policy::default_for`] (see
/// [`get_or_default`](Self::get_or_default)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySet {
    by_plugin: BTreeMap<String, Policy>,
}

impl PolicySet {
    /// Loads all `*.toml` files of the given directories (non-recursive,
    /// sorted by file name within each directory, directories in the order
    /// given). Other files (README.md, policy.schema.json) and hidden files
    /// (names starting with `.`, such as editor lock files) are ignored.
    ///
    /// Returns every problem found in every file: a directory that cannot
    /// be read, any error in any file, and a `plugin` defined by more than
    /// one file (reported at the later file, naming the earlier one).
    pub fn load(dirs: &[PathBuf]) -> Result<PolicySet, Vec<PolicyError>> {
        let mut errors = Vec::new();
        let mut by_plugin: BTreeMap<String, Policy> = BTreeMap::new();
        let mut defined_at: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
        let mut seen_files = Vec::new();
        for dir in dirs {
            let files = match toml_files(dir) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            for file in files {
                // The same directory listed twice (or via a symlink) is not a duplicate.
                let canonical = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
                if seen_files.contains(&canonical) {
                    continue;
                }
                seen_files.push(canonical);
                match load_file_positioned(&file) {
                    Ok(parsed) => {
                        let plugin = parsed.policy.plugin.clone();
                        let (line, column) = parsed.plugin_position;
                        if let Some((first, first_line)) = defined_at.get(&plugin) {
                            errors.push(PolicyError {
                                file: file.clone(),
                                line,
                                column,
                                field: Some("plugin".into()),
                                message: format!(
                                    "plugin `{plugin}` already has a policy in {}:{first_line}: each plugin \
                                     gets exactly one policy file; merge the two files or delete one",
                                    first.display()
                                ),
                            });
                        } else {
                            defined_at.insert(plugin.clone(), (file.clone(), line));
                            by_plugin.insert(plugin, parsed.policy);
                        }
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
        }
        if errors.is_empty() {
            Ok(PolicySet { by_plugin })
        } else {
            Err(errors)
        }
    }

    /// A set with no policies: every plugin gets [`Policy::default_for`].
    pub fn empty() -> PolicySet {
        PolicySet::default()
    }

    /// The policy of the plugin with this file stem, if a file defines one.
    pub fn get(&self, plugin: &str) -> Option<&Policy> {
        self.by_plugin.get(plugin)
    }

    /// The plugin's policy, or [`Policy::default_for`] when no file defines one.
    pub fn get_or_default(&self, plugin: &str) -> Policy {
        self.get(plugin)
            .cloned()
            .unwrap_or_else(|| Policy::default_for(plugin))
    }

    /// All policies, ordered by plugin name.
    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.by_plugin.values()
    }

    /// The number of policies.
    pub fn len(&self) -> usize {
        self.by_plugin.len()
    }

    /// True when there are no policies.
    pub fn is_empty(&self) -> bool {
        self.by_plugin.is_empty()
    }
}

/// The `*.toml` files directly in `dir`, sorted by name.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    let problem = |message: String| PolicyError {
        file: dir.to_path_buf(),
        line: 0,
        column: 0,
        field: None,
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        problem(if e.kind() == std::io::ErrorKind::NotFound {
            "the policy directory does not exist: create it, or fix the configured policy directory"
                .into()
        } else {
            format!("cannot read the policy directory ({e}): fix its path or permissions")
        })
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| problem(format!("cannot list the policy directory ({e})")))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        // Follows symlinks: a linked policy file counts, a directory named x.toml does not.
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
