"""Two worker processes on one PostgreSQL study together run exactly n_trials trials."""

from __future__ import annotations

import os

import pytest
from sweepkit import mlflow_runs, start_app

PG = dict(host="127.0.0.1", port=5432, user="postgres")


@pytest.fixture
def pg_database():
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"gogooku3_test_sweep_{os.getpid()}"
    try:
        admin = psycopg2.connect(dbname="postgres", **PG)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.mark.slow
def test_two_workers_share_one_study_and_total_exactly_n_trials(sweep_dir, pg_database):
    import optuna

    # trust auth ignores the password; it is here to prove it never reaches MLflow
    storage = f"postgresql+psycopg2://postgres:s3cretpw@127.0.0.1:5432/{pg_database}"
    common = ("hparams_search=demo", "sleep_s=0.5", "hydra.sweeper.n_trials=8", f"hydra.sweeper.storage={storage}")
    workers = [
        start_app(sweep_dir, *common, f"hydra.sweeper.sampler.seed={seed}", f"hydra.sweep.dir=worker{seed}")
        for seed in (1, 2)
    ]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [o[-2000:] for o in outputs]

    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    counted = [t for t in study.trials if t.state.name != "WAITING"]
    assert sorted(t.number for t in counted) == list(range(8))  # no duplicates, no gaps
    assert {t.state.name for t in counted} == {"COMPLETE"}
    jobs = [sorted(p.name for p in (sweep_dir / f"worker{seed}").iterdir() if p.is_dir()) for seed in (1, 2)]
    assert all(jobs) and sorted(int(n) for n in jobs[0] + jobs[1]) == list(range(8)), jobs

    parents, children = mlflow_runs(sweep_dir)
    assert len(parents) == 1 and len(children) == 8
    assert parents[0].data.tags["optuna_storage"].count("s3cretpw") == 0
    assert "s3cretpw" not in str(parents[0].data.params) + str(parents[0].data.tags)
