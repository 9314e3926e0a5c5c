"""E1: what an expert (or an admin of the organization) changes of the expert's profile —
the introduction, the skills and the photo; the web pages and the API call these.

A photo is kept without an image library. It is accepted only when its first bytes say JPEG,
PNG or WebP (the file's name and the browser's content type are not believed) and it is at
most ``MAX_BYTES``. It is stored in ``MEDIA_ROOT/experts/`` under a random name, so that a
name tells nothing and is never reused; a new photo or its removal deletes the old file once
the change is committed.

``served`` is the one way a photo leaves the disk (``web.expert_profile.photo``): only a file
that a profile names, directly in the folder, whose first bytes are one of the three kinds;
its content type comes from those bytes too."""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from parlour.accounts.models import Membership

from .models import ExpertProfile, Skill

MAX_BIO = 2000
FOLDER = "experts"
MAX_BYTES = 2 * 1024 * 1024
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class PhotoRefused(Exception):
    """``code``: "not_a_photo" (not JPEG, PNG or WebP) or "too_big" (over ``MAX_BYTES``);
    ``message``: what the person reads, in their language."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        if self.code == "too_big":
            return _("The photo is larger than 2 MB: choose a smaller one.")
        return _("This file is not a JPEG, PNG or WebP picture: choose a photo in one of these formats.")


def profile_for(membership: Membership) -> ExpertProfile:
    """The expert's profile, made (in their own time zone) the first time it is needed."""
    profile, _made = ExpertProfile.objects.get_or_create(
        membership=membership, defaults={"time_zone": membership.user.time_zone}
    )
    profile.membership = membership
    return profile


def save_about(profile: ExpertProfile, *, bio: str | None = None, skills: list[Skill] | None = None) -> None:
    """A new introduction and/or skills (the callers have checked the length and that the
    skills are the organization's); what is None stays."""
    with transaction.atomic():
        if bio is not None:
            profile.bio = bio.strip()
            profile.save(update_fields=["bio"])
        if skills is not None:
            profile.skills.set(skills)


def kind_of(head: bytes) -> str | None:
    """The kind of picture the first bytes of a file announce ("jpg", "png", "webp"), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check(upload) -> str:
    """The kind of an uploaded photo; PhotoRefused when it is too big or not a picture."""
    if upload.size > MAX_BYTES:
        raise PhotoRefused("too_big")
    upload.seek(0)
    kind = kind_of(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise PhotoRefused("not_a_photo")
    return kind


def replace_photo(profile: ExpertProfile, upload) -> None:
    """The profile's photo becomes the upload (checked first: PhotoRefused changes nothing)."""
    kind = check(upload)
    name = default_storage.save(f"{FOLDER}/{secrets.token_hex(16)}.{kind}", upload)
    try:
        _set_photo(profile, name)
    except BaseException:
        default_storage.delete(name)
        raise


def remove_photo(profile: ExpertProfile) -> None:
    _set_photo(profile, "")


def _set_photo(profile: ExpertProfile, name: str) -> None:
    with transaction.atomic():
        old = ExpertProfile.objects.select_for_update().values_list("photo", flat=True).get(pk=profile.pk)
        ExpertProfile.objects.filter(pk=profile.pk).update(photo=name)
        if old and old != name:
            transaction.on_commit(lambda: _delete(old))
    profile.photo.name = name


def _delete(name: str) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)


def served(name: str) -> tuple[Path, str] | None:
    """The file and content type of the photo ``experts/<name>``; None for anything that is
    not the photo of a profile (no listing, no other folder, no other kind of file)."""
    if not name or name.startswith(".") or any(c in name for c in "/\\\x00"):
        return None
    if not ExpertProfile.objects.filter(photo=f"{FOLDER}/{name}").exists():
        return None
    folder = (Path(settings.MEDIA_ROOT) / FOLDER).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        return None
    with path.open("rb") as file:
        kind = kind_of(file.read(16))
    return None if kind is None else (path, CONTENT_TYPES[kind])
