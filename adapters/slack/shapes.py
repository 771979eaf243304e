"""The parts of Slack's request bodies that Tandem and slack-bolt read, as pydantic models.

Bolt reads a request's ids (user, team, enterprise, channel, thread) from a
dozen places before any listener runs, and a listener reads the action, the
view's state or the event. A body signed with the right secret but of another
shape (``user: "U1"``, ``actions: []``, ``view: null``, ``selected_options:
[{}]``) would make either raise, so every field they read is checked here,
types and not only presence, before the request is dispatched: a mismatch is
a 400. Fields nobody reads are left alone (and unvalidated), which keeps this
cheap on the busiest path, survey submissions with the whole modal in them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypeAlias

from pydantic import (
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from typing_extensions import TypedDict

# TypedDicts rather than BaseModels: the same checks at a third of the cost, since
# nothing is built but a dict (bolt gets the body as it came).
# Strict types throughout: a number is not an id, "true" is not a bool. Keys nobody
# reads are ignored (and the validated copy is dropped: bolt gets the body as sent).
MaybeStr: TypeAlias = StrictStr | None
#: A user, team or enterprise id: Slack's are about a dozen characters; the
#: database keeps at most 64 (a longer one would fail there, after the answer).
Id: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=64)]
MaybeId: TypeAlias = Id | None


class Ref(TypedDict):
    """``{"id": …}``: a team, channel or enterprise as interactivity payloads give them."""

    id: Id


class UserRef(Ref):
    team_id: NotRequired[MaybeId]


class TeamRef(Ref):
    enterprise_id: NotRequired[MaybeId]


class Authorization(TypedDict):
    enterprise_id: NotRequired[MaybeId]
    team_id: NotRequired[MaybeId]
    is_enterprise_install: NotRequired[StrictBool | None]


class Option(TypedDict):
    value: StrictStr


class ElementState(TypedDict):
    """One input of a submitted modal (see ``blocks.form_values``)."""

    type: StrictStr
    value: NotRequired[MaybeStr]
    selected_option: NotRequired[Option | None]
    selected_options: NotRequired[list[Option] | None]
    selected_user: NotRequired[MaybeStr]
    selected_users: NotRequired[list[StrictStr] | None]
    selected_date: NotRequired[MaybeStr]


class ViewState(TypedDict):
    values: NotRequired[dict[StrictStr, dict[StrictStr, ElementState]]]


class View(TypedDict):
    callback_id: StrictStr
    private_metadata: NotRequired[MaybeStr]
    state: NotRequired[ViewState | None]
    team_id: NotRequired[MaybeId]
    app_installed_team_id: NotRequired[MaybeStr]


class Action(TypedDict):
    action_id: StrictStr
    block_id: NotRequired[MaybeStr]
    value: NotRequired[MaybeStr]


class ResponseUrl(TypedDict):
    response_url: NotRequired[MaybeStr]


class Nested(TypedDict):
    """A message inside an event (``message``, ``previous_message``), an ``item`` or an
    ``assistant_thread``: where bolt looks for ids when the event has none."""

    user: NotRequired[Id | UserRef | None]
    user_id: NotRequired[MaybeId]
    channel: NotRequired[StrictStr | Ref | None]
    channel_id: NotRequired[MaybeStr]
    thread_ts: NotRequired[MaybeStr]


class RevokedTokens(TypedDict):
    """``tokens_revoked``: the user ids whose tokens went (bolt reads both lists)."""

    oauth: NotRequired[list[StrictStr]]
    bot: NotRequired[list[StrictStr]]


class Event(Nested):
    #: The events the app subscribes to (``manifest``): bolt warns of any other.
    #: The last four are the installation's lifecycle (OAuth mode).
    type: Literal["message", "app_home_opened", "app_uninstalled", "tokens_revoked",
                  "team_access_granted", "team_access_revoked"]
    tokens: NotRequired[RevokedTokens]
    team_ids: NotRequired[list[Id]]
    team: NotRequired[MaybeId]
    user_team: NotRequired[MaybeId]
    enterprise: NotRequired[Id | Ref | None]
    enterprise_id: NotRequired[MaybeId]
    channel_type: NotRequired[MaybeStr]
    subtype: NotRequired[MaybeStr]
    bot_id: NotRequired[MaybeStr]
    text: NotRequired[MaybeStr]
    tab: NotRequired[MaybeStr]
    function_execution_id: NotRequired[MaybeStr]
    bot_access_token: NotRequired[MaybeStr]
    inputs: NotRequired[dict[str, Any] | None]
    message: NotRequired[Nested | None]
    previous_message: NotRequired[Nested | None]
    item: NotRequired[Nested | None]
    assistant_thread: NotRequired[Nested | None]


class Body(TypedDict):
    """What bolt's request context and the listeners read on every request."""

    enterprise: NotRequired[Id | Ref | None]
    enterprise_id: NotRequired[MaybeId]
    is_enterprise_install: NotRequired[StrictBool | StrictStr | None]
    authorizations: NotRequired[list[Authorization] | None]
    team: NotRequired[TeamRef | None]
    team_id: NotRequired[MaybeId]
    user: NotRequired[UserRef | None]
    user_id: NotRequired[MaybeId]
    channel: NotRequired[StrictStr | Ref | None]
    channel_id: NotRequired[MaybeStr]
    message: NotRequired[Nested | None]
    previous_message: NotRequired[Nested | None]
    item: NotRequired[Nested | None]
    assistant_thread: NotRequired[Nested | None]
    thread_ts: NotRequired[MaybeStr]
    function_execution_id: NotRequired[MaybeStr]
    bot_access_token: NotRequired[MaybeStr]
    is_ext_shared_channel: NotRequired[StrictBool | None]
    context_team_id: NotRequired[MaybeId]
    context_enterprise_id: NotRequired[MaybeId]
    response_url: NotRequired[MaybeStr]
    response_urls: NotRequired[list[ResponseUrl] | None]
    trigger_id: NotRequired[MaybeStr]
    event_id: NotRequired[MaybeStr]
    view: NotRequired[View | None]


