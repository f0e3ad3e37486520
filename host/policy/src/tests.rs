//! Tests of parsing, validation, error positions and policy sets.

use super::*;
use std::fs;

const FILE: &str = "policies/t.toml";

fn parse(text: &str) -> Result<Policy, Vec<PolicyError>> {
    parse_policy(Path::new(FILE), text)
}

fn errs(text: &str) -> Vec<PolicyError> {
    match parse(text) {
        Ok(p) => panic!("expected errors, parsed {p:?}"),
        Err(e) => e,
    }
}

/// The single error of `text`; checks its line, column and field.
#[track_caller]
fn one(text: &str, line: usize, column: usize, field: Option<&str>) -> String {
    let e = errs(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    let e = &e[0];
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (line, column, field),
        "position/field of {e}"
    );
    assert_eq!(e.file, Path::new(FILE));
    e.message.clone()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn full_example_parses_every_field() {
    let dir = tmp();
    fs::create_dir_all(dir.path().join("genomes")).unwrap();
    fs::create_dir_all(dir.path().join("policies/rel")).unwrap();
    let genomes = dir.path().join("genomes");
    let text = format!(
        r#"# policies/ncbi.toml
plugin = "ncbi"
namespace = "ncbi_tools"

[limits]
fuel = 5_000_000_000
memory_mib = 128
timeout_ms = 12_345
max_output_bytes = 4096

[[dirs]]
host = "{}"
guest = "/data/genomes"

[[dirs]]
host = "rel"
guest = "/data/rel"
writable = true

[workspace]
guest = "/work"

[network]
allow = ["eutils.ncbi.nlm.nih.gov", "*.uniprot.org", "rest.ensembl.org:443"]
allow_private = true

[env]
NCBI_API_KEY = {{ from_host = "HOST_KEY" }}
EMAIL = "ops@example.org"
"#,
        genomes.display()
    );
    let path = dir.path().join("policies/ncbi.toml");
    let p = parse_policy(&path, &text).unwrap();
    assert_eq!(p.plugin, "ncbi");
    assert_eq!(p.namespace.as_deref(), Some("ncbi_tools"));
    assert_eq!(
        p.limits,
        Limits {
            fuel: 5_000_000_000,
            memory_bytes: 128 << 20,
            timeout: Duration::from_millis(12_345),
            max_output_bytes: 4096,
        }
    );
    assert_eq!(
        p.dirs,
        vec![
            DirGrant {
                host: genomes.canonicalize().unwrap(),
                guest: "/data/genomes".into(),
                writable: false,
            },
            DirGrant {
                host: dir.path().join("policies/rel").canonicalize().unwrap(),
                guest: "/data/rel".into(),
                writable: true,
            },
        ]
    );
    assert_eq!(
        p.workspace,
        Some(WorkspaceGrant {
            guest: "/work".into()
        })
    );
    let allow: Vec<String> = p.network.allow.iter().map(ToString::to_string).collect();
    assert_eq!(
        allow,
        [
            "eutils.ncbi.nlm.nih.gov",
            "*.uniprot.org",
            "rest.ensembl.org:443"
        ]
    );
    assert!(p.network.allow_private);
    assert_eq!(
        p.env,
        vec![
            EnvGrant {
                name: "EMAIL".into(),
                value: EnvValue::Literal("ops@example.org".into()),
            },
            EnvGrant {
                name: "NCBI_API_KEY".into(),
                value: EnvValue::FromHost("HOST_KEY".into()),
            },
        ]
    );
    assert_eq!(p.source.as_deref(), Some(path.as_path()));

    assert_eq!(
        p.resolve_env(|k| (k == "HOST_KEY").then(|| "secret".to_string())),
        vec![
            ("EMAIL".to_string(), "ops@example.org".to_string()),
            ("NCBI_API_KEY".to_string(), "secret".to_string()),
        ]
    );
    // An unset host variable is left out.
    assert_eq!(
        p.resolve_env(|_| None),
        vec![("EMAIL".to_string(), "ops@example.org".to_string())]
    );
}

#[test]
fn minimal_policy_gets_defaults() {
    let p = parse("plugin = \"seq\"\n").unwrap();
    let d = Policy::default_for("seq");
    assert_eq!(
        Policy {
            source: None,
            ..p.clone()
        },
        d
    );
    assert_eq!(p.source.as_deref(), Some(Path::new(FILE)));
    assert_eq!(d.limits.fuel, 10_000_000_000);
    assert_eq!(d.limits.memory_bytes, 256 * 1024 * 1024);
    assert_eq!(d.limits.timeout, Duration::from_secs(30));
    assert_eq!(d.limits.max_output_bytes, 1 << 20);
    assert!(d.dirs.is_empty() && d.workspace.is_none() && d.env.is_empty());
    assert!(d.network.is_empty() && !d.network.allow_private);
    assert!(d.resolve_env(|_| Some("x".into())).is_empty());
}

#[test]
fn empty_sections_and_defaults_inside_them() {
    let p = parse("plugin = \"x\"\n[limits]\n[workspace]\n[network]\n[env]\n").unwrap();
    assert_eq!(p.limits, Limits::default());
    assert_eq!(
        p.workspace,
        Some(WorkspaceGrant {
            guest: "/workspace".into()
        })
    );
    assert!(p.network.is_empty());
    // Inline tables are the same as sections.
    let p =
        parse("plugin = \"x\"\nnetwork = { allow = [\"a.org\"] }\nlimits = { fuel = 7 }").unwrap();
    assert_eq!(p.limits.fuel, 7);
    assert!(p.network.allows_host("a.org", 1));
}

#[test]
fn whole_number_forms() {
    let p = parse("plugin = \"x\"\n[limits]\nfuel = 2e10\ntimeout_ms = 0x10\nmemory_mib = 0o20\n")
        .unwrap();
    assert_eq!(p.limits.fuel, 20_000_000_000);
    assert_eq!(p.limits.timeout, Duration::from_millis(16));
    assert_eq!(p.limits.memory_bytes, 16 << 20);
    let m = one(
        "plugin = \"x\"\n[limits]\ntimeout_ms = 1.5\n",
        3,
        14,
        Some("limits.timeout_ms"),
    );
    assert!(m.contains("whole number"), "{m}");
    let m = one(
        "plugin = \"x\"\n[limits]\nfuel = nan\n",
        3,
        8,
        Some("limits.fuel"),
    );
    assert!(m.contains("whole number"), "{m}");
}

#[test]
fn limit_ranges() {
    let cases = [
        ("fuel = 0", "limits.fuel", "at least 1"),
        ("fuel = -5", "limits.fuel", "at least 1"),
        (
            "memory_mib = 0",
            "limits.memory_mib",
            "between 1 and 4096 MiB",
        ),
        (
            "memory_mib = 4097",
            "limits.memory_mib",
            "between 1 and 4096 MiB",
        ),
        (
            "timeout_ms = 0",
            "limits.timeout_ms",
            "between 1 and 3_600_000 ms",
        ),
        (
            "timeout_ms = 3_600_001",
            "limits.timeout_ms",
            "between 1 and 3_600_000 ms",
        ),
        (
            "max_output_bytes = 1023",
            "limits.max_output_bytes",
            "at least 1024 bytes",
        ),
    ];
    for (line, field, want) in cases {
        let text = format!("plugin = \"x\"\n[limits]\n{line}\n");
        let col = line.find('=').unwrap() + 3;
        let m = one(&text, 3, col, Some(field));
        assert!(m.contains(want), "{line}: {m}");
        assert!(m.contains("e.g."), "{line}: {m}");
    }
    // Bounds themselves are fine.
    let p = parse(
        "plugin = \"x\"\n[limits]\nfuel = 1\nmemory_mib = 4096\ntimeout_ms = 3_600_000\nmax_output_bytes = 1024\n",
    )
    .unwrap();
    assert_eq!(p.limits.memory_bytes, 4096 << 20);
    assert_eq!(p.limits.timeout, Duration::from_secs(3600));
    let p = parse("plugin = \"x\"\n[limits]\nmemory_mib = 1\ntimeout_ms = 1\n").unwrap();
    assert_eq!(p.limits.memory_bytes, 1 << 20);
}

#[test]
fn syntax_errors_have_positions_and_no_field() {
    let e = errs("plugin = \"ncbi\"\nnamespace = = 3\n");
    assert!(!e.is_empty());
    assert_eq!((e[0].line, e[0].field.as_deref()), (2, None));
    assert!(e[0].message.starts_with("invalid TOML"), "{}", e[0].message);
    assert!(
        e[0].to_string().starts_with("policies/t.toml:2:"),
        "{}",
        e[0]
    );

    let m = one("plugin = \"ncbi\n", 1, 15, None);
    assert!(m.contains("invalid TOML"), "{m}");

    // Several syntax errors are all reported, in order.
    let e = errs("plugin = \"x\"\na = = 1\nb = [1,\n");
    assert!(e.len() >= 2, "{e:#?}");
    assert!(
        e.windows(2)
            .all(|w| (w[0].line, w[0].column) <= (w[1].line, w[1].column))
    );
}

#[test]
fn duplicate_key() {
    let m = one("plugin = \"x\"\n[limits]\nfuel = 1\nfuel = 2\n", 4, 1, None);
    assert!(m.contains("`fuel` is set twice"), "{m}");
    let e = errs("plugin = \"x\"\n[limits]\n[limits]\n");
    assert_eq!(e[0].line, 3, "{e:#?}");
}

#[test]
fn unknown_keys_everywhere() {
    let m = one(
        "plugin = \"x\"\nnamespaec = \"y\"\n",
        2,
        1,
        Some("namespaec"),
    );
    assert!(m.contains("did you mean `namespace`?"), "{m}");
    let m = one("plugin = \"x\"\ncolour = 1\n", 2, 1, Some("colour"));
    assert!(m.contains("unknown key `colour` at the top level"), "{m}");
    assert!(m.contains("`plugin`, `namespace`, `limits`"), "{m}");

    let m = one(
        "plugin = \"x\"\n[limits]\nmemory_mb = 1\n",
        3,
        1,
        Some("limits.memory_mb"),
    );
    assert!(m.contains("did you mean `memory_mib`?"), "{m}");
    let m = one(
        "plugin = \"x\"\n[limits]\ntimeout = 1\n",
        3,
        1,
        Some("limits.timeout"),
    );
    assert!(m.contains("did you mean `timeout_ms`?"), "{m}");

    let d = tmp();
    let text = format!(
        "plugin = \"x\"\n[[dirs]]\nhost = \"{}\"\nguest = \"/d\"\nreadonly = true\n",
        d.path().display()
    );
    let m = one(&text, 5, 1, Some("dirs[0].readonly"));
    assert!(m.contains("unknown key `readonly` in `dirs[0]`"), "{m}");

    let m = one(
        "plugin = \"x\"\n[workspace]\npath = \"/w\"\n",
        3,
        1,
        Some("workspace.path"),
    );
    assert!(m.contains("`guest`"), "{m}");
    let m = one(
        "plugin = \"x\"\n[network]\nallowed = []\n",
        3,
        1,
        Some("network.allowed"),
    );
    assert!(m.contains("did you mean `allow`?"), "{m}");
    let m = one(
        "plugin = \"x\"\n[env]\nA = { from_hots = \"B\" }\n",
        3,
        7,
        Some("env.A.from_hots"),
    );
    assert!(m.contains("did you mean `from_host`?"), "{m}");
}

#[test]
fn keys_in_the_wrong_section() {
    // A top-level key after a section header lands in that section.
    let m = one(
        "[limits]\nfuel = 1\nplugin = \"x\"\n",
        3,
        1,
        Some("limits.plugin"),
    );
    assert!(m.contains("move it to the top level"), "{m}");
    assert!(m.contains("belongs to that section"), "{m}");
    let m = one(
        "plugin = \"x\"\nallow_private = true\n",
        2,
        1,
        Some("allow_private"),
    );
    assert!(m.contains("`[network]` section"), "{m}");
    let m = one(
        "plugin = \"x\"\nmax_output_bytes = 2000\n",
        2,
        1,
        Some("max_output_bytes"),
    );
    assert!(m.contains("`[limits]` section"), "{m}");
}

#[test]
fn type_errors() {
    let cases: &[(&str, usize, usize, &str, &str)] = &[
        (
            "plugin = 1",
            1,
            10,
            "plugin",
            "expected a string, found an integer",
        ),
        (
            "plugin = \"x\"\nnamespace = true",
            2,
            13,
            "namespace",
            "expected a string, found a boolean",
        ),
        (
            "plugin = \"x\"\nlimits = 3",
            2,
            10,
            "limits",
            "expected a `[limits]` section, found an integer",
        ),
        (
            "plugin = \"x\"\n[limits]\nfuel = \"1\"",
            3,
            8,
            "limits.fuel",
            "expected a whole number, found a string",
        ),
        (
            "plugin = \"x\"\ndirs = \"/d\"",
            2,
            8,
            "dirs",
            "found a string",
        ),
        (
            "plugin = \"x\"\n[dirs]\nhost = \"/\"",
            2,
            1,
            "dirs",
            "`[[dirs]]` section (double brackets)",
        ),
        (
            "plugin = \"x\"\ndirs = [1]",
            2,
            9,
            "dirs[0]",
            "expected a `[[dirs]]` section, found an integer",
        ),
        (
            "plugin = \"x\"\n[workspace]\nguest = 1",
            3,
            9,
            "workspace.guest",
            "found an integer",
        ),
        (
            "plugin = \"x\"\nworkspace = \"/w\"",
            2,
            13,
            "workspace",
            "found a string",
        ),
        (
            "plugin = \"x\"\n[network]\nallow = \"a.org\"",
            3,
            9,
            "network.allow",
            "expected a list of host patterns, found a string",
        ),
        (
            "plugin = \"x\"\n[network]\nallow = [\"a.org\", 3]",
            3,
            19,
            "network.allow[1]",
            "expected a string, found an integer",
        ),
        (
            "plugin = \"x\"\n[network]\nallow_private = \"yes\"",
            3,
            17,
            "network.allow_private",
            "expected `true` or `false`, found a string",
        ),
        ("plugin = \"x\"\nenv = 1", 2, 7, "env", "found an integer"),
        (
            "plugin = \"x\"\n[env]\nN = 3",
            3,
            5,
            "env.N",
            "expected a string or `{ from_host = \"VAR\" }`, found an integer",
        ),
        (
            "plugin = \"x\"\n[env]\nN = { from_host = 3 }",
            3,
            19,
            "env.N.from_host",
            "found an integer",
        ),
        (
            "plugin = \"x\"\ndate = 1979-05-27",
            2,
            1,
            "date",
            "unknown key",
        ),
        (
            "plugin = \"x\"\n[limits]\nfuel = 1979-05-27",
            3,
            8,
            "limits.fuel",
            "found a datetime",
        ),
    ];
    for &(text, line, col, field, want) in cases {
        let m = one(text, line, col, Some(field));
        assert!(m.contains(want), "{text:?}: {m}");
    }
    let d = tmp();
    let text = format!(
        "plugin = \"x\"\n[[dirs]]\nhost = \"{}\"\nguest = \"/d\"\nwritable = \"yes\"\n",
        d.path().display()
    );
    let m = one(&text, 5, 12, Some("dirs[0].writable"));
    assert!(m.contains("write it without quotes"), "{m}");
}

#[test]
fn plugin_and_namespace_names() {
    let m = one("plugin = \"NCBI\"", 1, 10, Some("plugin"));
    assert!(m.contains("`NCBI` is not a plugin name"), "{m}");
    one("plugin = \"1x\"", 1, 10, Some("plugin"));
    one("plugin = \"\"", 1, 10, Some("plugin"));
    one("plugin = \"a.b\"", 1, 10, Some("plugin"));
    assert_eq!(parse("plugin = \"blast-2_x\"").unwrap().plugin, "blast-2_x");

    let m = one(
        "plugin = \"x\"\nnamespace = \"Ncbi-Tools\"",
        2,
        13,
        Some("namespace"),
    );
    assert!(m.contains("e.g. `ncbi_tools`"), "{m}");
    one(
        "plugin = \"x\"\nnamespace = \"_x\"",
        2,
        13,
        Some("namespace"),
    );
}

#[test]
fn missing_plugin() {
    let m = one("", 1, 1, Some("plugin"));
    assert!(m.contains("add `plugin = \"t\"`"), "{m}");
    let e = parse_policy(Path::new("dir/my-tool.toml"), "[limits]\nfuel = 1\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("plugin = \"my-tool\""), "{}", e[0]);
    // A bad plugin value is reported once, not also as missing.
    assert_eq!(errs("plugin = 3").len(), 1);
}

