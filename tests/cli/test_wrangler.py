"""``isogate deploy`` of a wrangler project: the config read, the bundle, the CLI's answers.

The config reader is tested on files; the bundle is made by the real esbuild of the
project's ``node_modules`` (the repository's, from ``npm ci``, linked into the project);
the CLI runs as the installed console script against a real ``isogate serve``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from isogate.cli import wrangler
from tests.cli.user_shell import bash, one_line, readme_sh_blocks, run
from tests.gateway.e2e.server import GatewayProcess

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "node_modules"

APP = """\
import { Hono } from "hono";
import { greet } from "./greet";

type Env = { GREETING: string; WHO: string };
const app = new Hono<{ Bindings: Env }>();
app.get("/", (c) => c.text(greet(c.env.GREETING, c.env.WHO)));
app.get("/json/:id", (c) => c.json({ id: c.req.param("id") }));
export default app;
"""
GREET = "export const greet = (g: string, w: string): string => `${g}, ${w}!`;\n"

TOML = """\
name = "hello-hono"
main = "src/index.ts"
compatibility_date = "2024-09-23"
compatibility_flags = ["nodejs_compat"]
routes = ["/hono/*"]

[vars]
GREETING = "Hello"
WHO = "world"
"""


def need_esbuild() -> None:
    if not (NODE_MODULES / ".bin" / "esbuild").exists():
        msg = "esbuild not installed: run `npm ci` in the repo root"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def project(tmp_path: Path, config: str, name: str = "wrangler.toml") -> Path:
    d = tmp_path / "proj"
    (d / "src").mkdir(parents=True)
    (d / "src" / "index.ts").write_text(APP)
    (d / "src" / "greet.ts").write_text(GREET)
    (d / name).write_text(config)
    if NODE_MODULES.exists():
        (d / "node_modules").symlink_to(NODE_MODULES)
    return d


# ------------------------------------------------------------------------ config reader


def test_toml_is_read(tmp_path: Path) -> None:
    d = project(tmp_path, TOML)
    p = wrangler.load_project(wrangler.find_config(d))  # type: ignore[arg-type]
    assert p.name == "hello-hono"
    assert p.main == d / "src" / "index.ts"
    assert p.compatibility_date == "2024-09-23"
    assert p.vars == {"GREETING": "Hello", "WHO": "world"}
    assert p.routes == ["/hono/*"]
    assert p.unsupported == ["compatibility_flags"]


def test_jsonc_with_comments_trailing_commas_and_everything_read(tmp_path: Path) -> None:
    config = """\
