"""HTTP routes of the facility and agency registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from lienthong.deps import get_db
from lienthong.facilities import schemas, service
from lienthong.identity.policy import requires
from lienthong.identity.principal import Principal
from lienthong.params import Offset, ProvinceCode

router = APIRouter(prefix="/api/v1", tags=["directory"])


class FacilityPage(BaseModel):
    total: int
    items: list[schemas.FacilityOut]


@router.get("/facilities", response_model=FacilityPage)
def list_facilities(province_code: ProvinceCode | None = None, tier: str | None = None, q: str | None = Query(None, max_length=100),
                    limit: int = Query(100, ge=1, le=1000), offset: Annotated[Offset, Query()] = 0,
                    _: Principal = Depends(requires("directory.read")), db: Session = Depends(get_db)):
    total, rows = service.list_facilities(db, province_code=province_code, tier=tier, q=q, limit=limit, offset=offset)
    return FacilityPage(total=total, items=[schemas.FacilityOut.model_validate(f) for f in rows])


@router.get("/facilities/{code}", response_model=schemas.FacilityOut)
def get_facility(code: str, _: Principal = Depends(requires("directory.read")), db: Session = Depends(get_db)):
    return service.get_facility(db, code)


@router.post("/facilities", response_model=schemas.FacilityOut, status_code=201)
def register_facility(body: schemas.FacilityIn, principal: Principal = Depends(requires("directory.write")),
                      db: Session = Depends(get_db)):
    facility = service.register_facility(db, principal, body)
    db.flush()
    return facility


@router.get("/agencies", response_model=list[schemas.AgencyOut])
def list_agencies(kind: str | None = Query(None, max_length=40), province_code: ProvinceCode | None = None,
                  _: Principal = Depends(requires("directory.read")), db: Session = Depends(get_db)):
    return service.list_agencies(db, kind=kind, province_code=province_code)


@router.post("/agencies", response_model=schemas.AgencyOut, status_code=201)
def register_agency(body: schemas.AgencyIn, principal: Principal = Depends(requires("directory.write")),
                    db: Session = Depends(get_db)):
    agency = service.register_agency(db, principal, body)
    db.flush()
    return agency
