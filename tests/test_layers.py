"""Architecture rules, checked on the source's AST (docs/architecture.md, 'Dependency direction')."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "reworld"

#: top-level part of reworld -> layer; lower layers never import higher ones
LAYERS = {
    "__init__": 0, "__main__": 6, "types": 0, "errors": 0, "progress": 0, "_optional": 0,
    "ops": 1, "io": 1,
    "analysis": 2, "edits": 2,
    "engines": 3, "motion": 3,
    "pipeline": 4,
    "jobs": 5,
    "server": 6, "cli": 6, "web": 6,
}
#: same-layer imports that are allowed (importer part -> imported parts); layer-0 modules are
#: one foundation and may import each other
SIBLING_OK = {"io": {"ops"}, "__main__": {"cli"}}
#: third-party packages confined to one part of the tree
CONFINED = {"av": {"io"}, "fastapi": {"server"}, "torch": {"engines"}, "diffusers": {"engines"},
            "ray": {"jobs"}, "typer": {"cli"}, "rich": {"cli"}}


def part_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (from reworld...)")
    return out


def test_lower_layers_never_import_higher_ones():
    problems = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        me = part_of(path)
        assert me in LAYERS, f"{path}: part {me!r} is missing from the layer table"
        for name, line in imports(path):
            top = name.split(".")
            if top[0] == "reworld" and len(top) > 1:
                other = top[1]
                if other not in LAYERS:
                    problems.append(f"{path}:{line} imports unknown part {name}")
                elif other != me and me != "__init__":
                    if LAYERS[other] > LAYERS[me] or (
                            LAYERS[other] == LAYERS[me] != 0 and other not in SIBLING_OK.get(me, set())):
                        problems.append(f"{path.relative_to(SRC)}:{line}: {me} (layer {LAYERS[me]}) "
                                        f"imports {name} (layer {LAYERS[other]})")
            if top[0] in CONFINED and me not in CONFINED[top[0]]:
                problems.append(f"{path.relative_to(SRC)}:{line}: {top[0]} may only be imported in {CONFINED[top[0]]}")
    assert not problems, "\n".join(problems)


def test_import_reworld_is_cheap():
    code = ("import sys, reworld; heavy = [m for m in ('av', 'cv2', 'torch', 'colour', 'scipy', 'fastapi') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import reworld pulled in: {out.stdout.strip()}"


def test_edit_spec_loads_without_media_stack():
    code = ("import sys, reworld.edits.spec; heavy = [m for m in ('av', 'cv2', 'torch', 'colour') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"reworld.edits.spec pulled in: {out.stdout.strip()}"
