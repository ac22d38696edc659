"""Service template file -> TemplateFile: imports, type definitions and the raw topology.

Runs once per distinct file content (the TypeCache keeps the result), so it does only the
checks that need nothing but the file itself.
"""

from __future__ import annotations

from edgewise.tosca.problems import ProblemLog
from edgewise.tosca.shapes import Shapes, join
from edgewise.tosca.typedefs import (
    KINDS,
    Constraint,
    ImportRef,
    RequirementDef,
    Schema,
    TemplateFile,
    TypeDef,
)
from edgewise.tosca.yamltree import Node

VERSIONS = {
    "tosca_simple_yaml_1_0",
    "tosca_simple_yaml_1_1",
    "tosca_simple_yaml_1_2",
    "tosca_simple_yaml_1_3",
    "tosca_2_0",
}
_TOP_KEYS = {
    "tosca_definitions_version",
    "description",
    "metadata",
    "imports",
    "repositories",
    "dsl_definitions",
    "topology_template",
    "namespace",
    "profile",
    "template_name",
    "template_author",
    "template_version",
    *KINDS,
}
CONSTRAINT_OPERATORS = {
    "equal",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
    "in_range",
    "valid_values",
    "length",
    "min_length",
    "max_length",
    "pattern",
    "schema",
}


def parse_template(root: Node, file: str, log: ProblemLog) -> TemplateFile:
    """Read a service template's own content; references to other files are resolved later."""
    shapes = Shapes(file, log)
    top = shapes.map(root, "", optional=False)
    version = shapes.name(top.get("tosca_definitions_version"), "tosca_definitions_version")
    if "tosca_definitions_version" not in top and isinstance(root.value, dict):
        log.add(
            root.mark(file),
            "tosca_definitions_version",
            "template.version",
            "a service template must start with tosca_definitions_version "
            "(e.g. tosca_simple_yaml_1_3)",
        )
    elif version is not None and version not in VERSIONS:
        log.add(
            top["tosca_definitions_version"].mark(file),
            "tosca_definitions_version",
            "template.version",
            f"'{version}' is not a TOSCA version this loader knows; expected one of "
            + ", ".join(sorted(VERSIONS)),
        )
    for key, node in top.items():
        if key not in _TOP_KEYS:
            log.add(
                node.mark(file),
                key,
                "template.unknown-key",
                f"'{key}' is not a service template key and is ignored",
                "warning",
            )
    types: dict[tuple[str, str], TypeDef] = {}
    for section, kind in KINDS.items():
        for name, node in shapes.map(top.get(section), section).items():
            types[kind, name] = _type(kind, name, node, join(section, name), shapes)
    metadata = {
        key: str(value.value)
        for key, value in shapes.map(top.get("metadata"), "metadata").items()
        if not isinstance(value.value, dict | list)
    }
    return TemplateFile(
        file=file,
        version=version,
        imports=_imports(top.get("imports"), shapes),
        types=types,
        topology=top.get("topology_template"),
        metadata=metadata,
    )


def _imports(node: Node | None, shapes: Shapes) -> tuple[ImportRef, ...]:
    refs: list[ImportRef] = []
    for index, item in enumerate(shapes.seq(node, "imports")):
        path = f"imports[{index}]"
        target: str | None = None
        if isinstance(item.value, str):
            target = item.value
        elif isinstance(item.value, dict):
            entries = item.value
            if "file" in entries:
                target = shapes.name(entries["file"], join(path, "file"))
            elif len(entries) == 1:
                only = next(iter(entries.values()))
                if isinstance(only.value, dict):
                    target = shapes.name(only.value.get("file"), join(path, "file"))
                else:
                    target = shapes.name(only, path)
            else:
                shapes.wrong(item, path, "an import: a file name, a URL or {file: ...}")
        else:
            shapes.wrong(item, path, "an import: a file name, a URL or {file: ...}")
        if target:
            refs.append(ImportRef(target.strip(), item.mark(shapes.file)))
    return tuple(refs)


