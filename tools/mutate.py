"""Mutation testing of the modules where a bug hurts most (issue 19).

    .venv/bin/python tools/mutate.py storage/deliveries.py   # one module, a few minutes
    .venv/bin/python tools/mutate.py --all                    # every module in the list
    .venv/bin/python tools/mutate.py MODULE --list            # the mutants, without running
    .venv/bin/python tools/mutate.py MODULE --function claim  # only mutants in ``claim``

The modules and the tests that cover each live in ``tools/mutation.toml`` (the one
place to change when a module moves). For one module the script

1. starts pytest once and collects the tests (SQLite only), then runs them once,
   unchanged, in a fork, recording which test executes which line;
2. makes one small change at a time in the module's syntax tree: a flipped
   comparison, a dropped ``and``/``or`` clause, a constant off by one, a negated
   condition, ``return None``, a removed call or ``raise``, ``+`` for ``-``;
3. runs only the tests that execute the changed lines, stopping at the first
   failure (a timeout per mutant), in a fork of the collected session with the
   changed function swapped in: nothing on disk is modified;
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
from types import CodeType, FrameType, FunctionType, ModuleType
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
    #: The qualified name of the outermost function whose body holds the change
    #: (``Export.empty``), or None when the change runs at import: a constant, a
    #: default, a decorator. A runtime change is swapped into the loaded function.
    owner: str | None = None

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


_SWAP: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Lt: [ast.LtE, ast.GtE],
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

    def add(scope: str, owner: str | None, parent: ast.AST, name: str, index: int | None,
            old: ast.AST, new: ast.AST) -> None:
        ast.copy_location(new, old)
        ast.fix_missing_locations(new)
        first = getattr(old, "lineno", 0)
        after = "pass" if isinstance(new, ast.Pass) else _short(new)
        found.append(Mutant(scope, _short(old) if not isinstance(old, ast.stmt)
                            else " ".join(ast.unparse(old).split("\n")[0].split())[:90],
                            after, (first, getattr(old, "end_lineno", first) or first),
                            parent, name, index, new, owner))

    def visit(node: ast.AST, scope: str, owner: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        for name, index, new in _negations(node):
            old = getattr(node, name) if index is None else getattr(node, name)[index]
            add(scope, owner, node, name, index, old, new)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "decorator_list", "type_comment"):
                continue
            # a function's body runs when called; its defaults when it is defined
            inner = owner
            if inner is None and name == "body" and isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = scope
            children = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, child in children:
                if not isinstance(child, ast.AST) or _skipped(child):
                    continue
                for new in _replacements(child):
                    add(scope, inner, node, name, index, child, new)
                visit(child, scope, inner)

    visit(tree, "<module>", None)
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


# -- running the tests in forks -------------------------------------------------------
#
# Where the time went: a fresh pytest per mutant spent most of its seconds starting
# up (plugins, conftest, importing the application, collecting the test files)
# before its first test. Now one "server" process per module starts pytest and
# collects once; the traced baseline and then each mutant run in a fork of it.
# A mutant inside a function body is swapped into the loaded function object
# (its ``__code__``), so every ``from module import name`` sees it too. Changes
# that run at import (a module constant, a default) cannot be swapped in; they
# still get a fresh pytest that imports the changed module.

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


def _code_objects(code: CodeType) -> dict[str, CodeType]:
    """Every function's code inside a compiled module, by qualified name."""
    found: dict[str, CodeType] = {}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found.setdefault(const.co_qualname, const)
            found.update((k, v) for k, v in _code_objects(const).items() if k not in found)
    return found


def _functions(module: ModuleType) -> dict[str, FunctionType]:
    """The loaded module's own functions and methods, by qualified name."""
    found: dict[str, FunctionType] = {}
    seen: set[type] = set()

    def add(value: object) -> None:
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            for part in (value.fget, value.fset, value.fdel):
                add(part)
            return
        while hasattr(value, "__wrapped__"):  # functools.wraps, cache, ...
            value = value.__wrapped__
        if isinstance(value, FunctionType) and value.__code__.co_filename == module.__file__:
            found.setdefault(value.__code__.co_qualname, value)
        elif (isinstance(value, type) and value not in seen
              and value.__module__ == module.__name__):
            seen.add(value)
            for member in vars(value).values():
                add(member)

    for value in vars(module).values():
        add(value)
    return found


