"""The direction of imports between the packages: `study` writes, `analysis` reads."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]


PACKAGES = ("study", "search_spaces", "analysis", "bnstudy")
# `study` runs searches and stores them; the spaces build models with it; `analysis` reads what
# it stored; `bnstudy` names their commands (by module name, importing only `study.cli`).
# Nothing points back, so `import study.search` never loads a space or pandas.
ALLOWED_PACKAGE_IMPORTS = {("search_spaces", "study"), ("analysis", "study"), ("bnstudy", "study")}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module of `packages` -> the modules of `packages` it imports.

    Imports anywhere in a file count (module level, in functions, under `TYPE_CHECKING`), and
    relative imports are resolved; `from package import name` points at the module `name`
    when there is one, else at the package.
    """
    paths = {_module_name(path, root): path
             for package in packages for path in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                while name and name not in paths:  # `a.b.name`: the module a.b, or a
                    name = name.rpartition(".")[0]
                if name and name != module:
                    targets.add(name)
        graph[module] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(cycles)


def test_no_modules_import_each_other():
    assert import_cycles(import_graph(ROOT, PACKAGES)) == []


def test_packages_import_each_other_in_one_direction_only():
    graph = import_graph(ROOT, PACKAGES)
    against = sorted(f"{module} imports {target}" for module, targets in graph.items()
                     for target in targets
                     if module.split(".")[0] != target.split(".")[0]
                     and (module.split(".")[0], target.split(".")[0])
                     not in ALLOWED_PACKAGE_IMPORTS)
    assert against == []


# The stages of `study`, lowest first: a module may import its own stage and those below it,
# never one above (study/__init__.py and each sub-package's docstring say the same in words).
STUDY_STAGES = (
    ("study.errors", "study.cli", "study.private_api"),  # shared by every stage
    ("study.stats",),  # the verdict's statistics, read by the stop rule and by `analysis`
    ("study.storage",),  # what is stored, and the one opener
    ("study.model",),  # the network and the search spaces' loader
    ("study.data",),  # where data enters (checks image sizes against the model's minimum)
    ("study.tuning",),  # where trials run: Keras Tuner front, Optuna back
    ("study.config",),  # a run's settings, checked against the names below
    ("study.engine",),  # the one set-up of a run, and the search
    ("study.reruns",),  # reruns of the search's top trials (selection) and picks (confirmation)
    # the commands
    ("study.search", "study.select", "study.confirm", "study.run", "study.snapshot",
     "study.rename"),
)


def upward_imports(package: str, stages: tuple[tuple[str, ...], ...]) -> list[str]:
    """The imports inside `package` that point at a later stage than their own module's."""

    def stage(module: str) -> int:
        for level, names in enumerate(stages):
            if any(module == name or module.startswith(f"{name}.") for name in names):
                return level
        raise AssertionError(f"{module} belongs to no stage of {package}: add it to one.")

    graph = import_graph(ROOT, (package,))
    return sorted(f"{module} imports {target}" for module, targets in graph.items()
                  if module != package for target in targets if stage(target) > stage(module))


def test_study_imports_only_go_down_its_stages():
    assert upward_imports("study", STUDY_STAGES) == []


# The stages of `analysis`, lowest first, the same way: what reads a study, what it finds, the
# findings of one study together, then drawing, writing and the command line on top.
ANALYSIS_STAGES = (
    ("analysis.reading",),  # open the storage read-only, the studies as tables
    ("analysis.findings",),  # the verdict and the evidence, as typed results
    ("analysis.calibration",),  # the method measured on synthetic studies (only tests use it)
    # every finding of one study (`analyze`), and of a family of budgets, member by member
    ("analysis.study_analysis", "analysis.family_analysis"),
    ("analysis.figures",),  # drawing
    ("analysis.reports",),  # report.md, verdict.json, dashboard notes, files
    ("analysis.cli", "analysis.__main__"),  # `python -m analysis`
)


def test_analysis_imports_only_go_down_its_stages():
    assert upward_imports("analysis", ANALYSIS_STAGES) == []


def test_analysis_holds_its_stages_and_says_what_each_may_import():
    modules = sorted(path.name for path in (ROOT / "analysis").glob("*.py"))
    assert modules == ["__init__.py", "__main__.py", "cli.py", "family_analysis.py",
                       "study_analysis.py"]
    for package in sorted(path for path in (ROOT / "analysis").iterdir()
                          if (path / "__init__.py").is_file()):
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert docstring and "import" in docstring, f"{package.name}/__init__.py says nothing"


def test_study_holds_few_top_level_modules_beside_its_stages():
    modules = sorted(path.name for path in (ROOT / "study").glob("*.py"))
    # The commands (search, select, confirm, run, snapshot, rename) and what they share (cli,
    # config, errors, private_api); everything else lives in a stage package.
    assert len(modules) <= 11, modules
    for package in sorted(path for path in (ROOT / "study").iterdir()
                          if (path / "__init__.py").is_file()):
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert docstring and "import" in docstring, f"{package.name}/__init__.py says nothing"


def test_the_graph_sees_function_level_relative_and_package_imports(tmp_path):
    files = {
        "a/__init__.py": "from a.one import thing\n",
        "a/one.py": "def thing():\n    from . import two\n",
        "a/two.py": "import b.three\n",
        "a/sub/__init__.py": "",
        "a/sub/four.py": "from ..one import thing\nfrom .. import two\n",
        "b/__init__.py": "",
        "b/three.py": "import os\n\n\ndef f():\n    import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    graph = import_graph(tmp_path, ("a", "b"))

    assert graph == {"a": {"a.one"}, "a.one": {"a.two"}, "a.two": {"b.three"}, "a.sub": set(),
                     "a.sub.four": {"a.one", "a.two"}, "b": set(), "b.three": {"a"}}
    assert import_cycles(graph) == [["a", "a.one", "a.two", "b.three"]]


def test_the_contract_loads_nothing_heavy(loaded_after):
    heavy = {"keras", "tensorflow", "pandas", "optuna", "analysis"}
    assert loaded_after("import study.storage.contract", heavy) == []
