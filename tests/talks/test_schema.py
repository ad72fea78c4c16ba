"""The 谈心谈话 tables carry no index another key already serves: the unique (branch, day, people) is
itself the index for a branch's talks by day, so a separate (branch, day) index would only cost writes."""

from __future__ import annotations

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from models.talks import HeartTalk, HeartTalkPerson


def test_no_index_is_the_prefix_of_another_key():
    for table in (HeartTalk.__table__, HeartTalkPerson.__table__):
        keys = [tuple(c.name for c in ix.columns) for ix in table.indexes] + [
            tuple(c.name for c in k.columns)
            for k in table.constraints
            if isinstance(k, UniqueConstraint | PrimaryKeyConstraint)
        ]
        for ix in table.indexes:
            columns = tuple(c.name for c in ix.columns)
            longer = [k for k in keys if k != columns and k[: len(columns)] == columns]
            assert not longer, f"{table.name}.{ix.name} {columns} is the prefix of {longer}"
