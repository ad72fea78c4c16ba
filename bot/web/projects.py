"""书记项目 H5 pages: /h5/projects/..."""

from __future__ import annotations

from fastapi import APIRouter

from bot.web.h5 import H5Pages, feature_router

PREFIX = "/h5/projects"


@feature_router(prefix=PREFIX)
def build_projects_router(h5: H5Pages) -> APIRouter:
    return h5.router()
