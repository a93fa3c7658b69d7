"""firth.train.memory: large tensors come from malloc's heap, whose freed memory is reused, where the C library
is glibc."""

import os
import subprocess
import sys

import pytest

from firth.train.memory import _glibc

WHERE = """
import sys
import torch
from firth.train.memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
address = torch.ones(1 << 24).data_ptr()  # 64 MB: above malloc's mmap threshold, whatever it adapts to
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[heap]"):
        start, end = (int(bound, 16) for bound in line.split()[0].split("-"))
        print("heap" if start <= address < end else "own mapping")
"""


def where_a_large_tensor_lies(mode: str) -> str:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}  # glibc's defaults
    return subprocess.run([sys.executable, "-c", WHERE, mode], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


@pytest.mark.skipif(not _glibc(), reason="mallopt's thresholds are glibc's")
def test_a_large_tensor_comes_from_the_heap_once_freed_memory_is_kept():
    assert where_a_large_tensor_lies("default") == "own mapping"  # unmapped when freed, paged in anew next time
    assert where_a_large_tensor_lies("keep") == "heap"
