"""The README's commands that do not train: tools, benchmarks, servers and make targets.

Fixtures and the runner are those of tests/test_readme_commands.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.readme_commands import Command, is_training
from tests.test_readme_commands import COMMANDS, jquants_server, quotes_home, run_readme_command, trained_store

__all__ = ["jquants_server", "quotes_home", "trained_store"]  # fixtures used through request.getfixturevalue

TOOLS = [c for c in COMMANDS if not is_training(c)]


@pytest.mark.slow
@pytest.mark.parametrize("command", TOOLS, ids=[c.text for c in TOOLS])
def test_readme_tool_command_runs(command: Command, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    run_readme_command(command, tmp_path, request)