#[test]
fn all_errors_are_reported_sorted() {
    let text = "plugin = \"X\"\n[limits]\nfuel = 0\nmemory = 1\n[network]\nallow = [\"https://x\", \"ok.org\", \"*.com\"]\n[env]\n\"1A\" = \"v\"\n";
    let e = errs(text);
    let got: Vec<(usize, usize, Option<&str>)> = e
        .iter()
        .map(|e| (e.line, e.column, e.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 10, Some("plugin")),
            (3, 8, Some("limits.fuel")),
            (4, 1, Some("limits.memory")),
            (6, 10, Some("network.allow[0]")),
            (6, 33, Some("network.allow[2]")),
            (8, 1, Some("env.1A")),
        ]
    );
    assert_eq!(
        e[3].to_string(),
        "policies/t.toml:6:10: network.allow[0]: `https://x` is not a host pattern: write the host name only, e.g. `eutils.ncbi.nlm.nih.gov`"
    );
    assert!(e[4].message.contains("too broad"), "{}", e[4]);
}

#[test]
fn network_patterns_in_files() {
    let p = parse(
        "plugin = \"x\"\n[network]\nallow = [\"Rest.Ensembl.org:443\", \"*.UniProt.org\", \"192.0.2.1\"]\nallow_private = true\n",
    )
    .unwrap();
    assert!(p.network.allows_host("rest.ensembl.org", 443));
    assert!(!p.network.allows_host("rest.ensembl.org", 80));
    assert!(p.network.allows_host("rest.uniprot.org", 443));
    assert!(!p.network.allows_host("uniprot.org", 443));
    assert!(!p.network.allows_host("evil-uniprot.org", 443));
    assert!(p.network.allows_socket_addr("192.0.2.1:5".parse().unwrap()));

    for (pattern, want) in [
        ("", "empty string"),
        ("a b", "white space"),
        ("https://x", "write the host name only"),
        ("a.org/path", "path"),
        ("*", "every host"),
        ("*.com", "too broad"),
        ("a.org:70000", "invalid port"),
        ("a.*.org", "first label"),
        ("127.1", "complete IPv4"),
    ] {
        let text = format!("plugin = \"x\"\n[network]\nallow = [\"{pattern}\"]\n");
        let m = one(&text, 3, 10, Some("network.allow[0]"));
        assert!(m.contains(want), "{pattern:?}: {m}");
    }
}

