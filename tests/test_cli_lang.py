"""The CLI speaks the catalogues: Chinese by default, English with --lang en or LANDMARKET_LANG."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app, cli_locale
from geodata.settings import REPO_ROOT
from landmarket.i18n import DEFAULT_LOCALE, set_default_locale
from tests.test_cli_startup import _too_heavy_to_run, run

CJK = re.compile("[\u3000-\u9fff\uff00-\uffef]")
POLICY = ("policy", "show", "--on", "2026-01-02", "--key", "approval.")


def test_default_is_chinese_with_its_placeholders_filled():
    text, modules = run(*POLICY)
    first = text.splitlines()[0]
    assert first == "生效日期 2026-01-02: 政策版本 2025-11-23_chongqing-action-plan", first
    assert _too_heavy_to_run(modules) == []


def test_lang_en_and_the_environment_ask_for_english():
    for argv, env in ((("--lang", "en", *POLICY), None), (POLICY, {"LANDMARKET_LANG": "en"})):
        text, modules = run(*argv, env=env)
        first = text.splitlines()[0]
        assert first == "in force on 2026-01-02: policy version 2025-11-23_chongqing-action-plan"
        assert not CJK.search(first)
        assert _too_heavy_to_run(modules) == []
    text, _ = run("--lang", "zh", *POLICY, env={"LANDMARKET_LANG": "en"})  # the option wins
    assert text.startswith("生效日期 2026-01-02")


def test_help_texts_follow_the_language():
    text, _ = run("db", "--help")
    assert "数据库：内置 PostGIS 集群与迁移" in text and "迁移到最新" in text
    text, _ = run("--lang", "en", "db", "--help")
    assert "database: embedded PostGIS cluster and migrations." in text
    assert "start the embedded cluster" in text and not CJK.search(text)
    text, _ = run("--help", env={"LANDMARKET_LANG": "en"})  # --help acts before --lang's turn
    assert "Chongqing rural land market platform." in text
    assert "the land ticket register." in text and "地票台账" not in text
    assert "database: embedded PostGIS cluster" in text and "内置" not in text
    text, _ = run("--help")
    assert "重庆农村土地市场平台" in text and "地票台账" in text


def test_a_warm_catalogue_cache_spares_light_commands_babel(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    for lang in ("zh", "en"):  # cold: Babel parses each catalogue once and the result is kept
        text, modules = run("--lang", lang, "policy", "show", "--json", env=env)
        assert text and any(m.startswith("babel") for m in modules)
    kept = sorted(p.name for p in (tmp_path / "landmarket").iterdir())
    assert kept == ["i18n-messages-en.marshal", "i18n-messages-zh_CN.marshal"]
    for argv in (POLICY, ("--lang", "en", *POLICY), ("db", "url"), ("--help",)):
        text, modules = run(*argv, env=env)
        assert text
        assert sorted(m for m in modules if m.split(".")[0] == "babel") == [], argv


def test_in_process_switching_and_a_bad_language():
    runner = CliRunner()
    # A command module's help texts are translated when it is first imported (once a process),
    # so the Chinese run comes first: later tests of this process read the Chinese help.
    first = runner.invoke(app, list(POLICY))
    assert first.exit_code == 0 and first.stdout.startswith("生效日期 2026-01-02")
    try:
        english = runner.invoke(app, ["--lang=en", *POLICY])
        assert english.exit_code == 0, english.output
        assert english.stdout.startswith("in force on 2026-01-02")
        chinese = runner.invoke(app, list(POLICY))
        assert chinese.exit_code == 0 and chinese.stdout.startswith("生效日期 2026-01-02")
        bad = runner.invoke(app, ["--lang", "fr", "db", "url"])
        assert bad.exit_code == 2 and "fr" in bad.output
    finally:
        set_default_locale(DEFAULT_LOCALE)


def test_cli_locale_reads_the_option_before_the_command_then_the_environment():
    assert cli_locale([], {}) == "zh_CN"
    assert cli_locale(["--lang", "en", "db", "url"], {}) == "en"
    assert cli_locale(["--lang=en-US", "db"], {}) == "en"
    assert cli_locale(["db", "url", "--lang", "en"], {}) == "zh_CN"  # a command's own args
    assert cli_locale(["db"], {"LANDMARKET_LANG": "en"}) == "en"
    assert cli_locale(["--lang", "zh", "db"], {"LANDMARKET_LANG": "en"}) == "zh_CN"
    assert cli_locale(["db"], {"LANDMARKET_LANG": "fr", "LANG": "en_US.UTF-8"}) == "zh_CN"


def test_no_message_id_hides_inside_an_f_string():
    """pybabel cannot extract _("...") written inside an f-string's braces (Python 3.11)."""
    hidden = []
    for path in sorted(Path(REPO_ROOT, "cli").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            is_f = token.type == tokenize.STRING and re.match(r"(?i)r?f", token.string)
            if is_f and re.search(r"""\b_\(\s*['"]""", token.string):
                hidden.append(f"{path.name}:{token.start[0]}")
    assert hidden == []


def test_screen_and_serve_help_follow_the_language():
    text, _ = run("screen", "--help")
    assert "批量筛查宗地" in text and "报告目录" in text and "report directory" not in text
    text, _ = run("--lang", "en", "screen", "--help")
    assert "screen many parcels (and compare two stored screenings)." in text
    assert "report directory" in text and "list the parcels whose verdict changed" in text
    assert not CJK.search(text), CJK.findall(text)
    text, _ = run("screen", "diff", "--help", env={"LANDMARKET_LANG": "en"})
    assert "earlier job id" in text and not CJK.search(text)
    text, _ = run("serve", "--help")
    assert "启动平台" in text and "监听地址" in text and "address to listen on" not in text
    text, _ = run("--lang", "en", "serve", "--help")
    assert "serve the API, its docs and the map pages." in text and "TCP port" in text
    assert not CJK.search(text)


def test_typers_own_words_follow_the_language():
    """Usage line, panel titles, defaults and the --help option: from the catalogue, not typer."""
    text, _ = run("screen", "--help")
    assert "用法: landmarket screen" in text and "╭─ 选项 " in text and "[默认: site-only]" in text
    assert "显示本帮助并退出" in text
    assert not any(word in text for word in ("Usage:", "Options", "Show this message", "default:"))
    text, _ = run("--help")
    assert (
        "╭─ 命令 " in text
        and "[环境变量: LANDMARKET_LANG]" in text
        and "为当前 shell 安装命令补全" in text
    )
    text, _ = run("--lang", "en", "screen", "--help")
    assert (
        "Usage: landmarket screen" in text
        and "╭─ Options " in text
        and "[default: site-only]" in text
    )
    assert "Show this message and exit." in text and not CJK.search(text)
    text, _ = run("--help", env={"LANDMARKET_LANG": "en"})
    assert "╭─ Commands " in text and "Install completion for the current shell." in text
    assert not CJK.search(text)


def test_typers_words_change_with_the_language_in_one_process():
    """An in-process run in English after one in Chinese draws English (nothing left stuck)."""
    runner = CliRunner()
    zh = runner.invoke(app, ["db", "--help"], env={"COLUMNS": "200"})
    en = runner.invoke(app, ["--lang", "en", "db", "--help"], env={"COLUMNS": "200"})
    assert "用法:" in zh.output and "选项" in zh.output, zh.output
    assert "Usage:" in en.output and "Options" in en.output and "用法" not in en.output, en.output
