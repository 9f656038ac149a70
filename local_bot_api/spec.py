"""The Bot API as data (``api.json``): loading it, decoding parameters and checking requests.

Pure code: no I/O except :meth:`ApiSpec.load`. Top-level request parameters arrive as strings
(form fields, JSON-encoded when not plain strings, exactly as python-telegram-bot sends them) or
as uploaded files; nested values are JSON and are checked recursively against the type's fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_bot_api.models import UploadedFile

_INT_RE = re.compile(r"-?\d+")
_BOOL_STRINGS = {"true": True, "false": False, "True": True, "False": False}
_SCALARS = {"Integer", "Float", "Boolean", "String", "InputFile"}
_ARRAY = "Array of "
_MAX_REPORTED = 5
_CONST_RE = re.compile(r"(?:, must be|, always) [\"“]?([a-z_]+)[\"”]?$")

# Fields that are plain strings even if they look like JSON ("123", "true"); used when no spec.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "language_code",
        "description",
        "short_description",
        "name",
        "action",
        "photo",
        "document",
        "emoji",
        "title",
        "inline_message_id",
        "file_id",
        "business_connection_id",
        "message_effect_id",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a method or type."""

    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None  # 'Scope type, must be chat' / 'always "creator"'


@dataclass(frozen=True)
class TypeSpec:
    """One object type; either with fields or an abstract union of ``subtypes``."""

    name: str
    fields: dict[str, FieldSpec]
    subtypes: tuple[str, ...]


def _fields(raw: list[dict[str, Any]] | None) -> dict[str, FieldSpec]:
    out = {}
    for f in raw or []:
        const = _CONST_RE.search(f.get("description", "")) if f["types"] == ["String"] else None
        out[f["name"]] = FieldSpec(
            f["name"], tuple(f["types"]), bool(f["required"]), const.group(1) if const else None
        )
    return out


