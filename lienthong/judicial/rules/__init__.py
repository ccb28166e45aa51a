"""Pure, date-versioned rules for criminal-record certificates (Phiếu lý lịch tư pháp).

- :mod:`.expungement`: Penal Code 2015 (amended 2017) arts. 69-73 and 107, per conviction.
- :mod:`.procedure`: Law 28/2009 vs Law 107/2025 procedure rules, fees, eligibility, record numbers.
- :mod:`.certificate`: what certificate No. 1 and No. 2 show.

Facts the research could not verify are kept as data with a ``verified`` marker ("src", "mem", "?"),
never as bare constants; see each module's tables.
"""
