"""Every command's --help shows every option's help text whole (rich markup once swallowed '[policy]')."""

from __future__ import annotations

import re

import click
import typer
from typer.testing import CliRunner

from audit.cli import app


def test_every_option_help_renders_whole_in_every_command():
    root = typer.main.get_command(app)
    runner = CliRunner()
    checked = 0
    for name, command in root.commands.items():
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
        assert result.exit_code == 0, (name, result.output)
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
        # what swallowed markup leaves behind: empty brackets, "settings,  and ." (a list that lost its items)
        assert "[]" not in shown and not re.search(r"\b(and|or)\s+[.,;](\s|$)|,\s+,", shown), (name, shown)
        for param in command.params:
            text = getattr(param, "help", None)
            if not text or isinstance(param, click.Argument):
                continue
            expected = " ".join(text.replace("\\[", "[").split())
            assert expected[:60] in shown, (name, param.name, expected)
            checked += 1
    assert checked > 20