#[test]
fn private_literals_need_allow_private() {
    let m = one(
        "plugin = \"x\"\n[network]\nallow = [\"a.org\", \"127.0.0.1:8080\"]\n",
        3,
        19,
        Some("network.allow[1]"),
    );
    assert!(m.contains("loopback"), "{m}");
    assert!(m.contains("allow_private = true"), "{m}");
    one(
        "plugin = \"x\"\n[network]\nallow = [\"[fd00::1]\"]\n",
        3,
        10,
        Some("network.allow[0]"),
    );
    one(
        "plugin = \"x\"\n[network]\nallow = [\"localhost\"]\n",
        3,
        10,
        Some("network.allow[0]"),
    );
    one(
        "plugin = \"x\"\n[network]\nallow = [\"*.localhost\"]\n",
        3,
        10,
        Some("network.allow[0]"),
    );
    // With allow_private they are fine, and so are public literals without it.
    parse("plugin = \"x\"\n[network]\nallow = [\"127.0.0.1:8080\", \"localhost\"]\nallow_private = true\n").unwrap();
    parse("plugin = \"x\"\n[network]\nallow = [\"8.8.8.8:53\"]\n").unwrap();
}

#[test]
fn dirs_relative_resolution() {
    let d = tmp();
    fs::create_dir_all(d.path().join("policies")).unwrap();
    fs::create_dir_all(d.path().join("data/ref")).unwrap();
    let path = d.path().join("policies/x.toml");
    let text = "plugin = \"x\"\n[[dirs]]\nhost = \"../data/ref\"\nguest = \"/ref\"\n[[dirs]]\nhost = \".\"\nguest = \"/policies\"\n";
    let p = parse_policy(&path, text).unwrap();
    assert_eq!(
        p.dirs[0].host,
        d.path().join("data/ref").canonicalize().unwrap()
    );
    assert!(p.dirs[0].host.is_absolute());
    assert_eq!(
        p.dirs[1].host,
        d.path().join("policies").canonicalize().unwrap()
    );

    // A bare file name resolves against the current directory.
    let p = parse_policy(
        Path::new("x.toml"),
        "plugin = \"x\"\n[[dirs]]\nhost = \".\"\nguest = \"/cwd\"\n",
    )
    .unwrap();
    assert_eq!(
        p.dirs[0].host,
        std::env::current_dir().unwrap().canonicalize().unwrap()
    );
}

