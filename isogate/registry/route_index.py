"""An indexed route table: host map, then exact paths and path prefixes per host.

Same answers as sorting every pattern by :func:`~isogate.registry.names.route_rank` and
taking the first that matches (host-specific before host-less, exact before wildcard,
longer before shorter), without the scan: a lookup costs two dictionary probes per host
bucket plus one per ``/`` in the path, however many routes exist. Requests under
``/.well-known/`` are the operator's and never match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from isogate.registry.names import is_operator_path, split_route


class RouteIndex:
    """Canonical patterns → function names, with incremental updates per function."""

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        self._owner: dict[str, str] = {}  # pattern -> function
        self._by_function: dict[str, set[str]] = {}
        # host ("" = any host) -> path -> function; path -> function for "/a/" of "/a/*"
        self._exact: dict[str, dict[str, str]] = {}
        self._prefix: dict[str, dict[str, str]] = {}
        for pattern, function in (table or {}).items():
            self.add(pattern, function)

    def __len__(self) -> int:
        return len(self._owner)

    def add(self, pattern: str, function: str) -> None:
        """Route ``pattern`` to ``function`` (replacing whoever had it)."""
        if pattern in self._owner:
            self.remove(pattern)
        host, path = split_route(pattern)
        if path.endswith("/*"):
            self._prefix.setdefault(host, {})[path[:-1]] = function
        else:
            self._exact.setdefault(host, {})[path] = function
        self._owner[pattern] = function
        self._by_function.setdefault(function, set()).add(pattern)

    def remove(self, pattern: str) -> None:
        """Forget ``pattern`` (no error if absent)."""
        function = self._owner.pop(pattern, None)
        if function is None:
            return
        host, path = split_route(pattern)
        table = self._prefix if path.endswith("/*") else self._exact
        bucket = table[host]
        del bucket[path[:-1] if path.endswith("/*") else path]
        if not bucket:
            del table[host]
        owned = self._by_function[function]
        owned.discard(pattern)
        if not owned:
            del self._by_function[function]

    def replace_function(self, function: str, patterns: Iterable[str]) -> None:
        """Make ``patterns`` exactly the routes of ``function`` (after a change to it)."""
        for pattern in list(self._by_function.get(function, ())):
            self.remove(pattern)
        for pattern in patterns:
            self.add(pattern, function)

    def match(self, host: str, path: str) -> str | None:
        """The function whose pattern matches the request, most specific first."""
        if is_operator_path(path):
            return None
        for h in (host, "") if host else ("",):
            exact = self._exact.get(h)
            if exact is not None:
                function = exact.get(path)
                if function is not None:
                    return function
            prefixes = self._prefix.get(h)
            if prefixes is not None:
                # "/a/*" also matches "/a" itself: try path + "/" first (the longest),
                # then every prefix ending in "/", longest first
                function = prefixes.get(path + "/")
                if function is not None:
                    return function
                end = len(path)
                while (end := path.rfind("/", 0, end)) >= 0:
                    function = prefixes.get(path[: end + 1])
                    if function is not None:
                        return function
        return None
