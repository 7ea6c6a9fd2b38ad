"""The few named errors of zoo-bench.

- :class:`UsageError`: the user's input is wrong (unknown model, corrupt file, bad option).
  The CLI prints its message on one line and exits with code 2, never a traceback.
- :class:`ToolUnavailable`: a component cannot run here (vendor tool not installed, no board
  configured). The stage becomes ``skipped`` with the message as its reason.
- :class:`PluginLoadError`: a plugin failed to import or register; names the plugin.
"""

from __future__ import annotations


class ZooBenchError(Exception):
    """Base class of every error zoo-bench raises on purpose."""


class UsageError(ZooBenchError):
    """Bad input from the user: one clear line, exit code 2."""

    exit_code = 2


class ToolUnavailable(ZooBenchError):
    """A tool, runtime or board a stage needs is not available; the stage is skipped."""


class PluginLoadError(ZooBenchError):
    """A plugin could not be imported or registered."""

    def __init__(self, plugin: str, distribution: str | None, cause: BaseException | str):
        self.plugin = plugin
        self.distribution = distribution
        where = f" (distribution {distribution})" if distribution else ""
        detail = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"plugin {plugin!r}{where} failed to load: {detail}")
