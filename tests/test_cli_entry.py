"""The ``cxloop`` program's exit: Python's exit work runs, the native teardown does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cxloop import __version__
from cxloop.cli import exit_status


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_the_module_prints_its_version_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "cxloop", "--version"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cxloop {__version__}"


def test_atexit_handlers_and_finalizers_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "cleaned"
    done = _python(
        "import atexit, sys, tempfile, weakref\n"
        "from pathlib import Path\n"
        f"atexit.register(lambda: Path({str(marker)!r}).write_text('yes'))\n"
        "atexit.register(lambda: print('goodbye'))\n"
        "folder = tempfile.TemporaryDirectory()\n"
        f"Path({str(tmp_path / 'folder')!r}).write_text(folder.name)\n"
        "sys.argv = ['cxloop', '--version']\n"
        "from cxloop.cli import run\n"
        "run()\n"
        "print('never reached')\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cxloop", __version__, "goodbye"]
    assert marker.read_text() == "yes"
    # The TemporaryDirectory's finalizer ran: its folder is gone.
    assert not Path((tmp_path / "folder").read_text()).exists()


def test_an_error_exit_keeps_its_status_and_message(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,comment\n1,很好\n", encoding="utf-8")
    done = _python(
        "import sys\n"
        f"sys.argv = ['cxloop', 'text', 'score', '--input', {str(source)!r},"
        f" '--text-column', 'nope', '--output', {str(tmp_path / 'out.csv')!r}]\n"
        "from cxloop.cli import run\n"
        "run()\n"
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "no column 'nope'" in " ".join(done.stderr.split())  # rich wraps lines


def test_output_written_just_before_the_exit_is_flushed() -> None:
    # Many lines through a pipe: a lost buffer would cut the end off.
    done = _python(
        "import sys\n"
        "from cxloop import cli\n"
        "@cli.app.command('lines', hidden=True)\n"
        "def lines() -> None:\n"
        "    sys.stdout.write(''.join(f'{i}\\n' for i in range(20000)))\n"
        "sys.argv = ['cxloop', 'lines']\n"
        "cli.run()\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "19999"
    assert len(done.stdout.split()) == 20000


@pytest.mark.parametrize(
    ("code", "status"), [(None, 0), (0, 0), (2, 2), (256 + 3, 3), ("a message", 1)]
)
def test_exit_status_is_the_one_sys_exit_gives(code: object, status: int) -> None:
    assert exit_status(code) == status
