# Two images from one file:
#   docker build --target api    -t filterscope-api .     # FastAPI only, no TensorFlow
#   docker build --target worker -t filterscope-worker .  # TensorFlow with CUDA, the vgg16-hed weights
#   docker build --target worker-cpu -t filterscope-worker-cpu .  # TensorFlow for the CPU only (smaller)
FROM python:3.11-slim AS source
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY service ./service
COPY worker ./worker
COPY filterscope ./filterscope

FROM source AS api
RUN pip install .
ENV FILTERSCOPE_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD ["filterscope", "api", "--host", "0.0.0.0", "--port", "8000"]

FROM source AS worker-cpu
RUN pip install ".[worker]"
ENV FILTERSCOPE_DATA_DIR=/data TF_CPP_MIN_LOG_LEVEL=2
CMD ["filterscope", "worker", "--processes", "2"]

FROM source AS worker
RUN pip install ".[worker,gpu]"
ENV FILTERSCOPE_DATA_DIR=/data TF_CPP_MIN_LOG_LEVEL=2
CMD ["filterscope", "worker", "--gpus", "all"]
