//! The local native driver: the system's CPython under bubblewrap, for hosts
//! without Docker. Fresh user, PID, network, IPC, UTS and cgroup namespaces;
//! read-only system and data mounts; one writable scratch directory; a
//! seccomp filter refusing kernel-administration syscalls; and rlimits for
//! CPU time, address space, processes and file size. Killed at the deadline;
//! the namespace dies with it.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::native::{GUEST_META, NativeDriver, NativeExit, NativeJob, timeout_error};
use super::outcome::{ErrorKind, RunError};
use super::request::{GUEST_INPUTS, GUEST_SCRATCH};
use super::{EngineKind, SandboxError};

/// The fd the seccomp program is passed on (bwrap `--seccomp 3`).
const SECCOMP_FD: i32 = 3;
/// Processes bubblewrap itself keeps in the sandbox's count (its monitor,
/// the namespace's init, and the interpreter).
const BWRAP_PROCESSES: u64 = 3;

/// The bubblewrap driver's configuration.
#[derive(Debug, Clone)]
pub struct BwrapConfig {
    /// The `bwrap` executable.
    pub bwrap: PathBuf,
    /// The interpreter inside the sandbox (a path under a mounted system dir).
    pub python: PathBuf,
    /// Size cap of the sandbox's private `/tmp` (a tmpfs), in bytes.
    pub tmp_bytes: u64,
}

impl Default for BwrapConfig {
    fn default() -> Self {
        Self {
            bwrap: PathBuf::from("bwrap"),
            python: PathBuf::from("/usr/bin/python3"),
            tmp_bytes: 64 << 20,
        }
    }
}

/// Runs the native interpreter under bubblewrap.
pub struct BwrapDriver {
    config: BwrapConfig,
    seccomp: Vec<u8>,
}

impl BwrapDriver {
    /// Checks that bubblewrap and the interpreter are there and that a
    /// sandbox can be created on this host (user namespaces allowed).
    pub fn new(config: BwrapConfig) -> Result<Self, SandboxError> {
        let setup = |m: String| SandboxError::Setup(m);
        let version = Command::new(&config.bwrap).arg("--version").output().map_err(|e| {
            setup(format!(
                "the bubblewrap fallback is enabled but `{}` cannot be run ({e}); install it (Debian: `apt-get install bubblewrap`) or set BIOAI_SANDBOX_FALLBACK=off",
                config.bwrap.display()
            ))
        })?;
        if !version.status.success() {
            return Err(setup(format!(
                "`{} --version` failed; is it bubblewrap?",
                config.bwrap.display()
            )));
        }
        if !config.python.is_file() {
            return Err(setup(format!(
                "the bubblewrap fallback runs {} inside the sandbox, which does not exist; install python3 (with python3-numpy, python3-biopython...) or set BIOAI_SANDBOX_PYTHON",
                config.python.display()
            )));
        }
        Ok(Self {
            config,
            seccomp: seccomp_program()?,
        })
    }

