"""Run names that say what distinguishes a run: model, data and the user's overrides.

``lightgbm·synthetic·model.params.num_leaves=31,data.n_stocks=60``; a sweep trial puts its
number and its sampled parameters first: ``lightgbm·synthetic·trial3·model.params.num_leaves=63,...``.
A name too long for the table drops the keys' dotted prefixes (``num_leaves=63``), then is cut.
MLflow's runs table shows the name, so it is what tells two rows apart at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gogooku3.tracking.redact import redact_overrides

SEP = "·"
MAX_LENGTH = 160  # the six sampled values of the LightGBM sweep fit; MLflow allows 250
# Keys that say where a run is stored or how it is launched, not what it is.
IGNORED = ("hydra.", "paths.", "tracking.", "hparams_search", "task_name")


def _key(override: str) -> str:
    return override.partition("=")[0].lstrip("+~")


def _short_value(value: str) -> str:
    """Sampled floats carry 17 digits; four significant ones tell trials apart."""
    if any(c in value for c in ".eE") and not value.lower().startswith(("nan", "inf")):
        try:
            return f"{float(value):.4g}"
        except ValueError:
            return value
    return value


def _shown(override: str, groups: dict[str, str]) -> str | None:
    key, sep, value = override.partition("=")
    key = key.lstrip("+~")
    if not sep or key.startswith(IGNORED):
        return None
    if key in groups and value == groups[key]:  # `model=lightgbm`: already the name's first part
        return None
    return f"{key}={_short_value(value)}"


def run_name(
    model: str,
    data: str,
    overrides: Sequence[str] = (),
    *,
    trial: int | None = None,
    trial_keys: Iterable[str] = (),
    max_length: int = MAX_LENGTH,
) -> str:
    """The name of a run (or sweep trial ``trial``, whose sampled ``trial_keys`` come first)."""
    groups = {"model": model, "data": data}
    sampled = set(trial_keys)
    safe = redact_overrides(list(overrides))
    ordered = [o for o in safe if _key(o) in sampled] + [o for o in safe if _key(o) not in sampled]
    shown = [s for o in ordered if (s := _shown(o, groups)) is not None]
    head = [model, data] + ([f"trial{trial}"] if trial is not None else [])
    name = SEP.join([*head, ",".join(shown)] if shown else head)
    if len(name) > max_length:  # too long with whole keys: their last parts, where those are unique
        name = SEP.join([*head, ",".join(_leaf_keys(shown))])
    if len(name) <= max_length:
        return name
    return name[: max_length - 1].rstrip(",") + "…"


def _leaf_keys(shown: list[str]) -> list[str]:
    """``model.params.num_leaves=63`` -> ``num_leaves=63`` unless two keys end the same."""
    leaves = [o.partition("=")[0].rsplit(".", 1)[-1] for o in shown]
    return [
        f"{leaf}={o.partition('=')[2]}" if leaves.count(leaf) == 1 else o for leaf, o in zip(leaves, shown)
    ]
