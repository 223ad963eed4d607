"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread), for the email sender to talk to.

`with FakeSmtp() as fake:` listens on a free port and records every message it accepts
(`fake.messages`, parsed). `refuse` scripts answers to RCPT TO per address ("550 5.1.1 …");
`refuse_data` answers DATA instead of accepting it; `login` makes the server offer AUTH (over
plain text: `auth_require_tls=False`) and refuse mail without it, with that user and password.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True, slots=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        content = self.content.replace(b"\r\n", b"\n")  # as a mail client stores it
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FakeSmtp:
    """The fake server; `url` is what BILLBOT_SMTP_URL should be (plus any credentials)."""

    refuse: Mapping[str, str] = field(default_factory=dict)  # address → RCPT answer
    refuse_data: str | None = None  # e.g. "554 5.7.1 message refused as spam"
    login: tuple[str, str] | None = None  # (user, password) the server requires
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user tried, accepted)
    _controller: Controller | None = None

    @property
    def port(self) -> int:
        assert self._controller is not None
        return int(self._controller.port)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def messages(self) -> list[EmailMessage]:
        return [received.message for received in self.received]

    def __enter__(self) -> FakeSmtp:
        auth: dict[str, Any] = {}
        if self.login is not None:
            # Not aiosmtpd's auth_required: it warns without TLS (and warnings are errors
            # here); handle_MAIL refuses the unauthenticated instead.
            auth = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = _AnyPortController(_Handler(self), hostname=self.host, **auth)
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.login is None:
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        accepted = (user, password) == self.login
        self.logins.append((user, accepted))
        return AuthResult(success=accepted, handled=False)


class _Handler:
    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_MAIL(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.fake.login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        answer = self.fake.refuse.get(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fake.refuse_data is not None:
            return self.fake.refuse_data
        received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
        self.fake.received.append(received)
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):  # type: ignore[misc]
    """aiosmtpd's Controller on port 0: the port the system picked is read back before the
    controller's own start-up check connects to it."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, port=0, **kwargs)

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
