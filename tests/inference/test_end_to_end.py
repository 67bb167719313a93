"""Train -> register -> promote -> predict -> evaluate, on a market the models never saw past mid-2022.

The models are trained on a parquet file cut at 2022-06-30; predict.py then reads the full
file, so the predictions it scores are held out. Gate 4 refuses a worse model naming the
floor, rollback restores the previous champion and reproduces its predictions exactly.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from gogooku3.config.registry import Floors, RegistrySettings
from gogooku3.data.synthetic import SyntheticMarketSource
from gogooku3.errors import GogookuError
from gogooku3.pipeline.predict import run_predict
from gogooku3.registry.versions import Registry
from gogooku3.storage.predictions import LocalPredictionStore
from tests.inference.deployed import DATA, MODELS, compose
from gogooku3.pipeline.experiment import run_experiment

pytestmark = pytest.mark.slow
CUT = date(2022, 6, 30)
MARKET = [f"data.path={{full}}", "data.listed_path={listed}", "data.calendar=XTKS", "horizons=[1,5]",
          "quality.data_docs=false"]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    market = SyntheticMarketSource(n_stocks=300, start="2020-01-01", end="2022-12-31", horizons=(1, 5)).load()
    market.quotes.write_parquet(root / "full.parquet")
    market.quotes.filter(pl.col("Date") <= CUT).write_parquet(root / "cut.parquet")
    market.listed.write_parquet(root / "listed.parquet")
    return root


def _data(files, which):
    return [m.format(full=files / f"{which}.parquet", listed=files / "listed.parquet") for m in MARKET]


def _train(files, outputs, name, extra=()):
    split = [d for d in DATA if d.startswith("split.")]
    overrides = ["data=parquet", *_data(files, "cut"), *split, *MODELS["lightgbm"], *extra, "deploy=true",
                 "tracking.log_model=false", f"paths.output_dir={outputs}", f"tracking.run_name={name}"]  # fmt: skip
    return run_experiment(compose("train", overrides), outputs / name, overrides)


def _predict(files, outputs, store, run_dir, *extra):
    cfg = compose("predict", ["data=parquet", *_data(files, "full"), f"paths.output_dir={outputs}",
                              f"predict.store={store}", *extra])  # fmt: skip
    return run_predict(cfg, run_dir)


def test_train_register_promote_predict_evaluate_rollback(files, tmp_path):
    outputs, store = tmp_path / "out", tmp_path / "store"
    good = _train(files, outputs, "good")
    worse = _train(files, outputs, "worse", ["model.num_boost_round=1", "model.params.learning_rate=0.001",
                                             "model.params.feature_fraction=0.1"])  # fmt: skip
    ic_good, ic_worse = good.metrics["test/rank_ic_h1"], worse.metrics["test/rank_ic_h1"]
    assert ic_good > ic_worse
    floor = (ic_good + ic_worse) / 2
    settings = RegistrySettings(floors=Floors(rank_ic=floor, rank_icir=-1.0, rank_ic_tstat=-10.0), margin=1.0)
    uri = compose("train", [f"paths.output_dir={outputs}"]).tracking.uri
    registry = Registry(uri, settings)
    v1 = registry.register(good.run_id, "gogooku3", "first deployable model", who="test")
    registry.promote("gogooku3", v1.version, "beats the floors", who="test")
    bad = registry.register(worse.run_id, "gogooku3", "a deliberately worse model", who="test")
    with pytest.raises(GogookuError, match=rf"gate 4: test/rank_ic_h1=.* below floor registry.floors.rank_ic="):
        registry.promote("gogooku3", bad.version, "should be refused", who="test")
    assert registry.by_alias("gogooku3", "champion").version == v1.version

    # The next session after the data's last one, by the champion.
    latest = _predict(files, outputs, store, tmp_path / "p0", f"tracking.uri={uri}")
    assert latest.dates == [date(2022, 12, 30)]
    day = latest.predictions
    assert day.get_column("for_session").unique().to_list() == [date(2023, 1, 4)]  # TSE's new-year holidays
    assert day.get_column("model_version").unique().to_list() == [f"gogooku3@champion=v{v1.version}*1"]
    quoted = pl.read_parquet(files / "full.parquet").filter(pl.col("Date") == date(2022, 12, 30), pl.col("Close").is_not_null())
    assert day.filter(pl.col("horizon") == 1).height == quoted.height > 250

    # Backfill the held-out half-year and score what has matured.
    held = _predict(files, outputs, store, tmp_path / "p1", f"tracking.uri={uri}", "date_range=[2022-07-01,2022-12-30]",
                    "evaluate=true")  # fmt: skip
    realized = LocalPredictionStore(store).read("realized", horizon=1)
    assert realized.height >= 100 and realized.get_column("matured_on").null_count() == 0
    assert (realized.get_column("matured_on") > realized.get_column("Date")).all()
    assert realized.get_column("Date").max() < date(2022, 12, 30)  # its h=1 label has not matured
    calibration = held.calibration.filter(pl.col("horizon") == 1).sort("conf_decile")
    assert calibration.height == 10
    top, bottom = calibration.get_column("hit_rate")[-1], calibration.get_column("hit_rate")[0]
    assert top > bottom, calibration

    # A second champion, then rollback: the first one's predictions come back exactly.
    again = _train(files, outputs, "again", ["seed=7"])
    v2 = registry.register(again.run_id, "gogooku3", "refit with another seed", who="test")
    lenient = Registry(uri, RegistrySettings(floors=Floors(rank_ic=-1.0, rank_icir=-1.0, rank_ic_tstat=-10.0), margin=1.0))
    lenient.promote("gogooku3", v2.version, "second champion", who="test")
    by_v2 = _predict(files, outputs, tmp_path / "s2", tmp_path / "p2", f"tracking.uri={uri}").predictions
    registry.rollback("gogooku3", "v2 rolled back in the test", who="test")
    assert registry.by_alias("gogooku3", "champion").version == v1.version
    back = _predict(files, outputs, tmp_path / "s3", tmp_path / "p3", f"tracking.uri={uri}").predictions
    cols = ["Code", "horizon", "prediction", "ensemble_score", "rank"]
    assert back.select(cols).equals(day.select(cols))
    assert not by_v2.select(cols).equals(day.select(cols))
