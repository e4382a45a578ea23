"""Trust policies inside CloudFormation and SAM templates (YAML or JSON).

The trust policy is the ``AssumeRolePolicyDocument`` of each ``AWS::IAM::Role``
(``AWS::Serverless::Function`` roles are execution roles, not trust policies: skipped). The
template is read with PyYAML's ``SafeLoader`` plus one multi-constructor for every ``!Tag``:
the short forms become the long ones (``!Sub x`` -> ``{"Fn::Sub": "x"}``, ``!GetAtt a.b`` ->
``{"Fn::GetAtt": ["a", "b"]}``, ``!Ref`` and ``!Condition`` unprefixed), so a tag we do not
know is an unknown value rather than a refusal. YAML timestamps stay strings
(``Version: 2012-10-17`` unquoted).

Evaluated offline (see docs/trust-doctor.md, "How CloudFormation is read"): ``Parameters``
defaults (``CommaDelimitedList`` and ``List<...>`` split), ``Mappings`` with
``Fn::FindInMap``, ``Ref``, ``Fn::Sub`` (both forms, ``${!Literal}``), ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If`` (every combination of the conditions a policy uses is
linted, at most 16; the policy's label says which branch), ``AWS::NoValue``. Unknown (the
model of unknown.py): a parameter without default, pseudo parameters (``AWS::AccountId``,
``AWS::Region``...), ``Fn::GetAtt`` and ``Ref`` of resources, ``Fn::ImportValue``, any other
function or tag; except that an ``AWS::IAM::OIDCProvider`` whose ``Url`` is GitHub's gives
GitHub's provider ARN through ``Ref`` or ``Fn::GetAtt ... Arn``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import MalformedPolicyError, MissingReaderError, NoTrustPolicyError
from .tf_eval import mark_tree  # the Terraform and CloudFormation readers share these two
from .tf_functions import concat_text
from .unknown import Markers, SymPolicy, Unknown, sym_from_document

GITHUB_HOSTS = re.compile(
    r"^https://(token\.actions\.githubusercontent\.com(/[^/]+)?|token\.actions\.[a-z0-9-]+\.ghe\.com)/?$",
    re.IGNORECASE,
)
_PROVIDER = "AWS::IAM::OIDCProvider"
MAX_BRANCH_CONDITIONS = 4  # 2**4 variants of one policy at most
MAX_STEPS = 20_000  # evaluation steps per policy (YAML aliases can nest exponentially)


class _NoValue:
    """``AWS::NoValue``: the property or list item is removed."""


NO_VALUE = _NoValue()


# --- decoding ------------------------------------------------------------------------------


def _loader() -> type:
    import yaml

    class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
        """SafeLoader + every ``!Tag`` in its long form; timestamps kept as text."""

    def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, object]:
        name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        value: object
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    def text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
        return str(loader.construct_scalar(node))

    CfnLoader.add_multi_constructor("!", tagged)
    CfnLoader.add_constructor("tag:yaml.org,2002:timestamp", text)
    return CfnLoader


def load_template(text: str, source: str) -> object:
    """The template as data (YAML or JSON), or :class:`MalformedPolicyError` naming the line."""
    try:
        import yaml
    except ImportError:
        raise MissingReaderError(
            f"{source}: reading CloudFormation needs PyYAML; install the trust extra "
            "(pip install 'py-aws-oidc[trust]')"
        ) from None

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}: {exc.problem})" if mark is not None else ""
        raise MalformedPolicyError(f"{source}: not valid YAML{where}") from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise MalformedPolicyError(f"{source}: not valid YAML ({type(exc).__name__})") from None


def is_template(doc: object) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("Resources"), dict)


# --- evaluation ----------------------------------------------------------------------------


@dataclass
class _Env:
    params: dict[str, object]
    resources: dict[str, Any]
    mappings: dict[str, Any]
    branches: dict[str, bool]
    steps: list[int] = field(default_factory=lambda: [0])


def _param_value(spec: Any) -> object:
    default = spec.get("Default") if isinstance(spec, dict) else None
    kind = str(spec.get("Type", "String")) if isinstance(spec, dict) else "String"
    if default is None:
        return None
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        if isinstance(default, list):
            return [_scalar(item) for item in default]
        return [part.strip() for part in str(default).split(",")]
    return _scalar(default)


def _params(template: dict[str, Any], use_defaults: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    raw = template.get("Parameters")
    for name, spec in (raw if isinstance(raw, dict) else {}).items():
        value = _param_value(spec)
        if value is None:
            out[str(name)] = Unknown(f"!Ref {name}", f"Parameters.{name}")
        elif use_defaults:
            out[str(name)] = value
        else:
            note = f"{name} = {json.dumps(value)} (its default)"
            out[str(name)] = Unknown(f"!Ref {name}", f"Parameters.{name}", note)
    return out


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _provider_arn(resource: Any, env: _Env) -> str | None:
    """GitHub's provider ARN, when ``resource`` is an OIDC provider whose Url is GitHub's."""
    if not isinstance(resource, dict) or resource.get("Type") != _PROVIDER:
        return None
    props = resource.get("Properties")
    url = _eval(props.get("Url"), env) if isinstance(props, dict) else None
    if not isinstance(url, str) or not GITHUB_HOSTS.match(url):
        return None
    host = url.split("://", 1)[1].rstrip("/")
    return f"arn:aws:iam::<account>:oidc-provider/{host}"


def _ref(name: str, env: _Env) -> object:
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in env.params:
        return env.params[name]
    if name.startswith("AWS::"):
        return Unknown(name)
    resource = env.resources.get(name)
    arn = _provider_arn(resource, env)
    if arn is not None:
        return arn
    return Unknown(f"!Ref {name}")


def _getatt(args: object, env: _Env) -> object:
    if isinstance(args, list) and len(args) == 2:
        name, attr = _eval(args[0], env), _eval(args[1], env)
        if isinstance(name, str) and isinstance(attr, str):
            if attr == "Arn" and (arn := _provider_arn(env.resources.get(name), env)):
                return arn
            return Unknown(f"!GetAtt {name}.{attr}")
    return Unknown(f"!GetAtt {_brief(args)}")


def _brief(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


_SUB = re.compile(r"\$\{([^}]*)\}")


def _sub(args: object, env: _Env) -> object:
    text: object = args
    variables: object = {}
    if isinstance(args, list):
        text = args[0] if args else None
        variables = args[1] if len(args) == 2 else {}
    if not isinstance(text, str) or not isinstance(variables, dict):
        return Unknown(f"!Sub {_brief(args)}")
    parts: list[object] = []
    last = 0
    for match in _SUB.finditer(text):
        parts.append(text[last : match.start()])
        name = match.group(1).strip()
        if name.startswith("!"):
            parts.append("${" + name[1:] + "}")
        elif name in variables:
            parts.append(_eval(variables[name], env))
        elif "." in name and name not in env.params:
            resource, _, attr = name.partition(".")
            parts.append(_getatt([resource, attr], env))
        else:
            parts.append(_ref(name, env))
        last = match.end()
    parts.append(text[last:])
    return concat_text(parts)


def _join(args: object, env: _Env) -> object:
    if not isinstance(args, list) or len(args) != 2:
        return Unknown(f"!Join {_brief(args)}")
    sep, items = _eval(args[0], env), _eval(args[1], env)
    if not isinstance(sep, str) or not isinstance(items, list):
        return Unknown(f"!Join {_brief(args)}")
    parts: list[object] = []
    for index, item in enumerate(items):
        parts.extend([sep, item] if index else [item])
    return concat_text(parts)


def _select(args: object, env: _Env) -> object:
    if isinstance(args, list) and len(args) == 2:
        index, items = _eval(args[0], env), _eval(args[1], env)
        if isinstance(items, list) and isinstance(index, str) and index.isdigit():
            return items[int(index)] if int(index) < len(items) else Unknown("!Select")
    return Unknown(f"!Select {_brief(args)}")


def _split(args: object, env: _Env) -> object:
    if isinstance(args, list) and len(args) == 2:
        sep, text = _eval(args[0], env), _eval(args[1], env)
        if isinstance(sep, str) and sep and isinstance(text, str):
            return text.split(sep)
    return Unknown(f"!Split {_brief(args)}")


def _if(args: object, env: _Env) -> object:
    if isinstance(args, list) and len(args) == 3 and isinstance(args[0], str):
        chosen = env.branches.get(args[0])
        if chosen is not None:
            return _eval(args[1] if chosen else args[2], env)
        return Unknown(f"!If {args[0]}")
    return Unknown(f"!If {_brief(args)}")


def _find_in_map(args: object, env: _Env) -> object:
    if isinstance(args, list) and len(args) == 3:
        keys = [_eval(arg, env) for arg in args]
        if all(isinstance(key, str) for key in keys):
            node: Any = env.mappings
            for key in keys:
                node = node.get(key) if isinstance(node, dict) else None
            if node is not None:
                return _eval(node, env)
    return Unknown(f"!FindInMap {_brief(args)}")


_FUNCTIONS: dict[str, Callable[[object, _Env], object]] = {
    "Ref": lambda args, env: _ref(args, env) if isinstance(args, str) else Unknown("!Ref"),
    "Fn::GetAtt": _getatt,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
}


def _eval(node: object, env: _Env) -> object:
    """A template value with intrinsics applied: str, list, dict, Unknown or Template."""
    env.steps[0] += 1
    if env.steps[0] > MAX_STEPS:
        return Unknown("a policy too large to evaluate")
    if isinstance(node, dict):
        if len(node) == 1:
            (name, args), *_ = node.items()
            if name in _FUNCTIONS:
                return _FUNCTIONS[name](args, env)
            if isinstance(name, str) and (name.startswith("Fn::") or name == "Condition"):
                return Unknown(f"!{name.removeprefix('Fn::')} {_brief(args)}")
        out = {str(key): _eval(value, env) for key, value in node.items()}
        return {key: value for key, value in out.items() if value is not NO_VALUE}
    if isinstance(node, list):
        items = [_eval(item, env) for item in node]
        return [item for item in items if item is not NO_VALUE]
    if node is None:
        return None
    return node if isinstance(node, str) else _scalar(node)


def _nodes(node: object) -> Iterator[object]:
    """Every node under ``node``, each shared one once (YAML aliases share, and nest
    exponentially), at most :data:`MAX_STEPS`."""
    seen: set[int] = set()
    stack = [node]
    while stack and len(seen) < MAX_STEPS:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                continue
            seen.add(id(item))
            children = list(item.values()) if isinstance(item, dict) else item
            stack.extend(reversed(children))
        yield item


def _conditions_used(node: object) -> list[str]:
    """The names of the conditions ``Fn::If`` tests inside ``node``, in order, each once."""
    found: dict[str, None] = {}
    for item in _nodes(node):
        if isinstance(item, dict) and len(item) == 1:
            args = item.get("Fn::If")
            if isinstance(args, list) and args and isinstance(args[0], str):
                found.setdefault(args[0])
    return list(found)


# --- the policy model ----------------------------------------------------------------------


def _policy(document: object, source: str) -> SymPolicy:
    """The model of an evaluated ``AssumeRolePolicyDocument``: an object, or JSON text (a
    ``!Sub |`` block holding the policy, its ``${...}`` carried through as markers)."""
    if isinstance(document, Unknown):
        document = {"Version": "2012-10-17", "Statement": document}
    markers = Markers()
    marked = mark_tree(document, markers)
    if isinstance(marked, str):
        try:
            marked = json.loads(marked)
        except ValueError as exc:
            raise MalformedPolicyError(f"{source}: the policy text is not JSON ({exc})") from None
    return sym_from_document(marked, source, markers)


# --- the reader ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplatePolicy:
    """One role's trust policy under one combination of the template's conditions."""

    symbolic: SymPolicy
    without_defaults: SymPolicy


def _variants(names: list[str]) -> Iterator[dict[str, bool]]:
    chosen = names[:MAX_BRANCH_CONDITIONS]
    for values in itertools.product((True, False), repeat=len(chosen)):
        yield dict(zip(chosen, values, strict=True))


def _label(path: str, logical_id: str, branches: dict[str, bool]) -> str:
    label = f"{path}: {logical_id}"
    if branches:
        shown = ", ".join(f"{name} {'true' if on else 'false'}" for name, on in branches.items())
        label += f" (when {shown})"
    return label


def _evaluated(document: object, env: _Env, label: str) -> SymPolicy:
    value = _eval(document, env)
    if env.steps[0] > MAX_STEPS:  # past the bound, the whole document is unknown
        value = Unknown(f"a policy too large to evaluate (over {MAX_STEPS} steps)")
    return _policy(value, label)


def _refs(node: object, conditions: dict[str, Any], depth: int = 0) -> set[str]:
    """Parameter names a condition expression refers to (through other conditions too)."""
    if depth > 20:
        return set()
    if isinstance(node, dict):
        if len(node) == 1 and "Ref" in node and isinstance(node["Ref"], str):
            return {node["Ref"]}
        if len(node) == 1 and "Condition" in node and isinstance(node["Condition"], str):
            return _refs(conditions.get(node["Condition"]), conditions, depth + 1)
        return set().union(*(_refs(v, conditions, depth + 1) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v, conditions, depth + 1) for v in node))
    return set()


def _truth(node: object, env: _Env, conditions: dict[str, Any], depth: int = 0) -> bool | None:
    """A condition's value (Fn::Equals / Not / And / Or / Condition), None when unknown."""
    if depth > 20 or not isinstance(node, dict) or len(node) != 1:
        return None
    (name, args), *_ = node.items()
    if name == "Condition" and isinstance(args, str):
        return _truth(conditions.get(args), env, conditions, depth + 1)
    if name == "Fn::Equals" and isinstance(args, list) and len(args) == 2:
        left, right = _eval(args[0], env), _eval(args[1], env)
        known = all(isinstance(v, str | list) for v in (left, right))
        return left == right if known else None
    if not isinstance(args, list):
        return None
    values = [_truth(arg, env, conditions, depth + 1) for arg in args]
    if name == "Fn::Not" and len(values) == 1:
        return None if values[0] is None else not values[0]
    if name == "Fn::And":
        return False if False in values else (None if None in values else True)
    if name == "Fn::Or":
        return True if True in values else (None if None in values else False)
    return None


