# The model server of jupyter-mlapp (`jupyter mlapp serve`) as a container image, built from the wheel.
#
#   .venv/bin/python -m pip wheel --no-build-isolation --no-deps -w dist .   # the lab extension is prebuilt by `make`
#   docker build -t mlapp-serve .
#   docker run -p 9000:9000 -v /srv/models:/models \
#     -v /srv/secrets/mlapp-token:/run/secrets/mlapp-token:ro mlapp-serve
#
# docs/deploy.md: replicas behind a load balancer, the registry folder, the token, health checks.
# tests/test_deploy.py runs these same commands in a clean venv.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MLAPP_HOME=/home/mlapp/home \
    JUPYTER_TOKEN_FILE=/run/secrets/mlapp-token

# Not root: the server refuses to run as root without --allow-root, and needs no privilege.
RUN useradd --create-home --uid 1000 mlapp

COPY dist/jupyter_mlapp-*.whl /tmp/wheels/
RUN pip install /tmp/wheels/jupyter_mlapp-*.whl && rm -rf /tmp/wheels

USER mlapp
WORKDIR /home/mlapp
EXPOSE 9000

# Liveness without credentials: Jupyter's /api answers once the server listens.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/api', timeout=2)"

# The workers default to the container's cores; --workers N to choose.
ENTRYPOINT ["jupyter", "mlapp", "serve", "--ip=0.0.0.0", "--port=9000", "--models=/models", "--no-browser"]
