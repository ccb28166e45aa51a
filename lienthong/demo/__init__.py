"""Synthetic demo data: a realistic province of citizens, families, addresses, facilities and agencies.

:mod:`lienthong.demo.synthetic` holds the pure, seeded generators; :mod:`lienthong.demo.seed`
loads them (``seed_database``), with PostgreSQL COPY for the bulk tables.
"""
