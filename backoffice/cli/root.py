"""The root ``backoffice`` group: a subcommand's module is imported only when that
subcommand runs (``--help`` reads the short help kept in the registry), and whatever a
command raises ends as one line on stderr and exit status 1 (``--debug`` shows the
traceback instead). Start-up then costs what the command needs, not what all of them do."""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.exceptions import TyperException

Command = Any  # typer's own (vendored) click Command; its classes are not public

MARKUP_MODE = "markdown"


@dataclass(frozen=True)
class Subcommand:
    """Where a subcommand lives: ``target`` is ``module:attribute`` (a ``typer.Typer`` group
    or a command function); ``prepare`` runs after the import (e.g. adds commands to a group
    defined elsewhere)."""

    help: str
    target: str
    prepare: Callable[[], None] | None = None

    def load(self, name: str) -> Command:
        module_name, _, attribute = self.target.partition(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        if self.prepare is not None:
            self.prepare()
        if isinstance(obj, typer.Typer):
            info = typer.models.TyperInfo(obj, name=name)
            command: Command = typer.main.get_group_from_info(
                info,
                pretty_exceptions_short=True,
                suggest_commands=True,
                rich_markup_mode=MARKUP_MODE,
            )
        else:
            command = typer.main.get_command_from_info(
                typer.models.CommandInfo(name=name, callback=obj),
                pretty_exceptions_short=True,
                rich_markup_mode=MARKUP_MODE,
            )
        command.name = name
        return command


class LazyRootGroup(TyperGroup):
    """Commands come from ``registry`` (name → ``Subcommand``), loaded on first use."""

    registry: dict[str, Subcommand] = {}

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*self.registry, *super().list_commands(ctx)]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Command | None:
        """For help listings: the registry's short help, without importing anything."""
        entry = self.registry.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        return TyperCommand(cmd_name, help=entry.help, short_help=entry.help)

    def resolve_command(
        self, ctx: typer.Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        name = str(args[0]) if args else None
        entry = self.registry.get(name) if name else None
        if entry is None:
            return super().resolve_command(ctx, args)
        return name, entry.load(name), args[1:]

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors, exits: click's own
            raise
        except BrokenPipeError:  # the reader went away (``| head``): nothing left to say
            raise typer.Exit(1) from None
        except Exception as exc:
            if ctx.meta.get("backoffice.debug"):
                raise
            from backoffice.cli.common import describe_failure, fail

            raise fail(describe_failure(exc)) from None


def leave_quickly() -> None:
    """Before the interpreter exits: close the pooled database connections, then put every
    object out of the garbage collector's reach (``gc.freeze``), so that finalization does not
    walk the whole heap of SQLAlchemy, pydantic and Rich classes one last time, which costs a
    short command a good part of its CPU. Nothing is lost: the commands close what they open,
    and the memory goes back with the process."""
    engines = sys.modules.get("core.store.engine")
    if engines is not None:
        engines.dispose_engines()
    gc.freeze()