class SlashCommand(Body):
    command: Literal["/tandem"]
    user_id: Id  # type: ignore[misc]
    text: NotRequired[StrictStr]


class SslCheck(Body):
    ssl_check: StrictStr


class BlockActions(Body):
    type: Literal["block_actions"]
    user: UserRef  # type: ignore[misc]
    actions: Annotated[list[Action], Field(min_length=1)]


class ViewSubmission(Body):
    type: Literal["view_submission"]
    user: UserRef  # type: ignore[misc]
    view: View  # type: ignore[misc]


class BlockSuggestion(Body):
    """A type-ahead search in a modal (``external_select``): what was typed so far."""

    type: Literal["block_suggestion"]
    user: UserRef  # type: ignore[misc]
    action_id: StrictStr
    value: StrictStr


class EventCallback(Body):
    type: Literal["event_callback"]
    event: Event


class UrlVerification(Body):
    type: Literal["url_verification"]
    challenge: StrictStr


#: The request kinds Tandem listens to (``listeners``), by their ``type``; anything
#: else would reach bolt only to be logged as unhandled.
SHAPES: dict[str | None, TypeAdapter[Any]] = {
    None: TypeAdapter(SlashCommand),
    "ssl_check": TypeAdapter(SslCheck),
    "block_actions": TypeAdapter(BlockActions),
    "view_submission": TypeAdapter(ViewSubmission),
    "block_suggestion": TypeAdapter(BlockSuggestion),
    "event_callback": TypeAdapter(EventCallback),
    "url_verification": TypeAdapter(UrlVerification),
}


def problem(payload: Any) -> str | None:
    """Why ``payload`` is not a request Tandem handles, or None when it is one."""
    if not isinstance(payload, dict):
        return "not an object"
    kind = payload.get("type")
    if kind is None and "ssl_check" in payload:
        kind = "ssl_check"
    shape = SHAPES.get(kind) if kind is None or isinstance(kind, str) else None
    if shape is None:
        return f"unknown type {str(kind)[:40]!r}"
    try:
        shape.validate_python(payload)
    except ValidationError as error:
        return f"{kind or 'command'}: {error.error_count()} field(s) of the wrong shape"
    return None
