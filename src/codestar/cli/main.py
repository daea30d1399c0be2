"""The `codestar` command: a thin layer that parses options and reports errors.

Subcommands live in their own modules and are imported only when used, so that
`codestar check` does not pay for importing the LLM client. The library raises
`CodestarError`; this module turns it, click's usage errors and a file the system
refuses into the same one line on stderr, ``error: what went wrong (what to do)``, and
exit status 2. It catches nothing else: an unexpected exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
from collections.abc import Iterator
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


class CommandLineError(click.ClickException):
    """An error reported as one line, ``error: message (hint)``, with exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def one_line(text: str) -> str:
    """A message on one line: its lines joined, trailing dots and blanks dropped.

    >>> one_line("Invalid value for '-k': 0 is not in the range x>=1.\\n  Use -k 1.")
    "invalid value for '-k': 0 is not in the range x>=1; Use -k 1"
    """
    parts = [part.strip().rstrip(".") for part in text.splitlines() if part.strip()]
    joined = "; ".join(parts)
    return joined[:1].lower() + joined[1:] if joined[:2] != joined[:2].upper() else joined


@contextlib.contextmanager
def reported_as_one_line() -> Iterator[None]:
    """Turn codestar's errors, click's usage errors and refused file operations into
    a `CommandLineError`."""
    try:
        yield
    except CommandLineError:
        raise
    except CodestarError as error:
        raise CommandLineError(one_line(str(error))) from error
    except click.ClickException as error:
        context = getattr(error, "ctx", None)
        where = context.command_path if context is not None else "codestar"
        hint = f"see '{where} --help'"
        if isinstance(error, click.NoSuchOption) and error.option_name == "-m":
            hint = "codestar has no -m: --method names the method, --model the model"
        raise CommandLineError(f"{one_line(error.format_message())} ({hint})") from error
    except OSError as error:
        if error.errno == errno.EPIPE or error.strerror is None:
            raise
        target = f": {error.filename}" if error.filename else ""
        raise CommandLineError(f"{error.strerror.lower()}{target}") from error


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and whose errors, its own
    and its subcommands', are one line each (see `reported_as_one_line`)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with reported_as_one_line():
            return super().make_context(info_name, args, parent, **extra)

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
        with reported_as_one_line():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="codestar")
def cli() -> None:
    pass


def main() -> None:
    cli()
