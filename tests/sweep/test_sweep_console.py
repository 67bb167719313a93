"""A multirun's console: one line per finished trial, then the best trial, the study table, the UI."""

from __future__ import annotations

import re

from sweepkit import default_study, mlflow_runs, run_app


def test_sweep_prints_a_line_per_trial_and_ends_with_the_study(sweep_dir):
    result = run_app(sweep_dir, "hparams_search=demo", "hydra.sweeper.n_trials=3")
    assert result.returncode == 0, result.stderr[-3000:]
    study = default_study(sweep_dir)
    (parent,), _ = mlflow_runs(sweep_dir)
    text = result.stdout + result.stderr
    finished = re.findall(r"trial (\d) \((\d)/3\) value ", text)
    assert finished == [(str(n), str(n + 1)) for n in range(3)], text
    for chatter in ("Launching 1 jobs", "A new study created", "database tables"):
        assert chatter not in text, chatter

    out = result.stdout.strip().splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith(f"Study {study.study_name}: 3 trials"))
    best = study.best_trial
    assert out[start + 1].startswith(f"Best trial {best.number}: value {best.value:.6g}: ")
    for key, value in best.params.items():
        assert f"{key}={value}" in out[start + 1]
    header = out[start + 2].split()
    assert header[:3] == ["trial", "state", "value"]
    rows = [line.split() for line in out[start + 4 : start + 7]]
    assert [(r[0], r[1]) for r in rows] == [(str(n), "COMPLETE") for n in range(3)]
    assert out[start + 7].endswith(f"/#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}")
    assert "mlflow-ui" in out[start + 8]
