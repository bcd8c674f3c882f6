"""Help that fits 80 columns and shows names, not types: `--from WHEN`, never `--from TEXT` or `<bool>`.

The commands are declared with typer (which carries its own copy of click, hence `Any` below); this pass over the finished click command tree turns typer's panels
off (plain click help wraps at 80 columns and puts each option's text under it) and gives every value a
metavar named after what it is.
"""

from __future__ import annotations

import re
from typing import Any

HELP_WIDTH = 80

# Metavars by parameter name where the name alone would not say what to write.
_METAVARS = {
    "valid_from": "WHEN",
    "valid_until": "WHEN",
    "cutoff": "WHEN",
    "since": "WHEN",
    "at": "WHEN",
    "keystore": "FILE",
    "relayer_keystore": "FILE",
    "dev_account": "N",
    "reason": "CODE",
    "registry_source": "URL|FILE",
    "identity_location": "DOMAIN",
    "hide": "FIELD",
    "tz": "ZONE",
    "path": "FILE",
}


def tidy(command: Any) -> Any:
    """Apply the help rules to `command` and every subcommand; returns `command`."""
    setattr(command, "rich_markup_mode", None)  # noqa: B010 - typer reads this attribute
    if command.help:  # the example on a paragraph of its own, where the eye looks for it
        command.help = re.sub(r"(?<!\n)\n[ \t]*Example:", "\n\nExample:", command.help)
    command.context_settings.setdefault("max_content_width", HELP_WIDTH)
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.metavar is None and param.name:
            name = _METAVARS.get(param.name, param.name.upper())
            param.metavar = name
        if param.param_type_name == "argument":
            # typer prints an argument as its metavar followed by its type ("AGENCY_ID <int>")
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
    subcommands = getattr(command, "commands", None)  # typer's groups are not click.Group subclasses
    if isinstance(subcommands, dict):
        for sub in subcommands.values():
            tidy(sub)
    return command


def _no_type(ctx: Any) -> None:
    return None
