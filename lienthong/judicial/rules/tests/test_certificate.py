"""Certificate No. 1 vs No. 2 content."""

from __future__ import annotations

from datetime import date

from lienthong.judicial.rules.certificate import NO_BAN_TEXT, NO_RECORD_TEXT, Ban, certificate_content
from lienthong.judicial.rules.expungement import (
    AdditionalPenalty,
    AdditionalPenaltyType,
    Conviction,
    Offence,
    PenaltyType,
    Person,
    Severity,
)
from lienthong.judicial.rules.procedure import CertificateKind

P = Person(date(1985, 5, 15), full_name="Nguyễn Văn A", sex="Nam", place_of_birth="Hà Nội", residence="Phường Ba Đình, Hà Nội",
           id_number="001085000001", father_name="Nguyễn Văn B", mother_name="Lê Thị C", spouse_name="Phạm Thị D")

THEFT = Offence("Trộm cắp tài sản", 173, 1, severity=Severity.LESS_SERIOUS, intentional=True, offence_date=date(2018, 3, 1))
FRAUD = Offence("Lừa đảo chiếm đoạt tài sản", 174, 2, point="a", severity=Severity.SERIOUS, intentional=True,
                offence_date=date(2022, 1, 1))
TRAFFIC = Offence("Vi phạm quy định về tham gia giao thông đường bộ", 260, 1, severity=Severity.LESS_SERIOUS, intentional=False,
                  offence_date=date(2020, 6, 1))

OLD = Conviction("OLD", (THEFT,), date(2018, 9, 1), date(2018, 10, 1), PenaltyType.FINE, fine_vnd=20_000_000,
                 principal_completed_on=date(2018, 12, 1), court="Tòa án nhân dân quận Ba Đình", judgment_number="12/2018/HS-ST",
                 court_fee="200.000 đồng", enforcement_status="Đã thi hành xong")
NEW = Conviction("NEW", (FRAUD,), date(2022, 8, 1), date(2022, 9, 1), PenaltyType.IMPRISONMENT, term_months=30,
                 principal_completed_on=date(2025, 3, 1), court="Tòa án nhân dân thành phố Hà Nội", judgment_number="88/2022/HS-ST",
                 additional_penalties=(AdditionalPenalty(AdditionalPenaltyType.FINE, amount_vnd=10_000_000, completed_on=date(2023, 1, 1)),),
                 civil_obligations="Bồi thường 50.000.000 đồng", enforcement_status="Đã chấp hành xong hình phạt tù")
# Committed after OLD was expunged (02/12/2019): an earlier act would restart OLD's period (art. 73.2),
# even though an unintentional less-serious offence is itself never a record (art. 69.2).
TRAFFIC_C = Conviction("TRAFFIC", (TRAFFIC,), date(2020, 9, 1), date(2020, 10, 1), PenaltyType.NON_CUSTODIAL_REFORM, term_months=12,
                       principal_completed_on=date(2021, 10, 1))

BAN = Ban("Cấm đảm nhiệm chức vụ giám đốc, thành lập, quản lý doanh nghiệp", "Tòa án nhân dân thành phố Hà Nội", "05/2021/QĐ-TBPS",
          date(2021, 4, 1), start_date=date(2021, 4, 10), duration_months=36)

ON = date(2025, 6, 1)


def test_no1_shows_only_unexpunged_convictions_and_minimal_fields():
    c = certificate_content(CertificateKind.NO1, P, [OLD, NEW, TRAFFIC_C], [BAN], ON)
    assert c.criminal_status == "Có án tích"
    assert [e.conviction_id for e in c.convictions] == ["NEW"]  # OLD expunged 02/12/2019, TRAFFIC never a record
    e = c.convictions[0]
    assert e.offences == ("Lừa đảo chiếm đoạt tài sản",)
    assert e.principal_penalty == "02 năm 06 tháng tù"
    assert e.additional_penalties == ("Phạt tiền 10.000.000 đồng",)
    assert e.judgment_number is None and e.court is None and e.expungement_status is None
    labels = [k for k, _ in c.identity]
    assert "Họ và tên cha" not in labels and "Số định danh cá nhân/CCCD/Hộ chiếu" in labels
    assert c.ban_status is None and c.bans == ()  # not requested


def test_no1_without_record():
    c = certificate_content(1, P, [OLD, TRAFFIC_C], [], ON)
    assert c.criminal_status == NO_RECORD_TEXT and c.convictions == ()
    assert certificate_content(1, P, [], [], ON).criminal_status == NO_RECORD_TEXT


def test_no1_ban_only_on_request_and_only_if_active():
    c = certificate_content(1, P, [], [BAN], date(2023, 1, 1), include_ban_info=True)
    assert c.ban_status.startswith("Bị cấm") and len(c.bans) == 1 and c.bans[0].court is None
    c = certificate_content(1, P, [], [BAN], date(2024, 6, 1), include_ban_info=True)  # ban ended 10/04/2024
    assert c.ban_status == NO_BAN_TEXT and c.bans == ()


def test_no2_shows_everything():
    c = certificate_content(CertificateKind.NO2, P, [NEW, OLD, TRAFFIC_C], [BAN], ON)
    assert [e.conviction_id for e in c.convictions] == ["OLD", "TRAFFIC", "NEW"]  # by judgment date
    old, traffic, new = c.convictions
    assert old.expungement_status == "Đã được xóa án tích ngày 02/12/2019" and old.expunged_on == date(2019, 12, 2)
    assert old.offences == ("Trộm cắp tài sản (khoản 1 Điều 173 Bộ luật Hình sự)",)
    assert old.judgment_number == "12/2018/HS-ST" and old.court_fee == "200.000 đồng"
    assert traffic.expungement_status.startswith("Không bị coi là có án tích")
    assert new.expungement_status == "Chưa được xóa án tích"
    assert new.offences == ("Lừa đảo chiếm đoạt tài sản (điểm a khoản 2 Điều 174 Bộ luật Hình sự)",)
    assert new.civil_obligations == "Bồi thường 50.000.000 đồng"
    assert c.criminal_status == "Có án tích"
    labels = [k for k, _ in c.identity]
    assert labels[-3:] == ["Họ và tên cha", "Họ và tên mẹ", "Họ và tên vợ/chồng"]
    # Ban info always on No. 2, including an expired ban
    assert len(c.bans) == 1 and not c.bans[0].active and c.bans[0].decision_number == "05/2021/QĐ-TBPS"
    assert c.ban_status.startswith(NO_BAN_TEXT)


def test_no2_all_expunged_and_never_convicted():
    c = certificate_content(2, P, [OLD], [], ON)
    assert c.criminal_status.startswith("Đã bị kết án") and len(c.convictions) == 1
    c = certificate_content(2, P, [], [], ON)
    assert c.criminal_status == NO_RECORD_TEXT and c.ban_status == NO_BAN_TEXT


def test_regime_recorded():
    assert certificate_content(1, P, [], [], date(2026, 7, 1)).regime == "law_107_2025"
    assert certificate_content(1, P, [], [], date(2025, 1, 1)).regime == "law_28_2009_moj"
