"""The forms flows open (the survey, the reflection, the evaluation, a draft): their
fields and choices, as plain data that each adapter renders (a Slack modal, a
Teams card)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value stored, the label shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Input:
    """What every field has: its id (the key of its value in the submission), its label,
    and a hint shown with it (given by keyword)."""

    id: str
    label: str
    hint: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class TextInput(Input):
    initial: str = ""
    required: bool = True
    multiline: bool = False
    max_length: int = 200


@dataclass(frozen=True)
class SelectInput(Input):
    choices: tuple[Choice, ...]
    initial: tuple[str, ...] = ()
    required: bool = True
    multi: bool = False
    style: Literal["dropdown", "checkboxes", "radio"] = "dropdown"
    #: A type-ahead search instead of a list (too many choices for one select): the
    #: platform asks for choices as the person types, naming this search; ``choices``
    #: then holds only those already chosen.
    search: str | None = None


@dataclass(frozen=True)
class UserInput(Input):
    """Pick a colleague from the workspace directory."""

    initial: str | None = None
    required: bool = False


@dataclass(frozen=True)
class PeopleInput(Input):
    """Pick several colleagues from the workspace directory (at most ``most``);
    ``initial`` are the ones chosen before, as (user id, name shown)."""

    initial: tuple[Choice, ...] = ()
    required: bool = False
    most: int = 10


@dataclass(frozen=True)
class DateInput(Input):
    """Pick a day (a calendar); ``initial`` as YYYY-MM-DD."""

    initial: str = ""
    required: bool = False


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
