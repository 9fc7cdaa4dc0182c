-- The exception catalog (models/exception_catalog.py, codes are public API) as a table: who owns each code, the
-- severity it starts from before the amount at risk raises it, and what to do about it. A pytest checks that the
-- codes and owners equal the Python catalog's.
-- DuckDB names a VALUES list's columns col0, col1, …
select
    col0 as exception_type,
    col1 as owner_domain,
    col2 as base_severity,
    col3 as suggested_action
from (
    values
    (
        'INVOICE_MISSING_IN_ERP', 'accounting', 'medium',
        'Push the invoice with `q2c push`, or find why the sync skipped it (customer, item, period).'
    ),
    (
        'INVOICE_ORPHAN_IN_ERP', 'accounting', 'high',
        'Find who keyed the ERP invoice; void it in the ERP if billing never issued it.'
    ),
    (
        'INVOICE_DUPLICATE_IN_ERP', 'accounting', 'high',
        'Void the extra ERP invoice(s) keyed by hand, keeping the one with the externalId.'
    ),
    (
        'INVOICE_AMOUNT_MISMATCH', 'accounting', 'medium',
        'Correct the ERP invoice lines to billing''s amounts, or `q2c push --repair` it.'
    ),
    (
        'INVOICE_TAX_MISMATCH', 'accounting', 'medium',
        'Correct the ERP invoice''s tax lines to billing''s tax, or `q2c push --repair` it.'
    ),
    (
        'INVOICE_CURRENCY_MISMATCH', 'accounting', 'high',
        'Void the ERP invoice and re-post it in the billing currency.'
    ),
    (
        'INVOICE_CUSTOMER_MISMATCH', 'accounting', 'medium',
        'Move the ERP invoice (and its payment) to the ERP customer with externalId bill-<customer>.'
    ),
    (
        'INVOICE_SUBSIDIARY_MISMATCH', 'accounting', 'high',
        'Void the ERP invoice and re-post it to the customer''s legal entity.'
    ),
    (
        'INVOICE_STATUS_MISMATCH', 'accounting', 'medium',
        'Apply the payment or void the ERP invoice so its status follows billing.'
    ),
    (
        'PAYMENT_MISSING_IN_ERP', 'accounting', 'medium',
        'Record the customer payment in the ERP (`q2c push`) and apply it to the invoice.'
    ),
    (
        'PAYMENT_DUPLICATE_IN_ERP', 'accounting', 'high',
        'Delete or reverse the extra ERP payment keyed from the bank statement.'
    ),
    (
        'PAYMENT_AMOUNT_MISMATCH', 'accounting', 'medium',
        'Correct the ERP payment to the charge''s gross amount; refund or reapply the surplus.'
    ),
    (
        'CREDIT_NOTE_MISSING_IN_ERP', 'accounting', 'medium',
        'Post the credit memo in the ERP (`q2c push`) from its invoice.'
    ),
    (
        'CUSTOMER_UNMATCHED', 'revops', 'medium',
        'Fix metadata.hubspot_company_id in billing, or create the ERP customer (externalId bill-<customer>).'
    ),
    (
        'CUSTOMER_MERGED_STALE_REF', 'revops', 'low',
        'Point metadata.hubspot_company_id at the surviving CRM company.'
    ),
    (
        'DEAL_WITHOUT_SUBSCRIPTION', 'revops', 'medium',
        'Provision the subscription in billing (metadata.hubspot_deal_id), or reopen the deal.'
    ),
    (
        'SUBSCRIPTION_WITHOUT_DEAL', 'revops', 'low',
        'Create or link the closed-won deal (subscription metadata.hubspot_deal_id).'
    ),
    (
        'CONTRACT_VALUE_MISMATCH', 'revops', 'medium',
        'Align the deal amount and currency with the subscription''s annual contract value.'
    ),
    (
        'PRODUCT_UNMAPPED', 'finance_systems', 'high',
        'Create the ERP item (externalId = product id) with revenue accounts, or add a product_mappings row.'
    ),
    (
        'POSTING_PERIOD_CLOSED', 'accounting', 'high',
        'Reopen the period for the subsidiary, or post the document in the next open period by hand.'
    ),
    (
        'POSTING_REJECTED', 'finance_systems', 'high',
        'Fix what the ERP refused (see detail), then `q2c replay` the posting.'
    )
)
