"""Which plugin's hook implementation is running, found from the call stack.

The registry calls each registration hook once through ``pm.hook`` (so pluggy's ordering,
wrappers and tracing apply) and still needs to know which plugin called ``register`` and which
implementation raised: the code objects of the implementations on the stack tell.
"""

from __future__ import annotations

import sys
from typing import Any


class ImplOwners:
    """Which plugin's hook implementation is running: found by the code objects on the stack."""

    def __init__(self, impls: list[Any]):
        self.by_code: dict[Any, list[Any]] = {}
        for impl in impls:
            code = getattr(getattr(impl.function, "__func__", impl.function), "__code__", None)
            if code is not None:
                self.by_code.setdefault(code, []).append(impl)

    def _match(self, frame: Any) -> Any | None:
        impls = self.by_code.get(frame.f_code)
        if not impls:
            return None
        if len(impls) == 1:
            return impls[0]
        # Two instances of one plugin class share the code: the frame's ``self`` tells them apart.
        me = frame.f_locals.get("self")
        return next((impl for impl in impls if impl.plugin is me), impls[0])

    def caller(self) -> str:
        """Name of the plugin whose implementation called ``register`` (innermost on the stack)."""
        frame = sys._getframe(2)
        while frame is not None:
            impl = self._match(frame)
            if impl is not None:
                return impl.plugin_name
            frame = frame.f_back
        return "(unknown plugin)"

    def raiser(self, exc: BaseException) -> Any | None:
        """The implementation an exception came from (innermost implementation frame)."""
        found, tb = None, exc.__traceback__
        while tb is not None:
            found = self._match(tb.tb_frame) or found
            tb = tb.tb_next
        return found