#[test]
fn dirs_host_problems() {
    let d = tmp();
    fs::write(d.path().join("file.txt"), "x").unwrap();
    let path = d.path().join("x.toml");
    let check = |host: &str, want: &str| {
        let text = format!("plugin = \"x\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"/d\"\n");
        let e = parse_policy(&path, &text).unwrap_err();
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(
            (e[0].line, e[0].column, e[0].field.as_deref()),
            (3, 8, Some("dirs[0].host"))
        );
        assert!(e[0].message.contains(want), "{host}: {}", e[0].message);
    };
    check("missing", "does not exist: create it");
    check("missing", "resolved against the policy file's directory");
    check(
        "/definitely/not/here/bioai",
        "`/definitely/not/here/bioai` does not exist",
    );
    check("file.txt", "is not a directory");
    check("", "empty");
    check("~/data", "`~` is not expanded");
}

#[test]
fn dirs_missing_keys() {
    let e = errs("plugin = \"x\"\n[[dirs]]\nwritable = true\n");
    let got: Vec<_> = e
        .iter()
        .map(|e| (e.line, e.column, e.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [(2, 1, Some("dirs[0].host")), (2, 1, Some("dirs[0].guest"))]
    );
    assert!(e[0].message.contains("add `host = "), "{}", e[0]);
    assert!(e[1].message.contains("add `guest = "), "{}", e[1]);
}

#[test]
fn guest_paths() {
    let d = tmp();
    let host = d.path().display().to_string();
    for (guest, want) in [
        ("data", "absolute"),
        ("/", "hide every other mount"),
        ("/data/", "trailing"),
        ("//data", "empty component"),
        ("/data/../etc", "`..`"),
        ("/./data", "`..`"),
    ] {
        let text = format!("plugin = \"x\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"{guest}\"\n");
        let m = one(&text, 4, 9, Some("dirs[0].guest"));
        assert!(m.contains(want), "{guest}: {m}");
        let text = format!("plugin = \"x\"\n[workspace]\nguest = \"{guest}\"\n");
        one(&text, 3, 9, Some("workspace.guest"));
    }
}

#[test]
fn guest_paths_are_unique() {
    let d = tmp();
    let host = d.path().display().to_string();
    let text = format!(
        "plugin = \"x\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"/data\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"/data\"\n[workspace]\nguest = \"/data\"\n"
    );
    let e = errs(&text);
    let got: Vec<_> = e
        .iter()
        .map(|e| (e.line, e.column, e.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (5, 1, Some("dirs[1].guest")),
            (8, 1, Some("workspace.guest"))
        ]
    );
    assert!(
        e[0].message.contains("already used by dirs[0].guest"),
        "{}",
        e[0]
    );
    // The same host at two guest paths is fine.
    let text = format!(
        "plugin = \"x\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"/a\"\n[[dirs]]\nhost = \"{host}\"\nguest = \"/b\"\n[workspace]\n"
    );
    assert_eq!(parse(&text).unwrap().dirs.len(), 2);
}

#[test]
fn env_problems() {
    let m = one(
        "plugin = \"x\"\n[env]\n\"A-B\" = \"v\"\n",
        3,
        1,
        Some("env.A-B"),
    );
    assert!(m.contains("not an environment variable name"), "{m}");
    one(
        "plugin = \"x\"\n[env]\nA = { from_host = \"1X\" }\n",
        3,
        19,
        Some("env.A.from_host"),
    );
    let m = one("plugin = \"x\"\n[env]\nA = {}\n", 3, 5, Some("env.A"));
    assert!(m.contains("missing `from_host`"), "{m}");
    one(
        "plugin = \"x\"\n[env]\nA = \"a\\u0000b\"\n",
        3,
        5,
        Some("env.A"),
    );
    // Table form is the same as the inline form.
    let p = parse("plugin = \"x\"\n[env.TOKEN]\nfrom_host = \"T\"\n").unwrap();
    assert_eq!(p.env[0].value, EnvValue::FromHost("T".into()));
    // Empty literal is allowed.
    let p = parse("plugin = \"x\"\n[env]\nEMPTY = \"\"\n").unwrap();
    assert_eq!(
        p.resolve_env(|_| None),
        [("EMPTY".to_string(), String::new())]
    );
}

#[test]
fn columns_count_characters() {
    let m = one(
        "plugin = \"x\" # ünïcödé\n[limits]\n\"ü\" = 1\n",
        3,
        1,
        Some("limits.\"ü\""),
    );
    assert!(m.contains("unknown key"), "{m}");
    let e = errs("# ü\nplugin = \"é\"\n");
    assert_eq!((e[0].line, e[0].column), (2, 10));
}

#[test]
fn load_file_errors() {
    let d = tmp();
    let missing = d.path().join("nope.toml");
    let e = load_file(&missing).unwrap_err();
    assert_eq!((e[0].line, e[0].column), (0, 0));
    assert!(e[0].message.contains("does not exist"), "{}", e[0]);
    assert!(
        e[0].to_string()
            .starts_with(&format!("{}: ", missing.display()))
    );

    let bad = d.path().join("bad.toml");
    fs::write(&bad, b"plugin = \"x\"\n# ab\xff\n").unwrap();
    let e = load_file(&bad).unwrap_err();
    assert_eq!(
        (e[0].line, e[0].column, e[0].field.as_deref()),
        (2, 5, None)
    );
    assert!(e[0].message.contains("UTF-8"));

    let good = d.path().join("good.toml");
    fs::write(&good, "plugin = \"good\"\n").unwrap();
    let p = load_file(&good).unwrap();
    assert_eq!(p.plugin, "good");
    assert_eq!(p.source, Some(good));
}

#[test]
fn policy_set_loads_toml_files_only() {
    let d = tmp();
    let dir = d.path().to_path_buf();
    fs::write(dir.join("b.toml"), "plugin = \"beta\"\n").unwrap();
    fs::write(
        dir.join("a.toml"),
        "plugin = \"alpha\"\n[limits]\nfuel = 5\n",
    )
    .unwrap();
    fs::write(dir.join("README.md"), "# not a policy").unwrap();
    fs::write(dir.join("policy.schema.json"), "{}").unwrap();
    fs::write(dir.join(".#a.toml"), "garbage").unwrap();
    fs::write(dir.join("notes.toml.bak"), "garbage").unwrap();
    fs::create_dir(dir.join("sub.toml")).unwrap();
    fs::create_dir(dir.join("nested")).unwrap();
    fs::write(dir.join("nested/c.toml"), "plugin = \"gamma\"\n").unwrap();

    let set = PolicySet::load(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(set.len(), 2);
    assert!(!set.is_empty());
    assert_eq!(set.get("alpha").unwrap().limits.fuel, 5);
    assert_eq!(set.get("alpha").unwrap().source, Some(dir.join("a.toml")));
    assert!(set.get("gamma").is_none());
    let names: Vec<&str> = set.iter().map(|p| p.plugin.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(set.get_or_default("zeta"), Policy::default_for("zeta"));
    assert_eq!(set.get_or_default("beta").plugin, "beta");

    // The same directory twice is not a duplicate.
    assert_eq!(
        PolicySet::load(&[dir.clone(), dir.clone()]).unwrap().len(),
        2
    );

    let empty = PolicySet::empty();
    assert!(empty.is_empty() && empty.iter().count() == 0 && empty.get("alpha").is_none());
    assert_eq!(PolicySet::load(&[]).unwrap(), PolicySet::empty());
}

#[test]
fn policy_set_duplicate_plugin_names_both_files() {
    let d = tmp();
    let one_dir = d.path().join("one");
    let two_dir = d.path().join("two");
    fs::create_dir_all(&one_dir).unwrap();
    fs::create_dir_all(&two_dir).unwrap();
    fs::write(one_dir.join("ncbi.toml"), "plugin = \"ncbi\"\n").unwrap();
    fs::write(
        two_dir.join("other.toml"),
        "# copy\n\nplugin   = \"ncbi\"\n",
    )
    .unwrap();
    let e = PolicySet::load(&[one_dir.clone(), two_dir.clone()]).unwrap_err();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].file, two_dir.join("other.toml"));
    assert_eq!(
        (e[0].line, e[0].column, e[0].field.as_deref()),
        (3, 12, Some("plugin"))
    );
    let first = format!("{}:1", one_dir.join("ncbi.toml").display());
    assert!(e[0].message.contains(&first), "{}", e[0]);
    assert!(
        e[0].to_string()
            .contains("other.toml:3:12: plugin: plugin `ncbi` already has a policy in")
    );
}

#[test]
fn policy_set_collects_errors_of_all_files() {
    let d = tmp();
    let dir = d.path().to_path_buf();
    fs::write(dir.join("a.toml"), "plugin = \"a\"\n[limits]\nfuel = 0\n").unwrap();
    fs::write(dir.join("b.toml"), "plugin = \"b\"\n").unwrap();
    fs::write(dir.join("c.toml"), "plugin = \"c\"\nbogus = 1\n").unwrap();
    let missing = dir.join("missing");
    let e = PolicySet::load(&[dir.clone(), missing.clone()]).unwrap_err();
    let files: Vec<&Path> = e.iter().map(|e| e.file.as_path()).collect();
    assert_eq!(
        files,
        [dir.join("a.toml").as_path(), &dir.join("c.toml"), &missing]
    );
    assert!(
        e[2].message.contains("policy directory does not exist"),
        "{}",
        e[2]
    );
    assert_eq!((e[2].line, e[2].column), (0, 0));
}

#[test]
fn shipped_seq_policy() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let set = PolicySet::load(&[dir]).unwrap();
    let seq = set.get("seq").expect("policies/seq.toml");
    assert_eq!(seq.limits.fuel, 20_000_000_000);
    assert_eq!(seq.limits.memory_bytes, 256 << 20);
    assert_eq!(seq.limits.timeout, Duration::from_secs(10));
    assert_eq!(
        seq.limits.max_output_bytes,
        Limits::DEFAULT_MAX_OUTPUT_BYTES
    );
    assert!(seq.dirs.is_empty() && seq.workspace.is_none() && seq.env.is_empty());
    assert!(seq.network.is_empty());
}