def _branch_params(
    worlds: dict[bool, dict[str, object]], env: _Env, conditions: dict[str, Any]
) -> dict[str, object]:
    """The parameters of one branch combination: their defaults, except where a default
    contradicts the branch (``CreateProvider`` is false only when ``ProviderArn`` is not its
    default ""): those parameters are unknown in that branch."""
    params = dict(worlds[True])
    for name, chosen in env.branches.items():
        value = _truth(conditions.get(name), env, conditions)
        if value is not None and value != chosen:
            for ref in _refs(conditions.get(name), conditions):
                if ref in params:
                    params[ref] = worlds[False][ref]
    return params


def _concerns_github(document: object) -> bool:
    """A role's trust policy GitHub may use: a Federated principal, the web identity action or
    a GitHub condition key. (A Lambda or EC2 service role is not linted.)"""
    needles = ("AssumeRoleWithWebIdentity", "githubusercontent", "ghe.com")
    for item in _nodes(document):
        if isinstance(item, dict) and "Federated" in item:
            return True
        if isinstance(item, str) and any(needle in item for needle in needles):
            return True
        if isinstance(item, dict) and any(n in str(k) for k in item for n in needles):
            return True
    return False


def read_template(doc: object, path: str) -> tuple[list[TemplatePolicy], list[str]]:
    """Every GitHub trust policy of a template (one per branch combination) and notes on the
    roles skipped; :class:`NoTrustPolicyError` when it has no role at all."""
    if not is_template(doc):
        raise NoTrustPolicyError(f"{path}: not a CloudFormation template (no Resources)")
    assert isinstance(doc, dict)
    resources = doc["Resources"]
    raw_mappings, raw_conditions = doc.get("Mappings"), doc.get("Conditions")
    mappings: dict[str, Any] = raw_mappings if isinstance(raw_mappings, dict) else {}
    conditions: dict[str, Any] = raw_conditions if isinstance(raw_conditions, dict) else {}
    worlds = {flag: _params(doc, flag) for flag in (True, False)}
    out: list[TemplatePolicy] = []
    skipped: list[str] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::IAM::Role":
            continue
        props = resource.get("Properties")
        document = props.get("AssumeRolePolicyDocument") if isinstance(props, dict) else None
        if document is None or not _concerns_github(document):
            skipped.append(f"{path}: {logical_id}: not a trust policy for GitHub's provider")
            continue
        for branches in _variants(_conditions_used(document)):
            label = _label(path, str(logical_id), branches)
            env = _Env(worlds[True], resources, mappings, branches)
            env.params = _branch_params(worlds, env, conditions)
            unknown_env = _Env(worlds[False], resources, mappings, branches)
            out.append(
                TemplatePolicy(
                    _evaluated(document, env, label), _evaluated(document, unknown_env, label)
                )
            )
    if not out and not skipped:
        raise NoTrustPolicyError(
            f"{path}: no trust policy found (no AWS::IAM::Role with an AssumeRolePolicyDocument)"
        )
    return out, skipped


def role_line(text: str, source: str) -> int | None:
    """The 1-based line where the role a policy label (``FILE: LogicalId (when ...)``) names is
    declared: its key in ``Resources``, YAML or JSON. (SARIF points code scanning there.)"""
    logical_id = source.rpartition(": ")[2].partition(" (when ")[0]
    if not logical_id:
        return None
    key = re.compile(rf'^\s*(?:"{re.escape(logical_id)}"|{re.escape(logical_id)})\s*:', re.M)
    match = key.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None