    fn command(&self, job: &NativeJob<'_>) -> Command {
        let dir = job.dir;
        let mut cmd = Command::new(&self.config.bwrap);
        cmd.args([
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
        ]);
        // The system, read-only: /usr, the merged-/usr symlinks (or the
        // directories themselves), and the few /etc files the dynamic
        // loader and BLAS alternatives need. Nothing else of the host.
        cmd.args(["--ro-bind", "/usr", "/usr"]);
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = Path::new("/").join(top);
            match std::fs::read_link(&host) {
                Ok(target) => {
                    cmd.arg("--symlink").arg(target).arg(&host);
                }
                Err(_) if host.is_dir() => {
                    cmd.arg("--ro-bind").arg(&host).arg(&host);
                }
                Err(_) => {}
            }
        }
        for etc in ["/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime"] {
            if Path::new(etc).exists() {
                cmd.args(["--ro-bind", etc, etc]);
            }
        }
        cmd.args(["--proc", "/proc", "--dev", "/dev"]);
        cmd.arg("--size")
            .arg(self.config.tmp_bytes.to_string())
            .args(["--tmpfs", "/tmp"]);
        cmd.arg("--bind").arg(dir.scratch()).arg(GUEST_SCRATCH);
        cmd.arg("--ro-bind").arg(dir.inputs()).arg(GUEST_INPUTS);
        cmd.arg("--ro-bind").arg(dir.meta()).arg(GUEST_META);
        cmd.arg("--bind")
            .arg(dir.meta().join("report"))
            .arg(format!("{GUEST_META}/report"));
        for (host, guest) in job.data_dirs {
            cmd.arg("--ro-bind").arg(host).arg(guest);
        }
        cmd.args(["--chdir", GUEST_SCRATCH, "--clearenv"]);
        for (k, v) in [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", GUEST_SCRATCH),
            ("TMPDIR", "/tmp"),
            ("LANG", "C.UTF-8"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
            ("PYTHONUNBUFFERED", "1"),
            ("MPLBACKEND", "Agg"),
            // BLAS thread pools count against the process limit.
            ("OPENBLAS_NUM_THREADS", "1"),
            ("OMP_NUM_THREADS", "1"),
        ] {
            cmd.args(["--setenv", k, v]);
        }
        cmd.args(["--seccomp", &SECCOMP_FD.to_string(), "--"]);
        cmd.arg(&self.config.python)
            .arg("-I")
            .arg(format!("{GUEST_META}/runner.py"));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

#[async_trait::async_trait]
impl NativeDriver for BwrapDriver {
    fn kind(&self) -> EngineKind {
        EngineKind::Bwrap
    }

    async fn run(&self, job: NativeJob<'_>) -> Result<NativeExit, SandboxError> {
        let start = Instant::now();
        let seccomp_file = seccomp_file(&self.seccomp)?;
        let seccomp_fd = std::os::fd::AsRawFd::as_raw_fd(&seccomp_file);
        let mut cmd = self.command(&job);
        if let Some(uid) = job.uid {
            cmd.uid(uid).gid(uid);
        }
        let limits = job.limits.clone();
        let cpu = limits.cpu_time.as_secs().max(1);
        let nproc = u64::from(limits.max_processes) + BWRAP_PROCESSES;
        let fsize = limits.max_file_bytes;
        // SAFETY: the closure only calls async-signal-safe functions
        // (dup2, fcntl, setrlimit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // The file is opened close-on-exec. dup2 gives fd 3 a copy
                // without the flag, except when the file already is fd 3
                // (dup2 onto itself changes nothing): then clear the flag,
                // or bubblewrap finds fd 3 closed ("Can't read seccomp
                // data: Bad file descriptor").
                if seccomp_fd == SECCOMP_FD {
                    let flags = libc::fcntl(SECCOMP_FD, libc::F_GETFD);
                    if flags < 0
                        || libc::fcntl(SECCOMP_FD, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(seccomp_fd, SECCOMP_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let set = |res, soft: u64, hard: u64| {
                    let lim = libc::rlimit {
                        rlim_cur: soft as libc::rlim_t,
                        rlim_max: hard as libc::rlim_t,
                    };
                    if libc::setrlimit(res, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                };
                // SIGXCPU at the limit, SIGKILL a second later.
                set(libc::RLIMIT_CPU, cpu, cpu + 1)?;
                set(libc::RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)?;
                set(libc::RLIMIT_NPROC, nproc, nproc)?;
                set(libc::RLIMIT_FSIZE, fsize, fsize)?;
                set(libc::RLIMIT_CORE, 0, 0)?;
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|e| {
            SandboxError::Setup(format!(
                "could not start bubblewrap ({}): {e}",
                self.config.bwrap.display()
            ))
        })?;
        drop(seccomp_file);
        let pid = child.id() as libc::pid_t;
        let cap = job.limits.max_output_bytes;
        let out = child.stdout.take().map(|s| read_bounded(s, cap));
        let err = child.stderr.take().map(|s| read_bounded(s, cap));
        // Reap with wait4 for the rusage (CPU time, peak RSS) of the whole
        // tree bubblewrap waited for.
        let mut waiter = tokio::task::spawn_blocking(move || wait4(pid));
        let mut stopped = None;
        // What the sandbox's processes have used, read from /proc while they
        // run and just before a kill: bubblewrap exits without reaping its
        // namespace, and the kernel reaps a dying namespace without adding
        // its processes' times to any parent, so bubblewrap's rusage alone
        // would bill a run killed at its time limit, or one that crashed,
        // for bubblewrap's few milliseconds.
        let mut seen = TreeUsage::default();
        let mut poll = tokio::time::interval(USAGE_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let deadline = tokio::time::sleep(job.timeout);
        tokio::pin!(deadline);
        let waited = loop {
            tokio::select! {
                r = &mut waiter => break r,
                _ = poll.tick() => seen = seen.max(TreeUsage::of(pid)),
                _ = &mut deadline => {
                    stopped = Some(timeout_error(job.timeout));
                    seen = seen.max(kill_sandbox(pid));
                    break waiter.await;
                }
                _ = job.cancel.cancelled() => {
                    stopped = Some(RunError { kind: ErrorKind::Cancelled, message: "the run was cancelled".into() });
                    seen = seen.max(kill_sandbox(pid));
                    break waiter.await;
                }
            }
        };
        // `child` was reaped by wait4; dropping it neither waits nor kills.
        drop(child);
        let (status, usage) = waited
            .map_err(|e| SandboxError::Io(format!("waiting for bubblewrap: {e}")))?
            .map_err(|e| SandboxError::Io(format!("waiting for bubblewrap: {e}")))?;
        let join = |h: Option<std::thread::JoinHandle<(String, bool)>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        let (stdout, t1) = join(out);
        let (stderr, t2) = join(err);
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec.max(0) as u64)
                + Duration::from_micros(t.tv_usec.max(0) as u64)
        };
        let exit = std::process::ExitStatus::from_raw(status);
        Ok(NativeExit {
            stdout,
            stderr,
            truncated: t1 || t2,
            wall: start.elapsed(),
            cpu: Some((tv(usage.ru_utime) + tv(usage.ru_stime)).max(seen.cpu)),
            peak_memory_bytes: Some(
                ((usage.ru_maxrss.max(0) as u64) * 1024).max(seen.peak_rss_bytes),
            ),
            stopped,
            signal: exit.signal().or_else(|| {
                // bubblewrap reports a signalled child as exit 128 + signal.
                exit.code()
                    .filter(|c| (129..160).contains(c))
                    .map(|c| c - 128)
            }),
            code: exit.code(),
        })
    }
}

/// How often a running sandbox's CPU time and peak memory are read: what a
/// run that crashes between two readings used since the last one is not
/// billed.
const USAGE_POLL: Duration = Duration::from_millis(100);

/// Kills the sandbox: the namespace's init (so the kernel kills every
/// process in the PID namespace), then bubblewrap itself. Returns what the
/// process tree had used just before.
fn kill_sandbox(bwrap: libc::pid_t) -> TreeUsage {
    let used = TreeUsage::of(bwrap);
    let children =
        std::fs::read_to_string(format!("/proc/{bwrap}/task/{bwrap}/children")).unwrap_or_default();
    for pid in children
        .split_whitespace()
        .filter_map(|p| p.parse::<libc::pid_t>().ok())
    {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // SAFETY: as above; bwrap is our unreaped child, so the pid is ours.
    unsafe { libc::kill(bwrap, libc::SIGKILL) };
    used
}

/// CPU time and peak resident memory of a live process tree, read from
/// `/proc`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct TreeUsage {
    /// User and system time of every live process, and of the children each
    /// has reaped.
    cpu: Duration,
    /// The largest peak resident set (`VmHWM`) of any live process, as
    /// `ru_maxrss` counts it.
    peak_rss_bytes: u64,
}

impl TreeUsage {
    /// The larger of two readings, field by field.
    fn max(self, other: Self) -> Self {
        Self {
            cpu: self.cpu.max(other.cpu),
            peak_rss_bytes: self.peak_rss_bytes.max(other.peak_rss_bytes),
        }
    }

    /// Walks the tree under `root` (bounded: the sandbox's process limit
    /// keeps it small; a tree that changes meanwhile is read as found).
    fn of(root: libc::pid_t) -> Self {
        // SAFETY: sysconf has no memory-safety preconditions.
        let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
            .ok()
            .filter(|&t| t > 0)
            .unwrap_or(100);
        let mut used = Self::default();
        let mut pending = vec![root];
        let mut visited = 0;
        while let Some(pid) = pending.pop() {
            visited += 1;
            if visited > 4096 {
                break;
            }
            let proc = PathBuf::from(format!("/proc/{pid}"));
            if let Some(t) = std::fs::read_to_string(proc.join("stat"))
                .ok()
                .and_then(|s| stat_ticks(&s))
            {
                used.cpu += Duration::from_micros(t.saturating_mul(1_000_000) / ticks);
            }
            if let Some(hwm) = std::fs::read_to_string(proc.join("status"))
                .ok()
                .and_then(|s| status_hwm_bytes(&s))
            {
                used.peak_rss_bytes = used.peak_rss_bytes.max(hwm);
            }
            let Ok(tasks) = std::fs::read_dir(proc.join("task")) else {
                continue;
            };
            for task in tasks.flatten() {
                if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                    pending.extend(
                        children
                            .split_whitespace()
                            .filter_map(|p| p.parse::<libc::pid_t>().ok()),
                    );
                }
            }
        }
        used
    }
}

/// `utime + stime + cutime + cstime` of a `/proc/<pid>/stat` line, in
/// clock ticks. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted from its closing one.
fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: state is field 3, utime 14 ... cstime 17.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i)?.parse::<i64>().ok().map(|t| t.max(0) as u64);
    Some(tick(11)? + tick(12)? + tick(13)? + tick(14)?)
}

/// `VmHWM` of a `/proc/<pid>/status` file, in bytes.
fn status_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line["VmHWM:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn wait4(pid: libc::pid_t) -> std::io::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Reads a stream to its end on a thread, keeping the first `cap` bytes.
fn read_bounded(
    mut stream: impl Read + Send + 'static,
    cap: usize,
) -> std::thread::JoinHandle<(String, bool)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(kept.len());
                    if n > room {
                        truncated = true;
                    }
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let mut text = String::from_utf8_lossy(&kept).into_owned();
        if truncated {
            text.push_str("\n[output truncated]\n");
        }
        (text, truncated)
    })
}

