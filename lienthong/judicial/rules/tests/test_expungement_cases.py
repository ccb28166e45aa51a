"""Worked expungement cases (BLHS 2015 amended 2017, arts. 69-73, 107).

Each case states the legal reasoning.  Unless said otherwise the rules use the default conventions:
the day of T0 is not counted and the person is expunged on the day after T0 + W (Civil Code
arts. 147-148); late additional penalties/obligations expunge at their completion (art. 70.2 last
paragraph); a new offence is dated by the act (art. 73.2).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from lienthong.judicial.rules.expungement import (
    BLHS_2015_2017,
    AdditionalPenalty,
    AdditionalPenaltyType,
    Basis,
    Conviction,
    Offence,
    PenaltyType,
    Person,
    Severity,
    enforcement_limitation_end,
    explain,
    expungement_status,
    with_rules,
)

ADULT = Person(date(1985, 5, 15), full_name="Nguyễn Văn A")
TEEN = Person(date(2002, 3, 1), full_name="Trần Văn B")  # 16 on 01/03/2018, 18 on 01/03/2020

THEFT = Offence("Trộm cắp tài sản", 173, 1, severity=Severity.LESS_SERIOUS, intentional=True, offence_date=date(2018, 3, 1))


def conv(cid: str, penalty: PenaltyType, *, offences=(THEFT,), judgment=date(2018, 9, 1), effect=date(2018, 10, 1), **kw) -> Conviction:
    return Conviction(cid, tuple(offences), judgment, effect, penalty, **kw)


def status(c: Conviction, on: date, person: Person = ADULT, others=(), rules=None):
    return expungement_status(person, c, on, [c, *others], rules)


# 1. Fine (principal) fully paid 10/03/2020: art. 70.2(a) one year; day 10/03/2020 not counted, so
#    the period ends at the end of 10/03/2021 and the record is gone from 11/03/2021.
def test_case01_fine_one_year():
    c = conv("A", PenaltyType.FINE, fine_vnd=20_000_000, principal_completed_on=date(2020, 3, 10))
    assert not status(c, date(2021, 3, 10)).expunged
    r = status(c, date(2021, 3, 11))
    assert (r.expunged, r.since, r.basis, r.period_months) == (True, date(2021, 3, 11), Basis.AUTOMATIC, 12)
    assert "điểm a khoản 2 Điều 70" in r.reason and "01 năm" in r.reason


# 2. Warning: executed when the judgment takes effect (01/10/2018), so T0 = 01/10/2018; 1 year.
def test_case02_warning_runs_from_legal_effect():
    r = status(conv("A", PenaltyType.WARNING), date(2020, 1, 1))
    assert (r.expunged, r.since) == (True, date(2019, 10, 2))


# 3. Non-custodial reform 18 months completed 15/01/2021: art. 70.2(a), 1 year -> 16/01/2022.
def test_case03_non_custodial_reform():
    c = conv("A", PenaltyType.NON_CUSTODIAL_REFORM, term_months=18, principal_completed_on=date(2021, 1, 15))
    assert status(c, date(2022, 1, 16)).since == date(2022, 1, 16)


# 4. Suspended sentence: 2 years' prison suspended, probation 3 years counted from the pronouncement
#    (01/09/2018) -> probation ends 01/09/2021.  A suspended sentence is bracket (a) whatever the
#    prison length: 1 year -> 02/09/2022 (not the 2-year prison bracket).
def test_case04_suspended_sentence_uses_one_year_from_probation_end():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=24, suspended=True, probation_months=36)
    assert not status(c, date(2022, 9, 1)).expunged
    r = status(c, date(2022, 9, 2))
    assert r.expunged and r.since == date(2022, 9, 2) and r.start_date == date(2021, 9, 1)


# 5. Exactly 5 years' prison falls in bracket (b) "phạt tù đến 05 năm": 2 years after release.
def test_case05_prison_five_years_bracket_b():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=60, principal_completed_on=date(2021, 9, 1))
    r = status(c, date(2030, 1, 1))
    assert (r.since, r.period_months) == (date(2023, 9, 2), 24)


# 6. 7 years' prison: bracket (c) "trên 05 năm đến 15 năm": 3 years.
def test_case06_prison_seven_years_bracket_c():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=84, principal_completed_on=date(2021, 9, 1))
    assert status(c, date(2030, 1, 1)).since == date(2024, 9, 2)


# 7. 20 years' prison: bracket (d) "trên 15 năm": 5 years.
def test_case07_prison_twenty_years_bracket_d():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=240, principal_completed_on=date(2020, 12, 31))
    r = status(c, date(2025, 12, 31))
    assert not r.expunged and r.waiting_until == date(2026, 1, 1)


# 8. Life imprisonment later commuted; released 01/03/2020.  The period follows the penalty as
#    pronounced (art. 73.1): life -> bracket (d), 5 years.
def test_case08_life_commuted():
    c = conv("A", PenaltyType.LIFE, death_commuted=True, principal_completed_on=date(2020, 3, 1))
    assert status(c, date(2026, 1, 1)).since == date(2025, 3, 2)


# 9. Additional penalty outlasting the period: 2 years' prison completed 01/01/2020 (W = 2 years ->
#    02/01/2022) plus a 5-year ban on posts running from release (art. 41) -> ends 01/01/2025.  Art.
#    70.2 last paragraph: expunged when the additional penalty is completed -> 02/01/2025.
def test_case09_additional_penalty_ends_later():
    ban = AdditionalPenalty(AdditionalPenaltyType.POST_OR_PROFESSION_BAN, months=60)
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=24, principal_completed_on=date(2020, 1, 1), additional_penalties=(ban,))
    assert not status(c, date(2024, 12, 31)).expunged
    assert status(c, date(2025, 1, 2)).since == date(2025, 1, 2)


# 10. Court fee / compensation only paid on 05/05/2023, long after the 2-year period (ended
#     01/07/2021): the conditions are met on payment -> 06/05/2023.  Under the stricter
#     "restart_period" reading the whole 2 years run again from payment -> 06/05/2025.
def test_case10_late_other_obligations_both_readings():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=12, principal_completed_on=date(2019, 6, 30),
             has_other_obligations=True, other_obligations_completed_on=date(2023, 5, 5))
    assert status(c, date(2030, 1, 1)).since == date(2023, 5, 6)
    strict = with_rules(BLHS_2015_2017, late_obligations_policy="restart_period")
    assert status(c, date(2030, 1, 1), rules=strict).since == date(2025, 5, 6)
    unpaid = replace(c, other_obligations_completed_on=None)
    r = status(unpaid, date(2030, 1, 1))
    assert not r.expunged and r.waiting_until is None and r.blocked_by


# 11. Re-offending inside the waiting period (art. 73.2): fine paid 10/01/2020 (would expunge
#     11/01/2021); new theft committed 01/08/2020, 1 year prison, released 01/10/2021.  The old
#     period restarts from 01/10/2021 -> 02/10/2022; the new conviction has its own 2 years ->
#     02/10/2023.  In between certificate No. 1 still shows a record (the new one).
def test_case11_reoffending_restarts_old_period():
    a = conv("A", PenaltyType.FINE, fine_vnd=10_000_000, principal_completed_on=date(2020, 1, 10))
    theft2 = replace(THEFT, offence_date=date(2020, 8, 1))
    b = conv("B", PenaltyType.IMPRISONMENT, offences=(theft2,), judgment=date(2020, 11, 1), effect=date(2020, 12, 1),
             term_months=12, principal_completed_on=date(2021, 10, 1))
    e = explain(ADULT, [a, b], date(2022, 11, 1))
    ra, rb = e.result_for("A"), e.result_for("B")
    assert ra.expunged and ra.since == date(2022, 10, 2) and "khoản 2 Điều 73" in ra.reason
    assert not rb.expunged and rb.waiting_until == date(2023, 10, 2)
    assert e.has_record


# 12. A new offence after the record was already expunged does not revive it (art. 73.2 only
#     applies "nếu chưa được xóa án tích").
def test_case12_offence_after_expungement_does_not_revive():
    a = conv("A", PenaltyType.FINE, principal_completed_on=date(2020, 1, 10))
    late = replace(THEFT, offence_date=date(2021, 6, 1))
    b = conv("B", PenaltyType.FINE, offences=(late,), judgment=date(2021, 9, 1), effect=date(2021, 10, 1))
    assert status(a, date(2022, 1, 1), others=[b]).since == date(2021, 1, 11)


# 13. National-security crime (chapter XIII, art. 117): no automatic expungement; the court decides
#     after art. 71.2(b) as amended by Law 12/2017, 3 years from release (01/01/2019) -> may apply
#     from 02/01/2022.  A court decision of 01/03/2024 expunges it from that day.
def test_case13_chapter_xiii_needs_court():
    o = Offence("Làm, tàng trữ, phát tán hoặc tuyên truyền thông tin, tài liệu, vật phẩm nhằm chống Nhà nước", 117, 1,
                severity=Severity.ESPECIALLY_SERIOUS, intentional=True, offence_date=date(2016, 1, 1))
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=36, principal_completed_on=date(2019, 1, 1))
    r = status(c, date(2025, 1, 1))
    assert (r.expunged, r.basis, r.waiting_until) == (False, Basis.COURT_DECISION, date(2022, 1, 2))
    r2 = status(replace(c, court_expungement_on=date(2024, 3, 1)), date(2025, 1, 1))
    assert (r2.expunged, r2.since, r2.basis) == (True, date(2024, 3, 1), Basis.COURT_DECISION)


# 14. Mixed judgment (art. 73.3): theft + destruction of state facilities (art. 114, chapter XIII)
#     in one judgment -> the court decides for the whole judgment using art. 71 periods
#     (prison 10 years -> art. 71.2(c) 5 years), even though theft alone would be automatic.
def test_case14_mixed_judgment_goes_to_court():
    o = Offence("Phá hoại cơ sở vật chất - kỹ thuật của nước Cộng hòa xã hội chủ nghĩa Việt Nam", 114, 1,
                severity=Severity.ESPECIALLY_SERIOUS, intentional=True, offence_date=date(2010, 1, 1))
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(THEFT, o), term_months=120, principal_completed_on=date(2018, 6, 1))
    r = status(c, date(2026, 1, 1))
    assert r.basis is Basis.COURT_DECISION and r.period_months == 60 and r.waiting_until == date(2023, 6, 2)


# 15. Art. 72 special case: 10 years' prison (automatic, W = 3 years) released 01/01/2022; with clear
#     progress and a meritorious act the court may expunge after 1/3 of W (1 year -> from
#     02/01/2023).  A decision under art. 72 on 01/02/2023 expunges from that date.
def test_case15_article_72_special():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=120, principal_completed_on=date(2022, 1, 1),
             court_expungement_on=date(2023, 2, 1), court_expungement_article=72)
    r = status(c, date(2023, 6, 1))
    assert (r.expunged, r.since, r.basis, r.special_eligible_from) == (True, date(2023, 2, 1), Basis.SPECIAL, date(2023, 1, 2))


# 16. Minor aged 15 at the offence (robbery, especially serious): art. 107.1(a) -> never a record.
def test_case16_minor_14_to_16_never_record():
    o = Offence("Cướp tài sản", 168, 4, severity=Severity.ESPECIALLY_SERIOUS, intentional=True, offence_date=date(2017, 6, 1))
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=60)
    r = status(c, date(2019, 1, 1), person=TEEN)
    assert (r.expunged, r.basis) == (True, Basis.MINOR_NEVER_RECORD) and "điểm a khoản 1 Điều 107" in r.reason


# 17. Minor aged 17, intentional *serious* offence: art. 107.1(b) -> never a record.
def test_case17_minor_16_to_18_serious_never_record():
    o = Offence("Trộm cắp tài sản", 173, 2, severity=Severity.SERIOUS, intentional=True, offence_date=date(2019, 6, 1))
    r = status(conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=30), date(2020, 1, 1), person=TEEN)
    assert r.basis is Basis.MINOR_NEVER_RECORD


# 18. Minor aged 17, intentional *very serious* offence, 3 years' prison released 01/06/2021:
#     art. 107.2(b) 1 year (an adult would wait 2) -> 02/06/2022.  No obligations condition in 107.2.
def test_case18_minor_very_serious_intentional_shorter_period():
    o = Offence("Cướp tài sản", 168, 2, severity=Severity.VERY_SERIOUS, intentional=True, offence_date=date(2019, 6, 1))
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=36, principal_completed_on=date(2021, 6, 1),
             has_other_obligations=True)
    r = status(c, date(2022, 6, 2), person=TEEN)
    assert (r.expunged, r.since, r.basis, r.period_months) == (True, date(2022, 6, 2), Basis.MINOR_AUTOMATIC, 12)


# 19. Minor aged 17, *unintentional* very serious offence: art. 107.1(b) -> never a record.
def test_case19_minor_unintentional_very_serious():
    o = Offence("Vi phạm quy định về tham gia giao thông đường bộ", 260, 3, severity=Severity.VERY_SERIOUS,
                intentional=False, offence_date=date(2019, 6, 1))
    assert status(conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=36), date(2020, 1, 1), person=TEEN).basis is Basis.MINOR_NEVER_RECORD


# 20. Adult, unintentional *serious* offence (traffic, art. 260.2): art. 69.2 -> no record at all,
#     even while serving the sentence.
def test_case20_adult_unintentional_serious_no_record():
    o = Offence("Vi phạm quy định về tham gia giao thông đường bộ", 260, 2, severity=Severity.SERIOUS, intentional=False)
    r = status(conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=36), date(2019, 1, 1))
    assert (r.expunged, r.basis) == (True, Basis.NO_RECORD)


# 21. Adult, unintentional but *very serious*: art. 69.2 does not cover it -> ordinary art. 70 route.
def test_case21_adult_unintentional_very_serious_has_record():
    o = Offence("Vi phạm quy định về tham gia giao thông đường bộ", 260, 3, severity=Severity.VERY_SERIOUS, intentional=False)
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=84, principal_completed_on=date(2024, 1, 1))
    r = status(c, date(2025, 1, 1))
    assert (r.expunged, r.basis, r.waiting_until) == (False, Basis.AUTOMATIC, date(2027, 1, 2))


# 22. Exempted from penalty (miễn hình phạt, art. 59): art. 69.2 -> no record.
def test_case22_exempted_from_penalty():
    assert status(conv("A", PenaltyType.EXEMPTED), date(2019, 1, 1)).basis is Basis.NO_RECORD


# 23. General amnesty (đại xá) on 01/09/2021 while still waiting: cleared from that date [mem].
def test_case23_amnesty():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=84, principal_completed_on=date(2021, 1, 1), amnesty_on=date(2021, 9, 1))
    r = status(c, date(2022, 1, 1))
    assert (r.expunged, r.since, r.basis) == (True, date(2021, 9, 1), Basis.AMNESTY)


# 24. Death sentence not commuted: no period exists in arts. 70/71 -> stays a record.
def test_case24_death_not_commuted():
    o = Offence("Giết người", 123, 1, severity=Severity.ESPECIALLY_SERIOUS, intentional=True)
    e = explain(ADULT, [conv("A", PenaltyType.DEATH, offences=(o,))], date(2030, 1, 1))
    assert e.results[0].basis is Basis.NOT_APPLICABLE and e.has_record


# 25. Court refusals (art. 71.3): eligible 02/01/2022; refused 01/02/2024 -> may reapply after 1 year
#     (01/02/2025); refused again 01/03/2025 -> after 2 years (01/03/2027).
def test_case25_refusals_delay_reapplication():
    o = Offence("Gián điệp", 110, 1, severity=Severity.ESPECIALLY_SERIOUS, intentional=True)
    c = conv("A", PenaltyType.IMPRISONMENT, offences=(o,), term_months=36, principal_completed_on=date(2019, 1, 1),
             court_refusals=(date(2024, 2, 1),))
    assert status(c, date(2024, 6, 1)).waiting_until == date(2025, 2, 1)
    c2 = replace(c, court_refusals=(date(2024, 2, 1), date(2025, 3, 1)))
    assert status(c2, date(2025, 6, 1)).waiting_until == date(2027, 3, 1)


# 26. Enforcement limitation expired (art. 70.3): a fine never collected; judgment effective
#     01/10/2018, limitation 5 years (art. 60.2(a)) -> 01/10/2023; expunged 1 year later.
def test_case26_limitation_expired():
    c = conv("A", PenaltyType.FINE, fine_vnd=50_000_000)
    assert enforcement_limitation_end(c) == date(2023, 10, 1)
    c = replace(c, limitation_expired_on=enforcement_limitation_end(c))
    r = status(c, date(2025, 1, 1))
    assert r.since == date(2024, 10, 2) and "thời hiệu" in r.reason


# 27. Special pardon (đặc xá) releases on 02/09/2020 from an 8-year term: release counts as
#     completion, bracket (c) 3 years -> 03/09/2023.
def test_case27_special_pardon_release():
    c = conv("A", PenaltyType.IMPRISONMENT, term_months=96, special_pardon_on=date(2020, 9, 2))
    assert status(c, date(2024, 1, 1)).since == date(2023, 9, 3)


# 28. A judgment not yet in force on the evaluation date is not a record at all (yet).
def test_case28_not_in_force():
    c = conv("A", PenaltyType.FINE, judgment=date(2024, 12, 20), effect=date(2025, 1, 10))
    e = explain(ADULT, [c], date(2025, 1, 5))
    assert e.results[0].basis is Basis.NOT_IN_FORCE and not e.has_record


# 29. Convention switch: counting T0 + W itself as the first expunged day (the other reading).
def test_case29_anniversary_convention():
    c = conv("A", PenaltyType.FINE, principal_completed_on=date(2020, 3, 10))
    rules = with_rules(BLHS_2015_2017, period_end_convention="anniversary")
    assert status(c, date(2022, 1, 1), rules=rules).since == date(2021, 3, 10)


# 30. Leap day: completed 29/02/2020; one year later is clamped to 28/02/2021 -> expunged 01/03/2021.
def test_case30_leap_day():
    c = conv("A", PenaltyType.FINE, principal_completed_on=date(2020, 2, 29))
    assert status(c, date(2022, 1, 1)).since == date(2021, 3, 1)


# 31. New offence committed while still in prison for the old one: the old period restarts from the
#     end of the new sentence even though the new act preceded the old release.
def test_case31_offence_in_prison():
    a = conv("A", PenaltyType.IMPRISONMENT, term_months=36, principal_completed_on=date(2021, 9, 1))
    o = replace(THEFT, name="Cố ý gây thương tích", article=134, offence_date=date(2020, 5, 1))
    b = conv("B", PenaltyType.IMPRISONMENT, offences=(o,), judgment=date(2020, 10, 1), effect=date(2020, 11, 1),
             term_months=24, principal_completed_on=date(2023, 9, 1))
    assert status(a, date(2030, 1, 1), others=[b]).since == date(2025, 9, 2)


# 32. New conviction still being served: the old one cannot be dated yet.
def test_case32_new_sentence_not_completed():
    a = conv("A", PenaltyType.FINE, principal_completed_on=date(2020, 1, 10))
    o = replace(THEFT, offence_date=date(2020, 6, 1))
    b = conv("B", PenaltyType.IMPRISONMENT, offences=(o,), judgment=date(2020, 9, 1), effect=date(2020, 10, 1), term_months=60)
    r = status(a, date(2022, 1, 1), others=[b])
    assert not r.expunged and r.waiting_until is None and r.blocked_by


# 33. The act-date vs judgment-date reading of art. 73.2: act on 01/12/2020 (before A's 11/01/2021
#     date) but judged 01/03/2021.  Act-date reading: reset.  Judgment-date reading: no reset.
def test_case33_reset_trigger_reading():
    a = conv("A", PenaltyType.FINE, principal_completed_on=date(2020, 1, 10))
    o = replace(THEFT, offence_date=date(2020, 12, 1))
    b = conv("B", PenaltyType.FINE, offences=(o,), judgment=date(2021, 3, 1), effect=date(2021, 4, 1),
             principal_completed_on=date(2021, 5, 1))
    assert status(a, date(2023, 1, 1), others=[b]).since == date(2022, 5, 2)
    jr = with_rules(BLHS_2015_2017, reset_trigger="judgment_date")
    assert status(a, date(2023, 1, 1), others=[b], rules=jr).since == date(2021, 1, 11)


@pytest.mark.parametrize("on", [date(2017, 12, 31)])
def test_no_rules_before_2018(on):
    from lienthong.judicial.rules.expungement import NoRulesError

    with pytest.raises(NoRulesError):
        status(conv("A", PenaltyType.FINE), on)


# 34. A new conviction that is itself never a record (art. 69.2: unintentional, less serious) still
#     restarts an earlier unexpunged record: art. 73.2 speaks of any new offence convicted by a final
#     judgment.  Fine paid 01/12/2018 (would expunge 02/12/2019); traffic offence 01/01/2019,
#     non-custodial reform completed 01/10/2020 -> old record expunged 02/10/2021.
def test_case34_no_record_conviction_still_restarts():
    a = conv("A", PenaltyType.FINE, principal_completed_on=date(2018, 12, 1))
    o = Offence("Vi phạm quy định về tham gia giao thông đường bộ", 260, 1, severity=Severity.LESS_SERIOUS, intentional=False,
                offence_date=date(2019, 1, 1))
    b = conv("B", PenaltyType.NON_CUSTODIAL_REFORM, offences=(o,), judgment=date(2019, 5, 1), effect=date(2019, 6, 1),
             term_months=12, principal_completed_on=date(2020, 10, 1))
    e = explain(ADULT, [a, b], date(2022, 1, 1))
    assert e.result_for("B").basis is Basis.NO_RECORD
    assert e.result_for("A").since == date(2021, 10, 2)
