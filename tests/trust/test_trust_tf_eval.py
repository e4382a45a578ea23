"""Terraform expressions evaluated offline: each function the trust policies use, and how an
unknown value travels through them (it stays named, known parts stay known)."""

from __future__ import annotations

from typing import Any

import pytest

from py_aws_oidc.trust.tf_eval import Context, Evaluator
from py_aws_oidc.trust.tf_hcl import expression_attr
from py_aws_oidc.trust.unknown import Template, Unknown

ORG = Unknown("var.org", "variables.tf:1")


def value(expr: str, **variables: Any) -> Any:
    ev = Evaluator(Context(variables={"org": ORG, **variables}))
    return ev.attr(expression_attr(expr, "t.tf"))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('concat(["a"], ["b", "c"])', ["a", "b", "c"]),
        ("merge({a = 1}, {b = 2}, {a = 3})", {"a": 3, "b": 2}),
        ('format("repo:%s/%s:*", "o", "r")', "repo:o/r:*"),
        ('formatlist("repo:%s:*", ["o/a", "o/b"])', ["repo:o/a:*", "repo:o/b:*"]),
        (
            'replace("https://token.actions.githubusercontent.com", "https://", "")',
            "token.actions.githubusercontent.com",
        ),
        ('replace("a-b-c", "/-/", "_")', "a_b_c"),
        ('jsonencode({Effect = "Allow", Action = ["x"]})', '{"Effect": "Allow", "Action": ["x"]}'),
        ('jsondecode("{\\"a\\": [1]}")', {"a": [1]}),
        ('flatten([["a"], [["b"]], "c"])', ["a", "b", "c"]),
        ('distinct(["a", "b", "a"])', ["a", "b"]),
        ('compact(["a", "", null, "b"])', ["a", "b"]),
        ('lookup({a = "x"}, "a", "d")', "x"),
        ('lookup({a = "x"}, "b", "d")', "d"),
        ('try(var.cfg.missing, "fallback")', "fallback"),
        ('coalesce("", null, "x")', "x"),
        ('tolist(toset(["b", "a", "b"]))', ["b", "a"]),
        ('join(",", ["a", "b"])', "a,b"),
        ('split("/", "o/r")', ["o", "r"]),
        ('lower("ABC")', "abc"),
        ('upper("abc")', "ABC"),
        ('trimprefix("repo:o/r", "repo:")', "o/r"),
        ('trimsuffix("o/r.git", ".git")', "o/r"),
        ('length(["a", "b"])', 2),
        ('length(var.cfg) > 0 ? "yes" : "no"', "yes"),
        ('[for s in ["a", "b"] : "repo:o/${s}:*" if s != "b"]', ["repo:o/a:*"]),
        ("{for k, v in {a = 1, b = 2} : v => k}", {"1": "a", "2": "b"}),
        ('["x", "y"][1]', "y"),
        ('<<-EOT\n    a ${"b"}\n    EOT\n', "a b\n"),
    ],
)
def test_functions(expr: str, expected: Any) -> None:
    assert value(expr, cfg={"present": 1}) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # The root cause stays named, known text stays known.
        ('"repo:${var.org}/app:*"', Template(("repo:", ORG, "/app:*"))),
        ('format("repo:%s/app", var.org)', Template(("repo:", ORG, "/app"))),
        ('upper("repo:${var.org}")', Template(("REPO:", ORG))),
        ('concat(["a"], [var.org])', ["a", ORG]),
        ('lookup(var.org, "k", "d")', ORG),
        ('var.org == "x" ? 1 : 2', ORG),
        ("length(var.org)", ORG),
        (
            '[for s in var.org : "repo:${s}"]',
            [Template(("repo:", Unknown("var.org[*]", "variables.tf:1")))],
        ),
        ("var.nope", Unknown("var.nope")),
        ("module.oidc.arn", Unknown("module.oidc.arn")),
        ("aws_iam_role.x.arn", Unknown("aws_iam_role.x.arn")),
        ('regexall(var.org, "x")', ORG),
        ("nosuchfunction(1)", Unknown("nosuchfunction(1)")),
    ],
)
def test_unknowns_travel(expr: str, expected: Any) -> None:
    assert value(expr) == expected


def test_jsonencode_keeps_unknowns_inside_the_text() -> None:
    encoded = value('jsonencode({Principal = {Federated = var.org}, Action = "x"})')
    assert isinstance(encoded, Template)
    assert str(encoded) == '{"Principal": {"Federated": "${var.org}"}, "Action": "x"}'


def test_work_is_bounded() -> None:
    # 10^6 elements: past the evaluation bound, the value is unknown, quickly.
    found = value("[for a in range(1000) : [for b in range(1000) : b]]")
    assert isinstance(found, Unknown)
    huge = value("flatten([for a in [" + ",".join(['"x"'] * 3000) + "] : [a, a, a, a]])")
    assert isinstance(huge, Unknown)