// wrangler.jsonc as `npm create cloudflare` writes it
{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "shop", /* the Worker */
  "main": "src/index.ts",
  "compatibility_date": "2025-01-01",
  "vars": { "GREETING": "Hi", "LIMITS": { "max": 3 } },
  "route": "/one/*",
  "routes": [{ "pattern": "shop.example/api/*", "zone_name": "shop.example" }],
  "triggers": { "crons": ["*/5 * * * *", "0 0 * * *"] },
  "kv_namespaces": [{ "binding": "CACHE", "id": "ns-1" }],
  "observability": { "enabled": true },
}
"""
    d = project(tmp_path, config, "wrangler.jsonc")
    p = wrangler.load_project(d / "wrangler.jsonc")
    assert (p.name, p.compatibility_date) == ("shop", "2025-01-01")
    assert p.vars == {"GREETING": "Hi"}
    assert p.routes == ["/one/*", "shop.example/api/*"]
    assert p.crons == ["*/5 * * * *", "0 0 * * *"]
    assert p.bindings() == {"CACHE": {"kv": "ns-1"}}
    assert p.unsupported == [
        "observability",
        "vars.LIMITS (not a string)",
        "routes[0].zone_name",
    ]


def test_json_preferred_over_toml_as_wrangler_does(tmp_path: Path) -> None:
    d = project(tmp_path, TOML)
    (d / "wrangler.json").write_text('{"name": "from-json", "main": "src/index.ts"}')
    assert wrangler.find_config(d) == d / "wrangler.json"


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ('name = "x"\n', "no 'main'"),
        ('main = "src/missing.ts"\n', "does not exist"),
        ('main = "src/index.ts"\ncompatibility_date = "soon"\n', "compatibility_date"),
        ('main = "src/index.ts"\nvars = 3\n', "vars must be"),
        ('main = "src/index.ts"\nkv_namespaces = [{ id = "x" }]\n', "binding"),
        ("main = [", "not valid TOML"),
    ],
)
def test_bad_configs_are_one_clear_error(tmp_path: Path, config: str, says: str) -> None:
    d = project(tmp_path, config)
    with pytest.raises(wrangler.ProjectError) as err:
        wrangler.load_project(d / "wrangler.toml")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_environments_and_other_sections_are_named(tmp_path: Path) -> None:
    config = TOML + '\n[env.production]\nname = "prod"\n\n[[d1_databases]]\nbinding = "DB"\n'
    d = project(tmp_path, config)
    p = wrangler.load_project(d / "wrangler.toml")
    assert p.unsupported == ["compatibility_flags", "d1_databases", "env"]


def test_esbuild_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "a" / "b"
    d.mkdir(parents=True)
    binary = tmp_path / "a" / "node_modules" / ".bin" / "esbuild"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.delenv("ISOGATE_ESBUILD", raising=False)
    assert wrangler.find_esbuild(d) == [str(binary)]  # a parent's node_modules, as in Node
    monkeypatch.setenv("ISOGATE_ESBUILD", "/opt/esbuild")
    assert wrangler.find_esbuild(d) == ["/opt/esbuild"]
    monkeypatch.delenv("ISOGATE_ESBUILD")
    binary.unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(wrangler.ProjectError, match="esbuild not found"):
        wrangler.find_esbuild(d)


# ------------------------------------------------------------------------------ bundle


def test_bundle_is_one_esm_module_with_default_export(tmp_path: Path) -> None:
    need_esbuild()
    d = project(tmp_path, TOML)
    p = wrangler.load_project(d / "wrangler.toml")
    assert wrangler.find_esbuild(d) == [str(d / "node_modules" / ".bin" / "esbuild")]
    code = wrangler.bundle(p)
    assert "import " not in code.split("// src/index.ts", 1)[0].split("\n", 1)[0]
    assert "var app = new Hono" in code and "`${g}, ${w}!`" in code  # types stripped
    assert code.rstrip().endswith("export {\n  index_default as default\n};")


def test_bundling_settings_reach_esbuild(tmp_path: Path) -> None:
    need_esbuild()
    config = (
        "minify = true\nkeep_names = false\n" + TOML + '[define]\n"__VERSION__" = "\\"1.2.3\\""\n'
    )
    d = project(tmp_path, config)
    (d / "src" / "index.ts").write_text(
        "declare const __VERSION__: string;\n"
        "export default { fetch() { return new Response(__VERSION__); } };\n"
    )
    p = wrangler.load_project(d / "wrangler.toml")
    assert p.unsupported == ["compatibility_flags"]
    code = wrangler.bundle(p)
    assert '"1.2.3"' in code and "__VERSION__" not in code
    assert len(code.strip().splitlines()) == 1  # minified


def names(p: wrangler.WranglerProject) -> tuple[str, list[tuple[str, str]]]:
    main, mods = wrangler.module_set(p)
    return main, [(m.name, m.type) for m in mods]


def test_no_bundle_uploads_main_and_what_the_rules_match(tmp_path: Path) -> None:
    d = project(tmp_path, 'main = "src/index.ts"\nno_bundle = true\n')
    src = d / "src"
    (src / "page.html").write_text("<p>hi</p>")
    (src / "lib").mkdir()
    (src / "lib" / "blob.bin").write_bytes(b"\0\1")
    (src / "lib" / "add.wasm").write_bytes(b"\0asm")
    (src / "lib" / "util.js").write_text("export const u = 1;\n")
    (src / "node_modules").mkdir()
    (src / "node_modules" / "dep.txt").write_text("never")
    (src / ".hidden").mkdir()
    (src / ".hidden" / "x.txt").write_text("never")
    p = wrangler.load_project(d / "wrangler.toml")
    # wrangler's default rules: text, data, wasm; JavaScript only when a rule names it
    assert names(p) == (
        "index.ts",
        [
            ("index.ts", "esm"),
            ("lib/add.wasm", "wasm"),
            ("lib/blob.bin", "data"),
            ("page.html", "text"),
        ],
    )
    # the project's rules first; `fallthrough` keeps the default Text rule alive too
    (d / "wrangler.toml").write_text(
        'main = "src/index.ts"\nno_bundle = true\nbase_dir = "."\n'
        'rules = [{ type = "ESModule", globs = ["**/*.ts", "src/lib/*.js"] },\n'
        '  { type = "Text", globs = ["**/*.md"], fallthrough = true }]\n'
    )
    (d / "README.md").write_text("# readme")
    p = wrangler.load_project(d / "wrangler.toml")
    assert names(p) == (
        "src/index.ts",
        [
            ("src/index.ts", "esm"),
            ("README.md", "text"),
            ("src/greet.ts", "esm"),
            ("src/lib/add.wasm", "wasm"),
            ("src/lib/blob.bin", "data"),
            ("src/lib/util.js", "esm"),
            ("src/page.html", "text"),
        ],
    )
    assert p.unsupported == []
    # find_additional_modules = false: main alone
    (d / "wrangler.toml").write_text(
        'main = "src/index.ts"\nno_bundle = true\nfind_additional_modules = false\nminify = true\n'
    )
    p = wrangler.load_project(d / "wrangler.toml")
    assert names(p) == ("index.ts", [("index.ts", "esm")])
    assert p.unsupported == ["minify (not applied with no_bundle)"]


def test_module_rules_as_wrangler_reads_them(tmp_path: Path) -> None:
    d = project(tmp_path, 'main = "src/index.ts"\nrules = [{ type = "Text", globs = ["*.md"] }]\n')
    # bundled: the rules are named, not applied; --no-bundle applies them
    assert wrangler.load_project(d / "wrangler.toml").unsupported == [
        "rules (applied with no_bundle only)"
    ]
    (d / "src" / "a.md").write_text("a")
    p = wrangler.load_project(d / "wrangler.toml", no_bundle=True)
    assert names(p)[1] == [("index.ts", "esm"), ("a.md", "text")]
    # a Text rule without fallthrough hides wrangler's default Text rule; a file only the
    # hidden rule matches is an error, as wrangler makes it
    (d / "src" / "b.txt").write_text("b")
    with pytest.raises(wrangler.ProjectError, match=r"b.txt matches the default Text rule"):
        wrangler.module_set(p)
    for bad, says in (
        ('rules = [{ type = "PythonModule", globs = ["*.py"] }]', "not supported by isogate"),
        ('rules = [{ type = "Text" }]', "globs must be a list"),
        ("rules = 3", "rules must be a list"),
        ("find_additional_modules = 1", "find_additional_modules must be"),
    ):
        (d / "wrangler.toml").write_text(f'main = "src/index.ts"\n{bad}\n')
        with pytest.raises(wrangler.ProjectError, match=says):
            wrangler.load_project(d / "wrangler.toml")
    # fallthrough on the first keeps the second; the second (without) hides the default
    (d / "wrangler.toml").write_text(
        'main = "src/index.ts"\nno_bundle = true\nrules = [\n'
        '  { type = "Text", globs = ["**/*.md"], fallthrough = true },\n'
        '  { type = "Text", globs = ["**/*.txt"] },\n'
        '  { type = "Text", globs = ["**/*.csv"] }]\n'
    )
    (d / "src" / "c.csv").write_text("c")
    with pytest.raises(wrangler.ProjectError, match=r"c.csv matches the rules\[2\] Text rule"):
        wrangler.module_set(wrangler.load_project(d / "wrangler.toml"))
    (d / "src" / "c.csv").unlink()
    p = wrangler.load_project(d / "wrangler.toml")
    assert names(p)[1] == [("index.ts", "esm"), ("a.md", "text"), ("b.txt", "text")]


def test_bundle_error_is_one_line_with_position(tmp_path: Path) -> None:
    need_esbuild()
    d = project(tmp_path, TOML)
    (d / "src" / "index.ts").write_text('import x from "./nope";\nexport default x;\n')
    with pytest.raises(wrangler.ProjectError) as err:
        wrangler.bundle(wrangler.load_project(d / "wrangler.toml"))
    msg = str(err.value)
    assert "\n" not in msg and "src/index.ts:1:" in msg and "./nope" in msg, msg


# -------------------------------------------------------------------------------- CLI


WARNING_LINE = (
    "warning: wrangler.toml: not supported by isogate, not applied: compatibility_flags\n"
)


def test_cli_without_a_config_says_so(tmp_path: Path) -> None:
    r = run(tmp_path, tmp_path, "deploy", ISOGATE_URL="http://127.0.0.1:9")
    assert r.returncode == 2, r
    assert "no wrangler.toml" in one_line(r.stderr)


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    d = project(tmp_path, 'main = "src/gone.ts"\n')
    r = run(d, tmp_path, "deploy", "x", ISOGATE_URL="http://127.0.0.1:9")
    assert r.returncode == 2, r
    assert "src/gone.ts" in one_line(r.stderr)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    need_esbuild()
    tmp = tmp_path_factory.mktemp("gw")
    gw = GatewayProcess(tmp / "data")
    gw.start()
    home = tmp / "home"
    home.mkdir()
    env = {"ISOGATE_URL": gw.url, "ISOGATE_PASSWORD": "correct horse battery"}
    assert run(tmp, home, "tenant", "create", "acme", **env).returncode == 0
    assert run(tmp, home, "login", "acme", **env).returncode == 0
    try:
        yield gw, home
    finally:
        gw.stop()


def test_cli_deploys_the_project_and_it_answers(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    gw, home = gateway
    # Routes without a hostname need the operator's grant (README, routes): none here.
    d = project(tmp_path, TOML.replace('routes = ["/hono/*"]\n', ""))
    r = run(d, home, "deploy", ISOGATE_URL=gw.url)
    assert r.returncode == 0, r
    assert r.stdout.startswith("deployed hello-hono version 1 ("), r
    warning = one_line(r.stderr)
    assert warning == (
        "warning: wrangler.toml: not supported by isogate, not applied: compatibility_flags"
    )
    key = run(d, home, "keys", "create", "--json", ISOGATE_URL=gw.url)
    assert key.returncode == 0, key
    import json

    secret = json.loads(key.stdout)["key"]
    r = run(d, home, "invoke", "hello-hono", "--key", secret, ISOGATE_URL=gw.url)
    assert (r.returncode, r.stdout) == (0, "Hello, world!\n"), r
    r = run(
        d, home, "invoke", "hello-hono", "--key", secret, "--path", "json/7", ISOGATE_URL=gw.url
    )
    assert (r.returncode, r.stdout.strip()) == (0, '{"id":"7"}'), r


def test_cli_deploys_triggers_crons_and_shows_the_schedule(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    """``triggers.crons`` become the function's crons (no warning any more); a deploy
    whose config has none keeps them; --no-crons removes them."""
    gw, home = gateway
    base = TOML.replace('routes = ["/hono/*"]\n', "").replace(
        'name = "hello-hono"', 'name = "nightly"'
    )
    d = project(tmp_path, base + '\n[triggers]\ncrons = ["*/5  * * * *", "0 9 * * MON-FRI"]\n')
    r = run(d, home, "deploy", ISOGATE_URL=gw.url)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[1:] == ["crons (UTC): */5 * * * *, 0 9 * * MON-FRI"], r
    assert one_line(r.stderr) == WARNING_LINE.strip()  # crons are not named in it
    r = run(d, home, "schedules", "nightly", ISOGATE_URL=gw.url)
    assert r.returncode == 0, r
    lines = [line for line in r.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split("  ")[0] for line in lines] == ["*/5 * * * *", "0 9 * * MON-FRI"], r
    assert "no runs yet" in r.stdout
    (d / "wrangler.toml").write_text(base)
    r = run(d, home, "deploy", ISOGATE_URL=gw.url)
    assert r.returncode == 0 and "crons (UTC)" not in r.stdout, r
    r = run(d, home, "schedules", "nightly", "--json", ISOGATE_URL=gw.url)
    assert len(json.loads(r.stdout)["schedules"]) == 2, r
    r = run(d, home, "deploy", "--no-crons", ISOGATE_URL=gw.url)
    assert r.returncode == 0 and "crons (UTC): none" in r.stdout, r
    d2 = project(tmp_path / "bad", base + '\n[triggers]\ncrons = ["*/5 * * *"]\n')
    r = run(d2, home, "deploy", ISOGATE_URL=gw.url)
    assert r.returncode == 1, r
    assert "*/5 * * *" in one_line(r.stderr.replace(WARNING_LINE, "")), r


def test_cli_kv_bindings_deploy_or_one_clear_line(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    """KV is another issue's: a gateway without it refuses the bindings in one line."""
    gw, home = gateway
    d = project(
        tmp_path,
        TOML.replace('routes = ["/hono/*"]\n', "")
        + '\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "ns-1"\n',
    )
    r = run(d, home, "deploy", "with-kv", ISOGATE_URL=gw.url)
    assert "Traceback" not in r.stderr, r
    if r.returncode != 0:
        assert r.returncode == 1, r
        line = one_line(r.stderr.replace(WARNING_LINE, ""))
        if "not permitted" in line:  # a gateway without KV
            assert line.startswith("error: this gateway does not accept KV bindings"), r
            assert "CACHE" in line, r
        else:  # a gateway with KV: the namespace ns-1 was never created
            assert "ns-1" in line or "CACHE" in line, r
    else:
        assert r.stdout.startswith("deployed with-kv version 1"), r


