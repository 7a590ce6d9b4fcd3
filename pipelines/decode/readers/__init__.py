"""Dataset readers: a root (+ annotation root) and a split → :class:`RecordSet`."""

from __future__ import annotations

from pipelines.decode.readers.base import Reader, RecordSet, Reject, VideoRecord
from pipelines.decode.readers.diving48 import read_diving48
from pipelines.decode.readers.hmdb51 import read_hmdb51
from pipelines.decode.readers.jester import read_jester
from pipelines.decode.readers.kinetics import read_kinetics
from pipelines.decode.readers.mimetics import read_mimetics
from pipelines.decode.readers.minikinetics import read_minikinetics
from pipelines.decode.readers.ssv2 import read_ssv2
from pipelines.decode.readers.ucf101 import read_ucf101

READERS: dict[str, Reader] = {
    "kinetics400": read_kinetics, "minikinetics200": read_minikinetics, "ucf101": read_ucf101,
    "hmdb51": read_hmdb51, "diving48": read_diving48, "ssv2": read_ssv2, "jester": read_jester,
    "mimetics": read_mimetics,
}

__all__ = ["READERS", "Reader", "RecordSet", "Reject", "VideoRecord", "get_reader"]


def get_reader(name: str) -> Reader:
    if name not in READERS:
        raise ValueError(f"unknown dataset reader {name!r} (valid: {', '.join(sorted(READERS))})")
    return READERS[name]
