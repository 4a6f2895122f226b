# Copyright 2026 replicate-async developers
# SPDX-License-Identifier: Apache-2.0
"""The layers of issue 10, checked by parsing `src/replicate_async` with `ast` (nothing is imported).

How an import statement becomes edges of the module graph:

- Modules are named as Python names them: `replicate_async._sansio` is `_sansio/__init__.py`,
  `replicate_async._sansio.requests` its submodule. Relative imports are resolved against the
  importer's package.
- `import a.b.c` is an edge to `a.b.c`. `from a.b import c` is an edge to `a.b.c` when that is a
  module, and to `a.b` (its `__init__`, whose namespace `c` is read from) otherwise.
- Importing a module first runs its parent packages, so an edge to `a.b.c` also brings edges to
  `a.b` and `a`, except to the packages that contain the importer: those already ran (or are
  running) before the importer's first line, so its imports cannot start them. The root
  `replicate_async` contains every module, so it is a target only when named: `from
  replicate_async import X` with `X` not a module. This keeps the face from joining every cycle,
  yet catches what really goes wrong with packages:
  a package `__init__` importing its submodules is `pkg -> pkg.sub`; a submodule importing a
  sibling is `pkg.a -> pkg.b`, with no edge to `pkg`; a submodule reading a name from its own
  package (`from pkg import name`) is `pkg.a -> pkg`, a cycle when `pkg` imports `pkg.a` (at run
  time that name is read from a half-run `__init__`); a module outside `pkg` importing `pkg.a`
  depends on `pkg` too.
- Imports inside functions count: they run, only later. Imports in the body of `if
  TYPE_CHECKING:` never run, so the cycle and error-tree rules skip them; the other rules are
  about which layer may know which, and a type-only import is knowing, so they count it.
- `importlib.import_module` calls are not followed (the emulator loads its own route modules so).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT = "replicate_async"
MAX_LINES = 600

#: What the sans-I/O core may not import: the I/O libraries and the loop detection.
IO_LIBRARIES = ("httpx", "anyio", "aiohttp", "trio", "sniffio")

#: What the emulator may use of the package besides itself: the sans-I/O core and the data
#: (`_schemas`: the shipped model schemas and their pure check).
EMULATOR_MAY_IMPORT = (
    f"{ROOT}._sansio",
    f"{ROOT}._models",
    f"{ROOT}._converters",
    f"{ROOT}._config",
    f"{ROOT}.exceptions",
    f"{ROOT}._schemas",
    f"{ROOT}.emulator",
)


def _within(name: str, package: str) -> bool:
    """Whether module `name` is `package` or one of its submodules."""
    return name == package or name.startswith(f"{package}.")


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@dataclass(frozen=True)
class Module:
    name: str
    path: str  # as printed in failure messages
    is_package: bool
    source: str

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


@dataclass(frozen=True, order=True)
class Edge:
    importer: str
    imported: str  # a module of the package, or a dotted name from outside it
    line: int
    runtime: bool  # false in the body of `if TYPE_CHECKING:`


@dataclass(frozen=True, order=True)
class PrivateUse:
    importer: str
    line: int
    name: str  # dotted: the module, then the private name read from it


@dataclass
class _Scan(ast.NodeVisitor):
    """One module's import edges, the names bound to package modules, and private names read."""

    graph: Graph
    module: Module
    edges: list[Edge] = field(default_factory=list)
    private: set[PrivateUse] = field(default_factory=set)
    bound: dict[str, str] = field(default_factory=dict)
    type_only: bool = False

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        outer, self.type_only = self.type_only, True
        for stmt in node.body:
            self.visit(stmt)
        self.type_only = outer
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._edges(alias.name, node.lineno)
            if alias.asname:
                self.bound[alias.asname] = alias.name
            else:
                top = alias.name.partition(".")[0]
                self.bound[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in self.graph.modules:
                self._edges(submodule, node.lineno)
                self.bound[alias.asname or alias.name] = submodule
                continue
            self._edges(base, node.lineno)
            if base in self.graph.modules and _is_private(alias.name):
                self._private(submodule, node.lineno)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        # `mod._name` where `mod` is bound to a module of the package (`import pkg._files as mod`,
        # `from pkg import _files`): reading a private name without importing it.
        attrs: list[str] = []
        value: ast.expr = node
        while isinstance(value, ast.Attribute):
            attrs.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in self.bound:
            dotted = self.bound[value.id]
            for attr in reversed(attrs):
                if f"{dotted}.{attr}" in self.graph.modules:
                    dotted = f"{dotted}.{attr}"
                    continue
                if dotted in self.graph.modules and _is_private(attr):
                    self._private(f"{dotted}.{attr}", node.lineno)
                break
        self.generic_visit(node)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.module.package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join([*parts, node.module] if node.module else parts)

    def _edges(self, imported: str, line: int) -> None:
        runtime = not self.type_only
        self.edges.append(Edge(self.module.name, imported, line, runtime))
        if not _within(imported, self.graph.root):
            return
        parts = imported.split(".")
        for n in range(1, len(parts)):
            parent = ".".join(parts[:n])
            if not _within(self.module.name, parent):
                self.edges.append(Edge(self.module.name, parent, line, runtime))

    def _private(self, name: str, line: int) -> None:
        owner = name.rpartition(".")[0]
        if owner != self.module.name:
            self.private.add(PrivateUse(self.module.name, line, name))


class Graph:
    """The modules of one package and the imports between them."""

    def __init__(self, root: str, modules: Iterable[Module]) -> None:
        self.root = root
        self.modules = {m.name: m for m in modules}
        self.edges: list[Edge] = []
        self.private: list[PrivateUse] = []
        for module in self.modules.values():
            scan = _Scan(self, module)
            tree = ast.parse(module.source, module.path)
            # Bind names first, so a function above an import still counts as reading through it.
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    scan.visit(node)
            scan.edges.clear()
            scan.type_only = False
            scan.private.clear()
            scan.visit(tree)
            self.edges.extend(scan.edges)
            self.private.extend(sorted(scan.private))

    @classmethod
    def from_sources(cls, sources: Mapping[str, str]) -> Graph:
        """A graph from `{"pkg/a.py": source}`: for testing the checker itself."""
        modules = [_module(Path(path), text, path) for path, text in sources.items()]
        return cls(min(sources).partition("/")[0], modules)

    @classmethod
    def from_directory(cls, src: Path, root: str) -> Graph:
        modules = [
            _module(
                path.relative_to(src),
                path.read_text(encoding="utf-8"),
                str(path.relative_to(src.parent)),
            )
            for path in sorted((src / root).rglob("*.py"))
        ]
        return cls(root, modules)

    def short(self, name: str) -> str:
        return name.removeprefix(f"{self.root}.")

    def where(self, importer: str, line: int) -> str:
        return f"{self.modules[importer].path}:{line}"

    def internal(self, *, runtime_only: bool) -> list[Edge]:
        """Edges between two different modules of the package."""
        return [
            e
            for e in self.edges
            if e.imported in self.modules
            and e.imported != e.importer
            and (e.runtime or not runtime_only)
        ]

    def cycles(self) -> list[list[str]]:
        """The strongly connected components of runtime imports that hold more than one module."""
        successors: dict[str, set[str]] = {name: set() for name in self.modules}
        for edge in self.internal(runtime_only=True):
            successors[edge.importer].add(edge.imported)
        return [sorted(c) for c in _components(successors) if len(c) > 1]

    def describe_cycle(self, members: list[str]) -> str:
        inside = set(members)
        first_line: dict[tuple[str, str], int] = {}
        for e in self.internal(runtime_only=True):
            if e.importer in inside and e.imported in inside:
                key = (e.importer, e.imported)
                first_line[key] = min(e.line, first_line.get(key, e.line))
        lines = [f"cycle of {len(members)}: {', '.join(self.short(m) for m in members)}"]
        lines += [
            f"    {self.where(a, n)}  {self.short(a)} -> {self.short(b)}"
            for (a, b), n in sorted(first_line.items())
        ]
        return "\n".join(lines)

    def describe(self, edges: Iterable[Edge]) -> list[str]:
        """One line per import: where, who, what, and whether only for type checking."""
        return [
            f"    {self.where(e.importer, e.line)}  {self.short(e.importer)} imports "
            f"{self.short(e.imported)}{'' if e.runtime else ' (TYPE_CHECKING)'}"
            for e in sorted(set(edges))
        ]


def _module(relative: Path, source: str, shown: str) -> Module:
    parts = list(relative.with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return Module(".".join(parts), shown, is_package, source)


def _components(successors: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (the graph is small: recursion is fine)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(successors[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(component)

    for node in sorted(successors):
        if node not in index:
            visit(node)
    return found


@functools.cache
def _package() -> Graph:
    return Graph.from_directory(SRC, ROOT)


def _check(rule: str, problems: Iterable[str]) -> None:
    """Fail naming every problem (one a line), or pass when there is none."""
    found = list(problems)
    if found:
        pytest.fail(f"{rule}, {len(found)} found:\n" + "\n".join(found), pytrace=False)


# -- the rules, on src/replicate_async -------------------------------------------------------------


def test_no_import_cycles():
    """No import cycle among the package's modules (function-level imports count, TYPE_CHECKING not)."""
    graph = _package()
    _check("import cycles", (graph.describe_cycle(c) for c in graph.cycles()))


def test_no_private_names_across_modules():
    """No module imports, or reads through a module it imported, another module's `_private` name."""
    graph = _package()
    _check(
        "private names of another module",
        (
            f"    {graph.where(u.importer, u.line)}  {graph.short(u.importer)} uses "
            f"{graph.short(u.name)}"
            for u in graph.private
        ),
    )


def test_error_tree_imports_only_the_models():
    """`exceptions` imports nothing of the package at run time but `_models`."""
    graph = _package()
    bad = [
        e
        for e in graph.internal(runtime_only=True)
        if e.importer == f"{ROOT}.exceptions" and e.imported != f"{ROOT}._models"
    ]
    _check("the error tree imports more than _models", graph.describe(bad))


def test_only_the_face_and_the_cli_import_the_sync_shell():
    """No module but the package `__init__` and `cli/` imports `_sync`."""
    graph = _package()
    bad = [
        e
        for e in graph.internal(runtime_only=False)
        if e.imported == f"{ROOT}._sync"
        and e.importer != ROOT
        and not _within(e.importer, f"{ROOT}.cli")
    ]
    _check("the sync shell imported below the face", graph.describe(bad))


def test_emulator_never_imports_the_client():
    """`emulator/` imports of the package only `_sansio`, `_models`, `_converters`, `_config`, `exceptions`."""
    graph = _package()
    bad = [
        e
        for e in graph.internal(runtime_only=False)
        if _within(e.importer, f"{ROOT}.emulator")
        and not any(_within(e.imported, allowed) for allowed in EMULATOR_MAY_IMPORT)
    ]
    _check("the emulator imports client modules", graph.describe(bad))


@pytest.mark.parametrize("library", IO_LIBRARIES)
def test_sansio_imports_no_io_library(library):
    """No module of `_sansio` imports the I/O library (type-only imports included)."""
    graph = _package()
    bad = [
        e
        for e in graph.edges
        if _within(e.importer, f"{ROOT}._sansio") and _within(e.imported, library)
    ]
    _check(f"the sans-I/O core imports {library}", graph.describe(bad))


def test_no_module_past_max_lines():
    """No module of `src/` is longer than 600 lines."""
    lengths = {
        str(path.relative_to(SRC.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
    }
    _check(
        f"modules past {MAX_LINES} lines",
        (
            f"    {path}: {n}"
            for path, n in sorted(lengths.items(), key=lambda item: -item[1])
            if n > MAX_LINES
        ),
    )


# -- the checker itself, on small made-up packages -------------------------------------------------


def test_cycle_finder_follows_function_level_and_relative_imports():
    """A cycle closed by a relative import inside a function is found."""
    graph = Graph.from_sources(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    from .a import thing\n",
            "pkg/c.py": "from pkg.a import thing\n",
        }
    )
    assert graph.cycles() == [["pkg.a", "pkg.b"]]
    assert "pkg/b.py:2  b -> a" in graph.describe_cycle(["pkg.a", "pkg.b"])


def test_cycle_finder_skips_type_checking_imports():
    """An import under `if TYPE_CHECKING:` closes no cycle; one in its `else:` does."""
    sources = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg import b\n",
        "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import T\n",
    }
    assert Graph.from_sources(sources).cycles() == []
    sources["pkg/b.py"] += "else:\n    from pkg.a import T\n"
    assert Graph.from_sources(sources).cycles() == [["pkg.a", "pkg.b"]]


def test_cycle_finder_treats_packages_as_the_docstring_says():
    """Re-exports and sibling imports are no cycle; a name read from the own package is one."""
    sources = {
        "pkg/__init__.py": "",
        "pkg/sub/__init__.py": "from pkg.sub.a import A\nfrom . import b\n",
        "pkg/sub/a.py": "from pkg.sub import b\nfrom .b import B\nA = B\n",
        "pkg/sub/b.py": "B = 1\n",
        "pkg/user.py": "from pkg.sub.b import B\n",
    }
    assert Graph.from_sources(sources).cycles() == []
    sources["pkg/sub/b.py"] = "from pkg.sub import A\nB = 1\n"
    assert Graph.from_sources(sources).cycles() == [["pkg.sub", "pkg.sub.a", "pkg.sub.b"]]
    # A module outside the package that imports one of its submodules runs the package first.
    sources["pkg/sub/b.py"] = "B = 1\n"
    sources["pkg/sub/__init__.py"] += "from pkg.user import B\n"
    assert Graph.from_sources(sources).cycles() == [["pkg.sub", "pkg.user"]]


def test_private_name_rule_catches_imports_and_attribute_reads():
    """`from pkg._f import _x`, `_f._x` and type-only private imports are caught, nothing else."""
    graph = Graph.from_sources(
        {
            "pkg/__init__.py": "__version__ = '1'\n",
            "pkg/_f.py": "_cap = 1\ncap = 2\n",
            "pkg/g.py": (
                "from typing import TYPE_CHECKING\n"
                "from asyncio import _get_running_loop\n"
                "from pkg import _f, __version__\n"
                "from pkg._f import _cap, cap\n"
                "import pkg._f as f\n"
                "def use():\n"
                "    return _f._cap, f._cap, _f.cap, pkg._f._cap\n"
                "import pkg\n"
                "if TYPE_CHECKING:\n"
                "    from ._f import _cap as c\n"
            ),
        }
    )
    assert [(u.line, u.name) for u in graph.private] == [
        (4, "pkg._f._cap"),
        (7, "pkg._f._cap"),
        (10, "pkg._f._cap"),
    ]
