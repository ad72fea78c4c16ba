"""Photos (照片) attached to a record: the minutes of a meeting, an observer's evaluation form.

One shared table for every feature: a row names its owner by kind + id ("minutes", minutes id /
"observation", observation id). The bytes live in the database (LargeBinary): simple, works the
same on SQLite and PostgreSQL, and is backed up with the database; the limits below keep it small.

``check_photos`` vets uploads before anything is written (Pillow must actually open the image);
``attach_photos`` adds them in the caller's transaction, so a refused save stores no photo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from models.base import Base, TimestampMixin

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Pillow format → the content type we serve it with. HEIC is not accepted (browsers cannot show it).
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

MINUTES = "minutes"
OBSERVATION = "observation"

# What people are told (one place for the attachment feature).
TOO_MANY = "照片最多 {limit} 张，请删去几张后再提交（已填写的内容仍保留）。"
TOO_LARGE = "照片“{name}”超过 {mb} MB，请压缩后再提交（已填写的内容仍保留）。"
NOT_IMAGE = "“{name}”不是可识别的照片（只支持 JPG、PNG、WebP），请重新选择（已填写的内容仍保留）。"
PHOTOS_LABEL = "照片（选填，最多 {limit} 张，每张不超过 {mb} MB）"
PHOTOS_SHOWN = "已上传的照片"


class PhotoError(ValueError):
    """A refused upload; str() is the Chinese message for the person."""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Photo:
    content_type: str
    data: bytes


class Attachment(TimestampMixin, Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    # Deferred: listing a record's photos must not load every photo's bytes.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))


def check_photos(
    uploads: list[Upload], *, max_photos: int = MAX_PHOTOS, max_bytes: int = MAX_PHOTO_BYTES
) -> list[Photo]:
    """The uploads as photos, or PhotoError with the reason. Empty file inputs are ignored."""
    uploads = [u for u in uploads if u.data]
    if len(uploads) > max_photos:
        raise PhotoError(TOO_MANY.format(limit=max_photos))
    photos = []
    for u in uploads:
        if len(u.data) > max_bytes:
            raise PhotoError(TOO_LARGE.format(name=u.filename, mb=max_bytes // (1024 * 1024)))
        try:
            with Image.open(io.BytesIO(u.data)) as img:
                fmt = img.format
                img.verify()  # reads the whole file: a truncated or forged image fails here
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise PhotoError(NOT_IMAGE.format(name=u.filename)) from None
        if fmt not in ALLOWED_FORMATS:
            raise PhotoError(NOT_IMAGE.format(name=u.filename))
        photos.append(Photo(ALLOWED_FORMATS[fmt], u.data))
    return photos


def attach_photos(
    session: Session, owner_kind: str, owner_id: int, photos: list[Photo], uploaded_by_id: int | None
) -> list[Attachment]:
    """Add photos to a record, up to MAX_PHOTOS in all (a corrected record keeps its earlier photos)."""
    if not photos:
        return []
    if len(photos_of(session, owner_kind, owner_id)) + len(photos) > MAX_PHOTOS:
        raise PhotoError(TOO_MANY.format(limit=MAX_PHOTOS))
    rows = [
        Attachment(
            owner_kind=owner_kind,
            owner_id=owner_id,
            content_type=p.content_type,
            size=len(p.data),
            data=p.data,
            uploaded_by_id=uploaded_by_id,
        )
        for p in photos
    ]
    session.add_all(rows)
    session.flush()
    return rows


def photos_of(session: Session, owner_kind: str, owner_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )
