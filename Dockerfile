# Cognate in a container: the server on SQLite in the /data volume by default; set
# COGNATE_DB=postgresql://... (and COGNATE_MASTER_KEY) for PostgreSQL. See README "Quick start".
FROM python:3.11-slim-bookworm

# xmlsec1 verifies and decrypts SAML responses (federation with SAML identity providers).
RUN apt-get update \
 && apt-get install -y --no-install-recommends xmlsec1 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/cognate
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --no-cache-dir -c constraints.txt . \
 && useradd --system --home-dir /data --shell /usr/sbin/nologin cognate \
 && mkdir -p /data && chown cognate /data

USER cognate
WORKDIR /data
VOLUME ["/data"]
ENV COGNATE_HOST=0.0.0.0 \
    COGNATE_PORT=9230 \
    COGNATE_DB=sqlite:////data/cognate.db \
    COGNATE_MASTER_KEY_FILE=/data/master.key
EXPOSE 9230
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9230/health', timeout=2)"]
# cognate serve migrates the database (first start creates it) and handles SIGTERM by
# finishing requests in flight.
CMD ["cognate", "serve"]
