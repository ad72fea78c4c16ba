"""bot.core.signing: signed, timestamped, purpose-salted tokens on itsdangerous, on the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.signing import BadToken, ExpiredToken, TokenSigner, signature

SECRET = "test-secret-key"
T0 = datetime(2026, 11, 6, 1, 0, tzinfo=UTC)


def test_a_token_carries_its_payload_until_its_max_age():
    signer = TokenSigner(SECRET, "meetings.signin")
    token = signer.sign({"meeting": 42}, now=T0)
    assert signer.unsign(token, now=T0 + timedelta(minutes=10), max_age=timedelta(minutes=10)) == {
        "meeting": 42
    }
    with pytest.raises(ExpiredToken):
        signer.unsign(token, now=T0 + timedelta(minutes=10, seconds=1), max_age=timedelta(minutes=10))
    # Dated after `now`: a clock moved back, or a token from the future; not accepted either.
    with pytest.raises(ExpiredToken):
        signer.unsign(token, now=T0 - timedelta(seconds=1), max_age=timedelta(minutes=10))


def test_a_token_of_one_purpose_never_verifies_as_another():
    token = TokenSigner(SECRET, "meetings.projector").sign(7, now=T0)
    with pytest.raises(BadToken) as caught:
        TokenSigner(SECRET, "meetings.signin").unsign(token, now=T0, max_age=timedelta(hours=1))
    assert not isinstance(caught.value, ExpiredToken)


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:], lambda t: "", lambda t: "x.y.z"]
)
def test_forged_or_malformed_tokens_are_bad(mangle):
    signer = TokenSigner(SECRET, "h5session")
    token = signer.sign(1, now=T0)
    with pytest.raises(BadToken):
        signer.unsign(mangle(token), now=T0, max_age=timedelta(hours=1))
    with pytest.raises(BadToken):
        TokenSigner("another-secret", "h5session").unsign(token, now=T0, max_age=timedelta(hours=1))


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
