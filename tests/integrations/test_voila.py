"""What our Voila changes rely on is still in the installed Voila.

Their effect on a running server is tested by tests/auth/test_crawl.py (files behind the login,
template files answering 404) and tests/apps (the reason on Voila's error page).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import voila.server_extension
from voila.paths import collect_template_paths
from voila.static_file_handler import AllowListFileHandler, TemplateStaticFileHandler

from jupyter_mlapp.integrations import voila as ours

from .upstream import assert_written_for, parameters


def test_installed_voila_is_the_one_the_changes_were_written_for():
    assert_written_for(ours)


def test_the_file_handler_we_put_behind_the_login_has_the_methods_we_wrap():
    assert parameters(AllowListFileHandler.get) == ["self", "path", "include_body"]
    assert parameters(AllowListFileHandler.head) == ["self", "path"]


def test_the_template_file_handler_resolves_paths_where_we_catch_its_errors():
    assert parameters(TemplateStaticFileHandler.parse_url_path) == ["self", "path"]
    assert isinstance(inspect.getattr_static(TemplateStaticFileHandler, "get_absolute_path"), classmethod)


def base_template(name: str) -> str:
    for folder in collect_template_paths(["voila"], "base"):
        if (Path(folder) / name).is_file():
            return (Path(folder) / name).read_text()
    raise AssertionError(f"Voila's base template has no {name}")


def test_our_error_page_extends_the_block_of_voilas_own():
    assert '"voila_jinja2_env"' in inspect.getsource(voila.server_extension)  # the environment we extend
    assert "{% block error_detail %}" in base_template("error.html")


def test_our_page_is_voilas_without_its_cdn_link():
    """``voila_error_pages/page.html`` is a copy of Voila's: a change upstream is to be copied."""
    cdn = '\n    <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/font-awesome@4.5.0/css/font-awesome.min.css"'
    upstream = base_template("page.html")
    assert cdn in upstream, "Voila's page.html no longer links Font Awesome's CDN: is our copy still needed?"
    copy = (ours.ERROR_PAGES / "page.html").read_text().split("-#}\n", 1)[1]  # without our comment
    assert copy.split() == upstream.replace(cdn + ' type="text/css" />', "").split()


def test_the_theme_cache_voila_gets_of_its_own_is_still_one_dict_for_every_file_handler():
    from jupyter_server.base.handlers import FileFindHandler
    from jupyterlab_server.themes_handler import ThemesHandler

    assert issubclass(ThemesHandler, FileFindHandler)
    assert isinstance(vars(FileFindHandler).get("_static_paths"), dict)
    assert "_static_paths" not in vars(ThemesHandler)  # else Voila's and Lab's caches are apart already


def test_voilas_file_list_still_reads_the_contents_manager_the_apps_room_filters():
    """``apps.enforce.filter_voila_tree`` hands viewers a filtered ``contents_manager``."""
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    for handler in (VoilaContentsHandler, TornadoVoilaTreeHandler):
        assert "self.contents_manager" in inspect.getsource(handler), handler


