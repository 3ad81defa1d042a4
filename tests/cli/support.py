"""Helpers for running the real ``enrich`` console script in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "enrich" / "samples"
MUSEUM_SAMPLE = SAMPLES / "museum-sample.rdf"
SCAN_SAMPLE = SAMPLES / "scan-sample.ttl"
ENRICH = Path(sys.executable).parent / "enrich"
COMMAND_TIMEOUT_S = 120

#: The ProvidedCHOs of the bundled samples (three in the RDF/XML file, one in the Turtle file).
MUSEUM_CHOS = (
    "http://data.example-museum.org/object/ceramics-0042",
    "http://data.example-museum.org/object/metal-0107",
    "http://data.example-library.org/book/rare-1888-03",
)
SCAN_CHO = "http://data.example-archaeology.org/find/stone-axe-9"
ALL_CHOS = (*MUSEUM_CHOS, SCAN_CHO)


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any ENRICH_* setting, offline for model hubs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ENRICH_")}
    env.pop("PYTHONPATH", None)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8")

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def enrich(
    *args: str | Path,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT_S,
) -> Result:
    """Run the installed ``enrich`` script with ``args`` in ``cwd`` (where .env and reports would go)."""
    completed = subprocess.run(
        [str(ENRICH), *map(str, args)],
        cwd=cwd,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env if env is not None else clean_env(),
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def ok(*args: str | Path, cwd: Path, stdin: bytes | None = None) -> Result:
    """Run ``enrich`` and insist that it succeeds."""
    result = enrich(*args, cwd=cwd, stdin=stdin)
    assert result.returncode == 0, result.describe()
    return result


@dataclass
class StatsView:
    records: int
    deleted: int
    triples: int
    record_triples: int
    sections: dict[str, dict[str, int]]


_RECORDS = re.compile(r"^records:\s+([\d,]+) \(\+([\d,]+) deleted\)$")
_TRIPLES = re.compile(r"^triples:\s+([\d,]+) in the store, ([\d,]+) in record graphs$")
_SECTION = re.compile(r"^(.+) \((\d+)\):$")
_ROW = re.compile(r"^\s+([\d,]+)  (.+)$")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def parse_stats(text: str) -> StatsView:
    """Read back what ``enrich stats`` (or the end of ``enrich demo``) printed."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("records:"))
    records = _RECORDS.match(lines[start])
    triples = _TRIPLES.match(lines[start + 1])
    assert records and triples, text
    sections: dict[str, dict[str, int]] = {}
    declared: dict[str, int] = {}
    current: dict[str, int] = {}
    for line in lines[start + 2 :]:
        if section := _SECTION.match(line):
            current = sections.setdefault(section.group(1), {})
            declared[section.group(1)] = int(section.group(2))
        elif row := _ROW.match(line):
            current[row.group(2)] = _number(row.group(1))
        else:
            raise AssertionError(f"unexpected stats line {line!r} in:\n{text}")
    for title, count in declared.items():
        assert len(sections[title]) == count, f"{title}: {count} announced, {sections[title]} listed"
    return StatsView(
        records=_number(records.group(1)),
        deleted=_number(records.group(2)),
        triples=_number(triples.group(1)),
        record_triples=_number(triples.group(2)),
        sections=sections,
    )


_SUMMARY = re.compile(r"^(\d+) document\(s\), (\d+) record\(s\): ([^;]*);", re.MULTILINE)
_COUNT = re.compile(r"^(\d+) (\w+)$")


def parse_summary(text: str) -> dict[str, int]:
    """The counts of an ingest summary line: documents, records, new, updated, unchanged, invalid, ..."""
    match = _SUMMARY.search(text)
    assert match, f"no ingest summary in:\n{text}"
    counts = {"documents": int(match.group(1)), "records": int(match.group(2))}
    for part in match.group(3).split(", "):
        count = _COUNT.match(part.strip())
        assert count, f"unexpected part {part!r} of the summary in:\n{text}"
        counts[count.group(2)] = int(count.group(1))
    return counts


def assert_summary(text: str, **expected: int) -> None:
    """The ingest summary in ``text`` has (at least) these counts."""
    counts = parse_summary(text)
    assert {key: counts.get(key) for key in expected} == expected, text
