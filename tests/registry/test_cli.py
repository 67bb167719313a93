"""``python -m gogooku3.registry``: exit codes 0 / 1 (refused) / 2 (bad input), one-line errors, the table."""

from __future__ import annotations

import os
import subprocess
import sys

from gogooku3.config.registry import RegistrySettings
from gogooku3.registry import names
from gogooku3.registry.__main__ import load_settings, main
from tests.helpers import ROOT
from tests.registry.conftest import GOOD_METRICS


def _cli(store, *argv: str) -> int:
    return main([*argv, "--tracking-uri", store.uri])


def test_verbs_and_exit_codes(store, capsys):
    good, weak = store.deployable_run(), store.deployable_run(metrics={**GOOD_METRICS, "test/rank_icir_h1": 0.01})
    assert _cli(store, "register", "--run", good, "--reason", "baseline", "--who", "alice") == 0
    assert _cli(store, "register", "--run", weak, "--reason", "weak") == 0
    assert _cli(store, "promote", "--version", "1", "--reason", "first") == 0
    assert "promoted gogooku3 version 1 to champion (previous: -); gate 4: passed" in capsys.readouterr().out
    assert _cli(store, "promote", "--version", "2", "--reason", "try") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "test/rank_icir_h1=0.01 below floor registry.floors.rank_icir=0.05" in err
    assert _cli(store, "promote", "--version", "2", "--reason", "looser", "--set", "floors.rank_icir=0.005") == 0
    assert _cli(store, "rollback", "--reason", "back to 1") == 0
    assert "champion is version 1 (previous: 2)" in capsys.readouterr().out
    assert _cli(store, "list") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["version", "aliases", "created", "(UTC)", "run", "RankIC", "h1", "canary"]
    assert table[2].split()[:2] == ["2", "previous"] and table[3].split()[:2] == ["1", "champion"]
    assert table[3].split()[-2:] == ["0.0400", "true"]


def test_bad_input_exits_2_with_one_line(store, capsys):
    run = store.deployable_run(drop=("canary_passed",))
    for argv in (["register", "--run", run, "--reason", "x"], ["register", "--run", store.deployable_run()],
                 ["promote", "--version", "7", "--reason", "x"], ["list", "--set", "floors.rank_ic=abc"],
                 ["list", "--config", "/nonexistent.yaml"]):  # fmt: skip
        assert _cli(store, *argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("gogooku3: error: ") and err.count("\n") == 1, err
    assert _cli(store, "rollback", "--reason", "nothing to roll back to") == 1


def test_settings_from_schema_file_and_overrides(tmp_path):
    assert load_settings() == RegistrySettings()
    assert RegistrySettings().model_name == names.DEFAULT_MODEL_NAME
    assert load_settings(str(ROOT / "conf" / "registry" / "default.yaml")) == RegistrySettings()
    custom = tmp_path / "strict.yaml"
    custom.write_text("floors:\n  rank_ic: 0.03\nhorizons: [1, 5]\n")
    settings = load_settings(str(custom), ["registry.margin=0.0", "canary_max_abs_tstat=1.5"])
    assert (settings.floors.rank_ic, settings.floors.rank_icir, settings.horizons) == (0.03, 0.05, [1, 5])
    assert (settings.margin, settings.canary_max_abs_tstat) == (0.0, 1.5)


def test_module_entry_point_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "gogooku3.registry", "list", "--tracking-uri", f"sqlite:///{tmp_path}/no.db"],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().endswith("no such MLflow store"), done.stderr
