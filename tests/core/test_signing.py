"""bot.core.signing: purpose-salted tokens that carry their subject and expiry, judged at the injected now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.signing import BadToken, ExpiredToken, TokenSigner, signature

SECRET = "test-secret-key"
T0 = datetime(2026, 11, 6, 1, 0, tzinfo=UTC)


def test_a_token_carries_its_subject_until_its_expiry_and_grace():
    signer = TokenSigner(SECRET, "meetings.signin")
    token = signer.sign(42, expires_at=T0 + timedelta(minutes=10))
    assert signer.unsign(token, now=T0) == 42
    assert signer.unsign(token, now=T0 + timedelta(minutes=10)) == 42
    with pytest.raises(ExpiredToken) as caught:
        signer.unsign(token, now=T0 + timedelta(minutes=10, seconds=1))
    assert caught.value.subject == 42  # the caller can still tell "expired" from "not yours"
    grace = timedelta(seconds=15)
    assert signer.unsign(token, now=T0 + timedelta(minutes=10, seconds=15), grace=grace) == 42
    with pytest.raises(ExpiredToken):
        signer.unsign(token, now=T0 + timedelta(minutes=10, seconds=16), grace=grace)


def test_the_token_is_short_and_names_subject_and_expiry_in_the_clear():
    token = TokenSigner(SECRET, "meetings.signin").sign(7, expires_at=T0)
    subject, expiry, sig = token.split(".")
    assert (subject, expiry) == ("7", str(int(T0.timestamp())))
    assert len(token) < 64  # a sparse QR code


def test_a_token_of_one_purpose_never_verifies_as_another():
    token = TokenSigner(SECRET, "meetings.projector").sign(7, expires_at=T0 + timedelta(hours=1))
    with pytest.raises(BadToken) as caught:
        TokenSigner(SECRET, "meetings.signin").unsign(token, now=T0)
    assert not isinstance(caught.value, ExpiredToken)


def _resign_later(t: str) -> str:
    subject, expiry, sig = t.split(".")
    return f"{subject}.{int(expiry) + 3600}.{sig}"


def _other_subject(t: str) -> str:
    subject, expiry, sig = t.split(".")
    return f"{int(subject) + 1}.{expiry}.{sig}"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
        _resign_later,
        _other_subject,
        lambda t: "",
        lambda t: "x.y.z",
        lambda t: "garbage",
        lambda t: t + "é",
    ],
)
def test_forged_or_malformed_tokens_are_bad(mangle):
    signer = TokenSigner(SECRET, "h5session")
    token = signer.sign(1, expires_at=T0 + timedelta(hours=1))
    assert signer.unsign(token, now=T0) == 1
    with pytest.raises(BadToken) as caught:
        signer.unsign(mangle(token), now=T0)
    assert not isinstance(caught.value, ExpiredToken)
    with pytest.raises(BadToken):
        TokenSigner("another-secret", "h5session").unsign(token, now=T0)


def test_signature_is_fixed_per_value_secret_and_purpose():
    first = signature(SECRET, "h5.csrf", "cookie-1")
    assert first == signature(SECRET, "h5.csrf", "cookie-1")
    assert len({first, signature(SECRET, "h5.csrf", "cookie-2"), signature(SECRET, "other", "cookie-1"),
                signature("another-secret", "h5.csrf", "cookie-1")}) == 4  # fmt: skip


def test_no_secret_or_purpose_no_signer():
    with pytest.raises(ValueError):
        TokenSigner("", "h5session")
    with pytest.raises(ValueError):
        TokenSigner(SECRET, "")
    with pytest.raises(ValueError):
        signature("", "h5.csrf", "x")
