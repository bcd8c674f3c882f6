"""The `credreg` command line. Errors credreg raises on purpose print one line, never a traceback."""

from __future__ import annotations

import sys

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
    command = tidy(typer.main.get_command(app))
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


def _console_script() -> None:
    sys.exit(main())


__all__ = ["app", "main"]