/// Syscalls the sandboxed code never needs and that widen the kernel's
/// attack surface: refused with `EPERM`.
const DENIED_SYSCALLS: &[i64] = &[
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_acct,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_syslog,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_quotactl,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_fanotify_init,
    libc::SYS_vhangup,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
];

/// Compiles the deny-list filter to a BPF program (bytes as the kernel
/// reads them).
fn seccomp_program() -> Result<Vec<u8>, SandboxError> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|e| {
        SandboxError::Setup(format!(
            "the bubblewrap driver's seccomp filter does not support this CPU: {e}"
        ))
    })?;
    let rules = DENIED_SYSCALLS.iter().map(|s| (*s, Vec::new())).collect();
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .and_then(BpfProgram::try_from)
    .map_err(|e| SandboxError::Setup(format!("could not build the seccomp filter: {e}")))?;
    let mut bytes = Vec::with_capacity((filter.len() + 5) * 8);
    for ins in x32_guard().into_iter().chain(filter) {
        bytes.extend_from_slice(&ins.code.to_ne_bytes());
        bytes.push(ins.jt);
        bytes.push(ins.jf);
        bytes.extend_from_slice(&ins.k.to_ne_bytes());
    }
    Ok(bytes)
}

/// On x86-64 the same syscalls are also reachable through the x32 ABI, with
/// bit 30 set in the syscall number and the same audit architecture, which a
/// deny list keyed on x86-64 numbers would let through. This prefix refuses
/// every x32 syscall (EPERM) before the deny list runs; on other
/// architectures it is empty.
fn x32_guard() -> Vec<seccompiler::sock_filter> {
    use seccompiler::sock_filter;
    if std::env::consts::ARCH != "x86_64" {
        return Vec::new();
    }
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    // Offsets in `struct seccomp_data`: nr at 0, arch at 4.
    let ld_abs = |k| sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |op: u32, k, jt, jf| sock_filter {
        code: (libc::BPF_JMP | op | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    vec![
        ld_abs(4),
        // Not x86-64: leave it to the filter's own architecture check.
        jump(libc::BPF_JEQ, AUDIT_ARCH_X86_64, 0, 3),
        ld_abs(0),
        jump(libc::BPF_JGE, X32_SYSCALL_BIT, 0, 1),
        sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | libc::EPERM as u32,
        },
    ]
}

/// An unlinked temporary file holding the seccomp program, positioned at
/// its start, for bubblewrap to read from its fd.
fn seccomp_file(program: &[u8]) -> Result<std::fs::File, SandboxError> {
    use std::io::{Seek, Write};
    let io = |e: std::io::Error| SandboxError::Io(format!("writing the seccomp program: {e}"));
    let mut f = tempfile::tempfile().map_err(io)?;
    f.write_all(program).map_err(io)?;
    f.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks_counts_from_the_last_parenthesis() {
        // A command name with spaces and parentheses, as a guest may choose.
        let stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    7 3 20 10 20 0 1 0 123 4096 10 18446744073709551615";
        assert_eq!(stat_ticks(stat), Some(7 + 3 + 20 + 10));
        assert_eq!(stat_ticks("4242 (x) S 1"), None);
        assert_eq!(stat_ticks("no name at all"), None);
    }

    #[test]
    fn status_hwm_is_read_in_bytes() {
        let status = "Name:\tpython3\nVmPeak:\t  30000 kB\nVmHWM:\t   12488 kB\nVmRSS:\t 9000 kB\n";
        assert_eq!(status_hwm_bytes(status), Some(12488 * 1024));
        assert_eq!(status_hwm_bytes("Name:\tx\n"), None);
    }

    #[test]
    fn tree_usage_counts_the_children() {
        let self_cpu = || {
            // SAFETY: rusage is plain old data; getrusage fills it.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: a valid pointer to a local.
            unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
            let us =
                |t: libc::timeval| Duration::from_micros((t.tv_sec * 1_000_000 + t.tv_usec) as u64);
            us(ru.ru_utime) + us(ru.ru_stime)
        };
        // A child that burns CPU until it has used a measurable amount.
        let mut child = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .expect("spawn sh");
        let pid = child.id() as libc::pid_t;
        let deadline = Instant::now() + Duration::from_secs(30);
        while TreeUsage::of(pid).cpu < Duration::from_millis(200) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let childs = TreeUsage::of(pid);
        let own = self_cpu();
        let tree = TreeUsage::of(std::process::id() as libc::pid_t);
        let _ = child.kill();
        let _ = child.wait();
        assert!(childs.cpu >= Duration::from_millis(200), "{childs:?}");
        assert!(childs.peak_rss_bytes > 0, "{childs:?}");
        // Both readings only grow; /proc counts in clock ticks (10 ms).
        assert!(
            tree.cpu + Duration::from_millis(20) >= own + childs.cpu,
            "tree {tree:?}, own {own:?}, child {childs:?}"
        );
        assert!(tree.peak_rss_bytes > 1 << 20, "{tree:?}");
        assert_eq!(TreeUsage::of(pid), TreeUsage::default(), "a reaped pid");
    }
}
