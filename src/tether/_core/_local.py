"""RunVar: a variable whose value is per run, like a ContextVar scoped to one tether.run."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from ._global import current_runner
from ._util import NoPublicConstructor, final

T = TypeVar("T")
_NO_DEFAULT: Any = object()


@final
class RunVarToken(Generic[T], metaclass=NoPublicConstructor):
    """Returned by :meth:`RunVar.set`; pass it to :meth:`RunVar.reset` to undo the set."""

    __slots__ = ("_var", "previous_value", "redeemed")

    def __init__(self, var: RunVar[T], previous_value: T) -> None:
        self._var = var
        self.previous_value = previous_value
        self.redeemed = False

    @property
    def var(self) -> RunVar[T]:
        return self._var


@final
class RunVar(Generic[T]):
    """A value that lives as long as the current run and is shared by all its tasks.

    Useful for per-run caches (a thread pool, a resolver): a library can keep state that
    a second ``tether.run`` in the same process does not see.
    """

    __slots__ = ("_default", "_name")

    def __init__(self, name: str, default: T = _NO_DEFAULT) -> None:
        self._name = name
        self._default = default

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<RunVar name={self._name!r}>"

    def get(self, default: T = _NO_DEFAULT) -> T:
        """The value in this run; else ``default``; else the var's default; else LookupError."""
        runner = current_runner()
        try:
            return cast("T", runner.run_vars[self])
        except KeyError:
            if default is not _NO_DEFAULT:
                return default
            if self._default is not _NO_DEFAULT:
                return self._default
            raise LookupError(self) from None

    def set(self, value: T) -> RunVarToken[T]:
        """Set the value for this run; returns a token for :meth:`reset`."""
        runner = current_runner()
        previous = runner.run_vars.get(self, _NO_DEFAULT)
        runner.run_vars[self] = value
        return cast("RunVarToken[T]", RunVarToken._create(self, previous))

    def reset(self, token: RunVarToken[T]) -> None:
        """Restore the value from before the :meth:`set` that returned ``token``."""
        if not isinstance(token, RunVarToken):
            raise TypeError("reset() takes a RunVarToken")
        if token._var is not self:
            raise ValueError("token was created by a different RunVar")
        if token.redeemed:
            raise ValueError("token has already been used")
        runner = current_runner()
        if token.previous_value is _NO_DEFAULT:
            runner.run_vars.pop(self, None)
        else:
            runner.run_vars[self] = token.previous_value
        token.redeemed = True