#[test]
fn rate_limits_short_and_table_forms() {
    let p = parse(
        r#"plugin = "ncbi"
[network]
allow = ["eutils.ncbi.nlm.nih.gov", "rest.ensembl.org:443", "127.0.0.1:8080"]
allow_private = true
[network.rate_limits]
"rest.ensembl.org:443" = 15
"eutils.ncbi.nlm.nih.gov" = { per_second = 3, with_env = "NCBI_API_KEY", with_env_per_second = 10 }
"127.0.0.1:8080" = 2e0
[env]
NCBI_API_KEY = { from_host = "NCBI_API_KEY" }
"#,
    )
    .unwrap();
    let r = &p.network.rate_limits;
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].pattern.to_string(), "rest.ensembl.org:443");
    assert_eq!((r[0].per_second, &r[0].with_env), (15, &None));
    assert_eq!(r[1].per_second, 3);
    assert_eq!(
        r[1].with_env,
        Some(EnvRate {
            var: "NCBI_API_KEY".into(),
            per_second: 10
        })
    );
    assert_eq!(r[2].per_second, 2);

    // Which limit applies to a request, and at what rate.
    let net = &p.network;
    let ncbi = net.rate_limit_for("EUtils.ncbi.nlm.nih.gov.", 443).unwrap();
    assert_eq!(ncbi.effective(&[]), 3);
    assert_eq!(ncbi.effective(&[("NCBI_API_KEY".into(), "abc".into())]), 10);
    assert_eq!(ncbi.effective(&[("NCBI_API_KEY".into(), String::new())]), 3);
    assert_eq!(
        net.rate_limit_for("rest.ensembl.org", 443)
            .unwrap()
            .per_second,
        15
    );
    assert!(net.rate_limit_for("rest.ensembl.org", 80).is_none());
    assert_eq!(net.rate_limit_for("127.0.0.1", 8080).unwrap().per_second, 2);
    assert!(net.rate_limit_for("127.0.0.1", 8081).is_none());
    assert!(net.rate_limit_for("example.org", 443).is_none());
}

