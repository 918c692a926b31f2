"""The package reads as the flow: every import goes down the layers, and no import cycle exists;
the UI works through the Library's and the Assistant's operations, never the catalog.

Walks every module of assistant/ with ast, counting every import of ours (module level, inside a
function, under TYPE_CHECKING alike), so an upward import cannot hide in a function body.
"""

from __future__ import annotations

import ast
from pathlib import Path

from assistant.settings import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "assistant"
# Bottom first. A module may import from lower layers; inside one layer only within its own
# subpackage (answering/, evaluation/, ui/), and the cycle check below keeps that one way too.
LAYERS = [
    [
        "assistant",
        "assistant.settings",
        "assistant.types",
        "assistant.text",
        "assistant.errors",
        "assistant.progress",
    ],
    ["assistant.reflow", "assistant.apparatus", "assistant.ocr"],  # the PDF reader's parts
    ["assistant.pdf_layout"],
    ["assistant.pdf"],
    ["assistant.loading", "assistant.chunking"],
    ["assistant.parsing", "assistant.store", "assistant.catalog"],
    ["assistant.sentences"],  # a chunk's sentence vectors, made with the store's embedder
    ["assistant.library"],
    ["assistant.ingest", "assistant.sync", "assistant.retrieval", "assistant.followups"],
    ["assistant.answering"],
    ["assistant.assistant"],
    ["assistant.ui"],
    ["assistant.evaluation"],  # its workbench reuses the UI's rendering and auth
    ["assistant.cli"],
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Modules of ours this file imports, wherever the import statement is."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from assistant.ui import rendering` imports the module assistant.ui.rendering
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) - {module_name(p)} for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    """The layer of a module: that of the longest listed name it is, or is inside."""
    containing = [
        name
        for names in LAYERS
        for name in names
        if module == name or (module.startswith(name + ".") and name != "assistant")
    ]
    best = max(containing, key=len)
    return next(i for i, names in enumerate(LAYERS) if best in names)


def subpackage(module: str) -> str | None:
    """assistant.answering for assistant.answering.llm; None for a module outside a subpackage."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else None


def test_every_module_has_a_layer():
    for module in graph():
        layer(module)  # raises when a new module is in no layer


def test_no_upward_import():
    upward = []
    for module, imported in graph().items():
        for other in imported - {"assistant"}:  # the package itself: its __init__ sets the offline env
            same_subpackage = subpackage(module) is not None and subpackage(module) == subpackage(other)
            if layer(other) > layer(module) or (layer(other) == layer(module) and not same_subpackage):
                upward.append(f"{module} -> {other}")
    assert not upward, "imports that do not go down the layers:\n" + "\n".join(sorted(upward))


def test_no_import_cycle():
    edges = graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for other in sorted(edges.get(module, ())):
            if other != "assistant":
                visit(other, [*path, module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])


def catalog_uses(path: Path) -> list[str]:
    """Where a file reaches the catalog: `x.catalog`, or an import of assistant.catalog."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "catalog":
            found.append(f"{path.name}:{node.lineno} .catalog")
        elif isinstance(node, ast.ImportFrom) and node.module == "assistant.catalog":
            found.append(f"{path.name}:{node.lineno} from assistant.catalog import")
        elif isinstance(node, ast.Import) and any(a.name == "assistant.catalog" for a in node.names):
            found.append(f"{path.name}:{node.lineno} import assistant.catalog")
    return found


def test_the_ui_never_touches_the_catalog():
    uses = [use for path in sorted((PACKAGE / "ui").rglob("*.py")) for use in catalog_uses(path)]
    assert not uses, "the UI reaches into the catalog (use Library operations):\n" + "\n".join(uses)


# Small enough to read whole: a module of the product package, and each function in it.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(path: Path) -> list[str]:
    """This file, if it is over MAX_MODULE_LINES, and its functions over MAX_FUNCTION_LINES."""
    source = path.read_text(encoding="utf-8")
    name, lines = path.relative_to(PROJECT_ROOT).as_posix(), len(source.splitlines())
    found = [f"{name}: {lines} lines"] if lines > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    return found


def test_no_module_over_400_lines_and_no_function_over_60():
    found = [entry for path in sorted(PACKAGE.rglob("*.py")) for entry in oversized(path)]
    assert not found, "split these into well-named parts:\n" + "\n".join(found)
