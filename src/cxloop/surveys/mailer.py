"""E-mail: build multipart messages and send them over SMTP, or write them as files.

Messages are built with the standard library (:class:`email.message.EmailMessage`): a
plain-text part and an HTML part, UTF-8 throughout, the subject encoded per RFC 2047 so
Chinese subjects arrive intact, and ``List-Unsubscribe`` headers (RFC 2369 and the
one-click POST of RFC 8058) when the message carries an unsubscribe link.

:class:`Mailer` sends over :mod:`smtplib` with the ``CXLOOP_SMTP_*`` settings, keeping
one connection open for a batch. When ``smtp_host`` is empty it writes each message as
an ``.eml`` file to the outbox folder instead (:func:`outbox_dir`).
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from types import TracebackType

from cxloop.config import Settings
from cxloop.domain.errors import InvalidInput
from cxloop.store.engine import sqlite_path
from cxloop.store.types import utcnow

#: Seconds to wait for the SMTP server before a message counts as failed.
SMTP_TIMEOUT = 30
SECURITY_MODES = ("none", "starttls", "ssl")
#: CRLF lines, and bodies in quoted-printable or base64 (no server needs 8BITMIME).
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class MailError(Exception):
    """A message could not be handed to the SMTP server (the text says why)."""


@dataclass(frozen=True)
class OutgoingMail:
    """One message to one person: both bodies, and the link that unsubscribes them."""

    to_address: str
    to_name: str | None
    subject: str
    text: str
    html: str
    unsubscribe_url: str | None = None


def outbox_dir(settings: Settings) -> Path:
    """Where ``.eml`` files go when no SMTP server is set.

    ``settings.outbox_dir`` when set; else ``<name>.outbox/`` beside an SQLite store,
    or ``./cxloop.outbox/`` for PostgreSQL.
    """
    if settings.outbox_dir:
        return Path(settings.outbox_dir)
    path = sqlite_path(settings.database_url)
    if path is None:
        return Path("cxloop.outbox")
    return path.with_name(f"{path.stem}.outbox")


def clean_name(name: str | None) -> str:
    """A display name without control characters (no header injection)."""
    return _CONTROL.sub(" ", name or "").strip()


def build_message(settings: Settings, mail: OutgoingMail) -> EmailMessage:
    """The MIME message for ``mail``: text and HTML alternatives, UTF-8.

    Raises
    ------
    InvalidInput
        The recipient address is not a valid e-mail address.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = clean_name(mail.subject)
    message["From"] = settings.smtp_from
    message["To"] = _recipient(mail)
    message["Date"] = formatdate(utcnow().timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain_of(settings.smtp_from))
    message["Auto-Submitted"] = "auto-generated"
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message


