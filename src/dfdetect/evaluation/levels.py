"""Frame level and video level: the rows each level scores, its threshold and its metrics.

Frame level is one row per manifest row (an image, or one face crop of a video). Video level
aggregates the frame scores of each video (key ``video_id``, else ``group``) with a named
strategy (:mod:`dfdetect.metrics.aggregate`). Both levels are reported; the headline ("overall")
is the video level when the manifest has videos, else the frame level.

Example::

    videos = video_rows(frame_rows, "mean", k=3)
    block = level_metrics(videos, threshold_info, bootstrap=1000, seed=0)
"""
from __future__ import annotations

from collections import defaultdict

from dfdetect.data.manifest import ManifestError, Sample
from dfdetect.metrics import binary_metrics
from dfdetect.metrics.aggregate import aggregate_groups
from dfdetect.metrics.bootstrap import bootstrap_ci
from dfdetect.metrics.threshold import choose_threshold
from dfdetect.modalities import get_modality

BREAKDOWN_KEYS = ("n", "n_real", "n_fake", "accuracy", "auc", "eer", "average_precision",
                  "tpr_at_fpr_5")


def video_key(sample: Sample) -> str:
    """The video a row belongs to: ``video_id``, else ``group``, else the row itself."""
    return sample.extra.get("video_id") or sample.group or sample.id


def bootstrap_key(row: dict) -> str:
    """Unit of resampling: the video, else the group (identity), else the row."""
    return row.get("video") or row.get("group") or row["id"]


def has_videos(samples: list[Sample]) -> bool:
    """Rows that are frames of videos (a modality with ``video_level``, or a ``video_id``)
    make a video level worth reporting."""
    kinds = {s.modality for s in samples}
    return (any(get_modality(k).video_level for k in kinds)
            or any(s.extra.get("video_id") for s in samples))


def video_rows(rows: list[dict], strategy: str = "mean", k: int = 3) -> list[dict]:
    """One row per video from scored frame rows (``status == ok``), same keys as frame rows."""
    frames: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        frames[r["video"]].append(r)
    scores = aggregate_groups([r["video"] for r in rows], [r["score"] for r in rows], strategy, k)
    out = []
    for vid, members in frames.items():
        labels = {m["target"] for m in members}
        if len(labels) > 1:
            raise ManifestError(f"video '{vid}' has both real and fake frames; every frame of a "
                                "video must carry the video's label")
        first = members[0]
        out.append({**first, "id": vid, "score": scores[vid], "n_frames": len(members),
                    "video": vid, "group": first.get("group") or vid})
    return out


def pick_threshold(val_rows: list[dict] | None, rule: str, given: float, fallback: float,
                   split: str, origin: str = "") -> dict:
    """``{"value", "source", "rule", "split"}``: given > chosen on ``split`` > the checkpoint's.

    ``origin`` says where the checkpoint's threshold was chosen (its ``threshold_source``); a
    checkpoint without one holding 0.5 holds no chosen threshold, and the source then says, in
    capitals, that 0.5 is a DEFAULT.
    """
    if given >= 0:
        return {"value": float(given), "source": "given", "rule": "", "split": ""}
    if val_rows:
        labels = [r["target"] for r in val_rows]
        if 0 < sum(labels) < len(labels):
            value = choose_threshold(labels, [r["score"] for r in val_rows], rule)
            return {"value": value, "source": f"{split}:{rule}", "rule": rule, "split": split}
        why = f"split '{split}' lacks a class"
    else:
        why = f"split '{split}' has no scored rows" if split else "no threshold_split"
    return {"value": float(fallback), "source": fallback_source(fallback, why, origin),
            "rule": "", "split": ""}


def fallback_source(value: float, why: str, origin: str) -> str:
    """Source text of a threshold taken from the checkpoint(s), never overstating it."""
    if origin:
        return f"checkpoint ({why}; chosen earlier: {origin})"
    if value == 0.5:
        return (f"DEFAULT 0.5, not chosen on any data ({why}; the checkpoint holds no chosen "
                "threshold: evaluate with a val split, save_threshold=true, or pass threshold=)")
    return f"checkpoint ({why}; where it was chosen is not recorded)"


def _subset(rows: list[dict], threshold: float) -> dict:
    m = binary_metrics([r["target"] for r in rows], [r["score"] for r in rows], threshold)
    return {k: m[k] for k in BREAKDOWN_KEYS}


def breakdowns(rows: list[dict], threshold: float) -> tuple[dict, dict]:
    """Per fake method (its fakes against every real) and per source dataset."""
    reals = [r for r in rows if r["target"] == 0]
    methods: dict[str, list] = defaultdict(list)
    sources: dict[str, list] = defaultdict(list)
    for r in rows:
        if r["target"] == 1 and r["method"]:
            methods[r["method"]].append(r)
        if r["source"]:
            sources[r["source"]].append(r)
    by_method = {m: _subset(reals + fakes, threshold) for m, fakes in sorted(methods.items())}
    by_source = {s: _subset(rs, threshold) for s, rs in sorted(sources.items())}
    return by_method, by_source


def by_column(rows: list[dict], column: str, threshold: float) -> dict:
    """Per non-empty value of ``column`` (rows carry it in ``row["by"]``): that value's rows; a
    value with fakes only (a generator) is compared with every real, as in ``by_method``
    (``"reals": "all"``), else with its own reals (``"reals": "own"``)."""
    reals = [r for r in rows if r["target"] == 0]
    values: dict[str, list] = defaultdict(list)
    for r in rows:
        value = r.get("by", {}).get(column, "")
        if value:
            values[value].append(r)
    out = {}
    for value, members in sorted(values.items()):
        own = any(r["target"] == 0 for r in members)
        out[value] = {**_subset(members if own else reals + members, threshold),
                      "reals": "own" if own else "all"}
    return out


def level_metrics(rows: list[dict], threshold: dict, bootstrap: int, seed: int,
                  by: tuple[str, ...] = ()) -> dict:
    """Metrics, 95 % intervals, threshold and breakdowns of one level (JSON-ready); ``by``
    names extra columns to break down by (``block["by"][column][value]``)."""
    labels, scores = [r["target"] for r in rows], [r["score"] for r in rows]
    metrics = binary_metrics(labels, scores, threshold["value"])
    ci = (bootstrap_ci(labels, scores, [bootstrap_key(r) for r in rows], threshold["value"],
                       n=bootstrap, seed=seed) if bootstrap > 0 else {})
    by_method, by_source = breakdowns(rows, threshold["value"])
    return {"metrics": metrics, "ci": ci, "threshold": threshold,
            "units": len({bootstrap_key(r) for r in rows}),
            "by_method": by_method, "by_source": by_source,
            "by": {c: by_column(rows, c, threshold["value"]) for c in by}}
