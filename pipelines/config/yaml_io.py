"""Reading a config file's YAML defensively: duplicate keys, alias bombs, deep nesting.

PyYAML's ``safe_load`` keeps the last of two equal keys, shares aliased nodes (so a 300-byte
"billion laughs" document expands to billions of values once converted) and recurses without a
limit. :func:`read_yaml` turns each of these into a one-line :class:`ConfigError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 4 << 20
MAX_VALUES = 200_000  # scalars, lists and mappings once aliases are expanded
MAX_DEPTH = 32


class ConfigError(ValueError):
    """A config value is unknown, mistyped or out of range; the message names its key path."""


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(f"{key}: duplicate key (lines {seen[key]} and {line})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def join_key(path: str, key: Any) -> str:
    """``path.key`` (just ``key`` at the root)."""
    return f"{path}.{key}" if path else str(key)


def check_size(data: Any, source: str) -> None:
    """Raise ConfigError if ``data``, aliases expanded, nests deeper than MAX_DEPTH or holds more
    than MAX_VALUES values; the walk stops at the first excess, so a bomb costs nothing."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(f"{path or '<root>'}: the document expands to more than {MAX_VALUES:,} values "
                              f"(aliases expanded) in {source}")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{path or '<root>'}: nested deeper than {MAX_DEPTH} levels in {source}")
        if isinstance(value, dict):
            stack.extend((v, join_key(path, k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (empty file: ``{}``); ConfigError on any defect."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config: {err.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: config file larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        data = yaml.load(raw, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except ConfigError as err:
        raise ConfigError(f"{err} in {path}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}".replace("\n", " ")) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to parse") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"<root>: expected a mapping, got {type(data).__name__} in {path}")
    check_size(data, str(path))
    return data
