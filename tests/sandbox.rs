//! The Python sandbox (`bioai::sandbox`), end to end: the CPython component
//! engine through the real runtime, and the native fallback under real
//! bubblewrap (Debian's python3 with numpy and Biopython). The Docker
//! driver's tests run when an engine answers and say they were skipped
//! otherwise.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bioai::policy::Policy;
use bioai::sandbox::{
    EngineKind, ErrorKind, Fallback, InputFile, RunContext, RunOutcome, RunRequest, Sandbox,
    SandboxError, SandboxSettings,
};
use bioai_e2e::{root, runtime};
use serde_json::json;

fn component() -> PathBuf {
    let p = root().join("target/sandbox/python.wasm");
    assert!(
        p.is_file(),
        "{} is missing: run the tests with `cargo xtask test`, which builds it",
        p.display()
    );
    p
}

fn policy() -> Policy {
    bioai::policy::load_file(&root().join("policies/python.toml"))
        .unwrap_or_else(|e| panic!("policies/python.toml is valid: {e:?}"))
}

/// A sandbox whose run and output directories live in `data`.
async fn sandbox_with(
    data: &Path,
    fallback: Fallback,
    tweak: impl FnOnce(&mut SandboxSettings),
) -> Sandbox {
    let mut settings = SandboxSettings::new(component(), policy(), data);
    settings.fallback = fallback;
    tweak(&mut settings);
    Sandbox::new(runtime(), settings)
        .await
        .unwrap_or_else(|e| panic!("the sandbox starts: {e}"))
}

async fn component_sandbox(data: &Path) -> Sandbox {
    sandbox_with(data, Fallback::Off, |_| {}).await
}

async fn bwrap_sandbox(data: &Path, tweak: impl FnOnce(&mut SandboxSettings)) -> Sandbox {
    sandbox_with(data, Fallback::Bwrap(Default::default()), tweak).await
}

async fn run(sandbox: &Sandbox, req: RunRequest) -> RunOutcome {
    sandbox
        .run(&req, &RunContext::default())
        .await
        .unwrap_or_else(|e| panic!("the run starts: {e}"))
}

async fn run_code(sandbox: &Sandbox, code: &str) -> RunOutcome {
    run(sandbox, RunRequest::new(code)).await
}

fn native(code: &str) -> RunRequest {
    let mut r = RunRequest::new(code);
    r.requirements = vec!["numpy".into()];
    r
}

fn value_json(out: &RunOutcome) -> serde_json::Value {
    assert!(
        out.is_success(),
        "run failed: exception {:#?} error {:#?}\nstderr: {}",
        out.exception,
        out.error,
        out.stderr
    );
    out.value
        .as_ref()
        .and_then(|v| v.json.clone())
        .unwrap_or(serde_json::Value::Null)
}

fn error_kind(out: &RunOutcome) -> Option<ErrorKind> {
    out.error.as_ref().map(|e| e.kind)
}

