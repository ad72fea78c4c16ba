"""/me: the calling token and its scope."""

from fastapi import APIRouter

from bot.web.api.deps import PrincipalDep, SessionDep
from bot.web.api.schemas import TokenInfo, unit_ref
from models.org import OrgUnit

router = APIRouter()


@router.get("/me", response_model=TokenInfo, tags=["tokens"], summary="The calling token and its scope")
def me(session: SessionDep, principal: PrincipalDep) -> TokenInfo:
    unit = session.get(OrgUnit, principal.scope_unit_id) if principal.scope_unit_id else None
    return TokenInfo(
        id=principal.token_id,
        name=principal.token_name,
        scope=unit_ref(unit),
        can_write=principal.can_write,
    )
