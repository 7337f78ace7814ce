"""Checking the workflow config against its JSON schema, with one sentence a user can act on.

``snakemake.utils.validate`` prints jsonschema's whole report (the failing schema, the instance:
10-30 lines); :func:`config_problem` says the one thing that is wrong, naming the key path (e.g.
``datasets.mine.test.lables``) and what is allowed there. The full report is kept for the log.
"""
from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


def load_schema(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def allowed(schema: dict, root: dict | None = None) -> str:
    """A short description of what a (sub)schema accepts (a ``$ref`` followed into ``root``'s ``$defs``)."""
    while "$ref" in schema and root is not None:
        schema = root.get("$defs", {}).get(schema["$ref"].rpartition("/")[2], {})
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(repr, schema["enum"]))
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(allowed(s, root) for s in schema.get("oneOf", schema.get("anyOf")))
    if "description" in schema and "pattern" in schema:
        return schema["description"]
    if "pattern" in schema:
        return f"a string matching {schema['pattern']}"
    kinds = schema.get("type", "a value")
    kinds = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if kinds == "array" and schema.get("minItems"):
        return "a list of at least one item" if schema["minItems"] == 1 else f"a list of at least {schema['minItems']} items"
    bounds = [f">= {schema['minimum']}" if "minimum" in schema else "",
              f"> {schema['exclusiveMinimum']}" if "exclusiveMinimum" in schema else "",
              f"<= {schema['maximum']}" if "maximum" in schema else "",
              f"< {schema['exclusiveMaximum']}" if "exclusiveMaximum" in schema else ""]
    bounds = " and ".join(b for b in bounds if b)
    return f"{'an' if kinds[0] in 'aeiou' else 'a'} {kinds}" + (f" {bounds}" if bounds else "")


def _sentence(err: jsonschema.ValidationError, root: dict | None = None) -> str:
    where = _key_path(err.absolute_path)
    schema, value = err.schema, err.instance
    if err.validator == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(value) - set(known)) if isinstance(value, dict) else []
        pattern = schema.get("patternProperties")
        names = ", ".join(f"{where}.{x}" if where != "(top level)" else str(x) for x in extra) or where
        hint = f" (known there: {', '.join(known)})" if known else ""
        if pattern:
            hint += f" (names must match {', '.join(pattern)})"
        return f"config key {names} is not a setting of the workflow{hint}: check its spelling and where it is nested."
    if "propertyNames" in err.absolute_schema_path:  # a key of a map (e.g. a test scale) named wrongly
        rule = schema.get("description") or allowed(schema, root)
        return f"config key {where}.{value} is not a valid name there ({rule}): rename it."
    if err.validator == "required":
        return f"config {where} lacks {err.message.split(' is a required')[0]}: add it."
    if err.validator in ("oneOf", "anyOf", "enum", "const", "type", "minimum", "maximum",
                         "exclusiveMinimum", "exclusiveMaximum", "minItems", "pattern"):
        return f"config {where} is {value!r}, but it must be {allowed(schema, root)}: fix it in your config file."
    return f"config {where}: {err.message}: fix it in your config file."


def config_problem(config: dict, schema: dict) -> tuple[str, str] | None:
    """(one sentence, full report) for the most relevant schema violation of ``config``; None if valid."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if not errors:
        return None
    report = "\n\n".join(str(e) for e in errors)
    return _sentence(most_relevant(errors), schema), report


def most_relevant(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    """The schema violation to tell a user about: jsonschema's best match, but described by its whole
    oneOf/anyOf (a threshold given as a word: 'auto' or a number), not by the branch that matched best."""
    best = jsonschema.exceptions.best_match(errors, key=jsonschema.exceptions.relevance)
    while best.parent is not None and best.parent.validator in ("oneOf", "anyOf"):
        best = best.parent
    return best
