"""What the migrations repeat, written once: a table with its integer id and primary key,
columns by kind, foreign keys and unique constraints named for the table they are made
in, columns added to or dropped from a table in one batch (SQLite rebuilds the table
where it must, PostgreSQL alters it), tables dropped in order.

The migrations import this as ``migrations.columns`` (alembic loads each migration as a
file; the ``migrations`` package is installed with the others, see pyproject.toml).

Migrations are history: a change here must leave every migration making exactly the
schema it made before, on SQLite and PostgreSQL, upgrade and downgrade. Constraints are
made in the order they are written, because SQLite keeps a table's CREATE statement with
its constraints in that order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from alembic import op


@dataclass(frozen=True)
class Kind:
    """A column's type and whether it may be empty; the migration gives its name."""

    type: Callable[[], sa.types.TypeEngine[Any]]
    nullable: bool = False

    def column(self, name: str) -> sa.Column[Any]:
        return sa.Column(name, self.type(), nullable=self.nullable)


INT = Kind(sa.Integer)
TEXT = Kind(sa.Text)
JSON = Kind(sa.JSON)
FLAG = Kind(sa.Boolean)
DOUBLE = Kind(sa.Double)
#: an instant: a date and time with its zone
AT = Kind(lambda: sa.DateTime(timezone=True))


def string(length: int) -> Kind:
    return Kind(lambda: sa.String(length=length))


def null(kind: Kind) -> Kind:
    """The same kind, the column nullable."""
    return replace(kind, nullable=True)


#: A constraint made when its table's name is known.
Constraint = Callable[[str], sa.Constraint]


def fk(column: str, target: str, ondelete: str | None = None) -> Constraint:
    """``column`` refers to the id of the table ``target``; named
    ``fk_<table>_<column>_<target>`` as the models' naming convention names it."""
    return lambda table: sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def unique(*columns: str, name: str | None = None) -> Constraint:
    """Without a name: ``uq_<table>_<first column>``, the naming convention's."""
    return lambda table: sa.UniqueConstraint(
        *columns, name=name if name is not None else op.f(f"uq_{table}_{columns[0]}")
    )


def table(name: str, /, *constraints: Constraint, **columns: Kind) -> None:
    """Creates the table ``name``: an integer ``id`` (its primary key ``pk_<name>``), then
    ``columns`` in their order, then ``constraints`` in theirs."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        *(kind.column(column) for column, kind in columns.items()),
        *(make(name) for make in constraints),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    )


def drop_tables(*names: str) -> None:
    """Drops the tables in the order given."""
    for name in names:
        op.drop_table(name)


def add_columns(table: str, /, **columns: Kind) -> None:
    """Adds ``columns`` to ``table``, in their order, in one batch."""
    with op.batch_alter_table(table) as batch:
        for column, kind in columns.items():
            batch.add_column(kind.column(column))


def drop_columns(table: str, /, *names: str) -> None:
    """Drops the columns ``names`` from ``table``, in the order given, in one batch."""
    with op.batch_alter_table(table) as batch:
        for name in names:
            batch.drop_column(name)