def _fork(job: Callable[[], int], log: str, timeout: float) -> tuple[int | None, float]:
    """Runs ``job`` in a child writing to ``log``: (its status or None on timeout, seconds)."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        status = 3
        try:
            os.setsid()
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            status = job()
        except BaseException:  # whatever happens, the parent learns it from the status
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
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
        time.sleep(0.02)


def _pytest(args: list[str], plugins: list[object]) -> int:
    os.environ["TANDEM_TEST_POSTGRES_URL"] = "off"
    import pytest

    return int(pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", "-n", "0", *args],
                           plugins=plugins))


class _Coverage:
    """Which test executes which line of one file."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.current = ""
        self.lines: dict[int, set[str]] = {}

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


@dataclass
class _Verdicts:
    """What the server found, by the mutant's position in the module's list."""
    baseline: float = 0.0
    error: str = ""
    killed: list[int] = field(default_factory=list)
    timed_out: list[int] = field(default_factory=list)
    survived: list[int] = field(default_factory=list)
    not_covered: list[int] = field(default_factory=list)
    at_import: dict[int, list[str]] = field(default_factory=dict)  # -> tests to run


class _Server:
    """A pytest plugin: collects once, then runs the traced baseline and every
    mutant in a fork of this process, each with only the tests that cover it."""

    def __init__(self, module: str, filename: str, tree: ast.Module,
                 todo: list[tuple[int, Mutant]], work: Path, say: Callable[[str], None],
                 total: int) -> None:
        self.module, self.filename, self.tree, self.todo = module, filename, tree, todo
        self.work, self.say, self.total = work, say, total
        self.verdicts = _Verdicts()
        self.killers: dict[str, Counter[str]] = {}  # function -> test -> mutants killed
        self.log = work / "baseline.log"  # the running child's; pytest's own output
        # goes where the server's went (its capture keeps the descriptors it found)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:  # in a child: why the mutant was killed, for its log
            with self.log.open("a") as log:
                log.write(f"{report.nodeid} ({report.when}):\n{report.longreprtext}\n")

    def pytest_runtestloop(self, session: Any) -> bool:
        session.config._tmp_path_factory.getbasetemp()  # once, for all forks
        items = {item.nodeid: item for item in session.items}
        recorder = _Coverage(self.filename)
        seconds: dict[str, float] = {}

        def baseline() -> int:
            sys.settrace(recorder.trace)
            threading.settrace(recorder.trace)
            failed = self._run(session, list(items.values()), recorder, seconds)
            sys.settrace(None)
            (self.work / "coverage.json").write_text(json.dumps({
                "lines": {str(k): sorted(v) for k, v in recorder.lines.items()},
                "seconds": seconds}))
            return failed

        status, taken = _fork(baseline, str(self.log), 3600)
        self.verdicts.baseline = taken
        if status != 0:
            self.verdicts.error = f"the unchanged tests fail (status {status})"
            return True
        covered = json.loads((self.work / "coverage.json").read_text())
        lines = {int(k): set(v) for k, v in covered["lines"].items()}
        seconds = covered["seconds"]
        self.say(f"  unchanged: {taken:.0f} s traced, {len(items)} tests")
        loaded = _functions(sys.modules[self.module])
        for number, mutant in self.todo:
            hits = set().union(*(lines.get(n, set()) for n in range(mutant.lines[0],
                                                                      mutant.lines[1] + 1)))
            # First the tests that killed mutants of the same function, then the
            # quickest: a killed mutant usually stops after one test.
            killers = self.killers.setdefault(mutant.owner or "", Counter())
            chosen = sorted(hits, key=lambda nodeid: (-killers[nodeid],
                                                      seconds.get(nodeid, 0), nodeid))
            if mutant.owner is None or mutant.owner not in loaded:
                self.verdicts.at_import[number] = chosen
                continue
            if not chosen:
                self.verdicts.not_covered.append(number)
                continue
            new = _code_objects(mutant.code(self.tree, self.filename))[mutant.owner]
            function = loaded[mutant.owner]
            timeout = max(TIMEOUT_MIN_SECONDS,
                          TIMEOUT_FACTOR * sum(seconds.get(n, 0) for n in chosen))

            def one(function: FunctionType = function, new: CodeType = new,
                    chosen: list[str] = chosen) -> int:
                function.__code__ = new
                return self._run(session, [items[n] for n in chosen], None, {})

            self.log = self.work / f"{number}.log"
            status, taken = _fork(one, str(self.log), timeout)
            verdict = self._verdict(number, status)
            if verdict == "killed":
                killers[self.log.read_text().split(" (", 1)[0]] += 1
            self.say(f"  [{number}/{self.total}] {verdict:9} {taken:5.1f}s  "
                     f"line {mutant.lines[0]}: {mutant.key}")
        return True

    def _verdict(self, number: int, status: int | None) -> str:
        if status is None:
            self.verdicts.timed_out.append(number)
            return "timed out"
        if status == 0:
            self.verdicts.survived.append(number)
            return "SURVIVED"
        self.verdicts.killed.append(number)
        return "killed"

    @staticmethod
    def _run(session: Any, items: list[Any], recorder: _Coverage | None,
             seconds: dict[str, float]) -> int:
        """pytest's run loop for ``items``, stopping at the first failure: 1, else 0."""
        for index, item in enumerate(items):
            if recorder is not None:
                recorder.current = item.nodeid
            started = time.monotonic()
            following = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            seconds[item.nodeid] = time.monotonic() - started
            if session.testsfailed:
                return 1
        return 0


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
    started = time.monotonic()
    source_file = ROOT / path
    tree = ast.parse(source_file.read_text(), filename=str(source_file))
    module = path.removesuffix(".py").replace("/", ".")
    every = [m for m in mutants(tree) if function is None or m.function == function
             or m.function.startswith(f"{function}.")]
    result = Result(path, total=len(every))
    unknown = set(equivalents) - {m.key for m in mutants(tree)}
    for key in sorted(unknown):
        say(f"  note: {path} :: {key} is listed as equivalent but no longer exists")
    todo = [(n, m) for n, m in enumerate(every, 1) if m.key not in equivalents]
    result.equivalent = len(every) - len(todo)
    say(f"{path}: {len(every)} mutants ({result.equivalent} equivalent); "
        f"collecting {len(tests)} test file(s) once")
    # The server runs in a fork of its own, so that the next module starts afresh;
    # it reports to this process's stdout, and its verdicts through a file.
    progress = os.dup(1)

    def tell(text: str) -> None:
        os.write(progress, f"{text}\n".encode())

    server = _Server(module, str(source_file), tree, todo, work, tell, len(every))

    def serve() -> int:
        status = _pytest(["--basetemp", str(work / "tmp"), *tests], [server])
        (work / "verdicts.json").write_text(json.dumps(server.verdicts.__dict__))
        return status

    _fork(serve, str(work / "server.log"), 24 * 3600)
    os.close(progress)
    try:
        verdicts = _Verdicts(**json.loads((work / "verdicts.json").read_text()))
    except FileNotFoundError:
        raise SystemExit(f"{path}: the mutation server failed; see {work / 'server.log'}"
                         ) from None
    if verdicts.error:
        raise SystemExit(f"{path}: {verdicts.error}; see {work / 'baseline.log'}")
    result.killed, result.timed_out = len(verdicts.killed), len(verdicts.timed_out)
    result.survived = [every[n - 1] for n in verdicts.survived]
    result.not_covered = [every[n - 1] for n in verdicts.not_covered]
    timeout = max(TIMEOUT_MIN_SECONDS, TIMEOUT_FACTOR * verdicts.baseline)
    for number, chosen in sorted(verdicts.at_import.items(), key=lambda kv: int(kv[0])):
        mutant = every[int(number) - 1]
        code = mutant.code(tree, str(source_file))
        # a change at import may reach every test, not only those that execute its line

        def fresh(chosen: list[str] = chosen, code: CodeType = code) -> int:
            # In the fork only: the module is imported from the changed code.
            sys.modules.pop(module, None)
            sys.meta_path.insert(0, _Swap(module, code))
            return _pytest(["-x", *(chosen or tests)], [])

        status, taken = _fork(fresh, str(work / f"{number}.log"), timeout)
        if status is None:
            result.timed_out += 1
        elif status in (0, 5):
            result.survived.append(mutant)
        else:
            result.killed += 1
        verdict = "timed out" if status is None else "SURVIVED" if status in (0, 5) \
            else "killed"
        say(f"  [{number}/{len(every)}] {verdict:9} {taken:5.1f}s  line {mutant.lines[0]}: "
            f"{mutant.key} (at import)")
    say(f"{path}: {time.monotonic() - started:.0f} s")
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