def voila_environment() -> jinja2.Environment:
    """A Jinja environment as Voila makes it for its pages (its base templates, i18n)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(collect_template_paths(["voila"], "base")),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,
    )
    env.install_null_translations()
    return env


def test_voilas_error_page_says_why_and_links_no_cdn():
    env = voila_environment()
    web_app = SimpleNamespace(settings={"voila_jinja2_env": env})
    ours.explain_voila_errors(web_app)
    loader = env.loader
    ours.explain_voila_errors(web_app)
    assert env.loader is loader  # a second call changes nothing
    page = env.get_template("error.html").render(
        status_code=403, status_message="Forbidden", message="Your role (viewer) does not allow this page", base_url="/"
    )
    assert "<h1>403: Forbidden</h1>" in page
    assert '<p class="mlapp-error-reason">Your role (viewer) does not allow this page</p>' in page
    assert "cdn.jsdelivr.net" not in page
    crash = env.get_template("error.html").render(status_code=500, status_message="Error", message="a traceback")
    assert "a traceback" not in crash  # internals stay out of a 5xx page


def test_voila_still_serves_widget_extensions_uncached_with_jupyters_file_handler():
    """``cache_hashed_labextensions`` replaces this route's handler: if Voila caches the files
    itself one day, or serves them with another handler, the change is to be dropped or redone."""
    from jupyter_server.base.handlers import FileFindHandler

    source = inspect.getsource(voila.server_extension)
    assert '"/voila/labextensions/(.*)"' in source and "FileFindHandler" in source
    assert '"no_cache_paths": ["/"]' in source
    assert parameters(FileFindHandler.set_headers) == ["self"]


def test_voila_builds_a_jinja_environment_per_exporter_through_the_method_we_wrap():
    """``cache_compiled_templates`` wraps ``_create_environment``: each exporter (one per page
    load) still builds its environment there, and Voila's is async with the ``do`` extension."""
    from nbconvert.exporters.templateexporter import TemplateExporter
    from voila.exporter import VoilaExporter

    assert "self._create_environment()" in inspect.getsource(TemplateExporter.__dict__["environment"].fget)
    assert parameters(VoilaExporter._create_environment) == ["self"]
    assert "enable_async = True" in inspect.getsource(VoilaExporter.__dict__["environment"].fget)


def test_compiled_templates_are_shared_between_environments_and_follow_an_edited_file(tmp_path):
    """The second environment (the next page load) reuses the compiled code; a template an
    editor changes is compiled again, so the next page shows the change."""
    compiled = []

    class Counting(jinja2.Environment):
        def compile(self, *args, **kwargs):
            compiled.append(args[1] if len(args) > 1 else kwargs.get("name"))
            return super().compile(*args, **kwargs)

    cache = ours.CompiledTemplates()
    (tmp_path / "page.html").write_text("<p>{{ who }}</p>")

    def render():
        environment = Counting(loader=jinja2.FileSystemLoader(tmp_path), bytecode_cache=cache)
        return environment.get_template("page.html").render(who="vera")

    assert render() == "<p>vera</p>" and compiled == ["page.html"]
    assert render() == "<p>vera</p>" and compiled == ["page.html"]  # from the cache
    (tmp_path / "page.html").write_text("<p>hello {{ who }}</p>")
    assert render() == "<p>hello vera</p>" and compiled == ["page.html", "page.html"]


def template_block(source: str, name: str) -> str:
    """A block of a template, without Jinja comments, as words."""
    block = re.search(rf"{{%- block {name}( scoped)? -%}}(.*?){{%- endblock {name} -%}}", source, re.S)
    assert block, f"no block {name}"
    return " ".join(re.sub(r"{#.*?#}", "", block.group(2), flags=re.S).split())


def test_our_app_page_runs_the_lab_templates_cell_loop_with_voilas_script_before_it():
    """``voila_templates/mlapp/index.html.j2``'s body_loop is a copy of the lab template's, plus
    the early start before the cells (its footer drops the later copy): a change upstream is to
    be copied."""
    lab = next(Path(f) for f in collect_template_paths(["voila"], "lab") if (Path(f) / "index.html.j2").is_file())
    upstream = (lab / "index.html.j2").read_text()
    ours_page = (Path(ours.__file__).parent / "voila_templates" / "mlapp" / "index.html.j2").read_text()
    main_script = "{{ voila_setup_labextensions(resources.base_url, resources.labextensions) }}"
    early = f"<script>{{% include 'early-start.js' %}}</script> {main_script} "
    ours_loop = template_block(ours_page, "body_loop")
    assert early in ours_loop

    def any_cell(loop: str) -> str:
        return re.sub(r"{%- block any_cell scoped -%}.*?{%- endblock any_cell -%}", "ANY_CELL", loop)

    assert any_cell(ours_loop.replace(early, "")) == any_cell(template_block(upstream, "body_loop"))
    assert "cell-index" in template_block(upstream, "any_cell")  # ours calls it: the same cells
    footer = template_block(upstream, "body_footer")
    assert footer.count(main_script) == 1
    macro = base_template("voila_setup.macro.html.j2").split("{%- endmacro %}", 1)[0]
    assert macro.count("<script") == 1 and "{{ main_js }}" in macro  # the one script the footer loads


