# Build: docker build -t imdb-sentiment .
# Run:   docker run -p 8000:8000 imdb-sentiment

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
WORKDIR /src
# Dependencies first, in their own layer, so that a code change does not reinstall TensorFlow.
# The image serves on CPU, so it takes the CPU-only TensorFlow build (half the size) and drops
# TensorFlow's C++ headers, which only matter for compiling extensions.
COPY pyproject.toml ./
RUN /opt/venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      | sed -E 's/^tensorflow([<>=~!]|$)/tensorflow-cpu\1/' > requirements.txt \
 && /opt/venv/bin/pip install -r requirements.txt \
 && rm -rf /opt/venv/lib/python3*/site-packages/tensorflow/include
COPY README.md ./
COPY app/ app/
COPY model/ model/
COPY training/ training/
RUN /opt/venv/bin/pip install --no-deps . \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin sentiment
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY artifacts/sentiment/ artifacts/sentiment/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MODEL_DIR=/srv/artifacts/sentiment \
    HOST=0.0.0.0 \
    PORT=8000
USER sentiment
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"
CMD ["python", "-m", "app"]
