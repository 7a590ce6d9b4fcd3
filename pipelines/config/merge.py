"""Merging a partial config (YAML, ``--set``, presets) onto the study's defaults.

A block a user writes in part keeps every key it does not name at the study's default, not at
the block class's default: ``--set pretrain.optim.epochs=2`` leaves the study's AdamW, lr and
batch size alone. Only dataclass blocks merge; lists, maps of user entries (``search``) and
scalars replace what they stand for. A field whose metadata names ``merge_onto`` (a dotted key
of the root) merges a partial block onto that key's resolved value instead: a dataset's
``finetune`` override starts from the study's ``finetune.optim``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union

MERGE_ONTO = "merge_onto"


def block_type(tp: Any) -> Any:
    """The dataclass behind ``tp`` (``X`` or ``X | None``), else None."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0] if len(args) == 1 else None
    return tp if dataclasses.is_dataclass(tp) else None


def merge(base: dict[str, Any], data: dict[str, Any], cls: Any) -> dict[str, Any]:
    """``data`` merged onto ``base`` (the plain form of a ``cls`` instance): nested blocks of
    ``cls`` that both hold as mappings merge key by key; anything else in ``data`` replaces.
    Unknown keys pass through, for :func:`from_dict` to reject by their path."""
    hints = typing.get_type_hints(cls)
    out = dict(base)
    for key, value in data.items():
        sub = block_type(hints[key]) if key in hints else None
        if sub is not None and isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merge(base[key], value, sub)
        else:
            out[key] = value
    return out


def _lookup(root: dict[str, Any], dotted: str) -> Any:
    node: Any = root
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def merge_onto_targets(node: Any, cls: Any, data: dict[str, Any], root: dict[str, Any]) -> Any:
    """``node`` (the merged plain form of a ``cls``) with every ``merge_onto`` field that ``data``
    (the user's own partial form) wrote as a mapping merged onto its target in ``root``."""
    if not isinstance(node, dict) or not isinstance(data, dict):
        return node
    hints = typing.get_type_hints(cls)
    out = dict(node)
    for f in dataclasses.fields(cls):
        if f.name not in data or f.name not in hints:
            continue
        target = f.metadata.get(MERGE_ONTO)
        sub = block_type(hints[f.name])
        items = _item_type(hints[f.name])
        if target and isinstance(data[f.name], dict) and isinstance(_lookup(root, target), dict):
            out[f.name] = merge(_lookup(root, target), data[f.name], sub)
        elif sub is not None:
            out[f.name] = merge_onto_targets(out[f.name], sub, data[f.name], root)
        elif items is not None and isinstance(data[f.name], (list, tuple)):
            out[f.name] = [merge_onto_targets(v, items, v, root) for v in out[f.name]]
    return out


def _item_type(tp: Any) -> Any:
    """The dataclass of a ``tuple[X, ...]`` / ``list[X]`` field, else None."""
    if typing.get_origin(tp) in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return block_type(args[0]) if len(args) == 1 else None
    return None
