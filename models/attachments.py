"""Photos (照片) attached to a record: the minutes of a meeting, an observer's evaluation form.

One shared table for every feature: a row names its owner by kind + id ("minutes", minutes id /
"observation", observation id). The bytes live in the database (LargeBinary): simple, works the
same on SQLite and PostgreSQL, and is backed up with the database; the limits below keep it small.

``check_photos`` vets uploads before anything is written: Pillow must actually open the image, its size
(width × height, read from the header before any pixel is decoded) must stay under MAX_PHOTO_PIXELS, and
what is stored is a re-encoding of the pixels, upright (EXIF orientation applied) and without EXIF, XMP
or text chunks, so no GPS position or camera serial leaves with the photo. ``attach_photos`` adds them in the
caller's transaction, so a refused save stores no photo.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from models.base import Base, TimestampMixin

MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Decoded, a photo takes 3–4 bytes a pixel: 25 million (a 24-megapixel camera) is about 100 MB. A small
# PNG can declare 12000×12000 (576 MB decoded); Pillow's own guard only warns below 89 million pixels.
MAX_PHOTO_PIXELS = 25_000_000
# Pillow format → the content type we serve it with. HEIC is not accepted (browsers cannot show it).
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

MINUTES = "minutes"
OBSERVATION = "observation"

# What people are told (one place for the attachment feature).
TOO_MANY = "照片最多 {limit} 张，请删去几张后再提交（已填写的内容仍保留）。"
TOO_LARGE = "照片“{name}”超过 {mb} MB，请压缩后再提交（已填写的内容仍保留）。"
NOT_IMAGE = "“{name}”不是可识别的照片（只支持 JPG、PNG、WebP），请重新选择（已填写的内容仍保留）。"
TOO_MANY_PIXELS = "照片“{name}”尺寸太大（最多 {megapixels} 万像素），请缩小后再提交（已填写的内容仍保留）。"
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
    uploads: list[Upload],
    *,
    max_photos: int = MAX_PHOTOS,
    max_bytes: int = MAX_PHOTO_BYTES,
    max_pixels: int = MAX_PHOTO_PIXELS,
) -> list[Photo]:
    """The uploads as photos, or PhotoError with the reason. Empty file inputs are ignored."""
    uploads = [u for u in uploads if u.data]
    if len(uploads) > max_photos:
        raise PhotoError(TOO_MANY.format(limit=max_photos))
    photos = []
    for u in uploads:
        if len(u.data) > max_bytes:
            raise PhotoError(TOO_LARGE.format(name=u.filename, mb=max_bytes // (1024 * 1024)))
        photos.append(_clean_photo(u, max_pixels))
    return photos


def _clean_photo(u: Upload, max_pixels: int) -> Photo:
    """The upload re-encoded upright and without metadata, or PhotoError."""
    too_big = PhotoError(TOO_MANY_PIXELS.format(name=u.filename, megapixels=max_pixels // 10_000))
    try:
        with Image.open(io.BytesIO(u.data)) as img:  # reads the header only
            fmt = img.format
            width, height = img.size
            if width * height > max_pixels:
                raise too_big
            img.verify()  # reads the whole file: a truncated or forged image fails here
        if fmt not in ALLOWED_FORMATS:
            raise PhotoError(NOT_IMAGE.format(name=u.filename))
        with Image.open(io.BytesIO(u.data)) as img:  # verify() leaves the image unusable: open it again
            data = _reencode(img, fmt)
    except PhotoError:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, past twice its 89 million pixels
        raise too_big from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoError(NOT_IMAGE.format(name=u.filename)) from None
    return Photo(ALLOWED_FORMATS[fmt], data)


def _reencode(img: Image.Image, fmt: str) -> bytes:
    """The first frame's pixels, upright, in the same format, with nothing of the original's metadata but the
    colour profile (and a palette's transparency): EXIF (GPS, camera, time), XMP and text chunks are dropped."""
    img.load()
    # A JPEG's own tables and chroma sampling: re-encoding with them loses next to nothing.
    quantization = getattr(img, "quantization", None)
    sampling = JpegImagePlugin.get_sampling(img) if fmt == "JPEG" else -1
    keep = {k: img.info[k] for k in ("icc_profile", "transparency") if k in img.info}
    upright = ImageOps.exif_transpose(img)  # a copy, turned as the EXIF orientation says
    upright.info = {}  # Pillow would carry some of it over on save (e.g. EXIF for WebP in some versions)
    options: dict[str, object] = {}
    if "icc_profile" in keep:
        options["icc_profile"] = keep["icc_profile"]
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        if quantization:
            options["qtables"] = quantization
            if sampling >= 0:
                options["subsampling"] = sampling
        else:
            options["quality"] = 90
    elif fmt == "PNG":
        if "transparency" in keep:
            options["transparency"] = keep["transparency"]
    elif fmt == "WEBP":
        options["quality"] = 90
    out = io.BytesIO()
    upright.save(out, format=fmt, **options)
    return out.getvalue()


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