#[test]
fn rate_limit_errors_have_positions() {
    let head = "plugin = \"ncbi\"\n[network]\nallow = [\"a.example.org\"]\n[network.rate_limits]\n";

    let m = one(
        &format!("{head}\"b.example.org\" = 3\n"),
        5,
        1,
        Some("network.rate_limits.\"b.example.org\""),
    );
    assert!(
        m.contains("not a `network.allow` entry") && m.contains("`a.example.org`"),
        "{m}"
    );

    let m = one(
        &format!("{head}\"a.example.org\" = 0\n"),
        5,
        19,
        Some("network.rate_limits.\"a.example.org\""),
    );
    assert!(
        m.contains("between 1 and 10_000 requests per second"),
        "{m}"
    );

    let m = one(
        &format!("{head}\"a.example.org\" = \"3\"\n"),
        5,
        19,
        Some("network.rate_limits.\"a.example.org\""),
    );
    assert!(
        m.contains("expected a number of requests per second or a table"),
        "{m}"
    );

    let m = one(
        &format!("{head}\"a.example.org\" = {{ per_second = 3, with_env = \"KEY\" }}\n"),
        5,
        19,
        Some("network.rate_limits.\"a.example.org\".with_env_per_second"),
    );
    assert!(m.contains("needs `with_env_per_second`"), "{m}");

    let m = one(
        &format!("{head}\"a.example.org\" = {{ with_env = \"KEY\", with_env_per_second = 9 }}\n"),
        5,
        19,
        Some("network.rate_limits.\"a.example.org\".per_second"),
    );
    assert!(m.contains("missing `per_second`"), "{m}");

    // `with_env` must be one of the policy's [env] variables.
    let m = one(
        &format!(
            "{head}\"a.example.org\" = {{ per_second = 3, with_env = \"KEY\", with_env_per_second = 9 }}\n"
        ),
        5,
        48,
        Some("network.rate_limits.\"a.example.org\".with_env"),
    );
    assert!(m.contains("`KEY` is not in this policy's [env]"), "{m}");

    let m = one(
        &format!("{head}\"a.example.org\" = {{ per_second = 3, burst = 2 }}\n"),
        5,
        37,
        Some("network.rate_limits.\"a.example.org\".burst"),
    );
    assert!(m.contains("unknown key `burst`"), "{m}");

    let m = one(
        &format!("{head}\"https://x\" = 3\n"),
        5,
        1,
        Some("network.rate_limits.\"https://x\""),
    );
    assert!(m.contains("write the host name only"), "{m}");
}

