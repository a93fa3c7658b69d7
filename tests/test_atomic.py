import os
import stat

import pytest

from firth.io.atomic import atomic_dir, atomic_path, write_text


def test_atomic_file_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    write_text(target, "whole")
    assert target.read_text(encoding="utf-8") == "whole"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_dir_replaces_an_old_directory_only_on_success(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.json").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "new.json").write_text("new", encoding="utf-8")
            raise RuntimeError("killed")
    assert [p.name for p in target.iterdir()] == ["old.json"]
    with atomic_dir(target) as tmp:
        (tmp / "new.json").write_text("new", encoding="utf-8")
    assert [p.name for p in target.iterdir()] == ["new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_outputs_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "f.txt", "x")
        with atomic_dir(tmp_path / "d"):
            pass
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
