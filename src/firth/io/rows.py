"""Writing vectors row batch by row batch, so that memory does not grow with the number of rows."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np


CODES = (np.dtype(np.int8), np.dtype(np.uint8))  # quantized vectors (firth.runtime.quantize), written as they are


class RowWriter:
    """Rows of float32 vectors (or 8-bit codes) appended batch by batch to a `.npy` file (`npy`) or JSON lines.

    A `.npy` header needs the row count, so rows go to an anonymous temporary
    file first and are copied behind the header at `close`; JSON lines are
    written as they come.
    """

    def __init__(self, path: str | Path, npy: bool):
        self.path, self.npy = Path(path), npy
        self.rows, self.dim, self.dtype = 0, None, np.dtype(np.float32)
        self._out = open(self.path, "wb" if self.npy else "w", encoding=None if self.npy else "utf-8")
        self._raw = tempfile.TemporaryFile(dir=self.path.parent) if self.npy else None

    def write(self, vectors: np.ndarray) -> None:
        """Append rows: floats as float32, int8 and uint8 codes as they are (the first batch sets the type)."""
        if not self.rows:
            self.dtype = vectors.dtype if vectors.dtype in CODES else np.dtype(np.float32)
        vectors = np.ascontiguousarray(vectors, dtype=self.dtype)
        self.rows, self.dim = self.rows + len(vectors), vectors.shape[1]
        if self.npy:
            self._raw.write(vectors.tobytes())
        elif self.dtype in CODES:
            self._out.writelines(json.dumps(row.tolist()) + "\n" for row in vectors)
        else:
            self._out.writelines(json.dumps([round(float(x), 6) for x in row]) + "\n" for row in vectors)
            self._out.flush()  # a batch's rows are on disk before the next input arrives

    def close(self) -> None:
        if self.npy:
            header = {"descr": self.dtype.str, "fortran_order": False, "shape": (self.rows, self.dim or 0)}
            np.lib.format.write_array_header_1_0(self._out, header)
            self._raw.seek(0)
            shutil.copyfileobj(self._raw, self._out, 1 << 20)
            self._raw.close()
        self._out.close()
