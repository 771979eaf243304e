"""``tandem`` processes started from a warm interpreter, for the tests that kill them.

Starting ``python -m bot.cli serve`` costs seconds of imports (SQLAlchemy, aiohttp,
slack_bolt, botbuilder), and the crash tests start a server, kill it and restart
for every kill point. The fork server pays for the imports once: it is a separate
process that has imported the bot, and for each request forks a child that runs
``bot.cli.main(argv)`` with its own environment, working directory and log file,
as ``python -m bot.cli`` would. The child is a process of its own: a SIGKILL ends
it as abruptly as it ends a server started from scratch, and nothing of it lives
on in the test's process. Nothing in the fork server has a thread, an event loop,
a database engine or a socket when it forks.

The protocol is one JSON line each way on the fork server's stdin and stdout:
``{"run": argv, "env": {...}, "cwd": dir, "log": file, "code": null}`` answers
``{"pid": n}`` (with ``code``, the child runs ``python -c code argv`` instead);
``{"wait": pid, "within": s}`` answers ``{"code": c}`` once that child has ended
(``-9`` when SIGKILL ended it, as ``subprocess`` reports it), or ``{"code": null}``
if it still runs after ``s`` seconds. When its stdin closes, the fork
server kills the children still running and exits.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: What ``serve`` and ``run-due`` import only once they run (app.yaml's holiday
#: calendar, the database drivers, the server).
WARM = ("aiohttp.web", "bot.server", "bot.host.runtime", "bot.core.clock", "storage.db",
        "conversations.rhythm", "sqlalchemy.dialects.sqlite.aiosqlite", "aiosqlite",
        "sqlalchemy.dialects.postgresql.asyncpg", "asyncpg", "holidays.countries",
        "dateutil.easter")


def _warm() -> None:
    import importlib
    import pkgutil

    import adapters
    import bot.cli

    bot.cli.parser()  # imports every platform's package
    for name in WARM:
        importlib.import_module(name)
    for info in pkgutil.walk_packages(adapters.__path__, adapters.__name__ + "."):
        importlib.import_module(info.name)  # the adapters a platform builds when it runs
    from bot.core.i18n import LANGUAGES, catalogue

    for language in LANGUAGES:
        catalogue(language)  # cached: every platform's catalogues were merged above
    from sqlalchemy.orm import configure_mappers

    import storage.models  # noqa: F401 (its mappers, configured next)

    configure_mappers()  # at the first query otherwise
    # slack_bolt's App looks up its caller's module (inspect.stack()); inspect caches
    # which file is which module, and filling that cache walks every module.
    inspect.getmodule(sys._getframe())


def _child(argv: list[str], env: dict[str, str], cwd: str, log: str, code: str | None
           ) -> None:
    """In the forked child: become ``tandem <argv>`` (or ``python -c code argv``);
    never returns."""
    status = 1
    try:
        os.setsid()  # its own process group: signals to the fork server's spare it
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        if code is not None:
            sys.argv = ["-c", *argv]
            exec(compile(code, "<forked>", "exec"), {"__name__": "__main__"})
            status = 0
        else:
            from bot.cli import main

            status = main(argv)
    except SystemExit as leaving:
        status = leaving.code if isinstance(leaving.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # exiting either way
                pass
        os._exit(status)


def _wait(pid: int, within: float) -> int | None:
    """The child's exit code once it ended; None if it still runs after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def serve_forks() -> None:
    """The fork server's loop (``python -m tests.helpers.forkserver``)."""
    _warm()
    children: set[int] = set()
    try:
        while line := sys.stdin.readline():
            request = json.loads(line)
            answer: dict[str, Any]
            if "run" in request:
                pid = os.fork()
                if pid == 0:
                    _child(request["run"], request["env"], request["cwd"], request["log"],
                           request.get("code"))
                children.add(pid)
                answer = {"pid": pid}
            else:
                pid = int(request["wait"])
                code = _wait(pid, float(request["within"]))
                if code is not None:
                    children.discard(pid)
                answer = {"code": code}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        for pid in children:  # the tests are gone: so are their servers
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


class ForkServer:
    """The test side: start ``tandem`` commands as forked children and wait for them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.forkserver"], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        with self._lock:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        assert line, f"the fork server ended (exit code {process.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def start(self, argv: Sequence[str], env: Mapping[str, str], log: Path,
                    code: str | None = None) -> int:
        """``tandem <argv>`` in a new process (with ``code``: ``python -c code argv``),
        its output appended to ``log``; its pid."""
        answer = await asyncio.to_thread(self._ask, {
            "run": list(argv), "env": dict(env), "cwd": str(self.root), "log": str(log),
            "code": code})
        return int(answer["pid"])

    async def wait(self, pid: int, within: float = 60) -> int:
        """The exit code of the process ``start`` started, once it has ended (an
        AssertionError if it still runs after ``within`` seconds)."""
        answer = await asyncio.to_thread(self._ask, {"wait": pid, "within": within})
        assert answer["code"] is not None, f"process {pid} still runs after {within} s"
        return int(answer["code"])

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":
    serve_forks()
