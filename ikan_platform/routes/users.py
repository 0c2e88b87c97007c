"""Users: who can be assigned bookings (Ops) and user management (Admin, in issue #3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from ikan_platform.models import User
from ikan_platform.routes.auth import user_out
from ikan_platform.schemas import UserOut
from ikan_platform.security import current_user, get_session

router = APIRouter(prefix="/v1", tags=["users"])


@router.get("/assignable-users", operation_id="list_assignable_users", response_model=list[UserOut])
def list_assignable_users(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(get_session)],
) -> list[dict]:
    """Active Operations and Admin staff, who can hold bookings."""
    rows = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(("operations", "admin")))
        .order_by(User.name)
    ).all()
    return [user_out(u) for u in rows]
