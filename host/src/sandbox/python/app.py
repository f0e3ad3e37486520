"""The `python` sandbox component: CPython (componentize-py) that runs code.

Everything importable at run time must be imported here, at build time:
componentize-py pre-initializes the interpreter and snapshots its heap, and
the finished component has no file system with the standard library on it.
So this module imports every pure-Python standard-library module and every
module of the bundled packages (``site/``) while the component is built;
a run then starts from that snapshot in about a millisecond.
"""

import ast
import builtins
import importlib
import json
import linecache
import os
import pkgutil
import sys
import traceback

from wit_world import exports
from wit_world.exports import runner

# Modules never imported at build time, with why. Anything else in the
# standard library directory that fails to import is recorded in
# ``UNAVAILABLE`` with the error, so the failure is visible, not silent.
SKIPPED = {
    "antigravity": "opens a web browser on import",
    "this": "prints the Zen of Python on import",
    "idlelib": "the IDLE editor (needs tkinter)",
    "tkinter": "needs the Tk C library",
    "turtle": "needs tkinter",
    "turtledemo": "needs tkinter",
    "test": "CPython's own test suite",
    "__phello__": "frozen-module test fixture",
    "__hello__": "frozen-module test fixture",
    "site-packages": "not a module",
    "__pycache__": "not a module",
}

# Subpackages of importable packages that are only test suites or demos.
SKIPPED_SUBPACKAGES = ("test", "tests", "idle_test", "_test")

IMPORTED = []
UNAVAILABLE = {}


def _walk(prefix, path):
    """Yields dotted module names below ``path``, depth first."""
    for info in pkgutil.iter_modules(path):
        name = info.name
        if name in SKIPPED or name in SKIPPED_SUBPACKAGES:
            continue
        full = prefix + name
        yield full
        if info.ispkg:
            sub = os.path.join(info.module_finder.path, name)
            yield from _walk(full + ".", [sub])


def _import_all(root):
    for name in _walk("", [root]):
        if name in sys.modules:
            IMPORTED.append(name)
            continue
        try:
            importlib.import_module(name)
            IMPORTED.append(name)
        except BaseException as e:  # noqa: BLE001 - SystemExit and friends too
            UNAVAILABLE[name] = f"{type(e).__name__}: {e}"


def _bundled():
    """Import names of the packages pinned in packages.txt, beside this file."""
    listing = os.path.join(os.path.dirname(os.path.abspath(__file__)), "packages.txt")
    with open(listing, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield line.split("==", 1)[0].strip().lower().replace("-", "_")


def _import_package(name):
    try:
        package = importlib.import_module(name)
    except BaseException as e:  # noqa: BLE001
        UNAVAILABLE[name] = f"{type(e).__name__}: {e}"
        return
    IMPORTED.append(name)
    for sub in _walk(name + ".", list(getattr(package, "__path__", []))):
        if sub in sys.modules:
            IMPORTED.append(sub)
            continue
        try:
            importlib.import_module(sub)
            IMPORTED.append(sub)
        except BaseException as e:  # noqa: BLE001
            UNAVAILABLE[sub] = f"{type(e).__name__}: {e}"


# componentize-py mounts the standard library as its own directory on
# sys.path while building (os.__file__ names a path that does not exist).
_STDLIB = next(p for p in sys.path if os.path.isfile(os.path.join(p, "os.py")))
_import_all(_STDLIB)
BUNDLED = tuple(_bundled())
for _name in BUNDLED:
    _import_package(_name)
# What this build can import, for the host's tests and diagnostics.
sys.modules["_bioai_sandbox"] = type(sys)("_bioai_sandbox")
sys.modules["_bioai_sandbox"].IMPORTED = tuple(IMPORTED)
sys.modules["_bioai_sandbox"].UNAVAILABLE = dict(UNAVAILABLE)
sys.modules["_bioai_sandbox"].SKIPPED = dict(SKIPPED)
sys.modules["_bioai_sandbox"].BUNDLED = BUNDLED
sys.modules["_bioai_sandbox"].STDLIB = _STDLIB

# Move everything imported so far to the permanent generation: a run's
# garbage collections then never walk (and so never touch, page by page)
# the snapshot's heap, which keeps a run's start-up small.
import gc  # noqa: E402

gc.collect()
gc.freeze()

_FILENAME = "<code>"
_MAX_REPR = 64 * 1024


def _bounded(text):
    if len(text) > _MAX_REPR:
        return text[:_MAX_REPR] + f"... [{len(text) - _MAX_REPR} more characters]"
    return text


def _type_name(e):
    t = type(e)
    if t.__module__ == "builtins":
        return t.__qualname__
    return f"{t.__module__}.{t.__qualname__}"


def _raised(e, tb):
    text = "".join(traceback.format_exception(type(e), e, tb))
    return runner.RaisedException(
        type_name=_type_name(e), message=str(e), traceback=_bounded(text)
    )


def _value_json(value):
    try:
        return _bounded(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return None


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream is not our failure
            pass


class Runner(exports.Runner):
    def run(self, code, cwd):
        try:
            os.chdir(cwd)
        except OSError:
            pass
        # Tracebacks show the user's source lines.
        linecache.cache[_FILENAME] = (len(code), None, code.splitlines(True), _FILENAME)
        try:
            tree = ast.parse(code, _FILENAME, "exec")
        except SyntaxError as e:
            return runner.Outcome(None, None, _raised(e, None))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        namespace = {"__name__": "__main__", "__builtins__": builtins}
        value = None
        try:
            exec(compile(tree, _FILENAME, "exec"), namespace)
            if last is not None:
                value = eval(compile(last, _FILENAME, "eval"), namespace)
        except BaseException as e:  # noqa: BLE001 - report SystemExit etc. too
            _flush()
            # Drop this frame: the traceback starts in the user's code.
            tb = e.__traceback__.tb_next if e.__traceback__ else None
            if isinstance(e, SystemExit) and e.code in (None, 0):
                return runner.Outcome(None, None, None)
            return runner.Outcome(None, None, _raised(e, tb))
        _flush()
        if last is None or value is None:
            return runner.Outcome(None, None, None)
        try:
            shown = _bounded(repr(value))
        except Exception as e:  # noqa: BLE001 - a broken __repr__
            shown = f"<repr failed: {_type_name(e)}: {e}>"
        return runner.Outcome(shown, _value_json(value), None)
