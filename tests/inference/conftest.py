from __future__ import annotations

import pytest

from tests.inference.deployed import train_deployable


@pytest.fixture(scope="session")
def deployed(tmp_path_factory):
    """(outputs folder, {family: run id}) of a LightGBM and an ATFT model trained with deploy=true."""
    outputs = tmp_path_factory.mktemp("deployed")
    return outputs, {family: train_deployable(outputs, family) for family in ("lightgbm", "atft")}
