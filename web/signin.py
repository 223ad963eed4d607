"""Signing in to the web view: by a one-time code sent to the customer's number, or by a
single-use link from a chat (`LinkSigner.login_url`).

A stranger learns nothing: any well-formed number gets the same "we sent a code if this
number is ours" page, and the same limits, whether or not it is a customer's (a number that
is nobody's gets no SMS, so nobody can pump texts). The limits mirror the PIN's:

- 5 tries per code, 10 minutes, single use (`bot.otp`: the code is derived, never stored);
- 5 wrong codes from one requester (browser address) in 30 minutes lock that requester out
  for 30 minutes — other requesters, the customer included, are not locked;
- 15 wrong codes on one number in 24 hours pause codes for that number; a link from the
  customer's own chat still signs them in, so a stranger cannot lock a customer out;
- 3 codes per number per 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import otp
from bot.i18n import say
from bot.phones import PhoneError, normalize
from bot.services import Services
from bot.store.web_auth import SignInAttempts
from bot.types import OutboundMessage, Reply

CODE_TTL = otp.TTL
CODES_PER_NUMBER, CODES_WINDOW = 3, timedelta(minutes=15)
REQUESTER_FAILS, REQUESTER_WINDOW = 5, timedelta(minutes=30)
NUMBER_FAILS, NUMBER_WINDOW = 15, timedelta(hours=24)
CODE_SMS = {
    "en": "{operator}: your sign-in code is {code}. It expires in 10 minutes. "
    "Never share it: we will never ask for it.",
    "es": "{operator}: tu código para entrar es {code}. Caduca en 10 minutos. "
    "No lo compartas: nunca te lo pediremos.",
}


class SignInRefused(Exception):
    """The reason (a page text key) a code was not sent or not accepted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CodeSignIn:
    services: Services
    attempts: SignInAttempts

    async def request(self, phone: str, *, requester: str, now: datetime) -> str:
        """A new attempt's id (goes in a signed cookie); SignInRefused with the reason."""
        msisdn = self._number(phone)
        await self._check_requester(requester, now)
        digest = self.phone_hash(msisdn)
        if await self.attempts.codes_sent(digest, since=now - CODES_WINDOW) >= CODES_PER_NUMBER:
            raise SignInRefused("too_many_codes")
        if await self.attempts.wrong_codes(phone_hash=digest, since=now - NUMBER_WINDOW) >= (
            NUMBER_FAILS
        ):
            raise SignInRefused("codes_paused")
        account = await self.services.billing.find_account_by_msisdn(msisdn)
        reference = otp.OneTimeCodes.new_reference()
        attempt_id = await self.attempts.create(
            reference=reference,
            phone_hash=digest,
            requester=requester,
            account_id=account.id if account else None,
            now=now,
            ttl=CODE_TTL,
        )
        if account is not None:
            await self.services.outbox.enqueue(
                self._code_sms(msisdn, account.id, account.locale, reference, attempt_id)
            )
        return attempt_id

    async def check(self, attempt_id: str, code: str, *, requester: str, now: datetime) -> int:
        """The account signed in by this code; SignInRefused (and one try counted) if not."""
        await self._check_requester(requester, now)
        attempt = await self.attempts.get(attempt_id)
        if attempt is None or attempt.used or attempt.expires_at <= now:
            raise SignInRefused("code_expired")
        if attempt.tries >= otp.MAX_TRIES:
            raise SignInRefused("code_tries")
        codes = otp.OneTimeCodes(self.services.settings.secret_key)
        if attempt.account_id is None or not codes.matches(attempt.reference, code):
            tries = await self.attempts.fail(attempt_id)
            raise SignInRefused("code_tries" if tries >= otp.MAX_TRIES else "code_wrong")
        if not await self.attempts.use(attempt_id, now=now):
            raise SignInRefused("code_expired")
        return attempt.account_id

    def phone_hash(self, msisdn: str) -> str:
        key = hashlib.sha256(
            b"billbot sign-in numbers\0" + self.services.settings.secret_key.encode()
        )
        return hmac.new(key.digest(), msisdn.encode(), hashlib.sha256).hexdigest()

    def _number(self, phone: str) -> str:
        try:
            return normalize(phone, default_region=self.services.settings.default_region)
        except PhoneError:
            raise SignInRefused("bad_number") from None

    async def _check_requester(self, requester: str, now: datetime) -> None:
        fails = await self.attempts.wrong_codes(requester=requester, since=now - REQUESTER_WINDOW)
        if fails >= REQUESTER_FAILS:
            raise SignInRefused("locked")

    def _code_sms(
        self, msisdn: str, account_id: int, locale: str, reference: str, attempt_id: str
    ) -> OutboundMessage:
        text = say(
            CODE_SMS, locale, operator=self.services.operator.name, code=otp.placeholder(reference)
        )
        return OutboundMessage(
            channel="sms",
            address=msisdn,
            replies=(Reply(text=text),),
            kind="sign_in_code",
            dedupe_key=f"sign_in_code:{attempt_id}",
            account_id=account_id,
        )
