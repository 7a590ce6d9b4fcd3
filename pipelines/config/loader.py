"""Strict conversion between plain mappings (YAML) and frozen config dataclasses.

Every error is a one-line :class:`ConfigError` that names the dotted key path, e.g.
``decode.num_frames: expected int, got 'eight'``. Unknown keys are errors too.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Callable, TypeVar, Union

import yaml

from pipelines.config.merge import merge, merge_onto_targets
from pipelines.config.yaml_io import ConfigError, check_size, read_yaml
from pipelines.config.yaml_io import join_key as _join

T = TypeVar("T")
__all__ = ["ConfigError", "from_dict", "load_config", "save_config", "to_dict", "with_values"]


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, path: str) -> Any:
    """Convert ``value`` to the annotated type ``tp``; raise ConfigError naming ``path``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, path)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{path}: no variant matches {value!r}")
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(f"{path}: expected one of {list(choices)}, got {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{path}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(v, a, f"{path}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        out = [_convert(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        _, vt = typing.get_args(tp) or (str, Any)
        return {str(k): _convert(v, vt, _join(path, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, path)
    return _convert_scalar(value, tp, path)


def _convert_scalar(value: Any, tp: Any, path: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):  # YAML reads "8e-3" without a dot as a string
            try:
                number = float(value)
            except ValueError:
                pass
        if number is not None:
            if not math.isfinite(number):
                raise ConfigError(f"{path}: must be a finite number, got {value!r}")
            return number
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{path}: expected {_type_name(tp)}, got {value!r}")


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    """Build the dataclass ``cls`` from a mapping, rejecting unknown keys.

    Args:
        cls: a (frozen) dataclass type whose fields carry type annotations.
        data: the mapping read from YAML; ``None`` means all defaults.
        path: the dotted key path of ``data`` inside the whole config, for messages.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path or '<root>'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{_join(path, str(key))}: unknown key (valid: {', '.join(sorted(fields))})")
    kwargs = {k: _convert(v, hints[k], _join(path, k)) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        # Validators raise "field: message"; prefix the field with this mapping's path.
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        field_name = message.split(":", 1)[0]
        if field_name.split(".")[0] in fields:
            raise ConfigError(_join(path, message)) from None
        raise ConfigError(f"{path or '<root>'}: {message}") from None


def to_dict(cfg: Any, skip: Callable[[dataclasses.Field, Any], bool] | None = None) -> Any:
    """The plain (YAML-ready) form of a config dataclass: tuples become lists. Fields for which
    ``skip(field, value)`` is true are left out, at any depth."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name), skip) for f in dataclasses.fields(cfg)
                if skip is None or not skip(f, getattr(cfg, f.name))}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v, skip) for v in cfg]
    if isinstance(cfg, dict):
        return {k: to_dict(v, skip) for k, v in cfg.items()}
    return cfg


def _set(data: dict[str, Any], dotted: str, value: Any, replace: bool = True) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{dotted}: {key} is not a mapping")
    if replace or leaf not in node:
        node[leaf] = value


def load_config(cls: type[T], path: str | Path | None, overrides: dict[str, Any] | None = None,
                presets: dict[str, Any] | None = None) -> T:
    """Read a YAML file (or nothing, for all defaults) into ``cls``.

    ``overrides`` maps dotted key paths to values and is applied before validation,
    so ``{"benchmark.bias": 0.5}`` is checked like the file's own keys. ``presets`` are
    dotted values too, used only where the file does not set that key (``--smoke``).
    """
    data: dict[str, Any] = read_yaml(path) if path is not None else {}
    for dotted, value in (presets or {}).items():
        _set(data, dotted, value, replace=False)
    for dotted, value in (overrides or {}).items():
        _set(data, dotted, value)
    check_size(data, str(path or "the overrides"))
    return from_partial(cls, data)


def from_partial(cls: type[T], data: dict[str, Any]) -> T:
    """``cls`` from a partial mapping merged onto ``cls()``'s values (the study's defaults),
    so a block that names some keys keeps the others' defaults (:mod:`pipelines.config.merge`)."""
    if not isinstance(data, dict):
        raise ConfigError(f"<root>: expected a mapping, got {data!r}")
    merged = merge(to_dict(cls()), data, cls)
    return from_dict(cls, merge_onto_targets(merged, cls, data, merged))


def with_values(cfg: T, values: dict[str, Any]) -> T:
    """``cfg`` with the dotted keys of ``values`` replaced, validated like a file's keys."""
    data = to_dict(cfg)
    for dotted, value in values.items():
        _set(data, dotted, value)
    return from_dict(type(cfg), data)


def field_type(cls: Any, dotted: str) -> Any:
    """The annotated type of the dotted field ``dotted`` of the dataclass ``cls`` (through
    nested dataclasses, optional ones included); KeyError naming the first unknown part."""
    tp = cls
    for i, part in enumerate(dotted.split(".")):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if typing.get_origin(tp) in (Union, types.UnionType) and len(args) == 1:
            tp = args[0]
        if not dataclasses.is_dataclass(tp):
            raise KeyError(".".join(dotted.split(".")[:i]) + " is not a block")
        hints = typing.get_type_hints(tp)
        if part not in hints:
            raise KeyError(f"unknown key {part!r} (valid: {', '.join(sorted(hints))})")
        tp = hints[part]
    return tp


def check_value(value: Any, tp: Any, path: str) -> Any:
    """``value`` converted to ``tp`` as a config file's value would be; ConfigError otherwise."""
    return _convert(value, tp, path)


def save_config(cfg: Any, path: str | Path) -> None:
    """Write the fully resolved config as YAML."""
    Path(path).write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
