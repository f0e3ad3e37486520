"""Runs user code for the native fallback engines (bubblewrap, Docker).

The same contract as the component's runner (app.py): run /.bioai/code.py as
__main__ in /scratch, return the final expression's value or the exception
with its traceback. The report goes to /.bioai/report/report.json; stdout and
stderr are the process's own.
"""

import ast
import builtins
import importlib.util
import json
import linecache
import os
import resource
import sys
import traceback

META = "/.bioai"
REPORT = os.path.join(META, "report", "report.json")
FILENAME = "<code>"
MAX_REPR = 64 * 1024


def bounded(text):
    if len(text) > MAX_REPR:
        return text[:MAX_REPR] + f"... [{len(text) - MAX_REPR} more characters]"
    return text


def type_name(e):
    t = type(e)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def out_of_memory(e):
    # numpy's _ArrayMemoryError and friends are MemoryErrors too.
    if isinstance(e, MemoryError):
        return True
    # CPython 3.11 can fail to allocate a frame at the address-space limit
    # without setting MemoryError ("error return without exception set"):
    # a SystemError with the peak address space at the limit is one too.
    if not isinstance(e, SystemError):
        return False
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return False
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            peak = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmPeak:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    return peak * 10 >= limit * 9


def raised(e, tb):
    return {
        "type": type_name(e),
        "message": str(e),
        "errno": getattr(e, "errno", None),
        "memory_error": out_of_memory(e),
        "traceback": bounded("".join(traceback.format_exception(type(e), e, tb))),
    }


def write(report):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    # bubblewrap's monitor does not reap the namespace's processes, so the
    # host cannot see their rusage: report it from here.
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    report["cpu_us"] = int(cpu * 1e6)
    report["maxrss_kib"] = max(own.ru_maxrss, kids.ru_maxrss)
    with open(REPORT, "w", encoding="utf-8") as f:
        json.dump(report, f)


def main():
    with open(os.path.join(META, "code.py"), encoding="utf-8") as f:
        code = f.read()
    with open(os.path.join(META, "requirements.json"), encoding="utf-8") as f:
        modules = json.load(f)
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        write({"missing": missing})
        return
    os.chdir("/scratch")
    linecache.cache[FILENAME] = (len(code), None, code.splitlines(True), FILENAME)
    report = {"value_repr": None, "value_json": None, "exception": None}
    try:
        tree = ast.parse(code, FILENAME, "exec")
    except SyntaxError as e:
        report["exception"] = raised(e, None)
        write(report)
        return
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    sys.argv = [FILENAME]
    value = None
    try:
        exec(compile(tree, FILENAME, "exec"), namespace)
        if last is not None:
            value = eval(compile(last, FILENAME, "eval"), namespace)
    except BaseException as e:  # noqa: BLE001
        if not (isinstance(e, SystemExit) and e.code in (None, 0)):
            report["exception"] = raised(e, e.__traceback__.tb_next if e.__traceback__ else None)
        write(report)
        return
    if value is not None:
        try:
            report["value_repr"] = bounded(repr(value))
        except Exception as e:  # noqa: BLE001
            report["value_repr"] = f"<repr failed: {type_name(e)}: {e}>"
        try:
            report["value_json"] = bounded(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError, RecursionError):
            # numpy scalars and arrays: their plain-Python form.
            try:
                report["value_json"] = bounded(json.dumps(value.tolist(), allow_nan=False))
            except Exception:  # noqa: BLE001
                pass
    write(report)


main()
