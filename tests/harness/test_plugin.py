"""The pytest plugin as a skill package meets it, in a pytest of its own: loaded once
however many ways it is named (its entry point, ``-p``, a conftest), its fixtures there,
and every ``sentences.yaml`` collected, one test per utterance, a failure naming its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]

_SESSION_TEST = '''
from tests.third_party import skill as horn


async def test_the_fixtures_are_there(assistant_session, fake_clock, audit_log):
    async with assistant_session([horn]) as s:
        assert (await s.say("beep the horn")).calls == [("honk", {})]
        assert s.clock is fake_clock and s.audit_path == audit_log
'''

_SENTENCES = '''skills: ["tests.third_party:skill", core]
tests:
  - say: beep the horn
    call: {tool: honk, arguments: {}}
  - say: what time is it
    call: none
'''


def _project(folder: Path, *, conftest: bool) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    (folder / "test_horn.py").write_text(_SESSION_TEST, encoding="utf-8")
    (folder / "sentences.yaml").write_text(_SENTENCES, encoding="utf-8")
    if conftest:
        (folder / "conftest.py").write_text('pytest_plugins = ["assistant.testing.plugin"]\n',
                                            encoding="utf-8")


def _entry_point(site: Path) -> None:
    """The plugin's ``pytest11`` entry point, as ``pip install`` writes it."""
    metadata = site / "assistant_probe-1.0.dist-info"
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: assistant-probe\n"
                                       "Version: 1.0\n", encoding="utf-8")
    (metadata / "entry_points.txt").write_text(
        "[pytest11]\nassistant = assistant.testing.plugin\n", encoding="utf-8")


def _pytest(folder: Path, *args: str, site: Path | None = None,
            autoload: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [*([str(site)] if site else []), str(_REPO), os.environ.get("PYTHONPATH", "")])}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_loaded_three_ways_at_once_it_is_loaded_once(tmp_path: Path) -> None:
    _project(tmp_path / "project", conftest=True)
    _entry_point(tmp_path / "site")
    ran = _pytest(tmp_path / "project", "-p", "assistant.testing.plugin",
                  site=tmp_path / "site")
    output = ran.stdout + ran.stderr
    assert "1 failed, 2 passed" in output, output
    assert "sentences.yaml:5: 'what time is it'" in output
    assert "expected: none" in output and "got:      get_time() (route grammar)" in output
    assert "FAILED sentences.yaml::what time is it" in output


def test_named_on_the_command_line_alone_it_works(tmp_path: Path) -> None:
    _project(tmp_path, conftest=False)
    ran = _pytest(tmp_path, "-p", "assistant.testing.plugin", "-p", "asyncio",
                  "-k", "fixtures or horn", autoload=False)
    assert "2 passed" in ran.stdout, ran.stdout + ran.stderr


def test_importing_the_plugin_loads_no_skill() -> None:
    probe = ("import sys, assistant.testing.plugin; "
             "print(sorted(m for m in sys.modules if m.startswith(('assistant.', 'skills'))))")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(_REPO)}, timeout=60,
                           check=True).stdout
    assert shown.strip() == "['assistant.testing', 'assistant.testing.plugin']"
