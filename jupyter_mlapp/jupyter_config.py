# The secure defaults of `jupyter mlapp`.
#
# Embedding Jupyter in an app tempts people to copy recipes that switch its protections off
# (`disable_check_xsrf = True`, `token = ''`, `allow_origin = '*'`). This file is the opposite:
# every setting below keeps a protection on and says why. Your own jupyter_server_config.py and
# the command line are loaded on top of it.
c = get_config()  # noqa: F821

# Listen on loopback only: reaching the server from another machine is a deliberate choice
# (--ip=0.0.0.0 behind TLS), never an accident.
c.ServerApp.ip = "127.0.0.1"

# A port in use is an error to act on, not a reason to silently move to another port.
c.ServerApp.port_retries = 0

# Never start without a credential. An empty token would let any local process, and any web
# page that can reach the port, run code as you. Jupyter generates a random one-time token
# and prints the URL that carries it; set a password (`jupyter server password`) or use
# jupyter-mlapp accounts (`jupyter mlapp user add`) for longer-lived logins.
# (We set no token here, so Jupyter makes a fresh random one; `jupyter mlapp` refuses to start
# with an empty token and no password.)
c.ServerApp.allow_unauthenticated_access = False

# User accounts with roles (`jupyter mlapp user add`), on top of the token: the token holder
# stays the server owner (an admin); the others sign in on our login page with an
# HttpOnly, SameSite=Lax cookie that logout, a password change or disabling ends at once.
c.ServerApp.identity_provider_class = "jupyter_mlapp.auth.identity.MLAppIdentityProvider"

# Every route is checked against the role: viewers use the Voila apps only (no JupyterLab, no
# terminals, no contents writes, no kernels but their apps' own).
c.ServerApp.authorizer_class = "jupyter_mlapp.auth.authorizer.MLAppAuthorizer"

# Each kernel gets its user (MLAPP_USER, MLAPP_ROLE) from the authenticated request, never from
# the browser, so `jupyter_mlapp.current_user()` in an app is the signed-in user; the server
# remembers whose each kernel is, for the Authorizer.
c.ServerApp.kernel_manager_class = "jupyter_mlapp.auth.kernels.MLAppKernelManager"

# A viewer's kernel websocket carries widget messages only: the server runs the app's code,
# the viewer cannot send code of their own to execute.
c.ServerApp.kernel_websocket_connection_class = "jupyter_mlapp.auth.kernels.MLAppKernelConnection"

# Every state-changing request must carry the _xsrf cookie value (or a token header), so
# another site cannot make your browser act on this server.
c.ServerApp.disable_check_xsrf = False

# Only pages served by this server may call its API from a browser: no cross-origin access.
c.ServerApp.allow_origin = ""
c.ServerApp.allow_remote_access = False

# Our pages (JupyterLab, the Voila apps) may frame each other, no other site may frame them
# (clickjacking). Scripts, styles, images, fonts and connections come from this server only, no
# plugins, no <base> pointing elsewhere, forms post here only: an injected tag cannot load code
# from another site or send data to it. JupyterLab's pages add 'unsafe-eval' and the hash of their
# one inline script, Voila's 'unsafe-inline' and 'unsafe-eval' (what they need to run: auth/csp.py).
c.ServerApp.tornado_settings = {
    "headers": {
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    },
    # Voila's page config: no MathJax URL (see VoilaConfiguration.template below).
    "mathjax_url": None,
    "mathjax_config": None,
}

# Don't open a browser from a server process; the URL with its token is printed instead.
c.ServerApp.open_browser = False

# Start at /mlapp: editors and admins go on to JupyterLab (where the "ML App" sidebar lives),
# viewers to the gallery of the apps they may open.
c.ServerApp.default_url = "/mlapp"

# Voila serves the notebooks of notebooks/ as standalone apps at /voila/render/notebooks/<name>.ipynb.
# A failing app shows a short message, not a Python traceback with file paths.
c.ServerApp.jpserver_extensions = {"voila": True, "jupyterlab": True, "jupyter_mlapp": True}
c.VoilaConfiguration.show_tracebacks = False

# No request leaves the server: an app page that fetched fonts or MathJax from a CDN would stall on
# a server without internet and tell a third party who opened which app. Our Voila template drops
# the lab template's Font Awesome links (voila.js bundles it), and no MathJax URL makes Voila use
# the MathJax 3 that JupyterLab bundles instead of the one from cdnjs.
c.VoilaConfiguration.template = "mlapp"

# Every conda or virtual environment with ipykernel is also a kernel (`mlapp-<kind>-<name>`),
# in JupyterLab and in Voila apps, besides the kernels installed the usual way.
c.ServerApp.kernel_spec_manager_class = "jupyter_mlapp.jobs.kernelspecs.EnvironmentKernelSpecManager"
