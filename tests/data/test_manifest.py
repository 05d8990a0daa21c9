"""Tests for the manifest table: read/write, validation, ratios, group split (dfdetect.data.manifest)."""
from __future__ import annotations

import random
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from dfdetect.data.manifest import (COLUMNS, LABEL_INDEX, SPLITS, Manifest, ManifestError, Sample,
                                    group_leaks, group_split, parse_ratios, read_manifest,
                                    validate, write_manifest)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Manifest]:
    """A small valid dataset folder with files and a manifest whose root is that folder."""
    root = tmp_path / "data"
    samples = [
        Sample("r1", "real/p1/a.jpg", "real", "train", "p1", "src", "none", "image",
               {"frame": "0", "video_id": "v1"}),
        Sample("r2", "real/p2/b.jpg", "real", "val", "p2", "src", "none", "image",
               {"frame": "3", "video_id": "v2"}),
        Sample("f1", "fake/m1/c.png", "fake", "test", "p3", "src", "m1", "frame",
               {"frame": "7", "video_id": "v3"}),
        Sample("f2", "fake/m1/d, with comma.png", "fake", "train", "p1", "src", "m1", "image",
               {"frame": "1", "video_id": 'v"4'}),
    ]
    for s in samples:
        _touch(root / s.path)
    return root, Manifest(samples, root.resolve(), name="toy")


# ---------------------------------------------------------------- read / write


def test_round_trip_keeps_every_column(dataset, tmp_path: Path) -> None:
    root, m = dataset
    out = write_manifest(m, root / "manifest.csv")
    assert out == root / "manifest.csv"
    header = out.read_text().splitlines()[0].split(",")
    assert header == [*COLUMNS, "frame", "video_id"]  # standard columns, then extras sorted
    back = read_manifest(out)
    assert back.samples == m.samples
    assert back.root == root.resolve()
    assert back.name == "manifest"
    validate(back)


def test_paths_are_relative_to_the_csv_and_moving_keeps_it_valid(dataset, tmp_path: Path) -> None:
    root, m = dataset
    write_manifest(m, root / "manifest.csv")
    text = (root / "manifest.csv").read_text()
    assert str(tmp_path) not in text  # nothing absolute was written
    moved = tmp_path / "elsewhere" / "mounted"
    moved.parent.mkdir()
    shutil.move(str(root), str(moved))
    back = read_manifest(moved / "manifest.csv")
    assert back.root == moved.resolve()
    validate(back)  # every file is found at its new place
    assert all(back.resolve(s).is_file() for s in back.samples)
    assert back.resolve(back.samples[0]) == (moved / "real/p1/a.jpg").resolve()


def test_write_into_another_folder_keeps_locations(dataset, tmp_path: Path) -> None:
    # files outside the CSV's folder are written as absolute paths (documented behaviour)
    root, m = dataset
    out = write_manifest(m, tmp_path / "manifests" / "toy.csv")
    back = read_manifest(out)
    assert Path(back.samples[0].path) == (root / "real/p1/a.jpg").resolve()
    for original, new in zip(m.samples, back.samples):
        assert back.resolve(new).resolve() == m.resolve(original).resolve()
    validate(back)


def test_read_with_explicit_root(dataset, tmp_path: Path) -> None:
    root, m = dataset
    write_manifest(m, root / "manifest.csv")
    copy = tmp_path / "copy.csv"
    shutil.copy(root / "manifest.csv", copy)
    back = read_manifest(copy, root=root)
    assert back.root == root
    validate(back)


def test_read_minimal_columns_fills_defaults(tmp_path: Path) -> None:
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("id,path,label\n1, a.jpg ,real\n")
    (m_sample,) = read_manifest(csv_path).samples
    assert m_sample == Sample("1", "a.jpg", "real", modality="image")


def test_read_missing_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "m.csv"
    csv_path.write_text("path,label\na.jpg,real\n")
    with pytest.raises(ManifestError, match="missing column.*id"):
        read_manifest(csv_path)


def test_read_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "nope.csv")