fn scratch_is_empty(data: &Path) -> bool {
    let runs = data.join("sandbox/runs");
    std::fs::read_dir(&runs)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// Modules of `sys.stdlib_module_names` (the interpreter's own list) that
/// cannot work in a WASI component, with why. Everything else must import.
const NOT_ON_WASI: &[(&str, &str)] = &[
    ("tkinter", "needs the Tk C library"),
    ("_tkinter", "needs the Tk C library"),
    ("turtle", "needs tkinter"),
    ("turtledemo", "needs tkinter"),
    ("idlelib", "needs tkinter"),
    ("antigravity", "opens a web browser"),
    ("this", "prints on import (importable, skipped here)"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_pure_python_standard_library_imports() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let skip: Vec<&str> = NOT_ON_WASI.iter().map(|(m, _)| *m).collect();
    let code = format!(
        r#"
import sys, importlib, _bioai_sandbox
skip = set({skip:?})
failed = {{}}
names = sorted(set(sys.stdlib_module_names) | set(_bioai_sandbox.IMPORTED))
for name in names:
    if name.split(".")[0] in skip:
        continue
    try:
        importlib.import_module(name)
    except BaseException as e:
        # The build recorded the root cause (which C extension was missing).
        failed[name] = _bioai_sandbox.UNAVAILABLE.get(name) or f"{{type(e).__name__}}: {{e}}"
{{"checked": len(names), "failed": failed, "catalog": len(_bioai_sandbox.IMPORTED), "unavailable": _bioai_sandbox.UNAVAILABLE}}
"#
    );
    let out = run_code(&sb, &code).await;
    let v = value_json(&out);
    let failed = v["failed"].as_object().expect("failed map");
    // C-only modules of the official list that this CPython was built
    // without are fine only if they are not pure Python; report them all.
    // A failure is acceptable only for a C extension module this WASI build
    // lacks, or a pure-Python wrapper failing because its C extension is
    // missing (bz2 needs _bz2, tty needs termios...).
    let unexpected: Vec<_> = failed
        .iter()
        .filter(|(name, why)| {
            let missing = why
                .as_str()
                .and_then(|w| w.strip_prefix("ModuleNotFoundError: No module named '"))
                .and_then(|w| w.strip_suffix('\''));
            !(is_c_only_module(name) || missing.is_some_and(is_c_only_module))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "stdlib modules that do not import: {unexpected:#?}\n(build-time unavailable: {})",
        v["unavailable"]
    );
    assert!(
        v["catalog"].as_u64().unwrap_or(0) > 500,
        "the build imported only {} stdlib and bundled modules",
        v["catalog"]
    );
    assert!(v["checked"].as_u64().unwrap_or(0) > 500);
    assert!(scratch_is_empty(data.path()));
}

/// Extension modules of the official stdlib list that a WASI build of
/// CPython does not have (they wrap OS facilities WASI lacks); pure-Python
/// modules are never in this list.
fn is_c_only_module(name: &str) -> bool {
    const C_ONLY: &[&str] = &[
        "_curses",
        "_curses_panel",
        "_dbm",
        "_gdbm",
        "_lzma",
        "_bz2",
        "_ctypes",
        "_multiprocessing",
        "_posixshmem",
        "_posixsubprocess",
        "_scproxy",
        "_ssl",
        "_hashlib",
        "_sqlite3",
        "_uuid",
        "_winapi",
        "_overlapped",
        "_msi",
        "_wmi",
        "_testcapi",
        "_testinternalcapi",
        "_testmultiphase",
        "_testsinglephase",
        "_testbuffer",
        "_testimportmultiple",
        "_testclinic",
        "_testclinic_limited",
        "_testlimitedcapi",
        "_testexternalinspection",
        "_ctypes_test",
        "_xxtestfuzz",
        "_xxinterpchannels",
        "_xxsubinterpreters",
        "_interpchannels",
        "_interpqueues",
        "_interpreters",
        "_remote_debugging",
        "fcntl",
        "grp",
        "pwd",
        "termios",
        "resource",
        "syslog",
        "mmap",
        "readline",
        "nis",
        "spwd",
        "ossaudiodev",
        "msvcrt",
        "winreg",
        "winsound",
        "nt",
        "_suggestions",
        "_sysconfig",
        "xxsubtype",
        "_crypt",
        "crypt",
        "_zstd",
    ];
    C_ONLY.contains(&name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_packages_work() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let mut req = RunRequest::new(
        r#"
from uncertainties import ufloat
import mpmath
x = ufloat(1.0, 0.1)
y = ufloat(3.0, 0.4)
mpmath.mp.dps = 30
{"double": [(2 * x).nominal_value, round((2 * x).std_dev, 12)],
 "sum": [(x + y).nominal_value, round((x + y).std_dev, 12)],
 "self_difference": (x - x).std_dev,
 "pi": str(mpmath.pi)}
"#,
    );
    req.requirements = vec!["uncertainties".into(), "mpmath==1.3.0".into()];
    let out = run(&sb, req).await;
    assert_eq!(out.engine, EngineKind::Component);
    // Linear error propagation by hand: sd(2x) = 2 * 0.1; independent sum:
    // sqrt(0.1^2 + 0.4^2) = sqrt(0.17); x - x is exactly 0 (correlated);
    // pi to 30 significant digits is a known constant.
    assert_eq!(
        value_json(&out),
        json!({"double": [2.0, 0.2], "sum": [4.0, 0.412310562562], "self_difference": 0.0,
               "pi": "3.14159265358979323846264338328"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_expression_values_and_stdout() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let out = run_code(&sb, "x = 21\nprint('half of', x * 4)\nx * 2").await;
    assert_eq!(out.stdout, "half of 84\n");
    assert_eq!(value_json(&out), json!(42));
    assert_eq!(out.value.as_ref().map(|v| v.repr.as_str()), Some("42"));
    let out = run_code(&sb, "{1, 2}").await;
    let v = out.value.expect("a value");
    assert_eq!((v.repr.as_str(), v.json), ("{1, 2}", None));
    let out = run_code(&sb, "y = 1").await;
    assert!(out.is_success() && out.value.is_none());
    // Each run is a fresh interpreter: nothing survives from the last one.
    let out = run_code(&sb, "'y' in globals()").await;
    assert_eq!(value_json(&out), json!(false));
    let m = out.meters;
    assert!(m.fuel.unwrap_or(0) > 0 && m.peak_memory_bytes.unwrap_or(0) > 0 && m.wall_us > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_come_back_with_tracebacks() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let out = run_code(
        &sb,
        "def f(n):\n    return 1 / n\n\nprint('before')\nf(0)\n",
    )
    .await;
    assert_eq!(out.stdout, "before\n");
    assert!(out.error.is_none(), "an exception is not a sandbox error");
    let e = out.exception.expect("an exception");
    assert_eq!(e.type_name, "ZeroDivisionError");
    assert_eq!(e.message, "division by zero");
    assert!(
        e.traceback.contains("File \"<code>\", line 5"),
        "{}",
        e.traceback
    );
    assert!(e.traceback.contains("return 1 / n"), "{}", e.traceback);
    assert!(
        !e.traceback.contains("app.py"),
        "runner frames are hidden: {}",
        e.traceback
    );

    let out = run_code(&sb, "def broken(:\n  pass").await;
    let e = out.exception.expect("a syntax error");
    assert_eq!(e.type_name, "SyntaxError");

    let out = run_code(&sb, "import json\njson.loads('{')").await;
    let e = out.exception.expect("an exception");
    assert_eq!(e.type_name, "json.decoder.JSONDecodeError");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_files_are_mounted_read_only_and_output_files_come_back() {
    let data = tempfile::tempdir().expect("tempdir");
    let ws = tempfile::tempdir().expect("workspace");
    std::fs::create_dir(ws.path().join("seqs")).expect("mkdir");
    std::fs::write(ws.path().join("seqs/a.fa"), ">a\nACGT\n").expect("write");
    let sb = component_sandbox(data.path()).await;
    let mut req = RunRequest::new(
        r#"
import os
seq = open("/inputs/a.fa").read().split()[1]
note = open("/inputs/note.txt").read()
try:
    open("/inputs/a.fa", "w").write("x")
    readonly = False
except OSError:
    readonly = True
os.makedirs("out/sub", exist_ok=True)
open("out/result.csv", "w").write("seq,len\n%s,%d\n" % (seq, len(seq)))
open("out/sub/blob.bin", "wb").write(bytes(range(256)) * 400)
open("not-an-output.txt", "w").write("scratch only")
{"seq": seq, "note": note, "readonly": readonly, "cwd": os.getcwd()}
"#,
    );
    req.input_files = vec![
        InputFile::Workspace {
            path: "seqs/a.fa".into(),
            name: None,
        },
        InputFile::Inline {
            name: "note.txt".into(),
            content: "hello".into(),
        },
    ];
    let ctx = RunContext {
        workspace: Some(ws.path().to_path_buf()),
        ..RunContext::default()
    };
    let out = sb.run(&req, &ctx).await.expect("runs");
    assert_eq!(
        value_json(&out),
        json!({"seq": "ACGT", "note": "hello", "readonly": true, "cwd": "/scratch"})
    );
    let names: Vec<_> = out.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["result.csv", "sub/blob.bin"]);
    let csv = &out.files[0];
    assert_eq!(csv.text.as_deref(), Some("seq,len\nACGT,4\n"));
    assert_eq!((csv.media_type.as_str(), csv.size), ("text/csv", 15));
    let blob = &out.files[1];
    assert_eq!((blob.size, blob.text.as_deref()), (102_400, None));
    let run_id = blob
        .uri
        .strip_prefix("bioai-sandbox://")
        .and_then(|r| r.split('/').next())
        .expect("uri");
    let kept = sb.output_path(run_id, "sub/blob.bin").expect("kept");
    assert_eq!(std::fs::metadata(kept).expect("kept file").len(), 102_400);
    assert!(sb.output_path(run_id, "../../etc/passwd").is_none());
    assert_eq!(out.meters.output_file_bytes, 102_415);
    assert_eq!(
        std::fs::read_to_string(ws.path().join("seqs/a.fa")).expect("read"),
        ">a\nACGT\n",
        "the workspace file is untouched"
    );
    assert!(
        scratch_is_empty(data.path()),
        "scratch directories are deleted"
    );

    // Paths that leave the workspace are refused before anything runs.
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("secret"), "s").expect("write");
    std::os::unix::fs::symlink(outside.path().join("secret"), ws.path().join("escape"))
        .expect("symlink");
    for bad in ["../secret", "/etc/passwd", "escape", "seqs/../../x"] {
        let mut req = RunRequest::new("1");
        req.input_files = vec![InputFile::Workspace {
            path: bad.into(),
            name: None,
        }];
        let err = sb.run(&req, &ctx).await.expect_err(bad);
        assert!(matches!(err, SandboxError::BadInput(_)), "{bad}: {err}");
    }
    assert!(scratch_is_empty(data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_limits_stop_runs_with_clear_errors_and_meters() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = sandbox_with(data.path(), Fallback::Off, |s| {
        s.policy.limits.fuel = 2_000_000_000;
        s.policy.limits.memory_bytes = 256 << 20;
        s.policy.limits.max_output_bytes = 64 * 1024;
        s.max_output_file_bytes = 100_000;
    })
    .await;

    let out = run_code(&sb, "i = 0\nwhile True:\n    i += 1").await;
    assert_eq!(error_kind(&out), Some(ErrorKind::OutOfFuel), "{out:?}");
    assert!(
        out.error
            .as_ref()
            .is_some_and(|e| e.message.contains("fuel"))
    );
    assert!(out.meters.fuel.unwrap_or(0) >= 1_900_000_000);

    let out = run_code(&sb, "b = bytearray(512 * 1024 * 1024)").await;
    assert_eq!(error_kind(&out), Some(ErrorKind::MemoryLimit), "{out:?}");
    assert!(
        out.error
            .as_ref()
            .is_some_and(|e| e.message.contains("256 MiB"))
    );

    let mut req = RunRequest::new("import time\ntime.sleep(30)");
    req.timeout_s = 0.5;
    let out = run(&sb, req).await;
    assert_eq!(error_kind(&out), Some(ErrorKind::Timeout), "{out:?}");
    assert!(out.meters.wall_us < 5_000_000);

    let out = run_code(&sb, "print('x' * 200_000)\n7").await;
    assert_eq!(error_kind(&out), Some(ErrorKind::OutputLimit), "{out:?}");
    assert!(out.output_truncated && out.stdout.len() < 70_000);

    let out = run_code(
        &sb,
        "import os\nos.makedirs('out', exist_ok=True)\nopen('out/big.bin', 'wb').write(b'0' * 200_000)",
    )
    .await;
    assert_eq!(error_kind(&out), Some(ErrorKind::OutputLimit), "{out:?}");
    assert!(out.files.is_empty());

    // No processes at all in the component.
    let out = run_code(&sb, "import subprocess\nsubprocess.run(['ls'])").await;
    assert!(out.exception.is_some(), "{out:?}");
    let out = run_code(&sb, "import os\nos.fork()").await;
    assert!(out.exception.is_some(), "{out:?}");
    assert!(scratch_is_empty(data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_has_no_network_and_no_host_files() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let out = run_code(
        &sb,
        r#"
import os, socket, urllib.request
results = {}
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2)
    results["socket"] = "connected"
except BaseException as e:
    results["socket"] = type(e).__name__
try:
    urllib.request.urlopen("http://example.org", timeout=2)
    results["http"] = "fetched"
except BaseException as e:
    results["http"] = type(e).__name__
for path in ["/etc/passwd", "/proc/self/environ", "../../../../etc/passwd"]:
    try:
        open(path).read()
        results[path] = "read"
    except BaseException as e:
        results[path] = type(e).__name__
try:
    results["root"] = sorted(os.listdir("/"))
except OSError as e:
    results["root"] = type(e).__name__
results
"#,
    )
    .await;
    let v = value_json(&out);
    assert_ne!(v["socket"], "connected");
    assert_ne!(v["http"], "fetched");
    for p in [
        "/etc/passwd",
        "/proc/self/environ",
        "../../../../etc/passwd",
    ] {
        assert_ne!(v[p], "read", "{p}");
    }
    // Only the run's own mounts exist (listing `/` itself may be refused).
    if let Some(root) = v["root"].as_array() {
        assert!(
            root.iter().all(|n| n == "inputs" || n == "scratch"),
            "{root:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_packages_need_the_fallback() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let err = sb
        .run(&native("1"), &RunContext::default())
        .await
        .expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, SandboxError::NeedsNative { .. }), "{msg}");
    assert!(
        msg.contains("numpy") && msg.contains("native") && msg.contains("BIOAI_SANDBOX_FALLBACK"),
        "{msg}"
    );
    let mut req = RunRequest::new("1");
    req.requirements = vec!["uncertainties==0.1".into()];
    let err = sb
        .run(&req, &RunContext::default())
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("uncertainties 3.2.2"), "{err}");
    assert!(scratch_is_empty(data.path()));
}

// ---- the local native fallback (bubblewrap) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwrap_runs_numpy_and_biopython() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = bwrap_sandbox(data.path(), |_| {}).await;
    let mut req = RunRequest::new(
        r#"
import numpy as np
from Bio.Seq import Seq
a = np.array([[1.0, 2.0], [3.0, 4.0]])
print("det", round(float(np.linalg.det(a)), 9))
{"det": round(float(np.linalg.det(a)), 9),
 "mean": float(np.arange(1, 101).mean()),
 "revcomp": str(Seq("ATGCGTTA").reverse_complement()),
 "protein": str(Seq("ATGGCCATTGTAATGGGCCGCTGA").translate())}
"#,
    );
    req.requirements = vec!["numpy".into(), "biopython".into()];
    let out = run(&sb, req).await;
    assert_eq!(out.engine, EngineKind::Bwrap);
    // det [[1,2],[3,4]] = 1*4 - 2*3; mean 1..100 = 50.5; reverse complement
    // and the standard code table by hand.
    assert_eq!(
        value_json(&out),
        json!({"det": -2.0, "mean": 50.5, "revcomp": "TAACGCAT", "protein": "MAIVMGR*"})
    );
    assert_eq!(out.stdout, "det -2.0\n");
    assert!(out.meters.cpu_us.unwrap_or(0) > 0 && out.meters.peak_memory_bytes.unwrap_or(0) > 0);
    assert!(scratch_is_empty(data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwrap_values_exceptions_inputs_and_outputs() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = bwrap_sandbox(data.path(), |_| {}).await;
    let mut req = native(
        r#"
import numpy as np, os
x = np.loadtxt("/inputs/v.txt")
os.makedirs("out", exist_ok=True)
np.savetxt("out/doubled.txt", x * 2, fmt="%d")
int(x.sum())
"#,
    );
    req.input_files = vec![InputFile::Inline {
        name: "v.txt".into(),
        content: "1\n2\n3\n".into(),
    }];
    let out = run(&sb, req).await;
    assert_eq!(value_json(&out), json!(6));
    assert_eq!(out.files.len(), 1);
    assert_eq!(out.files[0].text.as_deref(), Some("2\n4\n6\n"));

    let out = run(&sb, native("def f():\n    raise KeyError('k')\nf()")).await;
    let e = out.exception.expect("an exception");
    assert_eq!(
        (e.type_name.as_str(), e.message.as_str()),
        ("KeyError", "'k'")
    );
    assert!(
        e.traceback.contains("File \"<code>\", line 2"),
        "{}",
        e.traceback
    );
    assert!(!e.traceback.contains("runner.py"), "{}", e.traceback);

    let mut req = RunRequest::new("1");
    req.requirements = vec!["surely-not-installed-pkg".into()];
    let err = sb
        .run(&req, &RunContext::default())
        .await
        .expect_err("missing");
    assert!(
        matches!(err, SandboxError::MissingOnFallback { .. })
            && err.to_string().contains("surely_not_installed_pkg"),
        "{err}"
    );
    assert!(scratch_is_empty(data.path()));
}

/// `out` ended with an error of `kind` and its CPU meter shows at least
/// `min_cpu_us`.
fn assert_stopped_and_billed(out: &RunOutcome, kind: ErrorKind, min_cpu_us: u64) {
    assert_eq!(error_kind(out), Some(kind), "{out:?}");
    assert!(
        out.meters.cpu_us.unwrap_or(0) >= min_cpu_us,
        "{:?}",
        out.meters
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwrap_limits_stop_runs_with_clear_errors() {
    let data = tempfile::tempdir().expect("tempdir");
    let sb = bwrap_sandbox(data.path(), |s| {
        s.native.cpu_time = Duration::from_secs(1);
        s.native.memory_bytes = 512 << 20;
        s.native.max_processes = 8;
        s.native.max_output_bytes = 64 * 1024;
        s.native.max_file_bytes = 1 << 20;
    })
    .await;

    let mut req = native("while True:\n    pass");
    req.timeout_s = 20.0;
    let out = run(&sb, req).await;
    assert_stopped_and_billed(&out, ErrorKind::CpuTime, 900_000);
    assert!(out.meters.wall_us < 10_000_000);

    let out = run(&sb, native("import numpy as np\na = np.ones(200_000_000)")).await;
    assert_eq!(error_kind(&out), Some(ErrorKind::MemoryLimit), "{out:?}");
    assert!(
        out.error
            .as_ref()
            .is_some_and(|e| e.message.contains("512 MiB"))
    );

    let mut req = native("import time\ntime.sleep(60)");
    req.timeout_s = 1.0;
    let out = run(&sb, req).await;
    assert_eq!(error_kind(&out), Some(ErrorKind::Timeout), "{out:?}");
    assert!(out.meters.wall_us < 5_000_000, "{:?}", out.meters);

    // A run stopped at its time limit, or cancelled, is billed for the CPU
    // its processes used, not for bubblewrap's alone.
    const BUSY: &str = "import ctypes, time\nwhile time.process_time() < 0.5:\n    pass\n";
    let busy_then = |rest: &str| native(&format!("{BUSY}{rest}"));
    let mut req = busy_then("time.sleep(60)");
    req.timeout_s = 4.0;
    let out = run(&sb, req).await;
    assert_stopped_and_billed(&out, ErrorKind::Timeout, 450_000);
    let ctx = RunContext::default();
    let cancel = ctx.cancel.clone();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        cancel.cancel();
    });
    let out = sb
        .run(&busy_then("time.sleep(60)"), &ctx)
        .await
        .expect("the run starts");
    canceller.await.expect("canceller");
    assert_stopped_and_billed(&out, ErrorKind::Cancelled, 450_000);
    assert!(out.meters.wall_us < 10_000_000, "{:?}", out.meters);
    // And so is one that crashes before it can report (read while it runs:
    // the sleep gives the host a reading after the busy part).
    let out = run(&sb, busy_then("time.sleep(0.5)\nctypes.string_at(0)")).await;
    assert_stopped_and_billed(&out, ErrorKind::Crashed, 450_000);

    let out = run(&sb, native("print('x' * 200_000)")).await;
    assert_eq!(error_kind(&out), Some(ErrorKind::OutputLimit), "{out:?}");
    assert!(out.output_truncated && out.stdout.len() < 70_000);

    let out = run(
        &sb,
        native("import subprocess\nps = [subprocess.Popen(['sleep', '5']) for _ in range(20)]"),
    )
    .await;
    assert_eq!(error_kind(&out), Some(ErrorKind::ProcessLimit), "{out:?}");
    assert!(
        out.meters.wall_us < 5_000_000,
        "the sandbox died with its processes"
    );

    let out = run(&sb, native("open('big.bin', 'wb').write(b'0' * (2 << 20))")).await;
    let e = out.exception.expect("file size limit");
    assert!(e.message.contains("File too large"), "{e:?}");
    assert!(scratch_is_empty(data.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwrap_has_no_network_and_no_host_files() {
    let data = tempfile::tempdir().expect("tempdir");
    let secret = tempfile::tempdir().expect("tempdir");
    std::fs::write(secret.path().join("key"), "s3cret").expect("write");
    let sb = bwrap_sandbox(data.path(), |_| {}).await;
    let code = format!(
        r#"
import os, socket, ctypes
results = {{}}
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2)
    results["socket"] = "connected"
except OSError as e:
    results["socket"] = e.errno
for path in ["/etc/passwd", "/root", {secret:?}, "/work"]:
    try:
        results[path] = "listed" if os.path.isdir(path) and os.listdir(path) is not None else open(path).read()
    except OSError as e:
        results[path] = type(e).__name__
for path in ["/usr/evil", "/inputs/evil", "/.bioai/runner.py"]:
    try:
        open(path, "w").write("x")
        results[path] = "written"
    except OSError as e:
        results[path] = type(e).__name__
libc = ctypes.CDLL(None, use_errno=True)
results["mount"] = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)
# getpid through the x32 ABI (bit 30 set): refused by the filter (EPERM),
# not merely absent from this kernel (ENOSYS).
libc.syscall.restype = ctypes.c_long
results["x32"] = [libc.syscall(ctypes.c_long(39 | 0x40000000)), ctypes.get_errno()]
results["root"] = sorted(os.listdir("/"))
results["uid_is_root"] = os.getuid() == 0
results
"#,
        secret = secret.path().join("key").display().to_string()
    );
    let out = run(&sb, native(&code)).await;
    let v = value_json(&out);
    assert_eq!(
        v["socket"],
        json!(101),
        "ENETUNREACH: no network namespace route"
    );
    for p in ["/etc/passwd", "/root", "/work"] {
        assert_eq!(v[p], "FileNotFoundError", "{p}: {v}");
    }
    assert_eq!(
        v[secret.path().join("key").display().to_string()],
        "FileNotFoundError"
    );
    for p in ["/usr/evil", "/inputs/evil", "/.bioai/runner.py"] {
        assert_ne!(v[p], "written", "{p}");
    }
    assert_eq!(v["mount"], json!(-1), "mount is refused");
    if cfg!(target_arch = "x86_64") {
        assert_eq!(v["x32"], json!([-1, 1]), "x32 syscalls get EPERM");
    }
    let allowed = [
        ".bioai", "bin", "dev", "etc", "inputs", "lib", "lib32", "lib64", "libx32", "proc", "sbin",
        "scratch", "tmp", "usr",
    ];
    let root: Vec<&str> = v["root"]
        .as_array()
        .expect("root listing")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert!(root.iter().all(|n| allowed.contains(n)), "{root:?}");
    assert!(
        root.contains(&"scratch") && root.contains(&"inputs"),
        "{root:?}"
    );
    assert_eq!(v["uid_is_root"], json!(false));
    assert!(scratch_is_empty(data.path()));
}

// ---- the Docker driver (when an engine is reachable) ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_driver_when_an_engine_is_reachable() {
    if !bioai::sandbox::docker::engine_reachable(Duration::from_secs(2)).await {
        eprintln!(
            "SKIPPED docker_driver_when_an_engine_is_reachable: no Docker engine is reachable (DOCKER_HOST or /var/run/docker.sock)"
        );
        return;
    }
    let image =
        std::env::var("BIOAI_SANDBOX_DOCKER_IMAGE").unwrap_or_else(|_| "python:3.12-slim".into());
    let data = tempfile::tempdir().expect("tempdir");
    let sb = sandbox_with(
        data.path(),
        Fallback::Docker(bioai::sandbox::docker::DockerConfig { image }),
        |s| {
            s.native.memory_bytes = 256 << 20;
            s.native.max_processes = 8;
            s.native.max_output_bytes = 64 * 1024;
        },
    )
    .await;
    // `pandas` routes to the fallback; the runner reports it missing if the
    // image lacks it, so use a requirement every Python image has.
    let mut req = RunRequest::new("import os\nopen('out/x.txt','w').write('hi')\nsum(range(10))");
    req.requirements = vec!["numpy".into()];
    match sb.run(&req, &RunContext::default()).await {
        Err(SandboxError::MissingOnFallback { .. }) => {
            eprintln!(
                "docker image has no numpy; running without requirements is not routed to docker"
            );
        }
        Err(e) => panic!("docker run failed: {e}"),
        Ok(out) => {
            assert_eq!(out.engine, EngineKind::Docker);
            assert_eq!(value_json(&out), json!(45));
            let mut req = native("import time\ntime.sleep(60)");
            req.timeout_s = 1.0;
            let out = run(&sb, req).await;
            assert_eq!(error_kind(&out), Some(ErrorKind::Timeout));
            let out = run(
                &sb,
                native("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)"),
            )
            .await;
            assert!(out.exception.is_some());
        }
    }
    assert!(scratch_is_empty(data.path()));
}

/// Unbounded recursion, with Python's own limit lifted so the interpreter's
/// native stack or its memory is what runs out: stopped with an error
/// (RecursionError, MemoryError, or a crash of the interpreter reported as
/// such), the host unharmed, and the next run clean; in the component and
/// in the bwrap fallback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_recursion_is_stopped_and_the_next_run_is_clean() {
    const DEEP: &str =
        "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n";
    let stopped = |out: &RunOutcome| {
        let raised = out
            .exception
            .as_ref()
            .is_some_and(|e| e.type_name == "RecursionError" || e.type_name == "MemoryError");
        let crashed = matches!(
            error_kind(out),
            Some(ErrorKind::Crashed | ErrorKind::MemoryLimit)
        );
        raised || crashed
    };
    let data = tempfile::tempdir().expect("tempdir");
    let sb = component_sandbox(data.path()).await;
    let out = run_code(&sb, DEEP).await;
    assert!(stopped(&out), "component: {out:?}");
    let next = run_code(&sb, "'f' in globals()").await;
    assert_eq!(
        value_json(&next),
        json!(false),
        "component: state carried over"
    );

    // Native CPython 3.11+ keeps Python frames off the C stack, so the
    // recursion ends when the frames fill the address space: 256 MiB
    // takes seconds where the policy's 1 GiB took past the 30 s limit on
    // a slow, busy machine.
    let sb = bwrap_sandbox(data.path(), |s| s.native.memory_bytes = 256 << 20).await;
    let out = run(&sb, native(DEEP)).await;
    assert!(stopped(&out), "bwrap: {out:?}");
    let next = run(&sb, native("'f' in globals()")).await;
    assert_eq!(value_json(&next), json!(false), "bwrap: state carried over");
    assert!(scratch_is_empty(data.path()));
}
