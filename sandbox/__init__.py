"""Local emulations of the three systems q2c integrates, and the scenario generator.

- ``sandbox.billing``: a Stripe-REST-shaped billing API.
- ``sandbox.crm``: a HubSpot-CRM-v3-shaped CRM API.
- ``sandbox.erp``: a NetSuite-SuiteTalk-REST-shaped ERP API.
- ``sandbox.scenario``: the generator of a coherent company with injected drift and ground truth.

Each server is a faithful subset of the real API, so a client written against the sandbox needs only
configuration (base URL, credentials) to talk to the real service.
"""