#[test]
fn agent_section_grants_tools_llm_search_and_workspace() {
    let p = parse(
        r#"plugin = "coder"
[agent]
tools = ["crispr.*", "sandbox.run_python"]
llm = true
search = false
workspace = "read-write"
"#,
    )
    .unwrap();
    assert_eq!(p.agent.tools, ["crispr.*", "sandbox.run_python"]);
    assert!(p.agent.llm && !p.agent.search);
    assert_eq!(p.agent.workspace, WorkspaceAccess::ReadWrite);
    assert!(p.agent.allows_tool("crispr.design_guides"));
    assert!(p.agent.allows_tool("sandbox.run_python"));
    assert!(!p.agent.allows_tool("crispr"));
    assert!(!p.agent.allows_tool("crispr."));
    assert!(!p.agent.allows_tool("crisprx.design_guides"));
    assert!(!p.agent.allows_tool("sandbox.run_pythonx"));
    assert!(!p.agent.allows_tool("seq.gc_content"));
    assert!(!p.agent.shows_tool("seq.gc_content"));
}

#[test]
fn plan_tools_are_shown_but_not_callable() {
    let p = parse("plugin = \"planner\"\n[agent]\nplan_tools = [\"seq.*\"]\n").unwrap();
    assert!(p.agent.shows_tool("seq.gc_content"));
    assert!(!p.agent.allows_tool("seq.gc_content"));
    assert!(!p.agent.shows_tool("crispr.design_guides"));
}

