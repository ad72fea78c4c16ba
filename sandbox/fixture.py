"""The sandbox's world: the DingTalk and WeCom corps, their apps, members and groups.

A fixture is plain JSON (or a dict). The default one is built from config/demo.py so that the demo's
seeded organisation, the bot's demo settings and the emulator agree on corp ids and app credentials.
Users may carry an optional `role` (书记, 观察员 …) that only the chat page uses to group people, and
`in_range: false` to place them outside the app's visible range (可见范围).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from config import demo


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# A user's departments: a fixture may name a single one.
DeptIds = Annotated[list[int], BeforeValidator(lambda v: [v] if isinstance(v, int | str) else v)]


class _User(_Model):
    """What both platforms' users carry; each adds its departments and job title under its own names."""

    userid: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    role: str = ""
    in_range: bool = True
    mobile: str = ""


class DingTalkUser(_User):
    dept: DeptIds = Field(default_factory=lambda: [1])
    title: str = ""


class DingTalkGroup(_Model):
    openConversationId: str = Field(min_length=1)
    title: str = ""
    members: list[str] = Field(default_factory=list)


class DingTalkApp(_Model):
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    robot_code: str = ""
    agent_id: str = ""

    @model_validator(mode="after")
    def _robot_code_defaults_to_client_id(self) -> DingTalkApp:
        # A robot created inside an internal app uses the app's client id (AppKey) as its robotCode.
        if not self.robot_code:
            self.robot_code = self.client_id
        return self


class _Directory(_Model):
    """A corp whose members are found by userid through an index, as the platform finds them. Scanning
    the list cost a 10,000-member fixture 16 ms per batchSend of 20 userids, which the relay benchmark
    counted as the platform's latency. Whoever adds, removes or renames a member calls users_changed()."""

    _by_userid: dict[str, Any] | None = PrivateAttr(default=None)

    def user(self, userid: str):
        if self._by_userid is None:
            index: dict[str, Any] = {}
            for u in self.users:  # type: ignore[attr-defined]
                index.setdefault(u.userid, u)  # the first of a duplicated userid, as a scan finds it
            self._by_userid = index
        return self._by_userid.get(userid)

    def users_changed(self) -> None:
        self._by_userid = None


class DingTalkCorp(_Directory):
    corp_id: str = Field(min_length=1)
    app: DingTalkApp
    users: list[DingTalkUser] = Field(default_factory=list)
    groups: list[DingTalkGroup] = Field(default_factory=list)
    departments: list[dict] = Field(
        default_factory=lambda: [{"dept_id": 1, "name": "本单位", "parent_id": 0}]
    )


class WeComUser(_User):
    department: DeptIds = Field(default_factory=lambda: [1])
    position: str = ""


class WeComCorp(_Directory):
    corp_id: str = Field(min_length=1)
    agent_id: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    # Only callbacks need these; a fixture that only exercises sending may leave the demo's values.
    token: str = Field(default=demo.WECOM_TOKEN, min_length=1)
    encoding_aes_key: str = Field(default=demo.WECOM_ENCODING_AES_KEY, min_length=43, max_length=43)
    callback_url: str = ""
    users: list[WeComUser] = Field(default_factory=list)
    departments: list[dict] = Field(
        default_factory=lambda: [{"id": 1, "name": "本单位", "parentid": 0, "order": 1}]
    )

    @field_validator("agent_id", mode="before")
    @classmethod
    def _agent_id_as_text(cls, v: Any) -> Any:
        return str(v)


class Fixture(_Model):
    dingtalk: DingTalkCorp | None = None
    wecom: WeComCorp | None = None

    def dingtalk_user(self, userid: str) -> DingTalkUser | None:
        return self.dingtalk.user(userid) if self.dingtalk is not None else None

    def wecom_user(self, userid: str) -> WeComUser | None:
        return self.wecom.user(userid) if self.wecom is not None else None

    def dingtalk_group(self, cid: str) -> DingTalkGroup | None:
        if self.dingtalk is None:
            return None
        return next((g for g in self.dingtalk.groups if g.openConversationId == cid), None)


# The handful of people the sandbox knows before the demo loads its own organisation: one of each kind
# of role the product serves, plus one person the app cannot reach.
_DEFAULT_PEOPLE = [
    ("zhangsan", "张三", "书记"),
    ("lisi", "李四", "组织委员"),
    ("wangwu", "王五", "党员"),
    ("zhaoliu", "赵六", "党员"),
    ("sunqi", "孙七", "观察员"),
    ("zhouba", "周八", "党委组织委员"),
]


def default_fixture() -> dict:
    people = [{"userid": uid, "name": name, "role": role} for uid, name, role in _DEFAULT_PEOPLE]
    outsider = {"userid": "wujiu", "name": "吴九", "role": "党员", "in_range": False}
    return {
        "dingtalk": {
            "corp_id": demo.DINGTALK_CORP_ID,
            "app": {
                "client_id": demo.DINGTALK_CLIENT_ID,
                "client_secret": demo.DINGTALK_CLIENT_SECRET,
                "robot_code": demo.DINGTALK_ROBOT_CODE,
                "agent_id": demo.DINGTALK_AGENT_ID,
            },
            "users": [{**p, "dept": [1]} for p in people] + [{**outsider, "dept": [1]}],
            "groups": [
                {
                    "openConversationId": "cidDemoBranchGroup0001==",
                    "title": "第一党支部",
                    "members": [p["userid"] for p in people[:4]],
                }
            ],
        },
        "wecom": {
            "corp_id": demo.WECOM_CORP_ID,
            "agent_id": demo.WECOM_AGENT_ID,
            "secret": demo.WECOM_SECRET,
            "token": demo.WECOM_TOKEN,
            "encoding_aes_key": demo.WECOM_ENCODING_AES_KEY,
            "callback_url": "http://127.0.0.1:8000/wecom/callback",
            "users": [{**p, "department": [1]} for p in people] + [{**outsider, "department": [1]}],
        },
    }


def load_fixture(raw: dict | None) -> Fixture:
    """Validate a fixture dict; raises pydantic.ValidationError with the reason."""
    return Fixture.model_validate(default_fixture() if raw is None else raw)
