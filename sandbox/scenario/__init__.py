"""The scenario generator: a coherent company (CRM, billing, ERP) with injected drift and its ground truth.

Entry point: :func:`sandbox.scenario.generate.generate`. The rules behind the ground truth are in README.md.
"""
