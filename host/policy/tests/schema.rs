//! The shipped policies parse and validate against `policies/policy.schema.json`,
//! and the parser and the schema agree on good and bad policies.

use std::path::{Path, PathBuf};

use bioai_policy::{PolicySet, load_file, parse_policy};

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(policies_dir().join("policy.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::meta::validate(&schema)
        .expect("the schema is valid JSON Schema 2020-12");
    jsonschema::draft202012::new(&schema).expect("the schema compiles")
}

/// TOML text -> JSON, as an editor's schema check sees it.
fn to_json(text: &str) -> serde_json::Value {
    let value: toml::Value =
        toml::from_str(text).unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"));
    serde_json::to_value(value).unwrap()
}

fn schema_errors(v: &jsonschema::Validator, text: &str) -> Vec<String> {
    v.iter_errors(&to_json(text))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// A directory that exists, for `host = "{DIR}"`.
fn with_dir(text: &str, dir: &Path) -> String {
    text.replace("{DIR}", &dir.display().to_string())
}

#[test]
fn shipped_policies_parse_and_match_the_schema() {
    let v = validator();
    let mut count = 0;
    for entry in std::fs::read_dir(policies_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        count += 1;
        if let Err(e) = load_file(&path) {
            panic!("{} does not parse:\n{e:#?}", path.display());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let errors = schema_errors(&v, &text);
        assert!(
            errors.is_empty(),
            "{} fails the schema: {errors:#?}",
            path.display()
        );
    }
    assert!(count >= 1, "no shipped policies found");
    let set = PolicySet::load(&[policies_dir()]).unwrap();
    assert_eq!(set.len(), count);
}

#[test]
fn readme_example_parses_and_matches_the_schema() {
    let readme = std::fs::read_to_string(policies_dir().join("README.md")).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("README has a ```toml example")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let example = &readme[start..start + len];
    let v = validator();
    assert_eq!(schema_errors(&v, example), Vec::<String>::new());

    let d = tempfile::tempdir().unwrap();
    let text = example.replace("/srv/bioai/genomes", &d.path().display().to_string());
    let p = parse_policy(&d.path().join("ncbi.toml"), &text).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(p.plugin, "ncbi");
    assert_eq!(p.network.allow.len(), 3);
    assert_eq!(p.env.len(), 2);
    assert_eq!(p.dirs.len(), 1);
}

const GOOD: &[&str] = &[
    "plugin = \"x\"",
    "plugin = \"blast-2_x\"\nnamespace = \"blast_2\"",
    "plugin = \"x\"\n[limits]\nfuel = 2e10\nmemory_mib = 4096\ntimeout_ms = 3_600_000\nmax_output_bytes = 1024",
    "plugin = \"x\"\n[limits]\nfuel = 1\nmemory_mib = 1\ntimeout_ms = 1",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/data/a.b/c..d\"\nwritable = true",
    "plugin = \"x\"\ndirs = [{ host = \"{DIR}\", guest = \"/d\" }]",
    "plugin = \"x\"\n[workspace]",
    "plugin = \"x\"\n[workspace]\nguest = \"/w\"",
    "plugin = \"x\"\n[network]\nallow = []",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\", \"*.co.uk\", \"A.ORG:443\", \"x_y.internal:65535\", \"8.8.8.8\", \"1.1.1.1:53\", \"[2606:4700::1111]:443\", \"2606:4700::1111\", \"xn--bcher-kva.de\", \"123.example.org\", \"minio\"]",
    "plugin = \"x\"\n[network]\nallow = [\"127.0.0.1:8080\", \"[::1]\", \"localhost\"]\nallow_private = true",
    "plugin = \"x\"\n[env]\nA = \"1\"\n_B = { from_host = \"B\" }\nc9 = \"\"",
    "plugin = \"x\"\n[env.TOKEN]\nfrom_host = \"T\"",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\", \"b.org:443\"]\n[network.rate_limits]\n\"a.org\" = 3\n\"b.org:443\" = { per_second = 10_000 }",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\nrate_limits = { \"a.org\" = { per_second = 3, with_env = \"K\", with_env_per_second = 10 } }\n[env]\nK = { from_host = \"K\" }",
];

#[test]
fn good_policies_pass_both() {
    let v = validator();
    let d = tempfile::tempdir().unwrap();
    for text in GOOD {
        let text = with_dir(text, d.path());
        if let Err(e) = parse_policy(&d.path().join("x.toml"), &text) {
            panic!("parser rejects:\n{text}\n{e:#?}");
        }
        assert_eq!(
            schema_errors(&v, &text),
            Vec::<String>::new(),
            "schema rejects:\n{text}"
        );
    }
}

/// Bad policies that both the parser and the schema must reject.
const BAD: &[&str] = &[
    // plugin / namespace
    "",
    "namespace = \"x\"",
    "plugin = 1",
    "plugin = \"NCBI\"",
    "plugin = \"1x\"",
    "plugin = \"\"",
    "plugin = \"a.b\"",
    "plugin = \"x\"\nnamespace = \"a-b\"",
    "plugin = \"x\"\nnamespace = \"A\"",
    // unknown keys
    "plugin = \"x\"\nextra = 1",
    "plugin = \"x\"\nfuel = 1",
    "plugin = \"x\"\n[limits]\nmemory_mb = 1",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d\"\nreadonly = true",
    "plugin = \"x\"\n[workspace]\npath = \"/w\"",
    "plugin = \"x\"\n[network]\nallowed = []",
    "plugin = \"x\"\n[env]\nA = { from_host = \"B\", default = \"c\" }",
    // limits
    "plugin = \"x\"\n[limits]\nfuel = 0",
    "plugin = \"x\"\n[limits]\nfuel = -1",
    "plugin = \"x\"\n[limits]\nfuel = \"1\"",
    "plugin = \"x\"\n[limits]\nfuel = 1.5",
    "plugin = \"x\"\n[limits]\nmemory_mib = 0",
    "plugin = \"x\"\n[limits]\nmemory_mib = 4097",
    "plugin = \"x\"\n[limits]\ntimeout_ms = 0",
    "plugin = \"x\"\n[limits]\ntimeout_ms = 3_600_001",
    "plugin = \"x\"\n[limits]\nmax_output_bytes = 1023",
    "plugin = \"x\"\nlimits = 5",
    // dirs
    "plugin = \"x\"\n[dirs]\nhost = \"{DIR}\"\nguest = \"/d\"",
    "plugin = \"x\"\n[[dirs]]\nguest = \"/d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"\"\nguest = \"/d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"~/data\"\nguest = \"/d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d/\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"//d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d/../etc\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/./d\"",
    "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d\"\nwritable = \"yes\"",
    // workspace
    "plugin = \"x\"\n[workspace]\nguest = \"w\"",
    "plugin = \"x\"\n[workspace]\nguest = \"/w/..\"",
    "plugin = \"x\"\nworkspace = true",
    // network
    "plugin = \"x\"\n[network]\nallow = \"a.org\"",
    "plugin = \"x\"\n[network]\nallow = [1]",
    "plugin = \"x\"\n[network]\nallow_private = \"yes\"",
    "plugin = \"x\"\n[network]\nallow = [\"\"]",
    "plugin = \"x\"\n[network]\nallow = [\"https://x.org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"x.org/path\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a b.org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"*\"]",
    "plugin = \"x\"\n[network]\nallow = [\"*:443\"]",
    "plugin = \"x\"\n[network]\nallow = [\"*.com\"]",
    "plugin = \"x\"\n[network]\nallow = [\"*uniprot.org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.*.org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"*.10.0.0\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.org:0\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.org:65536\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.org:08\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.org:\"]",
    "plugin = \"x\"\n[network]\nallow = [\"127.1\"]",
    "plugin = \"x\"\n[network]\nallow = [\"1.2.3.256\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a..org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"-a.org\"]",
    "plugin = \"x\"\n[network]\nallow = [\"a.org.\"]",
    "plugin = \"x\"\n[network]\nallow = [\"bücher.de\"]",
    "plugin = \"x\"\n[network]\nallow = [\"[::1\"]",
    // rate limits
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\nrate_limits = 3",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = 0",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = 10_001",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = \"3\"",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = 1.5",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"https://a.org\" = 3",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = { burst = 3 }",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = { per_second = 3, with_env = \"K\" }\n[env]\nK = \"1\"",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = { per_second = 3, with_env_per_second = 9 }",
    "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = { per_second = 3, with_env = \"1K\", with_env_per_second = 9 }",
    // env
    "plugin = \"x\"\n[env]\n\"1A\" = \"v\"",
    "plugin = \"x\"\n[env]\n\"A-B\" = \"v\"",
    "plugin = \"x\"\n[env]\nA = 3",
    "plugin = \"x\"\n[env]\nA = true",
    "plugin = \"x\"\n[env]\nA = {}",
    "plugin = \"x\"\n[env]\nA = { from_host = \"1X\" }",
    "plugin = \"x\"\n[env]\nA = { from_host = 3 }",
    "plugin = \"x\"\nenv = [\"A\"]",
];

#[test]
fn bad_policies_fail_both() {
    let v = validator();
    let d = tempfile::tempdir().unwrap();
    for text in BAD {
        let text = with_dir(text, d.path());
        match parse_policy(&d.path().join("x.toml"), &text) {
            Ok(p) => panic!("parser accepts:\n{text}\n{p:?}"),
            Err(e) => {
                for e in &e {
                    assert!(e.line >= 1 && e.column >= 1, "{e}");
                    assert!(
                        e.message.contains(':') || e.message.contains("e.g."),
                        "no fix in {e}"
                    );
                }
            }
        }
        assert!(
            v.iter_errors(&to_json(&text)).next().is_some(),
            "schema accepts:\n{text}"
        );
    }
}

/// What only the parser can check: the file system, uniqueness across
/// entries, and the meaning of IP addresses. The schema lets these pass.
#[test]
fn semantic_checks_are_parser_only() {
    let v = validator();
    let d = tempfile::tempdir().unwrap();
    for text in [
        "plugin = \"x\"\n[[dirs]]\nhost = \"/no/such/dir/bioai\"\nguest = \"/d\"",
        "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/d\"",
        "plugin = \"x\"\n[[dirs]]\nhost = \"{DIR}\"\nguest = \"/workspace\"\n[workspace]",
        "plugin = \"x\"\n[network]\nallow = [\"10.0.0.1\"]",
        "plugin = \"x\"\n[network]\nallow = [\"localhost\"]",
        "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"b.org\" = 3",
        "plugin = \"x\"\n[network]\nallow = [\"a.org\"]\n[network.rate_limits]\n\"a.org\" = { per_second = 3, with_env = \"K\", with_env_per_second = 9 }",
    ] {
        let text = with_dir(text, d.path());
        assert!(
            parse_policy(&d.path().join("x.toml"), &text).is_err(),
            "parser accepts:\n{text}"
        );
        assert_eq!(schema_errors(&v, &text), Vec::<String>::new(), "{text}");
    }
}