#[test]
fn agent_section_defaults_to_nothing() {
    let p = parse("plugin = \"planner\"\n").unwrap();
    assert_eq!(p.agent, AgentGrant::default());
    assert_eq!(p.agent.workspace, WorkspaceAccess::None);
    assert!(!p.agent.allows_tool("seq.gc_content"));
}

#[test]
fn agent_section_errors_name_the_field() {
    let m = one(
        "plugin = \"coder\"\n[agent]\ntools = [\"seq.*\", \"seq..x\"]\n",
        3,
        19,
        Some("agent.tools[1]"),
    );
    assert!(m.contains("`seq.*`"), "{m}");
    let m = one(
        "plugin = \"coder\"\n[agent]\nworkspace = \"write\"\n",
        3,
        13,
        Some("agent.workspace"),
    );
    assert!(m.contains("read-write"), "{m}");
    let m = one(
        "plugin = \"coder\"\n[agent]\nllms = true\n",
        3,
        1,
        Some("agent.llms"),
    );
    assert!(m.contains("did you mean `llm`"), "{m}");
    let m = one(
        "plugin = \"coder\"\n[agent]\ntools = \"seq.*\"\n",
        3,
        9,
        Some("agent.tools"),
    );
    assert!(m.contains("list"), "{m}");
}
