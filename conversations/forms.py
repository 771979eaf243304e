"""The forms flows open (the survey, the reflection, the evaluation, a draft): their
fields and choices, as plain data that each adapter renders (a Slack modal, a
Teams card)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class TextInput:
    id: str
    label: str
    initial: str = ""
    required: bool = True
    multiline: bool = False
    max_length: int = 200
    hint: str | None = None


@dataclass(frozen=True)
class SelectInput:
    id: str
    label: str
    choices: tuple[Choice, ...]
    initial: tuple[str, ...] = ()
    required: bool = True
    multi: bool = False
    style: Literal["dropdown", "checkboxes", "radio"] = "dropdown"
    hint: str | None = None
    #: A type-ahead search instead of a list (too many choices for one select): the
    #: platform asks for choices as the person types, naming this search; ``choices``
    #: then holds only those already chosen.
    search: str | None = None


@dataclass(frozen=True)
class UserInput:
    """Pick a colleague from the workspace directory."""

    id: str
    label: str
    initial: str | None = None
    required: bool = False
    hint: str | None = None


@dataclass(frozen=True)
class PeopleInput:
    """Pick several colleagues from the workspace directory (at most ``most``);
    ``initial`` are the ones chosen before, as (user id, name shown)."""

    id: str
    label: str
    initial: tuple[Choice, ...] = ()
    required: bool = False
    most: int = 10
    hint: str | None = None


@dataclass(frozen=True)
class DateInput:
    """Pick a day (a calendar); ``initial`` as YYYY-MM-DD."""

    id: str
    label: str
    initial: str = ""
    required: bool = False
    hint: str | None = None


Field = TextInput | SelectInput | UserInput | PeopleInput | DateInput


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    submit_label: str
    cancel_label: str
    fields: tuple[Field, ...]
    intro: str | None = None
    #: Opaque data the platform hands back with the submission (what the form is about).
    context: str = ""

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)
