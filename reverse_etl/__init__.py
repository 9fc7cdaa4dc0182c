"""Reverse ETL: pushes the warehouse's validated ``publish`` postings to the ERP, exactly once in effect.

``push()`` and ``replay()`` in :mod:`reverse_etl.push` are the entry points; states, ownership, replay and
repair are described in this folder's README.md.
"""
