"""`Secret`: a string that never shows itself in repr, str, f-strings, logs or tracebacks.

Every secret value loaded from the environment or `.env` is wrapped here and registered with
`distributor.redact`, so the logging filter can scrub it wherever it might still leak
(exception text, third-party debug logs).
"""

from __future__ import annotations

from distributor import redact


class Secret:
    """A secret value; call `reveal()` only at the point where it is handed to a client."""

    __slots__ = ("_name", "_value")

    def __init__(self, value: str, name: str = "") -> None:
        self._value = value
        self._name = name
        redact.register(value)

    def reveal(self) -> str:
        return self._value

    @property
    def name(self) -> str:
        """The environment variable it came from (safe to show)."""
        return self._name

    def __repr__(self) -> str:
        return f"Secret({self._name or '…'}=***)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> str:
        raise TypeError("Secret values are not picklable")
