"""What the API takes and answers: its prefix, the id and date-time types every endpoint reads, the
error bodies, and the response shapes (they are the OpenAPI document too)."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from models.org import BranchCategory, MemberStatus, OrgUnit, Platform, Role, UnitKind
from models.outbox import DeliveryStatus, TargetKind

PREFIX = "/api/v1"
# Ids are INTEGER columns: 32 bits on PostgreSQL. A larger value can name no row, and handed to the
# driver it overflows (a 500) instead of finding nothing.
MAX_ID = 2**31 - 1

# Every id the API takes, in the path, the query or a body. Plain constraints rather than a
# Path()/Query() marker, so one type serves all three and the range is in the OpenAPI document.
Id = Annotated[int, Ge(1), Le(MAX_ID)]
# The detail type of a 422 for a request the schema allows but a rule refuses (see refused()).
REFUSED = "refused"

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_8601_only(value: Any) -> Any:
    # Left alone pydantic also reads a number as seconds since 1970; the schema promises a string.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise ValueError("expected an ISO 8601 date-time with an offset, e.g. 2026-05-20T15:00:00+08:00")


def _representable_in_utc(value: datetime) -> datetime:
    # 0001-01-01T00:00+08:00 is a valid date-time that has no UTC instant in Python (it is stored in UTC).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(REFUSED, "date-time out of range") from None
    return value


# Every date-time the API takes (query or body): ISO 8601 with an offset, storable in UTC.
DateTimeIn = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only), AfterValidator(_representable_in_utc)]


# ---------------------------------------------------------------------------------------------
# Response shapes (they are the OpenAPI document too)


class Problem(BaseModel):
    """The body of every error but 422."""

    detail: str = Field(description="What went wrong, in words.")


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "An id given is unknown or outside the token's scope"}
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "The token is read-only (create one with --write)"}
}


class UnitRef(BaseModel):
    id: int
    name: str
    kind: UnitKind


class UnitCounts(BaseModel):
    members: int = Field(description="Active people whose branch is this unit or below it.")
    probationary: int = Field(description="Of those, 预备党员.")
    children: int = Field(description="Direct child units.")


class UnitOut(BaseModel):
    id: int
    name: str
    kind: UnitKind
    kind_label: str
    category: BranchCategory | None
    category_label: str | None
    parent_id: int | None
    path: str = Field(description="Materialised path of ids from the root, e.g. /1/4/17/.")
    active: bool
    counts: UnitCounts


class UnitNode(UnitOut):
    children: list["UnitNode"] = Field(default_factory=list)


class RoleOut(BaseModel):
    role: Role
    label: str
    unit: UnitRef | None = Field(
        description="The unit the role is held in; null for 组织部 over the whole tree."
    )


class ChatAccountOut(BaseModel):
    platform: Platform
    platform_label: str
    corp_id: str
    account_id: str


class PersonOut(BaseModel):
    id: int
    name: str
    branch: UnitRef | None
    group: UnitRef | None
    status: MemberStatus
    status_label: str
    active: bool
    is_mobile: bool
    roles: list[RoleOut] = Field(description="Only roles held inside the token's scope.")
    chat_accounts: list[ChatAccountOut]


class PersonRef(BaseModel):
    id: int
    name: str


class RoleAssignmentOut(BaseModel):
    id: int
    person: PersonRef
    role: Role
    label: str
    unit: UnitRef | None


class RoleCatalogEntry(BaseModel):
    role: Role
    label: str
    unit_kinds: list[UnitKind] = Field(description="The kinds of unit in which this role can be held.")


class DeliveryOut(BaseModel):
    id: int
    dedup_key: str = Field(description="What was sent: the business key shared by every recipient of it.")
    recipient: str
    person: PersonRef | None
    branch: UnitRef | None = Field(description="The recipient's branch when the message was queued.")
    platform: str = Field(description="dingtalk, wecom, or empty when the person has no chat account.")
    target_kind: TargetKind
    target: str
    status: DeliveryStatus
    status_label: str
    reason: str | None = Field(description="Why a failed delivery failed, in Chinese (e.g. 未绑定).")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class TokenInfo(BaseModel):
    id: int
    name: str
    scope: UnitRef | None = Field(description="The root of what this token sees; null for everything.")
    can_write: bool = Field(description="Whether it may also change data (`zhibu api-token create --write`).")


def unit_ref(unit: OrgUnit | None) -> UnitRef | None:
    return UnitRef(id=unit.id, name=unit.name, kind=unit.kind) if unit else None
