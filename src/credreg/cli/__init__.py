"""The `credreg` command line. Errors credreg raises on purpose print one line, never a traceback."""

from __future__ import annotations

import atexit
import contextlib
import copy
import os
import sys
import threading
from typing import NoReturn

import typer
from rich.markup import escape

from credreg.chain.redact import install_log_redaction, redact
from credreg.cli.app import app
from credreg.cli.common import err_console
from credreg.cli.help import tidy
from credreg.errors import ContractRevert, CredregError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `credreg` console script; returns the exit code."""
    install_log_redaction()
    command = tidy(typer.main.get_command(_only_named(app, sys.argv[1:] if argv is None else argv)))
    try:
        command.main(args=argv, prog_name="credreg", standalone_mode=True)  # usage errors exit 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except ContractRevert as exc:
        # Plain words for a person, with the raw error name kept for whoever reports the problem.
        from credreg.labels import contract_error_words

        words = contract_error_words(exc.name)
        err_console.print(f"[red]错误 / error:[/red] {escape(f'{words} [{exc}]')}", soft_wrap=True)
        return 2
    except CredregError as exc:
        # One unwrapped line (logs and pipes keep it whole), the message shown as text, never as markup.
        err_console.print(f"[red]错误 / error:[/red] {escape(redact(str(exc)))}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


# The root options that take a value (`root` in credreg.cli.app), in their long form.
_ROOT_VALUES = ("--data-dir", "--rpc-url", "--manifest", "--tz")


def _only_named(shell: typer.Typer, argv: list[str]) -> typer.Typer:
    """`shell` with only the command or group `argv` names, when it names one: typer builds every
    command's options before it runs one, 25 ms of a start. Anything else (no command, help, a name that
    is no command's) gets the whole shell, so that help and errors list every command."""
    args = iter(argv)
    for arg in args:
        if arg in _ROOT_VALUES:
            next(args, None)
        elif arg.startswith(tuple(f"{option}=" for option in _ROOT_VALUES)):
            continue
        elif arg.startswith("-"):
            return shell  # --help, --version, or an option the root does not know: its words, in full
        else:
            commands = [c for c in shell.registered_commands if c.name == arg]
            groups = [g for g in shell.registered_groups if g.name == arg]
            if len(commands) + len(groups) != 1:
                return shell
            lean = copy.copy(shell)
            lean.registered_commands, lean.registered_groups = commands, groups
            return lean
    return shell


def exit_with(code: int) -> NoReturn:
    """End the process with `code`, as the console script does after `main`.

    The interpreter's own teardown frees every object left one by one (after `credreg verify` of 10,000
    files, a tenth of a second of a 1.3-second run), which nothing needs: once no other thread is left to
    finish, the exit handlers run, the output is flushed and the process ends there."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others):
        sys.exit(code)  # the interpreter waits for them, as it always does
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said there
            stream.flush()
    os._exit(code)


def _console_script() -> None:
    exit_with(main())


__all__ = ["app", "exit_with", "main"]