def test_voilas_main_still_waits_for_the_windows_load_and_reads_the_federated_extensions():
    """``early-start.js`` runs the window load listener that loads the federated extensions."""
    static = next(
        Path(f) / "static"
        for f in collect_template_paths(["voila"], "base")
        if (Path(f) / "static" / "voila.js").is_file()
    )
    mains = [
        chunk.name
        for chunk in static.glob("*.voila.js")
        if re.search(
            r'window\.addEventListener\("load",\(async function\(\)\{[^\n]*federated_extensions', chunk.read_text()
        )
    ]
    assert mains, "no chunk of voila.js starts on the window's load event by loading the federated extensions"


def test_the_kernel_client_voila_starts_waits_for_iopub_to_be_quiet_in_the_method_we_replace():
    """``connect_page_kernels_sooner`` replaces nbclient's ``async_start_new_kernel_client`` with
    the same steps and its own wait: if jupyter_client no longer reads IOPub until it is quiet,
    ours is not needed; if nbclient's method does more, ours is to do it too."""
    from jupyter_client.client import KernelClient
    from nbclient import NotebookClient
    from voila.execute import VoilaExecutor

    assert "get_msg(timeout=0.2)" in inspect.getsource(KernelClient._async_wait_for_ready).split("# Flush IOPub")[1]
    upstream = inspect.getsource(NotebookClient.async_start_new_kernel_client)
    steps = [line.strip() for line in upstream.splitlines() if line.strip().startswith(("self.", "await", "return"))]
    assert steps == [
        "self.kc = self.km.client()",
        "await ensure_async(self.kc.start_channels())  # type:ignore[func-returns-value]",
        "await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))",
        "self.log.error(",
        "await self._async_cleanup_kernel()",
        "self.kc.allow_stdin = False",
        "await run_hook(self.on_notebook_start, notebook=self.nb)",
        "return self.kc",
    ]
    assert "async_start_new_kernel_client" not in VoilaExecutor.__dict__ or getattr(
        VoilaExecutor.async_start_new_kernel_client, "_mlapp_sooner", False
    )


def test_a_page_kernel_connected_sooner_runs_the_notebook_and_shows_every_output(tmp_path):
    """A real kernel, connected the way our pages connect: each cell's output is in the page,
    the first cell's too (had IOPub not been connected, the first outputs would be lost)."""
    import asyncio

    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from voila.execute import VoilaExecutor

    ours.connect_page_kernels_sooner()
    ours.connect_page_kernels_sooner()  # twice changes nothing
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("print('first cell')"),
        nbformat.v4.new_code_cell("21 * 2"),
        nbformat.v4.new_code_cell("1 / 0"),
    ]

    async def run():
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        try:
            executor = VoilaExecutor(notebook, km=km)
            kc = await executor.async_start_new_kernel_client()
            assert kc.allow_stdin is False
            cells = []
            for index, cell in enumerate(notebook.cells):
                try:
                    cells.append(await executor.execute_cell(cell, None, index, store_history=False))
                except Exception as exc:  # the failing cell: Voila shows its error
                    cells.append(exc)
            kc.stop_channels()
            return cells
        finally:
            await km.shutdown_kernel(now=True)

    first, second, third = asyncio.run(run())
    assert first.outputs[0]["text"] == "first cell\n"
    assert second.outputs[0]["data"]["text/plain"] == "42"
    assert "ZeroDivisionError" in str(third)
