"""Load, validate, dump and hash scenarios; turn every problem into ``FILE: path.to.field: reason`` lines."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import InputError, cap_lines, escape_text
from .limits import (
    MAX_SCENARIO_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    decode_utf8,
    read_user_file,
    too_big,
)
from .schema import CrossFieldErrors, Scenario

BUILTIN_PACKAGE = "scenarios"
BUILTIN_DIR = "builtin"


class ScenarioError(InputError):
    """A scenario that cannot be used; ``problems`` holds one ``FILE: path: reason`` line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = cap_lines(problems)
        super().__init__("\n".join(self.problems))


def builtin_names() -> list[str]:
    folder = resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    if name not in builtin_names():
        raise ScenarioError(
            [f"{escape_text(name)}: no such built-in scenario (built-in: {', '.join(builtin_names())})"]
        )
    return resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR, f"{name}.yaml").read_text(encoding="utf-8")


#: The pattern of scenario names and staff ids (schema.py); its mismatch is said in words, not as a regex.
NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(escape_text(part) for part in loc) or "(top level)"


def validation_problems(error: ValidationError, source: str) -> list[str]:
    """One line per pydantic error, expanding cross-field errors into their own field paths."""
    lines: list[str] = []
    source = escape_text(source)
    for err in error.errors(include_url=False):
        loc = _format_loc(tuple(err["loc"]))
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, CrossFieldErrors):
            prefix = "" if loc == "(top level)" else loc + "."
            lines.extend(f"{source}: {prefix}{path}: {escape_text(reason)}" for path, reason in original.errors)
            continue
        msg = err["msg"]
        for noise in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(noise)
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see `rehabflow scenarios show baseline`)"
        if err["type"] == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_PATTERN:
            msg = f"{escape_text(repr(err.get('input')))} may hold only letters, digits, '_', '.' and '-' (no spaces)"
        lines.append(f"{source}: {loc}: {escape_text(msg)}")
    return lines


def parse_scenario(data: Any, source: str) -> Scenario:
    """Validate already-parsed YAML data into a :class:`Scenario` or raise :class:`ScenarioError`."""
    if not isinstance(data, dict):
        raise ScenarioError(
            [f"{escape_text(source)}: (top level): expected a mapping of sections, got {type(data).__name__}"]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(validation_problems(e, source)) from None


#: YAML 1.1 reads ``18:00`` as the sexagesimal number 1080; a scenario has no such numbers, only times.
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


class _YamlLimit(yaml.MarkedYAMLError):
    """A limit or rule of our loader, reported like a YAML syntax error (with its line and column)."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed: 7x faster


class _ScenarioLoader(_BaseLoader):
    """A safe loader (libyaml's when installed) that refuses duplicate keys and unquoted times such as ``18:00``
    (which YAML reads as 1080); :func:`_check_depth` has refused deep nesting before it composes anything."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        _check_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_YAML_DEPTH` from the event stream (no recursion: a 20 kB file of
    brackets would otherwise exhaust the stack when composed)."""
    depth = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _YamlLimit(f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_duplicate_keys(loader: Any, node: Any) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    first: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in first:
            line = first[key].start_mark.line + 1
            raise _YamlLimit(f"duplicate key {key!r} (first on line {line})", key_node.start_mark)
        first[key] = key_node


def _construct_int(loader: Any, node: Any) -> Any:
    if ":" in node.value and _SEXAGESIMAL.match(node.value):
        raise _YamlLimit(f"{node.value} is read by YAML as a number; quote times: '{node.value}'", node.start_mark)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_float(loader: Any, node: Any) -> Any:
    if ":" in node.value and _SEXAGESIMAL.match(node.value):
        raise _YamlLimit(f"{node.value} is read by YAML as a number; quote times: '{node.value}'", node.start_mark)
    return yaml.SafeLoader.construct_yaml_float(loader, node)


_ScenarioLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_ScenarioLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def _expanded_size(node: Any, depth: int, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, height) of ``node`` with every alias expanded where it is used; refuses deep or huge trees."""
    if depth > MAX_YAML_DEPTH:
        raise _YamlLimit(f"nested more than {MAX_YAML_DEPTH} levels deep (aliases expanded)", node.start_mark)
    known = memo.get(id(node))
    if known is not None:
        if depth + known[1] > MAX_YAML_DEPTH:
            raise _YamlLimit(f"nested more than {MAX_YAML_DEPTH} levels deep (aliases expanded)", node.start_mark)
        return known
    size, height = 1, 0
    children = node.value if isinstance(node, yaml.SequenceNode) else ()
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    for child in children:
        n, h = _expanded_size(child, depth + 1, memo)
        size, height = size + n, max(height, h + 1)
        if size > MAX_YAML_NODES:
            raise _YamlLimit(f"more than {MAX_YAML_NODES:,} values (aliases expanded)", node.start_mark)
    memo[id(node)] = (size, height)
    return size, height


def _load(text: str) -> Any:
    _check_depth(text)
    loader = _ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, 1, {})
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_yaml(text: str, source: str) -> Any:
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError([str(too_big(source, len(text.encode("utf-8", "replace")), MAX_SCENARIO_BYTES))])
    try:
        return _load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        reason = getattr(e, "problem", None) or str(e).splitlines()[0]
        if "maximum nesting depth" in reason:  # libyaml's own limit (1000) met before ours in a single line
            reason = f"nested more than {MAX_YAML_DEPTH} levels deep"
        raise ScenarioError([f"{escape_text(source)}: {where}: invalid YAML: {escape_text(reason)}"]) from None


