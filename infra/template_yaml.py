"""Read template.yaml: YAML with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) as plain dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A safe loader that turns `!Tag value` into `{"Fn::Tag": value}` (and `!Ref x` into `{"Ref": x}`)."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # `!GetAtt Res.Attr` is the short form of ["Res", "Attr"]
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a JSON-ready dict."""
    data = yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader subclass
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path}: not a CloudFormation template (no Resources)")
    return data