def _type(kind: str, name: str, node: Node, path: str, shapes: Shapes) -> TypeDef:
    body = shapes.map(node, path)
    parent = shapes.name(body.get("derived_from"), join(path, "derived_from"))
    properties = _schemas(body.get("properties"), join(path, "properties"), shapes)
    attributes = _schemas(body.get("attributes"), join(path, "attributes"), shapes)
    requirements: list[RequirementDef] = []
    for req_name, req_node, req_path in shapes.named_entries(
        body.get("requirements"), join(path, "requirements")
    ):
        requirements.append(_requirement(req_name, req_node, req_path, shapes))
    capabilities: dict[str, str] = {}
    for cap_name, cap_node in shapes.map(
        body.get("capabilities"), join(path, "capabilities")
    ).items():
        cap_path = join(join(path, "capabilities"), cap_name)
        if isinstance(cap_node.value, dict):
            cap_type = shapes.name(cap_node.value.get("type"), join(cap_path, "type"))
        else:
            cap_type = shapes.name(cap_node, cap_path)
        capabilities[cap_name] = cap_type or "tosca.capabilities.Root"
    interfaces: dict[str, str] = {}
    for if_name, if_node in shapes.map(body.get("interfaces"), join(path, "interfaces")).items():
        if_type = if_node.value.get("type") if isinstance(if_node.value, dict) else if_node
        interfaces[if_name] = shapes.name(if_type, join(path, "interfaces")) or ""
    target_key = "members" if kind == "group" else "targets"
    targets = [
        shapes.name(item, join(path, target_key))
        for item in shapes.seq(body.get(target_key), join(path, target_key))
    ]
    return TypeDef(
        kind=kind,
        name=name,
        parent=parent,
        mark=node.mark(shapes.file),
        properties=properties,
        attributes=attributes,
        requirements=tuple(requirements),
        capabilities=capabilities,
        interfaces=interfaces,
        targets=tuple(t for t in targets if t),
    )


def _requirement(name: str, node: Node, path: str, shapes: Shapes) -> RequirementDef:
    mark = node.mark(shapes.file)
    if not isinstance(node.value, dict):
        return RequirementDef(name, shapes.name(node, path), None, None, mark)
    body = node.value
    relationship = body.get("relationship")
    if relationship is not None and isinstance(relationship.value, dict):
        relationship = relationship.value.get("type")
    return RequirementDef(
        name,
        shapes.name(body.get("capability"), join(path, "capability")),
        shapes.name(body.get("node"), join(path, "node")),
        shapes.name(relationship, join(path, "relationship")),
        mark,
    )


def _schemas(node: Node | None, path: str, shapes: Shapes) -> dict[str, Schema]:
    return {
        name: parse_schema(child, join(path, name), shapes)
        for name, child in shapes.map(node, path).items()
    }


def parse_schema(node: Node, path: str, shapes: Shapes) -> Schema:
    """A property/attribute/input definition; `type` may be absent when refining a parent's."""
    mark = node.mark(shapes.file)
    if isinstance(node.value, str):
        return Schema(type=node.value, mark=mark)
    body = shapes.map(node, path)
    type_name = shapes.name(body.get("type"), join(path, "type")) or ""
    required: bool | None = None
    if "required" in body:
        flag = body["required"].value
        if isinstance(flag, bool):
            required = flag
        else:
            shapes.wrong(body["required"], join(path, "required"), "true or false")
    entry = body.get("entry_schema")
    return Schema(
        type=type_name,
        mark=mark,
        required=required,
        default=body.get("default"),
        constraints=parse_constraints(body.get("constraints"), join(path, "constraints"), shapes),
        entry=parse_schema(entry, join(path, "entry_schema"), shapes) if entry else None,
    )


def parse_constraints(node: Node | None, path: str, shapes: Shapes) -> tuple[Constraint, ...]:
    out: list[Constraint] = []
    for index, item in enumerate(shapes.seq(node, path)):
        entry = shapes.single(item, f"{path}[{index}]")
        if entry is None:
            continue
        operator, argument = entry
        if operator not in CONSTRAINT_OPERATORS:
            shapes.log.add(
                item.mark(shapes.file),
                f"{path}[{index}]",
                "constraint.unknown",
                f"'{operator}' is not a TOSCA constraint; expected one of "
                + ", ".join(sorted(CONSTRAINT_OPERATORS)),
            )
            continue
        out.append(Constraint(operator, argument, item.mark(shapes.file)))
    return tuple(out)
