"""Reading YAML configuration safely: ``safe_load`` only, bounded in size and aliases.

Incident and model files may be edited by many hands or arrive by email; ``safe_load`` refuses
Python tags, and the alias limit refuses "billion laughs" files whose anchors expand
exponentially once something walks the loaded structure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from riskkit.errors import RiskkitError

MAX_YAML_BYTES = 1_000_000
MAX_ALIASES = 50
# Counting aliases needs only the event stream, which libyaml's C parser gives (where PyYAML was
# built with it) in a fraction of the pure-Python time; loading itself stays yaml.safe_load.
EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scan_events(text: str) -> tuple[int, int | None]:
    """Aliases in the document, and the line of the first key repeated within one mapping
    (``safe_load`` keeps the last silently: a second ``duration_hours`` would quietly replace the
    first). One pass over libyaml's event stream; keys are never quoted back, they may be headers."""
    aliases, duplicate = 0, None
    stack: list[list] = []  # per open node: [is_mapping, keys seen, expecting a key]

    def done(key: str | None, line: int) -> None:
        nonlocal duplicate
        if stack and stack[-1][0]:
            frame = stack[-1]
            if frame[2] and key is not None:
                if key in frame[1] and duplicate is None:
                    duplicate = line
                frame[1].add(key)
            frame[2] = not frame[2]

    for event in yaml.parse(text, Loader=EVENT_LOADER):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            done(None, event.start_mark.line + 1)
        elif isinstance(event, yaml.ScalarEvent):
            done(event.value, event.start_mark.line + 1)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            stack.append([isinstance(event, yaml.MappingStartEvent), set(), True])
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            done(None, event.start_mark.line + 1)
    return aliases, duplicate


def load_yaml(path: Path, error: type[RiskkitError] = RiskkitError) -> dict[str, Any]:
    """Load a YAML mapping or raise ``error`` with a one-line message naming the file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file not found; check the path (relative paths are resolved from "
                    "the current folder).")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise error(f"{path}: larger than {MAX_YAML_BYTES:,} bytes; a configuration file should "
                    "be small, check that this is the right file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; save it as UTF-8.") from None
    try:
        aliases, duplicate = _scan_events(text)
        if aliases > MAX_ALIASES:
            raise error(f"{path}: uses {aliases} YAML aliases (limit {MAX_ALIASES}); write the "
                        "values out instead of repeating anchors.")
        if duplicate:
            raise error(f"{path}: a key at line {duplicate} appears twice in the same mapping (YAML would "
                        "silently keep only the last one); remove or merge one of them.")
        data = yaml.safe_load(text)
    except (ValueError, OverflowError):  # a timestamp that does not exist: 30 February, an offset of +25:00
        raise error(f"{path}: holds a date or time that does not exist (such as 30 February, or a time zone "
                    "offset beyond ±23:59); fix the timestamps.") from None
    except RecursionError:
        raise error(f"{path}: nested too deeply to be a configuration file; check that this is the right file.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(f"{path}: {problem}{where}; fix the YAML syntax there.") from None
    if not isinstance(data, dict):
        raise error(f"{path}: expected a YAML mapping of keys to values at the top level.")
    return data


M = TypeVar("M")


def load_validated(path: Path, schema: type[M], error: type[RiskkitError], what: str) -> M:
    """Load a YAML file and validate it against a pydantic ``schema``; every problem is
    reported on one line with its key path, and ``what`` says which file to fix."""
    from pydantic import ValidationError

    data = load_yaml(Path(path), error)
    try:
        return schema.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise error(describe_validation_error(path, exc) + f" Fix these keys in {what}.") from None


def describe_validation_error(path: Path, exc: Any) -> str:
    """Every pydantic problem as ``key.path: message``, joined on one line."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        problems.append(f"{loc}: {err['msg']}")
    return f"{path}: {len(problems)} problem(s): " + "; ".join(problems)