def test_readme_wrangler_example_prints_what_it_says(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    """README's "Deploying a wrangler project" block, run in bash against the gateway.

    The one change: ``npm init``/``npm install`` (a registry download) becomes a link to
    the repository's ``node_modules``, which holds the same esbuild and hono.
    """
    gw, home = gateway
    block = readme_sh_blocks("Deploying a wrangler project")[0]
    install = "npm init -y >/dev/null && npm install --save-dev esbuild && npm install hono"
    assert install in block
    block = block.replace(install, f"ln -s {NODE_MODULES} node_modules")
    key = run(tmp_path, home, "keys", "create", ISOGATE_URL=gw.url).stdout.splitlines()[0]
    r = bash(block, tmp_path, home, ISOGATE_URL=gw.url, KEY=key)
    claims = [ln.split("# ", 1)[1] for ln in block.splitlines() if ln.startswith("# ")]
    out = r.stdout.splitlines()
    assert r.returncode == 0, r
    assert one_line(r.stderr) == claims[0], r  # the warning
    assert re.fullmatch(r"deployed shop version 1 \([0-9a-f]{12}\)", out[0]), r
    assert claims[1].startswith("deployed shop version 1 (")
    assert out[1] == block.split("# ")[-1].strip(), r  # the invoke's answer


def test_readme_module_set_examples_print_what_they_say(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    """README's "Uploading several modules": the curl upload, then the CLI's folder and
    files deploys, run in bash against the gateway; each prints what the README says."""
    gw, home = gateway
    blocks = readme_sh_blocks("Uploading several modules")
    script = "\n".join(blocks[:2])
    key = run(tmp_path, home, "keys", "create", ISOGATE_URL=gw.url).stdout.splitlines()[0]
    import httpx

    creds = {"name": "acme", "password": "correct horse battery"}
    token = httpx.post(gw.url + "/v1/auth/token", json=creds).json()["access_token"]
    r = bash(script, tmp_path, home, ISOGATE_URL=gw.url, GW=gw.url, TOKEN=token, KEY=key)
    assert r.returncode == 0, r
    assert "Traceback" not in r.stderr and not r.stderr.strip(), r
    # curl prints no line break after its bodies: the curl part is one line
    assert re.fullmatch(
        r'\{"name": ?"multi", ?"version": ?1, ?"sha256": ?"[0-9a-f]{64}"\}\*\*\* hello modules'
        r"deployed multi version 2 \([0-9a-f]{12}\)\n"
        r"deployed multi version 3 \([0-9a-f]{12}\)\n"
        r"\*\*\* hello modules\n",
        r.stdout,
    ), r
    claims = [ln.split("# ", 1)[1] for ln in blocks[1].splitlines() if "# deployed" in ln]
    assert claims == ["deployed multi version 2 (…)", "deployed multi version 3 (…)"]


def test_cli_deploys_module_sets(tmp_path: Path, gateway) -> None:  # type: ignore[no-untyped-def]
    """``deploy NAME DIR``, ``deploy NAME FILE...``, ``--main``, a wrangler project with
    ``--no-bundle``; and what is refused, in one line with exit code 2."""
    gw, home = gateway
    d = tmp_path / "w"
    (d / "src" / "lib").mkdir(parents=True)
    (d / "src" / "index.ts").write_text(
        'import { count, inc } from "./lib/count.js";\nimport hi from "./hi.txt";\n'
        "export default { fetch(): Response { inc(); inc(); return new Response(`${hi} ${count}`) } };\n"
    )
    (d / "src" / "lib" / "count.js").write_text(
        "export let count = 0;\nexport function inc() { count++ }\n"
    )
    (d / "src" / "hi.txt").write_text("hi")
    (d / "wrangler.toml").write_text(
        'name = "nb"\nmain = "src/index.ts"\nrules = [{ type = "ESModule", globs = ["**/*.js"] }]\n'
    )
    key = run(tmp_path, home, "keys", "create", ISOGATE_URL=gw.url).stdout.splitlines()[0]

    def answer(fn: str) -> str:
        r = run(d, home, "invoke", fn, "--key", key, ISOGATE_URL=gw.url)
        assert r.returncode == 0, r
        return r.stdout

    r = run(d, home, "deploy", "--no-bundle", ISOGATE_URL=gw.url)
    assert (r.returncode, r.stderr) == (0, ""), r
    assert r.stdout.startswith("deployed nb version 1"), r
    assert answer("nb") == "hi 2\n"  # the second call: the module's state lives on
    r = run(d, home, "deploy", "dir", "src", ISOGATE_URL=gw.url)
    assert r.returncode == 0 and r.stdout.startswith("deployed dir version 1"), r
    assert answer("dir") == "hi 2\n"
    files = ["src/lib/count.js", "src/hi.txt", "src/index.ts"]
    r = run(d, home, "deploy", "files", *files, "--main", "src/index.ts", ISOGATE_URL=gw.url)
    assert r.returncode == 0 and r.stdout.startswith("deployed files version 1"), r
    assert answer("files") == "hi 2\n"
    for args, says in (
        (["x", "src/index.ts", "src/lib/count.js", "notes.md"], "no such file"),
        (["x", "src/lib/count.js", "src/index.ts"], "outside"),
        (["x", "src", "--main", "hi.txt"], "must be an ES module"),
        (["x", "src/index.ts", "--main", "src/index.ts"], "--main picks"),
        (["x", "src/index.ts", "--no-bundle"], "--no-bundle is for wrangler"),
    ):
        r = run(d, home, "deploy", *args, ISOGATE_URL=gw.url)
        assert r.returncode == 2, (args, r)
        assert says in one_line(r.stderr), (args, r)
    # the gateway's refusal names the module, line and column
    (d / "src" / "lib" / "count.js").write_text("export let count = 0;\nexport function inc( {\n")
    r = run(d, home, "deploy", "dir", "src", ISOGATE_URL=gw.url)
    assert r.returncode == 1, r
    line = one_line(r.stderr)
    assert "lib/count.js" in line and "line 2" in line, r