def read_yaml_data(text: str, source: str) -> Any:
    """Plain data of YAML text through the scenario loader's limits (duplicate keys, depth, size, times)."""
    return _read_yaml(text, source)


def read_scenario_file(path: Path, name: str) -> str:
    """The text of a scenario file (a regular UTF-8 file within :data:`MAX_SCENARIO_BYTES`)."""
    try:
        return decode_utf8(read_user_file(path, MAX_SCENARIO_BYTES, "YAML file"), name)
    except InputError as e:
        raise ScenarioError([str(e)]) from None


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
        raise ScenarioError([f"{escape_text(source)}: extends: must name a built-in scenario or a YAML file"])
    if depth >= MAX_EXTENDS_DEPTH:
        raise ScenarioError([f"{escape_text(source)}: extends: more than {MAX_EXTENDS_DEPTH} levels (a cycle?)"])
    parent_path = Path(parent) if folder is None else folder / parent
    if parent.lower().endswith((".yaml", ".yml")):
        if not parent_path.exists():
            raise ScenarioError([f"{escape_text(source)}: extends: no such file {escape_text(repr(parent))}"])
        try:
            parent_text = read_scenario_file(parent_path, str(parent_path))
        except ScenarioError as e:
            raise ScenarioError([f"{escape_text(source)}: extends: {line}" for line in e.problems]) from None
        base_data = _read_yaml(parent_text, str(parent_path))
        base_data = _resolve_extends(base_data, str(parent_path), parent_path.parent, depth + 1)
    else:
        try:
            text = builtin_text(parent)
        except ScenarioError:
            raise ScenarioError(
                [
                    f"{escape_text(source)}: extends: no built-in scenario {escape_text(repr(parent))} (built-in: {', '.join(builtin_names())})"
                ]
            ) from None
        base_data = _resolve_extends(_read_yaml(text, f"{parent}.yaml"), f"{parent}.yaml", None, depth + 1)
    if not isinstance(base_data, dict):
        raise ScenarioError([f"{escape_text(source)}: extends: {escape_text(repr(parent))} is not a scenario mapping"])
    changes = {k: v for k, v in data.items() if k != "extends"}
    return deep_merge(base_data, changes)


def parse_yaml_text(text: str, source: str, folder: Path | None = None) -> Scenario:
    """Parse scenario YAML text; ``folder`` resolves a relative ``extends:`` path."""
    data = _resolve_extends(_read_yaml(text, source), source, folder)
    return parse_scenario(data, source)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system, say: not a file, so a built-in name (or none)
        return False


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in name (``baseline``) or a path to a YAML file."""
    text_or_path = str(name_or_path)
    path = Path(text_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or _exists(path):
        return parse_yaml_text(read_scenario_file(path, text_or_path), text_or_path, path.parent)
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
