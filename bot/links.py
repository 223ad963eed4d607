"""Signed, expiring tokens for the links billbot hands out (pay page, invoice list, sign-in).

A token signs ids only; the database decides whether a link may still be used: a pay link
until it is paid or expires, a sign-in link once (its nonce is spent on first use, see
`web/signin.py`), an email-change link once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkError(ValueError):
    """A link token is forged, damaged or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


LOGIN_LINK_MAX_AGE = 15 * 60  # a sign-in link from chat works for 15 minutes, once
EMAIL_LINK_MAX_AGE = 24 * 3600
# A "Not me" link in a security notice works for a week: a notice read late must still stop it.
NOT_ME_LINK_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class OneUseClaim:
    """What a single-use link carries: whose it is, and the nonce spent when it is used."""

    account_id: int
    nonce: str
    value: str = ""  # e.g. the new email address of an email-change link


class LinkSigner:
    """Signs ids into URL-safe tokens; the database still decides whether a link is usable."""

    def __init__(self, secret_key: str, public_url: str) -> None:
        self._pay = URLSafeTimedSerializer(secret_key, salt="billbot.pay-link")
        self._invoices = URLSafeTimedSerializer(secret_key, salt="billbot.invoices")
        self._login = URLSafeTimedSerializer(secret_key, salt="billbot.sign-in")
        self._email = URLSafeTimedSerializer(secret_key, salt="billbot.email-change")
        self._not_me = URLSafeTimedSerializer(secret_key, salt="billbot.not-me")
        self.public_url = public_url.rstrip("/")

    def pay_url(self, link_id: str) -> str:
        return f"{self.public_url}/pay/{self._pay.dumps(link_id)}"

    def pay_link_id(self, token: str, *, max_age: int) -> str:
        return str(self._load(self._pay, token, max_age))

    def invoices_url(self, account_id: int) -> str:
        return f"{self.public_url}/invoices/{self._invoices.dumps(account_id)}"

    def invoices_account_id(self, token: str, *, max_age: int) -> int:
        value = self._load(self._invoices, token, max_age)
        if not isinstance(value, int):
            raise LinkError("This link is not valid.")
        return value

    def login_url(self, account_id: int, *, next_path: str = "/account") -> str:
        """A single-use sign-in link to the web view (`/signin/link/…`), then `next_path`."""
        token = self._login.dumps([account_id, secrets.token_urlsafe(12), next_path])
        return f"{self.public_url}/signin/link/{token}"

    def login_claim(self, token: str, *, max_age: int = LOGIN_LINK_MAX_AGE) -> OneUseClaim:
        """The claim of a sign-in link; LinkError when forged or expired."""
        value = self._load(self._login, token, max_age)
        if not _is_claim(value):
            raise LinkError("This link is not valid.")
        assert isinstance(value, list)
        return OneUseClaim(account_id=value[0], nonce=value[1], value=value[2])

    def email_change_url(self, account_id: int, email: str) -> str:
        """A single-use link, sent to `email`, that confirms it as the account's address."""
        token = self._email.dumps([account_id, secrets.token_urlsafe(12), email])
        return f"{self.public_url}/account/contact/confirm/{token}"

    def email_change_claim(self, token: str, *, max_age: int = EMAIL_LINK_MAX_AGE) -> OneUseClaim:
        value = self._load(self._email, token, max_age)
        if not _is_claim(value):
            raise LinkError("This link is not valid.")
        assert isinstance(value, list)
        return OneUseClaim(account_id=value[0], nonce=value[1], value=value[2])

    def not_me_url(self, account_id: int, reference: str) -> str:
        """The one-tap "Not me" of a security notice (`/security/not-me/…`). It may be used
        more than once: stopping what was already stopped changes nothing."""
        return f"{self.public_url}/security/not-me/{self._not_me.dumps([account_id, reference])}"

    def not_me_claim(self, token: str, *, max_age: int = NOT_ME_LINK_MAX_AGE) -> tuple[int, str]:
        """(account id, reference) of a "Not me" link; LinkError when forged or expired."""
        value = self._load(self._not_me, token, max_age)
        if not (isinstance(value, list) and len(value) == 2):
            raise LinkError("This link is not valid.")
        account_id, reference = value
        if not isinstance(account_id, int) or not isinstance(reference, str):
            raise LinkError("This link is not valid.")
        return account_id, reference

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> object:
        try:
            return serializer.loads(token, max_age=max_age)
        except SignatureExpired:
            raise LinkError("This link has expired.", expired=True) from None
        except BadSignature:
            raise LinkError("This link is not valid.") from None


def _is_claim(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 3
        and isinstance(value[0], int)
        and all(isinstance(part, str) for part in value[1:])
    )
