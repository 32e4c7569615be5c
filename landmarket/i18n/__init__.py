"""Translation catalogues (gettext .po files read with Babel) and the locale of the current request.

Message ids are English; ``locales/zh_CN`` translates them to Chinese, the default locale, and
``locales/en`` is the English catalogue (empty strings fall back to the id). The .po sources are
read directly at first use, so a fresh clone needs no compile step: Babel parses a catalogue once
and the result is kept in the user's cache directory (marshal: no import, ~1 ms to read), keyed by
the .po file's size and CRC-32 and the Python version, so later processes (the CLI's start-up
above all) read it instead of importing Babel (~0.08 s) and parsing (~0.06 s).
The edge sets the locale of a request with ``use_locale`` (a context variable, so threads and
tasks of a request inherit it); ``_`` and ``ngettext`` translate into it. A process that serves
one person (the CLI) sets its locale once with ``set_default_locale``.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cache
from pathlib import Path

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

CACHE_FORMAT = 2  # bump when the cached dict's shape changes

_current: ContextVar[str | None] = ContextVar("landmarket_locale", default=None)
_process_locale = DEFAULT_LOCALE  # what a context without use_locale/set_locale translates into


def cache_dir() -> Path:
    """Where parsed catalogues are kept: $XDG_CACHE_HOME/landmarket (default ~/.cache/landmarket)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "landmarket"


@cache
def catalogue(locale: str) -> dict[str, str | tuple[str, ...]]:
    """Translations of one locale: msgid (or plural msgid) to msgstr (or plural forms)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    data = path.read_bytes()
    python = f"{sys.version_info[0]}.{sys.version_info[1]}-{marshal.version}"
    key = f"{CACHE_FORMAT}-{python}-{len(data)}-{zlib.crc32(data):08x}"
    cached = cache_dir() / f"i18n-{DOMAIN}-{locale}.marshal"
    with suppress(OSError, ValueError, EOFError, TypeError, KeyError):
        stored = marshal.loads(cached.read_bytes())
        if stored["key"] == key:
            return stored["messages"]
    messages = _parse_po(data, locale)
    with suppress(OSError):  # a read-only home only costs the next process a parse
        cached.parent.mkdir(parents=True, exist_ok=True)
        scratch = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        scratch.write_bytes(marshal.dumps({"key": key, "messages": messages}))
        os.replace(scratch, cached)
    return messages


def _parse_po(data: bytes, locale: str) -> dict[str, str | tuple[str, ...]]:
    """Babel's reading of a .po file: translated, non-fuzzy messages only."""
    from io import BytesIO

    from babel.messages.pofile import read_po

    cat = read_po(BytesIO(data), locale=locale)
    out: dict[str, str | tuple[str, ...]] = {}
    for message in cat:
        if not message.id or not message.string or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            strings = tuple(message.string)
            if all(strings):
                out[message.id[0]] = strings
        else:
            out[message.id] = message.string
    return out


def known_ids() -> frozenset[str]:
    """Every message id with a Chinese translation."""
    return frozenset(catalogue(DEFAULT_LOCALE))


def current_locale() -> str:
    """The locale of the running request (default Chinese, or the process's default)."""
    return _current.get() or _process_locale


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Translate into locale inside the block."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_default_locale(locale: str) -> str:
    """Set the locale of contexts that set none, threads included (the CLI's); return the old one."""
    global _process_locale
    previous, _process_locale = _process_locale, locale if locale in LOCALES else DEFAULT_LOCALE
    return previous


def set_locale(locale: str) -> None:
    """Set the locale for the rest of the current context (an ASGI request task)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def translate(message: str, locale: str | None = None) -> str:
    """message in locale (default: the current one); unknown ids come back unchanged."""
    found = catalogue(locale or current_locale()).get(message)
    return found if isinstance(found, str) else message


def gettext(message: str, **values: object) -> str:
    """Translate into the current locale, then fill %(name)s placeholders from values."""
    text = translate(message)
    return text % values if values else text


_ = gettext


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    """The singular or plural form for n in the current locale; %(num)s is n."""
    found = catalogue(current_locale()).get(singular)
    if isinstance(found, tuple):
        text = found[0] if len(found) == 1 or n == 1 else found[1]
    else:
        text = singular if n == 1 else plural
    return text % {"num": n, **values}


def localize(text: str, locale: str | None = None) -> str:
    """A catalogue id or a legacy '中文 / English' literal in the locale (default current).

    Existing bilingual literals keep working: their English half is looked up as a message id,
    else the half in the requested language is returned. A literal that names its record first
    ('parcel 2 (line 19): 中文 / English') keeps that name in English too.
    """
    locale = locale or current_locale()
    if text in catalogue(DEFAULT_LOCALE):
        return translate(text, locale)
    if text.count(" / ") != 1:  # not a single pair (or several joined): leave it whole
        return text
    zh, _sep, en = text.partition(" / ")
    if en in catalogue(DEFAULT_LOCALE):
        return translate(en, locale)
    if locale != "en":
        return zh
    name, colon, said = zh.partition(": ")
    if colon and not _has_cjk(name) and _has_cjk(said[:1]) and not en.startswith(name):
        return f"{name}: {en}"
    return en


def _has_cjk(text: str) -> bool:
    return any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in text)


def negotiate(accept_language: str | None) -> str:
    """The best of LOCALES for an Accept-Language header (Chinese when nothing matches)."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_q, _index, tag in sorted(ranked):
        if negative_q >= 0:
            break
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
        if tag == "*":
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE


def pick_locale(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The locale of a request: ?lang= first, then the lang cookie, then Accept-Language."""
    for choice in (query, cookie):
        normalised = normalise(choice)
        if normalised:
            return normalised
    return negotiate(accept_language)


def normalise(choice: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_CN' → 'zh_CN'; 'en', 'en-US' → 'en'; anything else None."""
    if not choice:
        return None
    tag = choice.strip().lower().replace("-", "_")
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None
