"""Mutation testing of the modules where a bug hurts most (issue 19).

    .venv/bin/python tools/mutate.py storage/deliveries.py   # one module, a few minutes
    .venv/bin/python tools/mutate.py --all                    # every module in the list
    .venv/bin/python tools/mutate.py MODULE --list            # the mutants, without running
    .venv/bin/python tools/mutate.py MODULE --function claim  # only mutants in ``claim``

The modules and the tests that cover each live in ``tools/mutation.toml`` (the one
place to change when a module moves). For one module the script

1. runs its tests once, unchanged, recording which test executes which line;
2. makes one small change at a time in the module's syntax tree: a flipped
   comparison, a dropped ``and``/``or`` clause, a constant off by one, a negated
   condition, ``return None``, a removed call or ``raise``, ``+`` for ``-``;
3. runs only the tests that execute the changed lines (SQLite only, ``-x``, a
   timeout per mutant), in a forked process that imports the changed code
   instead of the file: nothing on disk is modified;
4. reports killed / survived / timed out, and lists the survivors.

Mutants listed in ``tools/equivalent_mutants.txt`` (with a one-line reason why no
test can tell them apart from the original) are not run. Survivors are either a
missing test or belong in that file. Logging calls are never mutated: nobody sees them.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.machinery
import json
import os
import signal
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tools" / "mutation.toml"
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.txt"
#: A mutant may take this many times the unchanged run of its tests before it
#: counts as "timed out" (an infinite loop, or a retry that never ends).
TIMEOUT_FACTOR = 4
TIMEOUT_MIN_SECONDS = 30.0
#: Imported once before forking, so that each mutant starts in a fraction of a second.
PRELOAD = ("pytest", "sqlalchemy", "sqlalchemy.ext.asyncio", "aiosqlite", "alembic",
           "numpy", "aiohttp", "yaml", "hypothesis", "slack_sdk", "slack_bolt",
           "botbuilder.core", "botbuilder.schema", "prometheus_client", "pydantic")
LOGGERS = {"log", "logger", "logging"}


# -- the mutants ----------------------------------------------------------------------

@dataclass
class Mutant:
    function: str          # qualified name of the enclosing function, or "<module>"
    before: str
    after: str             # ends in " #2", " #3"... when the same change recurs there
    lines: tuple[int, int]
    parent: ast.AST
    field_name: str
    index: int | None
    replacement: ast.AST

    @property
    def key(self) -> str:
        return f"{self.function} :: {self.before} -> {self.after}"

    def code(self, tree: ast.Module, filename: str) -> CodeType:
        """The module compiled with this one change (the tree is restored after)."""
        slot = getattr(self.parent, self.field_name)
        original = slot[self.index] if self.index is not None else slot
        self._put(self.replacement)
        try:
            return compile(tree, filename, "exec", dont_inherit=True)
        finally:
            self._put(original)

    def _put(self, node: ast.AST) -> None:
        if self.index is None:
            setattr(self.parent, self.field_name, node)
        else:
            getattr(self.parent, self.field_name)[self.index] = node


_SWAP = {ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Lt: [ast.LtE, ast.GtE],
         ast.LtE: [ast.Lt, ast.Gt], ast.Gt: [ast.GtE, ast.LtE], ast.GtE: [ast.Gt, ast.Lt],
         ast.In: [ast.NotIn], ast.NotIn: [ast.In], ast.Is: [ast.IsNot], ast.IsNot: [ast.Is]}


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 90 else text[:87] + "..."


def _is_logging(node: ast.AST) -> bool:
    call = node.value if isinstance(node, ast.Await) else node
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in LOGGERS


def _replacements(node: ast.AST) -> Iterator[ast.AST]:
    """Every small change of ``node`` itself (not of its children)."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for other in _SWAP.get(type(op), []):
                changed = copy.copy(node)
                changed.ops = [*node.ops[:i], other(), *node.ops[i + 1:]]
                yield changed
    elif isinstance(node, ast.BoolOp):
        for i in range(len(node.values)):
            rest = node.values[:i] + node.values[i + 1:]
            yield rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
        yield ast.BoolOp(op=ast.Or() if isinstance(node.op, ast.And) else ast.And(),
                         values=node.values)
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield ast.Constant(node.value + 1)
        yield ast.Constant(node.value - 1)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield ast.BinOp(left=node.left, right=node.right,
                        op=ast.Sub() if isinstance(node.op, ast.Add) else ast.Add())
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield ast.AugAssign(target=node.target, value=node.value,
                            op=ast.Sub() if isinstance(node.op, ast.Add) else ast.Add())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield node.operand
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        yield ast.Return(value=ast.Constant(None))
    elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
        yield ast.Pass()
    elif isinstance(node, ast.Raise):
        yield ast.Pass()


