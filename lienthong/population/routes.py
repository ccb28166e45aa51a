"""HTTP routes of the population registry."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.population import schemas, service
from lienthong.params import ProvinceCode

router = APIRouter(prefix="/api/v1", tags=["population"])

Purpose = Annotated[str, Query(min_length=3, max_length=255, description="why the data is needed (audited)")]


@router.get("/me", response_model=schemas.CitizenOut, summary="The logged-in citizen's own registry record")
def read_me(principal: Principal = Depends(requires("population.read")), db: Session = Depends(get_db)):
    if not principal.personal_id:
        from lienthong.errors import DomainError

        raise DomainError("tài khoản này không gắn với công dân", field="personal_id")
    return service.get_citizen(db, principal, principal.personal_id, purpose="công dân xem thông tin của mình")


@router.get("/citizens/{personal_id}", response_model=schemas.CitizenOut)
def read_citizen(personal_id: str, purpose: Purpose,
                 principal: Principal = Depends(requires("population.read")), db: Session = Depends(get_db)):
    return service.get_citizen(db, principal, personal_id, purpose=purpose)


@router.get("/citizens", response_model=list[schemas.CitizenSummary])
def search_citizens(purpose: Purpose, name: str | None = Query(None, max_length=160),
                    birth_date: date | None = None, legacy_id: str | None = Query(None, max_length=12),
                    province_code: ProvinceCode | None = None, limit: int = Query(50, ge=1, le=200),
                    principal: Principal = Depends(requires("population.search")), db: Session = Depends(get_db)):
    return service.search(db, principal, name=name, birth_date=birth_date, legacy_id=legacy_id,
                          province_code=province_code, limit=limit, purpose=purpose)


@router.post("/citizens", response_model=schemas.CitizenOut, status_code=201)
def register_citizen(body: schemas.CitizenIn, principal: Principal = Depends(requires("population.write")),
                     db: Session = Depends(get_db)):
    citizen = service.register_citizen(db, principal, body)
    db.flush()
    db.refresh(citizen)
    return service.to_out(db, citizen)


@router.post("/citizens/{personal_id}/death", response_model=schemas.CitizenSummary)
def record_death(personal_id: str, body: schemas.DeathIn,
                 principal: Principal = Depends(requires("population.write")), db: Session = Depends(get_db)):
    c = service.record_death(db, principal, personal_id, body.death_date)
    res = service.current_residence(db, personal_id)
    return schemas.CitizenSummary(personal_id=c.personal_id, full_name=c.full_name, birth_date=c.birth_date,
                                  sex=c.sex, status=c.status, province_code=res.province_code if res else None)


@router.post("/citizens/{personal_id}/residence", response_model=schemas.ResidenceOut, status_code=201)
def move_residence(personal_id: str, body: schemas.MoveIn,
                   principal: Principal = Depends(requires("population.write")), db: Session = Depends(get_db)):
    return schemas.ResidenceOut.model_validate(service.move_residence(db, principal, personal_id, body.residence))
