"""Load, validate, dump and hash scenarios; turn every problem into ``FILE: path.to.field: reason`` lines."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import InputError
from .schema import CrossFieldErrors, Scenario

BUILTIN_PACKAGE = "scenarios"
BUILTIN_DIR = "builtin"


class ScenarioError(InputError):
    """A scenario that cannot be used; ``problems`` holds one ``FILE: path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def builtin_names() -> list[str]:
    folder = resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise ScenarioError([f"{name}: no such built-in scenario (built-in: {', '.join(builtin_names())})"])
    return resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR, f"{name}.yaml").read_text(encoding="utf-8")


#: The pattern of scenario names and staff ids (schema.py); its mismatch is said in words, not as a regex.
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validation_problems(error: ValidationError, source: str) -> list[str]:
    """One line per pydantic error, expanding cross-field errors into their own field paths."""
    lines: list[str] = []
    for err in error.errors(include_url=False):
        loc = _format_loc(tuple(err["loc"]))
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, CrossFieldErrors):
            prefix = "" if loc == "(top level)" else loc + "."
            lines.extend(f"{source}: {prefix}{path}: {reason}" for path, reason in original.errors)
            continue
        msg = err["msg"]
        for noise in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(noise)
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see `rehabflow scenarios show baseline`)"
        if err["type"] == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_PATTERN:
            msg = f"{err.get('input')!r} may hold only letters, digits, '_', '.' and '-' (no spaces)"
        lines.append(f"{source}: {loc}: {msg}")
    return lines


def parse_scenario(data: Any, source: str) -> Scenario:
    """Validate already-parsed YAML data into a :class:`Scenario` or raise :class:`ScenarioError`."""
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}: (top level): expected a mapping of sections, got {type(data).__name__}"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(validation_problems(e, source)) from None


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        reason = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ScenarioError([f"{source}: {where}: invalid YAML: {reason}"]) from None


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` over ``base``: mappings merge key by key, everything else (lists included) replaces."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


MAX_EXTENDS_DEPTH = 5


def _resolve_extends(data: Any, source: str, folder: Path | None, depth: int = 0) -> Any:
    """Follow ``extends: NAME`` (a built-in, or a YAML path relative to the file) and merge."""
    if not isinstance(data, dict) or "extends" not in data:
        return data
    parent = data["extends"]
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([f"{source}: extends: must name a built-in scenario or a YAML file"])
    if depth >= MAX_EXTENDS_DEPTH:
        raise ScenarioError([f"{source}: extends: more than {MAX_EXTENDS_DEPTH} levels (a cycle?)"])
    parent_path = Path(parent) if folder is None else folder / parent
    if parent.lower().endswith((".yaml", ".yml")):
        if not parent_path.is_file():
            raise ScenarioError([f"{source}: extends: no such file {parent!r}"])
        base_data = _read_yaml(parent_path.read_text(encoding="utf-8"), str(parent_path))
        base_data = _resolve_extends(base_data, str(parent_path), parent_path.parent, depth + 1)
    else:
        try:
            text = builtin_text(parent)
        except ScenarioError:
            raise ScenarioError([f"{source}: extends: no built-in scenario {parent!r} (built-in: {', '.join(builtin_names())})"]) from None
        base_data = _resolve_extends(_read_yaml(text, f"{parent}.yaml"), f"{parent}.yaml", None, depth + 1)
    if not isinstance(base_data, dict):
        raise ScenarioError([f"{source}: extends: {parent!r} is not a scenario mapping"])
    changes = {k: v for k, v in data.items() if k != "extends"}
    return deep_merge(base_data, changes)


def parse_yaml_text(text: str, source: str, folder: Path | None = None) -> Scenario:
    """Parse scenario YAML text; ``folder`` resolves a relative ``extends:`` path."""
    data = _resolve_extends(_read_yaml(text, source), source, folder)
    return parse_scenario(data, source)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in name (``baseline``) or a path to a YAML file."""
    text_or_path = str(name_or_path)
    path = Path(text_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ScenarioError([f"{text_or_path}: no such file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError([f"{text_or_path}: cannot read: {e}"]) from None
        return parse_yaml_text(text, text_or_path, path.parent)
    return parse_yaml_text(builtin_text(text_or_path), f"{text_or_path}.yaml")


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain data (enums as strings) that :func:`parse_scenario` reads back to an equal scenario."""
    return scenario.model_dump(mode="json")


class _ExactDumper(yaml.SafeDumper):
    """A safe dumper whose strings read back exactly: any string a plain or folded scalar could alter (line breaks
    of any kind, including NEL U+0085 and U+2028/9, other control or non-printable characters, leading or trailing
    spaces) is written double-quoted, where YAML escapes every such character."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    risky = value != value.strip(" ") or any(not ch.isprintable() for ch in value)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if risky else None)


_ExactDumper.add_representer(str, _represent_str)


def dump_scenario_yaml(scenario: Scenario) -> str:
    """The scenario as YAML that loads back to an equal scenario (every string exactly as it was)."""
    return yaml.dump(scenario_to_dict(scenario), Dumper=_ExactDumper, sort_keys=False, allow_unicode=True, width=110)


def scenario_hash(scenario: Scenario) -> str:
    """A short, stable content hash: equal scenarios give equal hashes, whatever the YAML formatting."""
    canonical = json.dumps(scenario_to_dict(scenario), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