def _negations(parent: ast.AST) -> Iterator[tuple[str, int | None, ast.AST]]:
    """Conditions of if / while / ternaries / comprehension filters, negated."""
    if isinstance(parent, (ast.If, ast.While, ast.IfExp)):
        test = parent.test
        # "not" is already removed, and a single comparison already flipped, elsewhere
        if not ((isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not))
                or (isinstance(test, ast.Compare) and len(test.ops) == 1)):
            yield "test", None, ast.UnaryOp(op=ast.Not(), operand=test)
    elif isinstance(parent, ast.comprehension):
        for i, test in enumerate(parent.ifs):
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
                yield "ifs", i, ast.UnaryOp(op=ast.Not(), operand=test)


def mutants(tree: ast.Module) -> list[Mutant]:
    found: list[Mutant] = []

    def add(scope: str, parent: ast.AST, name: str, index: int | None, old: ast.AST,
            new: ast.AST) -> None:
        ast.copy_location(new, old)
        ast.fix_missing_locations(new)
        first = getattr(old, "lineno", 0)
        after = "pass" if isinstance(new, ast.Pass) else _short(new)
        found.append(Mutant(scope, _short(old) if not isinstance(old, ast.stmt)
                            else " ".join(ast.unparse(old).split("\n")[0].split())[:90],
                            after, (first, getattr(old, "end_lineno", first) or first),
                            parent, name, index, new))

    def visit(node: ast.AST, scope: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        for name, index, new in _negations(node):
            old = getattr(node, name) if index is None else getattr(node, name)[index]
            add(scope, node, name, index, old, new)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue
            children = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, child in children:
                if not isinstance(child, ast.AST) or _skipped(child):
                    continue
                for new in _replacements(child):
                    add(scope, node, name, index, child, new)
                visit(child, scope)

    visit(tree, "<module>")
    seen: Counter[tuple[str, str, str]] = Counter()
    for mutant in found:
        seen[mutant.function, mutant.before, mutant.after] += 1
        number = seen[mutant.function, mutant.before, mutant.after]
        if number > 1:
            mutant.after = f"{mutant.after} #{number}"
    return found


def _skipped(node: ast.AST) -> bool:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True  # a docstring
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    return isinstance(node, ast.Expr) and _is_logging(node.value)


# -- running the tests in a fork ------------------------------------------------------

class _Loader(importlib.machinery.SourceFileLoader):
    code: CodeType

    def get_code(self, fullname: str) -> CodeType:
        return self.code


class _Swap(importlib.abc.MetaPathFinder):
    """Imports ``module`` from a code object instead of its file."""

    def __init__(self, module: str, code: CodeType) -> None:
        self.module, self.code = module, code

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.module:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        loader = _Loader(fullname, spec.origin)
        loader.code = self.code
        spec.loader = loader
        return spec


class _Coverage:
    """A pytest plugin: which test executes which line of one file."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.current = ""
        self.lines: dict[int, set[str]] = {}
        self.seconds: Counter[str] = Counter()

    def trace(self, frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename != self.filename:
            return None
        self._hit(frame.f_lineno)
        return self._local

    def _local(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            self._hit(frame.f_lineno)
        return self._local

    def _hit(self, line: int) -> None:
        self.lines.setdefault(line, set()).add(self.current)

    def pytest_runtest_protocol(self, item: Any) -> None:
        self.current = item.nodeid  # "" while importing and collecting

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.seconds[report.nodeid] += report.duration


def _child(args: list[str], module: str | None, code: CodeType | None,
           coverage: tuple[str, str] | None, log: str) -> None:
    """Runs in the forked process: never returns."""
    status = 3
    try:
        os.setsid()
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ["TANDEM_TEST_POSTGRES_URL"] = "off"
        import pytest

        if module is not None and code is not None:
            sys.meta_path.insert(0, _Swap(module, code))
        plugins: list[object] = []
        recorder = None
        if coverage is not None:
            recorder = _Coverage(coverage[0])
            plugins.append(recorder)
            sys.settrace(recorder.trace)
            threading.settrace(recorder.trace)
        status = int(pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", *args],
                                 plugins=plugins))
        if recorder is not None and coverage is not None:
            sys.settrace(None)
            Path(coverage[1]).write_text(json.dumps({
                "lines": {str(k): sorted(v) for k, v in recorder.lines.items()},
                "seconds": recorder.seconds}))
    except BaseException:  # whatever happens, the parent learns it from the status
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def run_forked(args: list[str], timeout: float, log: str, module: str | None = None,
               code: CodeType | None = None, coverage: tuple[str, str] | None = None
               ) -> tuple[int | None, float]:
    """(pytest's exit status or None on timeout, seconds taken)."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(args, module, code, coverage, log)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), time.monotonic() - started
        if time.monotonic() - started > timeout:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return None, time.monotonic() - started
        time.sleep(0.05)


# -- one module -----------------------------------------------------------------------

@dataclass
class Result:
    module: str
    total: int = 0
    equivalent: int = 0
    killed: int = 0
    timed_out: int = 0
    survived: list[Mutant] = field(default_factory=list)
    not_covered: list[Mutant] = field(default_factory=list)

    @property
    def score(self) -> float:
        counted = self.total - self.equivalent
        return 100.0 * (self.killed + self.timed_out) / counted if counted else 100.0

    def line(self) -> str:
        survived = len(self.survived) + len(self.not_covered)
        return (f"{self.module:34} {self.total:5} {self.equivalent:5} {self.killed:6} "
                f"{survived:8} {self.timed_out:9} {self.score:6.1f}%")


HEADER = f"{'module':34} {'all':>5} {'equiv':>5} {'killed':>6} {'survived':>8} " \
         f"{'timed out':>9} {'score':>7}"


def load_targets() -> dict[str, list[str]]:
    data = tomllib.loads(TARGETS.read_text())
    return {module: entry["tests"] for module, entry in data["modules"].items()}


def load_equivalents() -> dict[str, dict[str, str]]:
    """module -> mutant key -> reason, from ``module :: function :: change :: reason``."""
    found: dict[str, dict[str, str]] = {}
    for raw in EQUIVALENTS.read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        module, function, change, reason = (part.strip() for part in raw.split(" :: ", 3))
        found.setdefault(module, {})[f"{function} :: {change}"] = reason
    return found


def run_module(path: str, tests: list[str], equivalents: dict[str, str],
               function: str | None, say: Callable[[str], None], work: Path) -> Result:
    source_file = ROOT / path
    tree = ast.parse(source_file.read_text(), filename=str(source_file))
    module = path.removesuffix(".py").replace("/", ".")
    every = [m for m in mutants(tree) if function is None or m.function == function
             or m.function.startswith(f"{function}.")]
    result = Result(path, total=len(every))
    unknown = set(equivalents) - {m.key for m in mutants(tree)}
    for key in sorted(unknown):
        say(f"  note: {path} :: {key} is listed as equivalent but no longer exists")
    covered_file = work / "coverage.json"
    say(f"{path}: {len(every)} mutants; running {len(tests)} test file(s) once, traced")
    status, seconds = run_forked(tests, 3600, str(work / "baseline.log"),
                                 coverage=(str(source_file), str(covered_file)))
    if status != 0:
        raise SystemExit(f"{path}: the unchanged tests fail (status {status}); "
                         f"see {work / 'baseline.log'}")
    covered = json.loads(covered_file.read_text())
    lines = {int(k): v for k, v in covered["lines"].items()}
    seconds_of = covered["seconds"]
    timeout = max(TIMEOUT_MIN_SECONDS, TIMEOUT_FACTOR * seconds)
    say(f"  unchanged: {seconds:.0f} s; timeout per mutant {timeout:.0f} s")
    for number, mutant in enumerate(every, 1):
        if mutant.key in equivalents:
            result.equivalent += 1
            continue
        hits = set().union(*(lines.get(n, set()) for n in range(mutant.lines[0],
                                                                  mutant.lines[1] + 1)))
        # the quickest first: with -x, a killed mutant usually stops after one test
        chosen = sorted(hits - {""}, key=lambda nodeid: (seconds_of.get(nodeid, 0), nodeid))
        if not chosen and "" in hits:
            chosen = tests  # runs at import (a constant, a default): every test may see it
        if not chosen:
            result.not_covered.append(mutant)
            continue
        code = mutant.code(tree, str(source_file))
        status, taken = run_forked(["-x", *chosen], timeout, str(work / f"{number}.log"),
                                   module=module, code=code)
        if status is None:
            result.timed_out += 1
            verdict = "timed out"
        elif status in (0, 5):
            result.survived.append(mutant)
            verdict = "SURVIVED"
        else:
            result.killed += 1
            verdict = "killed"
        say(f"  [{number}/{len(every)}] {verdict:9} {taken:5.1f}s  line {mutant.lines[0]}: "
            f"{mutant.key}")
    return result


def report(result: Result, say: Callable[[str], None]) -> None:
    for title, found in (("survived", result.survived), ("not covered by any test",
                                                          result.not_covered)):
        if found:
            say(f"{result.module}: {title}:")
            for mutant in found:
                say(f"  line {mutant.lines[0]}: {result.module} :: {mutant.key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="paths as in tools/mutation.toml")
    parser.add_argument("--all", action="store_true", help="every module in the list")
    parser.add_argument("--list", action="store_true", help="print the mutants only")
    parser.add_argument("--function", help="only mutants inside this function (or class)")
    parser.add_argument("--logs", type=Path,
                        help="keep pytest's output here: baseline.log, then N.log per mutant")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    targets, equivalents = load_targets(), load_equivalents()
    chosen = list(targets) if args.all else args.modules
    missing = [m for m in chosen if m not in targets]
    if not chosen or missing:
        parser.error(f"name modules from tools/mutation.toml: {', '.join(targets)}")
    if args.list:
        for path in chosen:
            tree = ast.parse((ROOT / path).read_text())
            known = equivalents.get(path, {})
            counts = Counter(m.key for m in mutants(tree))
            for mutant in mutants(tree):
                mark = "equivalent" if mutant.key in known else ""
                print(f"{path}:{mutant.lines[0]}: {mutant.key} {mark}".rstrip())
            print(f"{path}: {sum(counts.values())} mutants")
        return 0
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    results = []
    with tempfile.TemporaryDirectory(prefix="tandem-mutate-") as folder:
        for path in chosen:
            work = Path(folder) if args.logs is None else args.logs / path.replace("/", ".")
            work.mkdir(parents=True, exist_ok=True)
            result = run_module(path, targets[path], equivalents.get(path, {}),
                                args.function, lambda text: print(text, flush=True), work)
            report(result, print)
            results.append(result)
    print()
    print(HEADER)
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
