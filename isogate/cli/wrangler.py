"""``isogate deploy`` of a wrangler project: read ``wrangler.toml``/``wrangler.json(c)``
and bundle its ``main`` with esbuild the way wrangler does.

What is read: ``name``, ``main``, ``compatibility_date``, ``vars`` (string values),
``routes``/``route``, ``triggers.crons``, ``kv_namespaces``, and the bundling settings
(``minify``, ``define``, ``alias``, ``keep_names``, ``jsx_factory``, ``jsx_fragment``,
``tsconfig``, ``no_bundle``). Everything else the file
holds is named in one warning (:attr:`WranglerProject.unsupported`), never silently
dropped. Errors are :class:`ProjectError` with one line of text; the CLI turns them
into ``error: ...`` and exit code 2.

``no_bundle = true`` (or ``isogate deploy --no-bundle``) uploads the modules unbundled,
as wrangler does: ``main`` and the files under ``base_dir`` (default: main's folder)
that wrangler's module ``rules`` match (the project's, then wrangler's defaults: Text
``**/*.txt``, ``**/*.html``, ``**/*.sql``; Data ``**/*.bin``; CompiledWasm
``**/*.wasm``), unless ``find_additional_modules = false``. As in wrangler, JavaScript
files other than ``main`` are uploaded only when a rule names them (``{ type =
"ESModule", globs = ["**/*.js"] }``). ``node_modules``, dot-folders and the config file
are never searched.

esbuild is found, in order: ``$ISOGATE_ESBUILD``; ``node_modules/.bin/esbuild`` in the
project directory or a parent (Node's own lookup, so the project's pinned version wins);
``esbuild`` on ``PATH``; else npm's ordinary client fetches the pinned
:data:`ESBUILD_VERSION` (``npx --yes esbuild@...``). PyPI has no maintained wheel that
bundles (``esbuild`` there is from 2021, ``esbuild-py`` only transforms), so npm is the
registry for it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isogate.cli.module_files import ModuleFile, ModuleFilesError
from isogate.cli.module_files import walk as _walk

#: The esbuild fetched through npx when the project has none (same as package.json).
ESBUILD_VERSION = "0.28.2"

#: Config files wrangler reads, in its order of preference.
CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")

#: Keys read (and used); anything else at the top level goes into the warning.
#: ``$schema`` is an editor hint, ``workers_dev``/``preview_urls`` only matter on
#: Cloudflare's own domain, ``account_id`` to Cloudflare's API.
_IGNORED_QUIETLY = frozenset({"$schema", "account_id", "workers_dev", "preview_urls"})
_READ = frozenset(
    {"name", "main", "compatibility_date", "vars", "routes", "route", "triggers", "kv_namespaces"}
)
#: the settings of an unbundled upload (``no_bundle``)
_MODULES = frozenset({"no_bundle", "rules", "base_dir", "find_additional_modules"})
#: wrangler's module rule types -> the gateway's module types (others are refused)
RULE_TYPES = {
    "ESModule": "esm",
    "CommonJS": "commonjs",
    "Text": "text",
    "Data": "data",
    "CompiledWasm": "wasm",
}
#: wrangler's default rules (deployment-bundle/rules.ts), after the project's own
DEFAULT_RULES = (
    ("Text", ("**/*.txt", "**/*.html", "**/*.sql")),
    ("Data", ("**/*.bin",)),
    ("CompiledWasm", ("**/*.wasm", "**/*.wasm?module")),
)
#: wrangler's bundling settings, passed on to esbuild as wrangler passes them.
_BUNDLING = frozenset(
    {"minify", "define", "alias", "keep_names", "jsx_factory", "jsx_fragment", "tsconfig"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: esbuild flags of wrangler's bundle (wrangler/src/deployment-bundle/bundle.ts): one
#: ESM file, the Workers export conditions, JSX in .js files, names kept, NODE_ENV
#: defined as production, .txt/.html imported as text (wrangler's default module rules;
#: the value is the same string, inlined here because isogate takes one module).
ESBUILD_FLAGS = (
    "--bundle",
    "--format=esm",
    "--target=es2022",
    "--platform=browser",
    "--main-fields=browser,module,main",
    "--conditions=workerd,worker,browser",
    "--keep-names",
    "--loader:.js=jsx",
    "--loader:.mjs=jsx",
    "--loader:.cjs=jsx",
    '--define:process.env.NODE_ENV="production"',
    '--define:global.process.env.NODE_ENV="production"',
    '--define:globalThis.process.env.NODE_ENV="production"',
    "--loader:.txt=text",
    "--loader:.html=text",
    "--external:cloudflare:*",
    "--external:node:*",
    "--log-level=error",
    "--color=false",
)

#: How long esbuild (or npx fetching it) may take before the CLI gives up.
BUNDLE_TIMEOUT_S = 120.0


class ProjectError(Exception):
    """A wrangler project that cannot be deployed; ``str()`` is one line for the user."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A wrangler module rule: files matching ``globs`` are modules of ``type``; a later
    rule of the same type counts only if this one has ``fallthrough``."""

    type: str
    globs: tuple[str, ...]
    fallthrough: bool = False
    #: which rule this is, for messages (``rules[0]``, or wrangler's default)
    label: str = "default"


@dataclass
class WranglerProject:
    """What ``isogate deploy`` takes from a wrangler config file."""

    path: Path
    name: str | None
    main: Path
    compatibility_date: str | None
    vars: dict[str, str] = field(default_factory=dict)
    routes: list[str] = field(default_factory=list)
    #: ``triggers.crons``, sent as the deploy body's ``crons`` (None: the file has none,
    #: so the function's crons stay as they are; ``[]`` removes them, as in wrangler)
    crons: list[str] | None = None
    #: binding name -> KV namespace id (sent as ``{"NAME": {"kv": id}}``).
    kv: dict[str, str] = field(default_factory=dict)
    #: Settings found in the file that isogate does not apply (one warning names them).
    unsupported: list[str] = field(default_factory=list)
    #: esbuild flags from the config's bundling settings (``minify``, ``define``, ...).
    esbuild_flags: list[str] = field(default_factory=list)
    #: ``no_bundle = true``: the modules are uploaded unbundled (:func:`module_set`).
    no_bundle: bool = False
    #: module rules (the project's, then wrangler's defaults), for ``no_bundle``
    rules: list[Rule] = field(default_factory=list)
    #: where ``no_bundle`` looks for modules and names them from (default: main's folder)
    base_dir: Path | None = None
    #: ``find_additional_modules`` (default with ``no_bundle``: true)
    find_additional_modules: bool | None = None

    def bindings(self) -> dict[str, dict[str, str]]:
        """The deploy body's ``bindings``: each KV namespace by its binding name."""
        return {name: {"kv": ns} for name, ns in self.kv.items()}