def _recipient(mail: OutgoingMail) -> Address:
    address = mail.to_address.strip()
    user, at, domain = address.rpartition("@")
    if not at or not user or "." not in domain or _CONTROL.search(address):
        raise InvalidInput(f"invalid e-mail address {address!r}")
    try:
        return Address(display_name=clean_name(mail.to_name), addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise InvalidInput(f"invalid e-mail address {address!r}: {exc}") from None


def _domain_of(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "cxloop.local"


def escape(text: str | None) -> str:
    """Text made safe for the HTML part (customer names, survey names)."""
    return html.escape(text or "", quote=True)


class Mailer:
    """Sends messages of one batch over one SMTP connection, or to the outbox folder.

    Use as a context manager. :meth:`send` raises :class:`MailError` for a message the
    server refused or could not take; the next :meth:`send` reconnects when needed, so
    one failure never stops a batch.
    """

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_security not in SECURITY_MODES:
            msg = (
                f"CXLOOP_SMTP_SECURITY {settings.smtp_security!r}: choose one of "
                f"{', '.join(SECURITY_MODES)}"
            )
            raise InvalidInput(msg)
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    @property
    def uses_outbox(self) -> bool:
        """True when messages are written as files (no SMTP host set)."""
        return not self.settings.smtp_host

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send(self, mail: OutgoingMail) -> str:
        """Send ``mail``; returns its Message-ID (or the .eml path in outbox mode)."""
        message = build_message(self.settings, mail)
        if self.uses_outbox:
            return str(self._write_eml(message))
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "; ".join(
                f"{code} {reply.decode(errors='replace')}"
                for code, reply in exc.recipients.values()
            )
            raise MailError(f"recipient refused: {refused}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailError(self._describe(exc)) from None
        return str(message["Message-ID"])

    def close(self) -> None:
        """Quit the SMTP connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT)
        try:
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _describe(self, exc: BaseException) -> str:
        s = self.settings
        where = f"SMTP {s.smtp_host}:{s.smtp_port}"
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = exc.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
            return f"{where}: {exc.smtp_code} {text}"
        return f"{where}: {type(exc).__name__}: {exc}"

    def _write_eml(self, message: EmailMessage) -> Path:
        folder = outbox_dir(self.settings)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)
        return path


#: Wording of invitations and reminders per language; ``{survey}`` is the survey name.
WORDING: dict[str, dict[str, str]] = {
    "zh-TW": {
        "subject": "「{survey}」邀請您分享寶貴意見",
        "reminder_subject": "提醒：「{survey}」問卷還在等您",
        "hello": "{name} 您好：",
        "hello_anonymous": "您好：",
        "ask": "想請您花一兩分鐘，告訴我們您的體驗。",
        "reminder": "前幾天我們寄了問卷邀請給您，如果您還沒填寫，仍然非常歡迎。",
        "button": "填寫問卷",
        "personal": "這個連結只屬於您，請勿轉寄。",
        "unsubscribe": "不想再收到問卷邀請？取消訂閱",
    },
    "en": {
        "subject": "{survey}: tell us how we did",
        "reminder_subject": "Reminder: {survey}",
        "hello": "Hello {name},",
        "hello_anonymous": "Hello,",
        "ask": "Would you take a minute or two to tell us about your experience?",
        "reminder": "We wrote to you a few days ago. If you have not answered yet, "
        "your view is still very welcome.",
        "button": "Answer the survey",
        "personal": "This link is yours alone; please do not forward it.",
        "unsubscribe": "No more survey invitations? Unsubscribe",
    },
}


@dataclass(frozen=True)
class Invite:
    """What an invitation e-mail says: to whom, which survey, which links."""

    to_address: str
    to_name: str | None
    language: str
    survey_name: str
    description: str | None
    link: str
    unsubscribe_url: str


def invitation_mail(invite: Invite, *, reminder: bool = False) -> OutgoingMail:
    """The invitation (or its reminder) in the customer's language, text and HTML."""
    words = WORDING["en" if invite.language.startswith("en") else "zh-TW"]
    name = clean_name(invite.to_name)
    hello = words["hello"].format(name=name) if name else words["hello_anonymous"]
    lead = words["reminder"] if reminder else (invite.description or words["ask"])
    subject_key = "reminder_subject" if reminder else "subject"
    text = (
        f"{hello}\n\n{lead}\n\n{words['button']}:\n{invite.link}\n\n"
        f"{words['personal']}\n\n-- \n{words['unsubscribe']}: {invite.unsubscribe_url}\n"
    )
    return OutgoingMail(
        to_address=invite.to_address,
        to_name=name or None,
        subject=words[subject_key].format(survey=invite.survey_name),
        text=text,
        html=_invitation_html(invite, words, hello, lead),
        unsubscribe_url=invite.unsubscribe_url,
    )


def _invitation_html(
    invite: Invite, words: dict[str, str], hello: str, lead: str
) -> str:
    lang = "en" if invite.language.startswith("en") else "zh-Hant-TW"
    link, unsubscribe = escape(invite.link), escape(invite.unsubscribe_url)
    button = (
        "display:inline-block;padding:12px 24px;background:#0b5cad;color:#ffffff;"
        "text-decoration:none;border-radius:6px;font-weight:bold"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(invite.survey_name)}</title></head>"
        '<body style="font-family:sans-serif;color:#1a1a1a;line-height:1.6">'
        f"<p>{escape(hello)}</p><p>{escape(lead)}</p>"
        f'<p><a href="{link}" style="{button}">{escape(words["button"])}</a></p>'
        f'<p style="font-size:13px;color:#555">{escape(words["personal"])}<br>'
        f'<a href="{link}">{link}</a></p>'
        f'<p style="font-size:12px;color:#555"><a href="{unsubscribe}">'
        f"{escape(words['unsubscribe'])}</a></p></body></html>"
    )
