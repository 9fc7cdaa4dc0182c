"""A HubSpot-CRM-v3-shaped sandbox: companies, contacts, deals, products, line items, v4 associations."""
