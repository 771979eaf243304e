"""Scheduling for pytest-xdist: ``pytest.mark.xdist_group`` that works on the pytest
this project installs, and ``pytest.mark.long`` tests first.

With ``--dist loadgroup`` pytest-xdist keeps the tests of one group on one worker by
appending ``@group`` to each marked test's node id in the worker, where the
controller reads it back. pytest-xdist 3.8 does that by assigning ``item._nodeid``;
pytest 9.2 keeps the id in ``item._id`` instead, so the assignment is lost and the
group's tests spread over all workers (the demo's module-scoped demo then ran on
three or four of them). This hook appends the suffix the way the installed pytest
stores ids, and leaves ids alone that already carry it (an xdist or pytest that
agree again).

Tests marked ``long`` (a minute or more of real time on a loaded machine: the
fan-out kills, the crash tests, the 50 MB import) are moved to the front of the
collection, in their order, so that workers start them first instead of one of
them starting last and the others waiting for it at the end.
"""

from __future__ import annotations

import pytest


def _group(item: pytest.Item) -> str | None:
    names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                    for mark in item.iter_markers("xdist_group")})
    return "_".join(names) or None


def _with_suffix(item: pytest.Item, nodeid: str) -> None:
    if hasattr(item, "_id"):
        from _pytest.nodeid import NodeId  # pytest >= 9.2: the id is structured

        # parse() keeps the string as given, "@group" after any "[params]".
        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long: a test of a minute or more, started first")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Stable: the long ones keep their order, and so does the rest.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    # Set by pytest-xdist in its workers when the run uses --dist loadgroup.
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        group = _group(item)
        if group is not None and not item.nodeid.endswith(f"@{group}"):
            _with_suffix(item, f"{item.nodeid}@{group}")
