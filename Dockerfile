# zhibu: one image; the role is chosen by the command (`zhibu serve --role web|stream|relay|scheduler`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ZHIBU_DATABASE_URL=sqlite:////data/zhibu.db

# A CJK font so the monthly digest's chart renders Chinese labels.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 zhibu && mkdir -p /data /app && chown zhibu:zhibu /data
WORKDIR /app

# Dependencies in their own layer: only pyproject.toml invalidates it.
COPY pyproject.toml README.md ./
RUN mkdir -p bot handlers models scheduler config sandbox \
 && for p in bot handlers models scheduler config sandbox; do touch $p/__init__.py; done \
 && pip install . \
 && pip uninstall -y zhibu

COPY . .
RUN pip install --no-deps .

USER zhibu
EXPOSE 8000
VOLUME ["/data"]
CMD ["sh", "-c", "zhibu db upgrade && exec zhibu serve"]
