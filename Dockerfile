# syntax=docker/dockerfile:1
# isogate gateway image: `docker build -t isogate .` then
#   docker run -p 8000:8000 isogate                 # isogate serve --host 0.0.0.0
#   docker run --rm isogate tenant create ...        # any other isogate command
# Extras (e.g. backends added as optional dependencies): --build-arg ISOGATE_EXTRAS="[postgres]"
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- builder: wheels only
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# Compilers for any dependency without a wheel for the target platform; they stay here.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY isogate ./isogate
ARG ISOGATE_EXTRAS=""
RUN pip wheel --wheel-dir /wheels ".${ISOGATE_EXTRAS}"

# ---------------------------------------------------------------- runtime: no build tools
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN groupadd --system --gid 10001 isogate \
    && useradd --system --uid 10001 --gid isogate --no-create-home \
       --home-dir /var/lib/isogate --shell /usr/sbin/nologin isogate
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl
# As root, so that stpyv8's import writes its ICU data to /usr/share/stpyv8: with the data
# there Intl works; a copy under ~/.local/share/stpyv8 makes Intl abort the process
# (DESIGN.md). Workers also work without it (isogate/runtime/icu.py starts V8 with the
# wheel's data); the runtime self-tests Intl at start.
RUN python -c "import STPyV8" \
    && test -f /usr/share/stpyv8/icudtl.dat \
    && rm -rf /root/.local/share/stpyv8
RUN install -d -o isogate -g isogate -m 0750 /var/lib/isogate
USER 10001:10001
WORKDIR /var/lib/isogate
# HOME=/tmp: nothing of the user's lives on the (possibly read-only) root filesystem;
# runtime workers get their own private HOME under /tmp anyway.
ENV HOME=/tmp \
    ISOGATE_DATA_DIR=/var/lib/isogate
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["isogate"]
CMD ["serve", "--host", "0.0.0.0"]
