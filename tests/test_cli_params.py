"""cli.params: the plain coercion of parameter values gives what typer's own (pydantic) one gives."""

from __future__ import annotations

import importlib

import pytest
import typer
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param
from typer.main import get_group
from typer.testing import CliRunner

from cli.main import COMMAND_MODULES, app
from cli.params import _OTHER, PlainCoercion, plain_value

VALUES = [None, "5", "-3", "0", "007", "-0", "abc", "", " 5", "5.0", "+5", "1_000", "٣", "x y",
          5, 0, True, False, "99999999999999999999999"]  # fmt: skip


def _parameters():
    """Every parameter of every command (group options too), with its command."""
    scratch = typer.Typer()
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(scratch)

    def walk(command):
        for param in command.params:
            if hasattr(param, "type_descriptor"):
                yield command, param
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    return list(walk(get_group(scratch)))


def _outcome(coercion, value, param, ctx):
    try:
        return "ok", coercion.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "refused", exc.format_message()


def test_plain_coercion_agrees_with_typers_on_every_parameter():
    compared = plain = 0
    for command, param in _parameters():
        ctx = Context(command)
        for value in VALUES:
            theirs = _outcome(build_runtime_param(param.type_descriptor), value, param, ctx)
            param._runtime_param = None
            ours = _outcome(PlainCoercion(), value, param, ctx)
            param._runtime_param = None
            assert ours == theirs, (command.name, param.name, value)
            assert type(ours[1]) is type(theirs[1])
            compared += 1
            plain += plain_value(param, value) is not _OTHER
    assert compared > 1000 and plain > 300  # both paths were really taken


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["users", "token", "abc"], "unable to parse string as an integer"),
        (["users", "token", "5", "--days", "0"], "greater than or equal to 1"),
        (["users", "tokens", "--user", "1.5"], "unable to parse string as an integer"),
    ],
)
def test_values_that_are_not_plain_get_typers_messages(argv, message):
    out = CliRunner().invoke(app, argv)
    assert out.exit_code == 2
    assert message in " ".join(out.output.replace("│", " ").split())
