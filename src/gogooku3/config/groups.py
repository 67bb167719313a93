"""Every (group, option) -> schema pair; an option file's defaults list names ``/schema/<group>/<option>``."""

from __future__ import annotations

from gogooku3.config.data import JQuantsData, JQuantsLocalData, ParquetData, SyntheticData
from gogooku3.config.evaluation import Evaluation
from gogooku3.config.features import FeatureSet
from gogooku3.config.model import ATFTSettings, LightGBMSettings
from gogooku3.config.monitoring import MonitoringSettings
from gogooku3.config.paths import Paths
from gogooku3.config.predict import PredictSettings
from gogooku3.config.quality import QUALITY_SCHEMA
from gogooku3.config.registry import RegistrySettings
from gogooku3.config.retention import Retention
from gogooku3.config.serving import ServingSettings
from gogooku3.config.split import WalkForward
from gogooku3.config.storage import StorageSettings
from gogooku3.config.tracking import MlflowTracking
from gogooku3.config.trainer import TrainerSettings

SCHEMAS: dict[tuple[str, str], type] = {
    ("data", "synthetic"): SyntheticData,
    ("data", "parquet"): ParquetData,
    ("data", "jquants"): JQuantsData,
    ("data", "jquants_local"): JQuantsLocalData,
    ("features", "feature_set"): FeatureSet,
    ("model", "lightgbm"): LightGBMSettings,
    ("model", "atft"): ATFTSettings,
    ("trainer", "lightning"): TrainerSettings,
    ("split", "walk_forward"): WalkForward,
    ("evaluation", "default"): Evaluation,
    ("tracking", "mlflow"): MlflowTracking,
    ("paths", "default"): Paths,
    ("predict", "default"): PredictSettings,
    ("quality", "default"): QUALITY_SCHEMA,
    ("registry", "default"): RegistrySettings,
    ("storage", "default"): StorageSettings,
    ("retention", "default"): Retention,
    ("serving", "default"): ServingSettings,
    ("monitoring", "default"): MonitoringSettings,
}
