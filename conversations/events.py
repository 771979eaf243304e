"""What people do, as the flows see it, whichever platform they are on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FormValue = str | list[str] | None


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an event, as the platform identified them."""

    platform: str
    workspace_id: str
    user_id: str
    display_name: str | None = None
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A command typed by a person: ``/tandem status`` on Slack, ``status`` on Teams."""

    actor: Actor
    text: str


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """A form sent back by a person; its values are untrusted until a flow checks them."""

    actor: Actor
    form_id: str
    values: Mapping[str, FormValue] = field(default_factory=dict)
    #: The form's ``context``, as the platform handed it back.
    context: str = ""


@dataclass(frozen=True, slots=True)
class ButtonPress:
    actor: Actor
    action_id: str
    value: str = ""
