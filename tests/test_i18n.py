"""Translation catalogues: every extracted message has Chinese; locale negotiation and fallbacks."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from geodata.settings import REPO_ROOT
from landmarket.i18n import (
    DEFAULT_LOCALE,
    catalogue,
    gettext,
    localize,
    negotiate,
    ngettext,
    pick_locale,
    use_locale,
)


def extracted_ids() -> set[str]:
    """Message ids in the code and templates, read the way `make messages` reads them."""
    with (REPO_ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    ids: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO_ROOT, method_map, options_map
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_extracted_message_has_a_chinese_translation():
    ids = extracted_ids()
    assert "Sign in" in ids and "Field required" in ids and "bureau" in ids
    missing = sorted(ids - set(catalogue("zh_CN")))
    assert missing == [], f"run `make messages` and translate in zh_CN/messages.po: {missing}"


def test_default_is_chinese_and_english_falls_back_to_the_id():
    assert DEFAULT_LOCALE == "zh_CN"
    assert gettext("Sign in") == "登录"
    with use_locale("en"):
        assert gettext("Sign in") == "Sign in"
        assert gettext("bureau") == "Land bureau"
        assert ngettext("%(num)s entry", "%(num)s entries", 2) == "2 entries"
    assert ngettext("%(num)s entry", "%(num)s entries", 2) == "共 2 条"
    assert gettext("Input should be greater than %(gt)s", gt=3) == "应大于 3"


def test_legacy_bilingual_literals_are_split_by_locale():
    assert localize("未认证 / Unauthorized") == "未认证"
    assert localize("筛查已取消 / Screening cancelled") == "筛查已取消"
    with use_locale("en"):
        assert localize("未认证 / Unauthorized") == "Unauthorized"
        assert localize("筛查已取消 / Screening cancelled") == "Screening cancelled"
        assert localize("no pair here") == "no pair here"
        named = "parcel 2 (line 19): 申报面积 0.5 公顷 / declared area 0.5 ha"
        assert localize(named) == "parcel 2 (line 19): declared area 0.5 ha"
        assert localize("宗地 2: 面积 / parcel 2: area") == "parcel 2: area"
    assert localize(named) == "parcel 2 (line 19): 申报面积 0.5 公顷"


def test_accept_language_negotiation():
    assert negotiate(None) == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR, en;q=0.5, zh;q=0.8") == "zh_CN"
    assert negotiate("fr, de") == "zh_CN"
    assert negotiate("en;q=0, zh-TW") == "zh_CN"
    assert negotiate("en;q=bad") == "zh_CN"
    assert pick_locale("en", "zh_CN", "zh") == "en"
    assert pick_locale(None, "en", "zh") == "en"
    assert pick_locale("xx", None, "en") == "en"


def test_parsed_catalogues_are_kept_and_a_changed_po_is_parsed_again(tmp_path, monkeypatch):
    import marshal

    from landmarket import i18n

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    kept = tmp_path / "landmarket" / "i18n-messages-zh_CN.marshal"
    try:
        i18n.catalogue.cache_clear()
        parsed = i18n.catalogue("zh_CN")
        stored = marshal.loads(kept.read_bytes())
        assert stored["messages"] == parsed and parsed["Sign in"] == "登录"
        plural = next(k for k, v in parsed.items() if isinstance(v, tuple))
        stored["messages"]["Sign in"] = "从缓存读取"  # same key: the kept copy is what is read
        kept.write_bytes(marshal.dumps(stored))
        i18n.catalogue.cache_clear()
        again = i18n.catalogue("zh_CN")
        assert again["Sign in"] == "从缓存读取" and again[plural] == parsed[plural]
        stored["key"] = "2-3.11-4-0-00000000"  # the .po changed since: parsed again, kept again
        kept.write_bytes(marshal.dumps(stored))
        i18n.catalogue.cache_clear()
        assert i18n.catalogue("zh_CN") == parsed
        assert marshal.loads(kept.read_bytes())["messages"]["Sign in"] == "登录"
        kept.write_bytes(b"not marshal")  # a damaged copy is parsed over
        i18n.catalogue.cache_clear()
        assert i18n.catalogue("zh_CN") == parsed
    finally:
        i18n.catalogue.cache_clear()


def test_a_process_default_locale_reaches_threads_and_yields_to_use_locale():
    import threading

    from landmarket.i18n import set_default_locale

    seen = []
    try:
        set_default_locale("en")
        worker = threading.Thread(target=lambda: seen.append(gettext("Sign in")))
        worker.start()
        worker.join()
        assert seen == ["Sign in"]
        with use_locale("zh_CN"):
            assert gettext("Sign in") == "登录"
        assert gettext("Sign in") == "Sign in"
    finally:
        set_default_locale(DEFAULT_LOCALE)
    assert gettext("Sign in") == "登录"
