"""The parts of a Bot Framework activity that Tandem and botbuilder read, as pydantic models.

Checked before authentication and before botbuilder deserialises the body, so a
request of the wrong shape is a 400 (never a traceback, never a 5xx), whoever
sent it: every field the turn handlers, ``identity`` and ``references`` read
has its type checked here, and the invoke values Tandem answers (card actions,
file consent) are checked too. Fields nobody reads are not validated.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    ValidationError,
)

Text = StrictStr | None


# Ids no longer than the database keeps them (a longer one would fail there, later).
UserId: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=128)]
TenantId: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=64)]
Key: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=255)]
Zone: TypeAlias = Annotated[str, StringConstraints(strict=True, max_length=64)]
CARD_ACTION_INVOKE = "adaptiveCard/action"
FILE_CONSENT_INVOKE = "fileConsent/invoke"
SEARCH_INVOKE = "application/search"


class Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


class Account(Part):
    id: UserId
    name: Text = None
    aad_object_id: UserId | None = Field(None, alias="aadObjectId")
    role: Text = None


class Conversation(Part):
    id: StrictStr
    conversation_type: Text = Field(None, alias="conversationType")
    is_group: StrictBool | None = Field(None, alias="isGroup")
    tenant_id: TenantId | None = Field(None, alias="tenantId")


class Tenant(Part):
    id: TenantId


class Place(Part):
    """A team or channel in ``channelData``: its id is a conversation key."""

    id: Key


class ChannelData(Part):
    tenant: Tenant | None = None
    team: Place | None = None
    channel: Place | None = None


class Entity(Part):
    type: StrictStr
    text: Text = None
    mentioned: Account | None = None


class CardAction(Part):
    data: dict[str, Any] | None = None


class CardActionValue(Part):
    """``adaptiveCard/action``: what an Action.Execute sends."""

    action: CardAction


class UploadInfo(Part):
    upload_url: Text = Field(None, alias="uploadUrl")
    content_url: Text = Field(None, alias="contentUrl")
    name: Text = None
    unique_id: Text = Field(None, alias="uniqueId")
    file_type: Text = Field(None, alias="fileType")


class FileConsentValue(Part):
    """``fileConsent/invoke``: the person's answer to a file offer."""

    action: Text = None
    context: dict[str, Any] | None = None
    upload_info: UploadInfo | None = Field(None, alias="uploadInfo")


class SearchOptions(Part):
    skip: int | None = None
    top: int | None = None


class SearchValue(Part):
    """``application/search``: a card's type-ahead (``Data.Query``) asking for choices."""

    dataset: StrictStr
    query_text: Text = Field(None, alias="queryText")
    query_options: SearchOptions | None = Field(None, alias="queryOptions")


class Activity(Part):
    type: Annotated[str, Field(min_length=1, strict=True)]
    id: Text = None
    name: Text = None
    service_url: Annotated[str, Field(pattern=r"^https?://", strict=True)] = Field(
        alias="serviceUrl")
    channel_id: Text = Field(None, alias="channelId")
    conversation: Conversation
    from_: Account | None = Field(None, alias="from")
    recipient: Account | None = None
    text: Text = None
    locale: Text = None
    local_timezone: Zone | None = Field(None, alias="localTimezone")
    reply_to_id: Text = Field(None, alias="replyToId")
    timestamp: Text = None
    local_timestamp: Text = Field(None, alias="localTimestamp")
    delivery_mode: Text = Field(None, alias="deliveryMode")
    channel_data: ChannelData | None = Field(None, alias="channelData")
    entities: list[Entity] | None = None
    members_added: list[Account] | None = Field(None, alias="membersAdded")
    members_removed: list[Account] | None = Field(None, alias="membersRemoved")
    attachments: list[dict[str, Any]] | None = None
    value: Any = None


INVOKE_VALUES: dict[str, type[Part]] = {
    CARD_ACTION_INVOKE: CardActionValue,
    FILE_CONSENT_INVOKE: FileConsentValue,
    SEARCH_INVOKE: SearchValue,
}


def problem(body: Any) -> str | None:
    """Why ``body`` is not an activity Tandem can answer, or None when it is one."""
    if not isinstance(body, dict):
        return "not an object"
    try:
        activity = Activity.model_validate(body)
        if activity.type == "invoke" and activity.name in INVOKE_VALUES:
            INVOKE_VALUES[activity.name].model_validate(activity.value)
    except ValidationError as error:
        return f"{error.error_count()} field(s) of the wrong shape"
    return None
