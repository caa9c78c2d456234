"""Which invoker runs a function ARN: the operator's rules (`--triggers`).

A rule is `ARN=TARGET`; rules are separated by whitespace or newlines, and the first whose
ARN pattern matches wins (`*` matches anything, so `arn:aws:lambda:*:*:function:*` maps
every function). Targets:

* `http://…` or `https://…`: POST the event there;
* `python:package.module:function`: call it in this process;
* `lambda` (AWS itself) or `lambda:http://host:port` (a Lambda-compatible endpoint).

`{function}` in a target is replaced by the function's name, so one rule can serve many
functions (`http://127.0.0.1:3000/{function}`, `python:my_triggers:{function}`).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from cognate.functions import InvokeFailure, Invoker
from cognate.functions.invokers import HttpInvoker, LambdaInvoker, PythonInvoker

HOW_TO_MAP = (
    "map it with --triggers 'ARN=TARGET' (TARGET: an http(s) URL, python:module:function, "
    "or lambda[:ENDPOINT])"
)


class RuleError(ValueError):
    """A trigger rule Cognate cannot use."""


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str
    target: str
    invoker: Invoker


def _invoker(target: str) -> Invoker:
    if re.match(r"https?://", target):
        return HttpInvoker(target)
    if target.startswith("python:"):
        spec = target[len("python:") :]
        if ":" not in spec:
            raise RuleError(f"python target {target!r} must be python:module:function")
        return PythonInvoker(spec)
    if target == "lambda":
        return LambdaInvoker(None)
    if target.startswith("lambda:"):
        endpoint = target[len("lambda:") :]
        if not re.match(r"https?://", endpoint):
            raise RuleError(f"lambda target {target!r} must be lambda or lambda:http(s)://…")
        return LambdaInvoker(endpoint)
    raise RuleError(
        f"trigger target {target!r} is not an http(s) URL, python:module:function or lambda"
    )


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for item in text.split():
        pattern, sep, target = item.partition("=")
        if not sep or not pattern or not target:
            raise RuleError(f"trigger rule {item!r} is not ARN=TARGET")
        rules.append(Rule(pattern, target, _invoker(target)))
    return rules


class FunctionRouter:
    def __init__(self, rules: list[Rule]) -> None:
        self._rules = rules

    def rule_for(self, arn: str) -> Rule | None:
        for rule in self._rules:
            if fnmatch.fnmatchcase(arn, rule.pattern):
                return rule
        return None

    def invoke(self, arn: str, event: dict[str, Any], timeout: float) -> Any:
        rule = self.rule_for(arn)
        if rule is None:
            raise InvokeFailure("ResourceNotFoundException")
        return rule.invoker.invoke(arn, event, timeout)
