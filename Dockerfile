# distributor in a container: the wheel built from this checkout, installed into a slim Python
# image with the `web` and `postgres` extras, run as an unprivileged user, `distributor` as the
# entrypoint. compose.yaml runs it with PostgreSQL; docs/operations.md ("Containers") explains.
#
#   docker build -t newsroom-distributor .
#   docker run --rm newsroom-distributor --help
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# -- build: the wheel, exactly as `pip wheel .` makes it anywhere else --------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY distributor/ distributor/
COPY templates/ templates/
COPY examples/ examples/
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# -- run: the installed wheel and nothing else from the checkout ------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/distributor/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DISTRIBUTOR_CONFIG=/etc/distributor/distributor.toml \
    DISTRIBUTOR_LOG_FORMAT=json
SHELL ["/bin/sh", "-eu", "-c"]
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv /opt/distributor \
    && wheel="$(ls /tmp/dist/newsroom_distributor-*.whl)" \
    && /opt/distributor/bin/pip install --no-cache-dir "${wheel}[web,postgres]" \
    && rm -rf /tmp/dist \
    && groupadd --system --gid 10001 distributor \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/distributor \
        --create-home --shell /usr/sbin/nologin distributor \
    && install -d -m 0755 /etc/distributor
# A container runs one process: `serve`, `worker`, `watch`, `migrate`, ... (compose.yaml).
USER 10001:10001
WORKDIR /var/lib/distributor
EXPOSE 8000
# Per process in compose.yaml: `python -m distributor.healthcheck worker|serve`.
HEALTHCHECK NONE
ENTRYPOINT ["distributor"]
CMD ["--help"]
