// Loaded by index.html.j2 right before voila.js, while the kernel runs the notebook's cells. The
// template includes it as Jinja source: no double braces or brace-percent in here.
(() => {
  const config = JSON.parse(document.getElementById('jupyter-config-data').textContent);
  const kernelPath = `/api/kernels/${config.kernelId}`;
  const cellsIn = new Promise(resolve =>
    document.addEventListener('DOMContentLoaded', resolve, { once: true })
  );
  // voila.js's main() waits for the window's load: run it now instead. It is the listener that
  // loads the federated extensions; other modules' load listeners are left as they are.
  const addEventListener = window.addEventListener;
  const restore = () => {
    window.addEventListener = addEventListener;
  };
  window.addEventListener = function (type, listener, options) {
    if (this === window && type === 'load' && String(listener).includes('federated_extensions')) {
      restore();
      Promise.resolve().then(() => listener(new Event('load')));
      return;
    }
    return addEventListener.call(this, type, listener, options);
  };
  cellsIn.then(restore);
  // Its widget manager asks for the kernel's model first, then connects to it and renders the
  // cells' widgets once the app has started: hold that request until the last cell is in the
  // page. The app's start waits for it, so every output is found; the kernel is busy until then.
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (
      document.readyState === 'loading' &&
      new URL(url, location.href).pathname.endsWith(kernelPath)
    ) {
      return cellsIn.then(() => fetch.call(window, input, init));
    }
    return fetch.call(window, input, init); // whatever object the caller keeps it on
  };
})();
