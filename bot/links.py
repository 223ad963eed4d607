"""Signed, expiring tokens for the links billbot hands out (pay page, invoice list)."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkError(ValueError):
    """A link token is forged, damaged or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class LinkSigner:
    """Signs ids into URL-safe tokens; the database still decides whether a link is usable."""

    def __init__(self, secret_key: str, public_url: str) -> None:
        self._pay = URLSafeTimedSerializer(secret_key, salt="billbot.pay-link")
        self._invoices = URLSafeTimedSerializer(secret_key, salt="billbot.invoices")
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

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> object:
        try:
            return serializer.loads(token, max_age=max_age)
        except SignatureExpired:
            raise LinkError("This link has expired.", expired=True) from None
        except BadSignature:
            raise LinkError("This link is not valid.") from None
