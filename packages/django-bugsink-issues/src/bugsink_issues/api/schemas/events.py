"""Events: the list items and the detail with Sentry's `entries` (exception, stacktrace, threads,
message, breadcrumbs, request), each entry typed by its `type`."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field

from bugsink_issues.api.schemas.answers import Answer
from bugsink_issues.api.schemas.issues import ReleaseSummaryOut

__all__ = [
    "BreadcrumbOut",
    "EventDetailOut",
    "EventEntry",
    "EventListItemOut",
    "EventTagOut",
    "EventUserOut",
    "FrameOut",
    "StacktraceOut",
]


class EventTagOut(Answer):
    key: str
    value: str


class EventUserOut(Answer):
    id: str | None
    email: str | None
    username: str | None
    ip_address: str | None
    name: str | None
    data: dict[str, Any] | None


class FrameOut(Answer):
    filename: str | None
    absPath: str | None
    module: str | None
    package: str | None
    platform: str | None
    function: str | None
    rawFunction: str | None
    symbol: str | None
    instructionAddr: str | None
    symbolAddr: str | None
    lineNo: int | None
    colNo: int | None
    inApp: bool
    context: list[tuple[int, str]] = Field(description="[line number, source line] pairs.")
    vars: dict[str, Any] | None
    trust: str | None
    errors: list[Any] | None


class StacktraceOut(Answer):
    frames: list[FrameOut] = Field(description="Oldest call first, as the SDK sent them.")
    framesOmitted: list[int] | None
    registers: dict[str, Any] | None
    hasSystemFrames: bool


class ExceptionValueOut(Answer):
    type: str | None
    value: str | None
    module: str | None
    mechanism: dict[str, Any] | None
    threadId: int | str | None
    stacktrace: StacktraceOut | None
    rawStacktrace: StacktraceOut | None


class ExceptionData(Answer):
    values: list[ExceptionValueOut] = Field(description="The cause first, the raised one last.")
    excOmitted: list[int] | None
    hasSystemFrames: bool


class ExceptionEntry(Answer):
    type: Literal["exception"]
    data: ExceptionData


class StacktraceEntry(Answer):
    type: Literal["stacktrace"]
    data: StacktraceOut


class ThreadOut(Answer):
    id: int | str | None
    name: str | None
    crashed: bool
    current: bool
    stacktrace: StacktraceOut | None
    rawStacktrace: StacktraceOut | None


class ThreadsData(Answer):
    values: list[ThreadOut]


class ThreadsEntry(Answer):
    type: Literal["threads"]
    data: ThreadsData


class MessageData(Answer):
    formatted: str
    message: str | None
    params: list[Any] | dict[str, Any] | None


class MessageEntry(Answer):
    type: Literal["message"]
    data: MessageData


class BreadcrumbOut(Answer):
    type: str
    category: str | None
    level: str
    message: str | None
    data: dict[str, Any] | None
    timestamp: datetime | None
    event_id: str | None


class BreadcrumbsData(Answer):
    values: list[BreadcrumbOut]


class BreadcrumbsEntry(Answer):
    type: Literal["breadcrumbs"]
    data: BreadcrumbsData


class RequestData(Answer):
    url: str | None
    method: str | None
    query: list[tuple[str, str]]
    fragment: str | None
    data: Any
    headers: list[tuple[str, str]]
    cookies: list[tuple[str, str]]
    env: dict[str, Any] | None
    inferredContentType: str | None
    apiTarget: str | None


class RequestEntry(Answer):
    type: Literal["request"]
    data: RequestData


EventEntry = Annotated[
    ExceptionEntry
    | StacktraceEntry
    | ThreadsEntry
    | MessageEntry
    | BreadcrumbsEntry
    | RequestEntry,
    Field(discriminator="type"),
]


class EventListItemOut(Answer):
    """An event as the event lists show it."""

    id: str
    eventID: str = Field(description="The SDK's event id, 32 hex digits.")
    groupID: str | None = Field(description="The issue's id.")
    projectID: str
    title: str
    message: str
    culprit: str
    location: str | None
    platform: str | None
    dateCreated: datetime
    event_type: str = Field(alias="event.type")
    tags: list[EventTagOut]
    user: EventUserOut | None
    crashFile: str | None


class EventErrorOut(Answer):
    type: str
    message: str
    data: dict[str, Any]


class SdkOut(Answer):
    name: str | None
    version: str | None


class EventDetailOut(Answer):
    """One event with its entries, as Sentry's event pages read it."""

    id: str
    eventID: str
    groupID: str | None
    projectID: str
    title: str
    message: str
    culprit: str
    location: str | None
    platform: str | None
    type: Literal["error", "default"] = Field(description="error: it has an exception.")
    dateCreated: datetime
    dateReceived: datetime
    dist: str | None
    release: ReleaseSummaryOut | None
    environment: str | None
    user: EventUserOut | None
    tags: list[EventTagOut]
    contexts: dict[str, Any]
    context: dict[str, Any] = Field(description="The event's `extra`.")
    sdk: SdkOut | None
    packages: dict[str, Any]
    entries: list[EventEntry]
    errors: list[EventErrorOut] = Field(description="What the server had to fix in the payload.")
    fingerprints: list[str] = Field(description="The grouping key of the event.")
    metadata: dict[str, Any]
    size: int
    crashFile: str | None
    userReport: dict[str, Any] | None
    sdkUpdates: list[Any]
    nextEventID: str | None
    previousEventID: str | None
    meta: dict[str, Any] = Field(alias="_meta")