def test_where_counts_target(dataset) -> None:
    _, m = dataset
    assert [s.id for s in m.where(split="train").samples] == ["r1", "f2"]
    assert len(m.where(split="all")) == 4
    assert [s.id for s in m.where(split="train", label="fake").samples] == ["f2"]
    assert m.counts() == {"train": {"real": 1, "fake": 1}, "val": {"real": 1, "fake": 0},
                          "test": {"real": 0, "fake": 1}}
    assert [s.target for s in m.samples] == [0, 0, 1, 1]
    assert LABEL_INDEX == {"real": 0, "fake": 1}


# ---------------------------------------------------------------- validate


def test_valid_manifest_passes(dataset) -> None:
    _, m = dataset
    validate(m)
    validate(m, check_files=False)


def test_missing_file_names_the_path(dataset) -> None:
    root, m = dataset
    (root / "real/p2/b.jpg").unlink()
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "missing files" in msg
    assert str(root.resolve() / "real/p2/b.jpg") in msg
    assert "line 3" in msg
    validate(m, check_files=False)  # the check can be turned off


def test_unknown_label_names_line_and_label(dataset) -> None:
    _, m = dataset
    m.samples[2].label = "spoof"
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "unknown labels" in msg
    assert "line 4: 'spoof'" in msg


def test_duplicate_ids(dataset) -> None:
    _, m = dataset
    m.samples[3].id = "r1"
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "duplicate ids" in msg and "r1" in msg


def test_group_in_two_splits_names_group_and_splits(dataset) -> None:
    _, m = dataset
    m.samples[1].group = "p1"  # p1 is already in train; this row is val
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "groups in more than one split" in msg
    assert "p1 (train, val)" in msg
    assert group_leaks(m.samples) == ["p1 (train, val)"]


def test_unknown_split(dataset) -> None:
    _, m = dataset
    m.samples[0].split = "training"
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "unknown splits" in msg and "line 2: 'training'" in msg


def test_unknown_modality_and_empty_path(dataset) -> None:
    _, m = dataset
    m.samples[0].modality = "hologram"
    m.samples[1].path = ""
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "unknown modality: line 2: 'hologram'" in msg
    assert "empty path: line 3" in msg


def test_every_problem_is_listed_at_once(dataset) -> None:
    _, m = dataset
    m.samples[0].split = "training"
    m.samples[2].label = "maybe"
    m.samples[3].id = "r2"
    with pytest.raises(ManifestError) as info:
        validate(m)
    msg = str(info.value)
    assert "duplicate ids" in msg and "unknown labels" in msg and "unknown splits" in msg
    assert msg.startswith("toy (")


def test_report_is_capped(tmp_path: Path) -> None:
    samples = [Sample(str(i), f"{i}.jpg", "nah") for i in range(15)]
    with pytest.raises(ManifestError) as info:
        validate(Manifest(samples, tmp_path), check_files=False, max_report=10)
    msg = str(info.value)
    assert "(and 5 more)" in msg
    assert "line 11:" in msg and "line 12:" not in msg


def test_empty_split_is_allowed(dataset) -> None:
    _, m = dataset
    for s in m.samples:
        s.split = ""
    validate(m)


# ---------------------------------------------------------------- parse_ratios


@pytest.mark.parametrize("text,expected", [
    ("0.8", (0.8, 0.2, 0.0)),
    ("0.7,0.15,0.15", (0.7, 0.15, 0.15)),
    ("7,2,1", (0.7, 0.2, 0.1)),
    ("0.8,0.2", (0.8, 0.2, 0.0)),
    ("1", (1.0, 0.0, 0.0)),
    (" 0.5 , 0.25 , 0.25 ", (0.5, 0.25, 0.25)),
    ("3,0,1", (0.75, 0.0, 0.25)),
])
def test_parse_ratios(text: str, expected: tuple) -> None:
    got = parse_ratios(text)
    assert got == pytest.approx(expected)
    assert sum(got) == pytest.approx(1.0)


@pytest.mark.parametrize("text", ["", "abc", "0.7;0.3", "0.5,x", "0,0,0", "0.7,-0.1,0.4", "1.5",
                                  "-1"])
def test_parse_ratios_rejects(text: str) -> None:
    with pytest.raises(ManifestError, match="split_ratio"):
        parse_ratios(text)


# ---------------------------------------------------------------- group_split


