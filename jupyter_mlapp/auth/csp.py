"""The Content-Security-Policy of each page: ``jupyter_config.py``'s strict policy (scripts from
this server only, no plugins, no ``<base>`` elsewhere), plus what JupyterLab's and Voila's pages
need to run, measured in Chromium (every browser test asserts that no page reports a violation):

- JupyterLab pages evaluate strings (its settings' JSON-schema validators are compiled with
  ``new Function``) and run one inline script (it removes the token from the URL): 'unsafe-eval'
  and that script's hash, read from JupyterLab's own page template, so an upgrade keeps working.
  Jupyter's error pages (on any path) run the same kind of script: its hash, from their template.
- Voila pages render their inline scripts from templates and per-notebook values, which no hash
  can name, and their widgets evaluate strings as JupyterLab does (voila.js; ipydatagrid compiles
  its cell renderers with ``new Function``): 'unsafe-inline' and 'unsafe-eval', on Voila's pages only.

Our own pages (login, account, setup) and everything else get the policy unchanged.
Written for jupyterlab 4.x and voila 0.5.
"""

from __future__ import annotations

import base64
import hashlib
import re

from tornado.web import OutputTransform

from .authorizer import PAGE_RESOURCES

HEADER = "Content-Security-Policy"
# Inline scripts that run: no src, and not a data block such as JupyterLab's page config.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>(.*?)</script>", re.S)
LAB_PAGES = tuple(prefix for prefix, resource in PAGE_RESOURCES.items() if resource == "lab")


def inline_script_hashes(html: str) -> list[str]:
    """CSP sources that allow exactly the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    ]


def with_script_sources(policy: str, sources: list[str]) -> str:
    """``policy`` whose ``script-src`` also allows ``sources``."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    for i, directive in enumerate(directives):
        if directive.split()[0] == "script-src":
            directives[i] = " ".join([directive, *sources])
            break
    return "; ".join(directives)


def template_hashes(web_app, env_name: str, template: str) -> list[str]:
    """The hashes of the inline scripts of one of the server's templates (static script text)."""
    env = web_app.settings.get(env_name)
    if env is None:
        return []
    source, _, _ = env.loader.get_source(env, template)
    return inline_script_hashes(source)


def apply_page_policies(web_app) -> None:
    """Adjust the policy per page as responses leave (idempotent)."""
    if any(getattr(t, "mlapp_page_policy", False) for t in web_app.transforms):
        return
    base_url = web_app.settings.get("base_url", "/")
    extra: dict[str, list[str]] = {}

    def sources_for(path: str) -> list[str]:
        page = path[len(base_url) :].split("/", 1)[0] if path.startswith(base_url) else ""
        if page == "voila":
            return ["'unsafe-inline'", "'unsafe-eval'"]
        kind = "lab" if page in LAB_PAGES else "other"
        if kind not in extra:  # read once, after every extension has loaded its templates
            # Jupyter's error pages (any path) remove the token from the URL with an inline script too.
            extra[kind] = template_hashes(web_app, "jinja2_env", "page.html")
            if kind == "lab":
                extra[kind] += ["'unsafe-eval'", *template_hashes(web_app, "lab_jinja2_env", "index.html")]
        return extra[kind]

    class PagePolicy(OutputTransform):
        mlapp_page_policy = True

        def __init__(self, request):
            self.path = request.path

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            policy = headers.get(HEADER)
            if policy and headers.get("Content-Type", "").startswith("text/html"):
                sources = sources_for(self.path)
                if sources:
                    headers[HEADER] = with_script_sources(policy, sources)
            return status_code, headers, chunk

    web_app.transforms.append(PagePolicy)