def find_config(directory: Path) -> Path | None:
    """The wrangler config file in ``directory`` (wrangler's order), or None."""
    for name in CONFIG_NAMES:
        p = directory / name
        if p.is_file():
            return p
    return None


def _parse(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
    except UnicodeDecodeError:
        raise ProjectError(f"cannot read {path}: not UTF-8 text") from None
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProjectError(f"{path}: not valid TOML: {exc}") from None
    else:
        import json5  # JSONC: comments and trailing commas, as wrangler accepts them

        try:
            data = json5.loads(text)
        except ValueError as exc:
            raise ProjectError(f"{path}: not valid JSON: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: expected a table/object at the top level")
    return data


def _str(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ProjectError(f"{path}: {key} must be a non-empty string")
    return value


def load_project(config: Path, no_bundle: bool = False) -> WranglerProject:
    """Read a wrangler config file; raise :class:`ProjectError` on what cannot work.
    ``no_bundle``: as wrangler's ``--no-bundle`` (the config's ``no_bundle`` too)."""
    data = _parse(config)
    known = _READ | _BUNDLING | _IGNORED_QUIETLY | _MODULES
    unsupported = sorted(k for k in data if k not in known)
    if "main" not in data:
        raise ProjectError(f"{config}: no 'main' (the Worker's entry module) is set")
    main = (config.parent / _str(config, "main", data["main"])).resolve()
    if not main.is_file():
        raise ProjectError(f"{config}: main {data['main']!r} does not exist ({main})")
    name = _str(config, "name", data["name"]) if "name" in data else None
    date = data.get("compatibility_date")
    if date is not None and (not isinstance(date, str) or not _DATE.match(date)):
        raise ProjectError(f"{config}: compatibility_date must be a date like 2024-09-23")
    project = WranglerProject(
        path=config, name=name, main=main, compatibility_date=date, unsupported=unsupported
    )
    project.vars = _vars(config, data.get("vars", {}), project.unsupported)
    project.routes = _routes(config, data, project.unsupported)
    project.crons = _crons(config, data.get("triggers", {}), project.unsupported)
    project.kv = _kv(config, data.get("kv_namespaces", []))
    project.esbuild_flags = _bundling(config, data)
    project.no_bundle = no_bundle or data.get("no_bundle") is True
    if not project.no_bundle:  # the bundle holds every module
        named: list[str] = [k for k in ("rules", "base_dir") if k in data]
        named += ["find_additional_modules"] if data.get("find_additional_modules") else []
        project.unsupported += [f"{k} (applied with no_bundle only)" for k in named]
    else:  # nothing is bundled: esbuild's settings have nothing to act on
        named = sorted(k for k in _BUNDLING if k in data)
        project.unsupported += [f"{k} (not applied with no_bundle)" for k in named]
    project.rules = _rules(config, data.get("rules", []))
    if "base_dir" in data:
        project.base_dir = (config.parent / _str(config, "base_dir", data["base_dir"])).resolve()
    fam = data.get("find_additional_modules")
    if fam is not None and not isinstance(fam, bool):
        raise ProjectError(f"{config}: find_additional_modules must be true or false")
    project.find_additional_modules = fam
    return project


def _rules(config: Path, raw: Any) -> list[Rule]:
    """The project's module rules, then wrangler's defaults; a rule of a type already
    ruled without ``fallthrough`` is dropped, as wrangler drops it."""
    if not isinstance(raw, list):
        raise ProjectError(f"{config}: rules must be a list of {{ type, globs }} tables")
    rules = []
    for i, r in enumerate(raw):
        label = f"rules[{i}]"
        if not isinstance(r, dict) or not isinstance(r.get("type"), str):
            raise ProjectError(f"{config}: {label} needs a type and globs")
        globs = r.get("globs")
        if not isinstance(globs, list) or not all(isinstance(g, str) and g for g in globs):
            raise ProjectError(f"{config}: {label}.globs must be a list of patterns")
        if r["type"] not in RULE_TYPES:
            raise ProjectError(
                f"{config}: {label}: module type {r['type']!r} is not supported by isogate "
                f"({', '.join(RULE_TYPES)})"
            )
        rules.append(Rule(r["type"], tuple(globs), r.get("fallthrough") is True, label))
    rules += [Rule(t, g) for t, g in DEFAULT_RULES]
    return rules


def _glob(pattern: str) -> re.Pattern[str]:
    """A wrangler glob (glob-to-regexp with globstar) as a regular expression: ``*`` and
    ``?`` stay within a path segment, ``**/`` spans any number of folders."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def module_set(project: WranglerProject) -> tuple[str, list[ModuleFile]]:
    """``no_bundle``: the main module's name and the modules to upload (``main``, then
    the files the rules match under ``base_dir``, each typed by the first live rule
    that matches it, as wrangler finds additional modules)."""
    base = project.base_dir or project.main.parent
    try:
        main = project.main.relative_to(base).as_posix()
    except ValueError:
        raise ProjectError(
            f"{project.path}: main {project.main} is outside base_dir {base}"
        ) from None
    modules = [ModuleFile(main, "esm", project.main)]
    if project.find_additional_modules is False:
        return main, modules
    live: list[Rule] = []
    dropped: list[Rule] = []
    for rule in project.rules:
        blocked = any(r.type == rule.type and not r.fallthrough for r in live)
        (dropped if blocked else live).append(rule)
    compiled = [(r, [_glob(g) for g in r.globs]) for r in live]
    for path in walk_files(base):
        name = path.relative_to(base).as_posix()
        if name == main or path == project.path:
            continue
        matched = next((r for r, gs in compiled if any(g.fullmatch(name) for g in gs)), None)
        if matched is None:
            gone = next(
                (r for r in dropped if any(_glob(g).fullmatch(name) for g in r.globs)), None
            )
            if gone is not None:
                raise ProjectError(
                    f"{name} matches the {gone.label} {gone.type} rule, which an earlier "
                    f"{gone.type} rule without fallthrough = true hides (as in wrangler)"
                )
            continue
        modules.append(ModuleFile(name, RULE_TYPES[matched.type], path))
    return main, modules


def _bundling(config: Path, data: dict[str, Any]) -> list[str]:
    """wrangler's bundling settings as esbuild flags (as wrangler hands them to esbuild)."""
    flags: list[str] = []
    for key, prefix in (("define", "--define:"), ("alias", "--alias:")):
        table = data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ProjectError(f"{config}: {key} must be a table of strings")
        flags += [f"{prefix}{k}={v}" for k, v in table.items()]
    if data.get("minify") is True:
        flags.append("--minify")
    if data.get("keep_names") is False:
        flags.append("--keep-names=false")  # a marker: _flags drops wrangler's --keep-names
    for key, flag in (
        ("jsx_factory", "--jsx-factory="),
        ("jsx_fragment", "--jsx-fragment="),
        ("tsconfig", "--tsconfig="),
    ):
        if key in data:
            value = _str(config, key, data[key])
            if key == "tsconfig":
                value = str((config.parent / value).resolve())
            flags.append(flag + value)
    return flags


def _vars(config: Path, raw: Any, unsupported: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ProjectError(f"{config}: vars must be a table of NAME = value")
    out: dict[str, str] = {}
    for k, v in raw.items():
        if isinstance(v, str):
            out[k] = v
        else:  # wrangler passes JSON values as objects; isogate's env holds strings
            unsupported.append(f"vars.{k} (not a string)")
    return out


def _routes(config: Path, data: dict[str, Any], unsupported: list[str]) -> list[str]:
    raw = data.get("routes", [])
    if not isinstance(raw, list):
        raise ProjectError(f"{config}: routes must be a list")
    labelled = [(f"routes[{i}]", r) for i, r in enumerate(raw)]
    if "route" in data:
        labelled.insert(0, ("route", data["route"]))
    out = []
    for label, r in labelled:
        if isinstance(r, dict):
            unsupported.extend(f"{label}.{k}" for k in sorted(set(r) - {"pattern"}))
            r = r.get("pattern")
        if not isinstance(r, str) or not r:
            raise ProjectError(f"{config}: {label} must be a pattern string")
        out.append(r)
    return out


def _crons(config: Path, triggers: Any, unsupported: list[str]) -> list[str] | None:
    if not isinstance(triggers, dict) or not isinstance(triggers.get("crons", []), list):
        raise ProjectError(f"{config}: triggers.crons must be a list of cron expressions")
    unsupported.extend(f"triggers.{k}" for k in sorted(triggers) if k != "crons")
    if "crons" not in triggers:
        return None
    return [str(c) for c in triggers["crons"]]


def _kv(config: Path, raw: Any) -> dict[str, str]:
    if not isinstance(raw, list):
        raise ProjectError(f"{config}: kv_namespaces must be a list")
    out = {}
    for i, ns in enumerate(raw):
        if not isinstance(ns, dict) or not isinstance(ns.get("binding"), str):
            raise ProjectError(f"{config}: kv_namespaces[{i}] needs a 'binding' name")
        ident = ns.get("id") or ns.get("preview_id") or ns["binding"]
        out[ns["binding"]] = str(ident)
    return out


def walk_files(base: Path) -> list[Path]:
    """The files under ``base`` a module rule may match (cli/module_files.walk)."""
    try:
        return _walk(base)
    except ModuleFilesError as exc:
        raise ProjectError(str(exc)) from None


# --------------------------------------------------------------------------- esbuild


def find_esbuild(project_dir: Path) -> list[str]:
    """The command that runs esbuild for a project (see the module docstring)."""
    env = os.environ.get("ISOGATE_ESBUILD")
    if env:
        return [env]
    for d in (project_dir, *project_dir.parents):
        local = d / "node_modules" / ".bin" / "esbuild"
        if local.is_file() and os.access(local, os.X_OK):
            return [str(local)]
    on_path = shutil.which("esbuild")
    if on_path:
        return [on_path]
    npx = shutil.which("npx")
    if npx:
        return [npx, "--yes", f"esbuild@{ESBUILD_VERSION}"]
    raise ProjectError(
        "esbuild not found: run 'npm install --save-dev esbuild' in the project "
        "(or install Node.js, or set ISOGATE_ESBUILD)"
    )


def bundle(project: WranglerProject) -> str:
    """The Worker as one ES module: ``project.main`` bundled as wrangler bundles it
    (``no_bundle`` projects are uploaded as a module set instead: :func:`module_set`)."""
    return bundle_entry(project.main, project.path.parent, extra=project.esbuild_flags)


def bundle_entry(
    main: Path, root: Path, esbuild: list[str] | None = None, extra: list[str] | None = None
) -> str:
    """``main`` bundled into one ES module with :data:`ESBUILD_FLAGS`, run in ``root``
    (``tsconfig.json`` and ``node_modules`` are found from there, as wrangler finds them).
    """
    cmd = esbuild or find_esbuild(root)
    with tempfile.TemporaryDirectory(prefix="isogate-bundle-") as tmp:
        out = Path(tmp) / "worker.js"
        try:
            proc = subprocess.run(
                [*cmd, str(main), *_flags(extra or []), f"--outfile={out}"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=BUNDLE_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise ProjectError(f"cannot run esbuild ({cmd[0]}): {exc.strerror or exc}") from None
        except subprocess.TimeoutExpired:
            raise ProjectError(f"esbuild took longer than {BUNDLE_TIMEOUT_S:.0f} s") from None
        if proc.returncode != 0:
            raise ProjectError(f"esbuild could not bundle {main.name}: {_first(proc)}")
        return out.read_text(encoding="utf-8")


def _flags(extra: list[str]) -> list[str]:
    """:data:`ESBUILD_FLAGS` with the project's own; ``keep_names = false`` drops one."""
    base = [f for f in ESBUILD_FLAGS if not ("--keep-names=false" in extra and f == "--keep-names")]
    return base + [f for f in extra if f != "--keep-names=false"]


def _first(proc: subprocess.CompletedProcess[str]) -> str:
    """esbuild's first error, on one line (``file:line:col: ERROR: text``)."""
    lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if "ERROR" in ln or "error" in ln:
            where = next((x for x in lines[i + 1 :] if re.match(r"^\S+:\d+:\d+:", x)), "")
            text = re.sub(r"^[✘X\s]*\[ERROR\]\s*", "", ln)
            return f"{where.rstrip(':')} {text}".strip() if where else text
    return lines[0] if lines else f"exit code {proc.returncode}"
