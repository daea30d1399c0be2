"""The `codestar` command: a thin layer that parses options and reports errors.

Subcommands live in their own modules and are imported only when used, so that
`codestar check` does not pay for importing the LLM client. The library raises
`CodestarError`; this module turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from codestar import __version__
from codestar.errors import CodestarError

#: subcommand name -> ("module:attribute" of its click command, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "solve": ("codestar.cli.solve:solve", "Solve a problem with S* or a baseline method."),
    "eval": ("codestar.cli.eval:eval_command", "Run methods over a whole benchmark, resumably."),
    "check": ("codestar.cli.check:check", "Run one program on a problem's tests."),
    "grade": ("codestar.cli.grade:grade", "Grade a LiveCodeBench-style generations file."),
    "report": ("codestar.cli.report:report", "Write an HTML report of a run directory."),
    "runs": ("codestar.cli.runs:runs", "List run directories: what each ran and found."),
    "models": ("codestar.cli.models:models", "List the models codestar can use."),
    "doctor": ("codestar.cli.doctor:doctor", "Check a model backend and the sandbox end to end."),
}

HELP = """Test-time scaling for LLM code generation.

codestar samples candidate programs from a model, debugs them against a problem's public
tests by really running them in a sandbox, and picks the best one with S* (adaptive input
synthesis and execution-grounded judging). It runs out of the box on an embedded
Qwen2.5-Coder model, or on any OpenAI-compatible server.

\b
Examples:
  codestar solve examples/sum-of-two.json          # S* on the embedded model
  codestar check problems.jsonl prog.py --tests public
  codestar grade --problems lcb.jsonl --generations gens.json
"""


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute = entry[0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodestarError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)


@click.group(cls=LazyGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codestar")
def cli() -> None:
    pass


def main() -> None:
    cli()
