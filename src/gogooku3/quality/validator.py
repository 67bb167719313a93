"""Great Expectations engine: suites built from rules, validated on evidence tables, Data Docs.

Imported only when a gate runs with ``quality.enabled=true``: importing
great_expectations takes seconds, and a run with quality off must not pay it.
The context is ephemeral (in memory), so nobody has to initialise a GE project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
)

from gogooku3.console import quiet_third_party  # noqa: E402
from gogooku3.quality.evidence import Evidence, Rule  # noqa: E402
from gogooku3.quality.offline_docs import make_offline  # noqa: E402
from gogooku3.quality.report import RuleResult  # noqa: E402

quiet_third_party()  # some GE modules pin their loggers at INFO on import


class GxValidator:
    """One ephemeral GE context per :class:`~gogooku3.quality.gates.QualityGates`.

    Every evidence table goes through one pandas data asset: GE re-serialises its whole
    project config each time a datasource or asset is added, so one per table made that
    cost grow with every gate. The suite name (``<gate>.<table>``) says which table a
    result is about. Data Docs are rendered in one pass for everything validated so far
    (:meth:`build_docs`), so the index page is built once rather than per gate, by views
    that compile GE's page templates once per process (:mod:`gogooku3.quality.docs_views`).
    """

    def __init__(self, docs_dir: Path | None, sample_rows: int) -> None:
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.docs_dir = docs_dir
        self.sample_rows = max(sample_rows, 1)
        self._runs: dict[str, int] = {}
        self._rendered: set[Any] = set()
        self._new_suites: list[str] = []
        self._batch = (self.context.data_sources.add_pandas("quality").add_dataframe_asset("evidence")
                       .add_batch_definition_whole_dataframe("all"))
        if docs_dir is not None:
            self.context.add_data_docs_site(
                site_name="quality",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": _view("CachedIndexPageView")},
                    "site_section_builders": {section: {"view": _view("CachedPageView")}
                                              for section in ("expectations", "validations", "profiling")},
                },
            )

    @property
    def docs_index(self) -> Path | None:
        """Where the Data Docs index is (or will be) written; None when docs are off."""
        return None if self.docs_dir is None else self.docs_dir / "index.html"

    def validate(self, gate: str, evidence: Evidence) -> list[RuleResult]:
        """Validate every evidence table against a suite built from its rules."""
        run = self._runs.get(gate, 0)
        self._runs[gate] = run + 1
        prefix = gate if run == 0 else f"{gate}_{run}"
        results: list[RuleResult] = []
        for table, frame in evidence.tables.items():
            rules = [r for r in evidence.rules if r.table == table]
            if not rules:
                continue
            suite = self.context.suites.add(gx.ExpectationSuite(name=f"{prefix}.{table}"))
            self._new_suites.append(suite.name)
            for rule in rules:
                suite.add_expectation(_expectation(rule))
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{prefix}.{table}", data=self._batch, suite=suite)
            )
            pdf = frame.to_pandas()
            outcome = definition.run(
                batch_parameters={"dataframe": pdf},
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": self.sample_rows},
            )
            results.extend(_rule_result(rule, res, pdf) for rule, res in zip(rules, outcome.results))
        return results

    def build_docs(self) -> Path | None:
        """Render the suite and result pages new since the last call, and the index, in one pass."""
        if self.docs_dir is None:
            return None
        new = [k for k in self.context.validation_results_store.list_keys() if k not in self._rendered]
        suites = [ExpectationSuiteIdentifier(name=name) for name in self._new_suites]
        if new or suites or not self.docs_index.exists():
            self.context.build_data_docs(site_names=["quality"], resource_identifiers=[*new, *suites],
                                         build_index=True)
            make_offline(self.docs_dir)  # CDN assets -> files stored with the report
        self._rendered.update(new)
        self._new_suites.clear()
        return self.docs_index


def _view(name: str) -> dict[str, str]:
    """A Data Docs view of :mod:`gogooku3.quality.docs_views` (templates compiled once per process)."""
    return {"module_name": "gogooku3.quality.docs_views", "class_name": name}


def _expectation(rule: Rule) -> Any:
    meta = {"check": rule.check, "dimension": rule.dimension, "description": rule.description}
    if rule.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=rule.column, min_value=rule.min_value, max_value=rule.max_value,
            mostly=rule.mostly, meta=meta,
        )
    if rule.kind == "equal":
        return gxe.ExpectColumnPairValuesToBeEqual(
            column_A=rule.column, column_B=rule.other_column, mostly=rule.mostly, meta=meta
        )
    if rule.kind == "true":
        return gxe.ExpectColumnValuesToBeInSet(
            column=rule.column, value_set=[True], mostly=rule.mostly, meta=meta
        )
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def _rule_result(rule: Rule, res: Any, pdf: Any) -> RuleResult:
    """Translate GE's result, naming offending evidence rows by their key column."""
    # GE orders results like the suite's expectations; check it rather than trust it.
    config = res.expectation_config
    if (config.meta or {}).get("check") != rule.check:
        raise RuntimeError(f"GE result order mismatch for {rule.check}")
    detail = res.result or {}
    indices = detail.get("partial_unexpected_index_list") or []
    if rule.key is not None:
        offending = [_json_scalar(pdf[rule.key].iloc[i]) for i in indices]
    else:
        offending = [_json_scalar(v) for v in detail.get("partial_unexpected_list") or []]
    observed = None
    if len(pdf) == 1 and rule.kind == "between":
        observed = _json_scalar(pdf[rule.column].iloc[0])
    return RuleResult(
        check=rule.check,
        dimension=rule.dimension,
        table=rule.table,
        expectation=config.type,
        success=bool(res.success),
        threshold=rule.threshold_text(),
        element_count=int(detail.get("element_count") or len(pdf)),
        unexpected_count=int(detail.get("unexpected_count") or 0),
        observed=observed,
        offending=offending,
        description=rule.description,
    )


def _json_scalar(value: Any) -> Any:
    """A JSON-safe scalar for evidence: numpy scalars unwrapped, anything else as text."""
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