class ApiSpec:
    """Methods and types of the Bot API, with request checking."""

    def __init__(self, methods: dict[str, dict[str, FieldSpec]], types: dict[str, TypeSpec]):
        self.methods = methods
        self.types = types
        self._by_lower = {name.lower(): name for name in methods}
        self.version = ""

    @classmethod
    def load(cls, path: Path) -> ApiSpec:
        """Read ``api.json`` (the PaulSonOfLars telegram-bot-api-spec format)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        methods = {name: _fields(m.get("fields")) for name, m in data["methods"].items()}
        types = {
            name: TypeSpec(name, _fields(t.get("fields")), tuple(t.get("subtypes") or ()))
            for name, t in data["types"].items()
        }
        spec = cls(methods, types)
        spec.version = str(data.get("version", ""))
        return spec

    def canonical_method(self, name: str) -> str | None:
        """The method's spelling in the spec (Telegram matches names case-insensitively)."""
        return self._by_lower.get(name.lower())

    def field_types(self, method: str) -> dict[str, tuple[str, ...]]:
        """Field name -> allowed types, for :func:`decode_params`."""
        return {name: f.types for name, f in self.methods.get(method, {}).items()}

    def check_request(
        self, method: str, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[str]:
        """Problems with a request (empty when valid); ``method`` must be canonical.

        ``params`` values are raw form strings (or already-parsed JSON values for JSON bodies);
        ``files`` are the multipart file parts, which may also stand for a top-level field.
        """
        fields = self.methods[method]
        problems: list[str] = []
        present = set(params) | {name for name in files if name in fields}
        for name in sorted(present - set(fields)):
            if name in params:
                problems.append(f"unknown field '{name}'")
        for name, fspec in fields.items():
            if fspec.required and name not in present:
                problems.append(f"required field '{name}' is missing")
        for name, value in params.items():
            if name in fields:
                problems.extend(self._check_top(fields[name], value, files))
        for name, upload in files.items():
            if name in fields and name not in params:
                problems.extend(self._check_top(fields[name], upload, files))
        return problems

    def _check_top(
        self, fspec: FieldSpec, value: Any, files: Mapping[str, UploadedFile]
    ) -> list[str]:
        """Check one top-level value against every allowed type.

        For structured types (objects, arrays) the detailed errors of the closest type are
        reported; for scalars a single "must be X" message.
        """
        best: list[str] | None = None
        for type_expr in fspec.types:
            errors = self._check_form_value(value, type_expr, fspec.name, files)
            if not errors:
                return []
            structured = type_expr not in _SCALARS
            if structured and (best is None or len(errors) < len(best)):
                best = errors
        if best:
            return best[:_MAX_REPORTED]
        allowed = " or ".join(fspec.types)
        return [f"field '{fspec.name}' must be {allowed}, got {_short(value)}"]

    def _check_form_value(
        self, value: Any, type_expr: str, path: str, files: Mapping[str, UploadedFile]
    ) -> list[str]:
        if isinstance(value, UploadedFile):
            return [] if type_expr == "InputFile" else [f"'{path}' cannot be a file"]
        if not isinstance(value, str):  # JSON request body: already typed
            return self.check_value(value, type_expr, path, files)
        if type_expr == "String":
            return []
        if type_expr == "Integer":
            return [] if _INT_RE.fullmatch(value) else [f"'{path}' is not an Integer"]
        if type_expr == "Float":
            return [] if _parse_float(value) is not None else [f"'{path}' is not a Float"]
        if type_expr == "Boolean":
            return [] if value in _BOOL_STRINGS else [f"'{path}' is not a Boolean"]
        if type_expr == "InputFile":
            return [f"'{path}' is not an uploaded file"]
        try:
            parsed = json.loads(value)
        except ValueError:
            return [f"'{path}' is not valid JSON for {type_expr}"]
        return self.check_value(parsed, type_expr, path, files)

    def check_value(
        self, value: Any, type_expr: str, path: str, files: Mapping[str, UploadedFile]
    ) -> list[str]:
        """Check a JSON value against a type expression such as ``Array of BotCommand``."""
        if type_expr.startswith(_ARRAY):
            if not isinstance(value, list):
                return [f"'{path}' must be an array"]
            inner = type_expr[len(_ARRAY) :]
            errors: list[str] = []
            for i, item in enumerate(value):
                errors.extend(self.check_value(item, inner, f"{path}[{i}]", files))
            return errors
        if type_expr in _SCALARS:
            return _check_scalar(value, type_expr, path, files)
        tspec = self.types.get(type_expr)
        if tspec is None:
            return []  # a type the spec does not describe: nothing to check against
        if tspec.subtypes:
            return self._check_union(value, tspec, path, files)
        return self._check_object(value, tspec, path, files)

    def _check_union(
        self, value: Any, tspec: TypeSpec, path: str, files: Mapping[str, UploadedFile]
    ) -> list[str]:
        """Valid if any variant fits; errors are reported for the variant the value names."""
        variants = [sub for sub in tspec.subtypes if self._names_variant(value, sub)]
        best: list[str] | None = None
        for sub in variants or tspec.subtypes:
            errors = self.check_value(value, sub, path, files)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return [f"'{path}' matches no variant of {tspec.name}", *(best or [])[:_MAX_REPORTED]]

    def _names_variant(self, value: Any, type_name: str) -> bool:
        """Whether ``value``'s discriminator (``type``, ``status``...) selects ``type_name``."""
        tspec = self.types.get(type_name)
        if tspec is None or not isinstance(value, dict):
            return False
        consts = [f for f in tspec.fields.values() if f.const is not None]
        return bool(consts) and all(value.get(f.name) == f.const for f in consts)

    def _check_object(
        self, value: Any, tspec: TypeSpec, path: str, files: Mapping[str, UploadedFile]
    ) -> list[str]:
        if not isinstance(value, dict):
            return [f"'{path}' must be a {tspec.name} object"]
        errors = [
            f"unknown field '{path}.{key}' in {tspec.name}"
            for key in value
            if key not in tspec.fields
        ]
        for name, fspec in tspec.fields.items():
            if name not in value:
                if fspec.required:
                    errors.append(f"required field '{path}.{name}' of {tspec.name} is missing")
                continue
            if fspec.const is not None and value[name] != fspec.const:
                errors.append(f"'{path}.{name}' must be {fspec.const!r} in {tspec.name}")
                continue
            sub_errors: list[list[str]] = [
                self.check_value(value[name], t, f"{path}.{name}", files) for t in fspec.types
            ]
            if sub_errors and all(sub_errors):
                errors.extend(sorted(sub_errors, key=len)[0])
        return errors


def _check_scalar(
    value: Any, type_expr: str, path: str, files: Mapping[str, UploadedFile]
) -> list[str]:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    ok = {
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": is_number,
        "Boolean": isinstance(value, bool),
        "String": isinstance(value, str),
        "InputFile": isinstance(value, str) and _attached(value, files),
    }[type_expr]
    return [] if ok else [f"'{path}' must be {type_expr}, got {_short(value)}"]


def _attached(value: str, files: Mapping[str, UploadedFile]) -> bool:
    return value.startswith("attach://") and value[len("attach://") :] in files


def _parse_float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _short(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return "a file"
    text = value if isinstance(value, str) else json.dumps(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def decode_params(
    raw: Mapping[str, Any], field_types: Mapping[str, tuple[str, ...]] | None
) -> dict[str, Any]:
    """Turn raw form strings into Python values, guided by the spec's types when known."""
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(value, str):
            out[name] = value
        elif field_types is not None and name in field_types:
            out[name] = _decode_typed(value, field_types[name])
        else:
            out[name] = value if name in _STRING_FIELDS else _decode_guess(value)
    return out


def _decode_typed(value: str, types: tuple[str, ...]) -> Any:
    if "Integer" in types and _INT_RE.fullmatch(value):
        return int(value)
    if "Float" in types and _parse_float(value) is not None:
        return float(value)
    if "Boolean" in types and value in _BOOL_STRINGS:
        return _BOOL_STRINGS[value]
    if any(t not in _SCALARS for t in types):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _decode_guess(value: str) -> Any:
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, dict | list | int | float | bool) else value