def _random_samples(rng: random.Random, n_groups: int, max_rows: int,
                    presplit_groups: float = 0.0) -> list[Sample]:
    """Groups of 1..max_rows rows; some whole groups already carry a split; a few rows no group."""
    samples: list[Sample] = []
    for g in range(n_groups):
        split = rng.choice(SPLITS) if rng.random() < presplit_groups else ""
        for r in range(rng.randint(1, max_rows)):
            samples.append(Sample(f"g{g}_{r}", f"g{g}/{r}.jpg", rng.choice(("real", "fake")),
                                  split=split, group=f"g{g}"))
    for k in range(rng.randint(0, 5)):  # rows without a group are groups of their own
        samples.append(Sample(f"solo{k}", f"solo{k}.jpg", "real"))
    rng.shuffle(samples)
    return samples


@pytest.mark.parametrize("seed", range(8))
def test_group_split_properties(seed: int) -> None:
    rng = random.Random(1000 + seed)
    ratios = [(0.7, 0.15, 0.15), (0.8, 0.2, 0.0), (0.5, 0.25, 0.25), (0.6, 0.0, 0.4)][seed % 4]
    samples = _random_samples(rng, n_groups=rng.randint(5, 60), max_rows=rng.randint(1, 8),
                              presplit_groups=0.2 if seed % 2 else 0.0)
    before = {s.id: s.split for s in samples}
    out = group_split(samples, ratios, seed=seed)

    # same rows, same order, input not mutated
    assert [s.id for s in out] == [s.id for s in samples]
    assert {s.id: s.split for s in samples} == before
    # every row gets a valid split; rows with a split keep it
    assert all(s.split in SPLITS for s in out)
    for s in out:
        if before[s.id]:
            assert s.split == before[s.id]
    # splits with ratio 0 get no new rows
    for i, sp in enumerate(SPLITS):
        if ratios[i] == 0:
            assert not [s for s in out if s.split == sp and not before[s.id]]
    # no group straddles two splits
    where = defaultdict(set)
    for s in out:
        if s.group:
            where[s.group].add(s.split)
    assert all(len(v) == 1 for v in where.values()), dict(where)
    assert group_leaks(out) == []
    # deterministic for a seed
    assert group_split(samples, ratios, seed=seed) == out


def test_group_split_seed_changes_assignment() -> None:
    samples = _random_samples(random.Random(0), n_groups=50, max_rows=3)
    results = {tuple(s.split for s in group_split(samples, (0.7, 0.15, 0.15), seed=k))
               for k in range(5)}
    assert len(results) > 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("ratios", [(0.7, 0.15, 0.15), (0.8, 0.1, 0.1), (0.5, 0.3, 0.2)])
def test_group_split_ratio_by_sample_count(seed: int, ratios: tuple) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, size=200)  # 200 groups of 1..5 rows
    samples = [Sample(f"{g}_{r}", f"{g}/{r}.jpg", "real", group=f"grp{g}")
               for g, n in enumerate(sizes) for r in range(n)]
    out = group_split(samples, ratios, seed=seed)
    counts = Counter(s.split for s in out)
    for i, sp in enumerate(SPLITS):
        share = counts[sp] / len(out)
        assert abs(share - ratios[i]) <= 0.05, (sp, share, ratios[i])


def test_group_split_without_groups_uses_rows() -> None:
    samples = [Sample(str(i), f"{i}.jpg", "real") for i in range(100)]
    out = group_split(samples, (0.7, 0.15, 0.15), seed=3)
    assert Counter(s.split for s in out) == {"train": 70, "val": 15, "test": 15}


def test_group_split_all_presplit_is_unchanged() -> None:
    samples = [Sample(str(i), f"{i}.jpg", "real", split=SPLITS[i % 3], group=f"g{i}")
               for i in range(9)]
    assert group_split(samples, (0.7, 0.15, 0.15)) == samples


def test_group_split_empty() -> None:
    assert group_split([], (0.7, 0.15, 0.15)) == []


def test_group_split_follows_existing_split_of_a_group() -> None:
    samples = [Sample("a", "a.jpg", "real", split="train", group="g")]
    samples += [Sample("b", "b.jpg", "real", group="g")]
    samples += [Sample(f"x{i}", f"x{i}.jpg", "real", group=f"h{i}") for i in range(5)]
    out = group_split(samples, (0.0, 0.0, 1.0), seed=0)
    assert group_leaks(out) == []
