-- Every pairing of a billing invoice with the ERP invoices carrying its billing key (and each ERP invoice claiming
-- an `in_` key that billing does not have), with the compared values side by side and one flag per rule.
-- The rules are the scenario README's: see dbt_project/README.md "Reconciliation".
with

invoices as (
    select * from {{ ref('invoices') }}
),

holds as (
    select * from {{ ref('int_invoice_posting_holds') }}
),

paying_charges as (
    select * from {{ ref('int_paying_charges') }}
),

erp_invoices as (
    select * from {{ ref('erp_transactions') }}
    where record_type = 'invoice' and billing_key is not null
),

paired as (
    select
        invoices.invoice_id,
        erp_invoices.transaction_id as erp_transaction_id,
        coalesce(invoices.invoice_id, erp_invoices.billing_key) as billing_key,
        invoices.customer_id,
        invoices.subsidiary_code,
        invoices.invoice_status,
        invoices.finalized_at,
        invoices.paid_at,
        invoices.voided_at,
        invoices.posting_date,
        invoices.is_posting_period_closed,
        coalesce(invoices.is_erp_customer_inactive, false) as is_erp_customer_inactive,
        holds.hold_reason,
        invoices.currency_code as billing_currency,
        erp_invoices.currency_code as erp_currency,
        invoices.total as billing_total,
        erp_invoices.total as erp_total,
        invoices.tax_total as billing_tax_total,
        erp_invoices.tax_total as erp_tax_total,
        invoices.amount_remaining as billing_amount_remaining,
        erp_invoices.amount_unpaid as erp_amount_unpaid,
        invoices.erp_customer_id as expected_erp_customer_id,
        erp_invoices.entity_id as erp_customer_id,
        erp_invoices.entity_billing_customer_id as erp_customer_billing_id,
        invoices.erp_subsidiary_id as expected_erp_subsidiary_id,
        erp_invoices.subsidiary_id as erp_subsidiary_id,
        erp_invoices.status_name as erp_status,
        erp_invoices.created_at as erp_created_at,
        erp_invoices.has_external_id as erp_has_external_id,
        coalesce(erp_invoices.is_primary_for_billing_key, true) as is_primary_match,
        coalesce(erp_invoices.records_with_billing_key, 0) as erp_records_for_invoice,
        paying_charges.charge_id as paying_charge_id,
        coalesce(paying_charges.is_missing_in_erp, false) as is_paying_charge_missing_in_erp
    from invoices
    full outer join erp_invoices on invoices.invoice_id = erp_invoices.billing_key
    left join holds on invoices.invoice_id = holds.invoice_id
    left join paying_charges on invoices.invoice_id = paying_charges.invoice_id
    -- an ERP invoice whose key is neither a billing invoice nor an `in_` id has no billing origin we know of
    where invoices.invoice_id is not null or starts_with(erp_invoices.billing_key, 'in_')
),

compared as (
    select
        *,
        invoice_id is not null and erp_transaction_id is not null and is_primary_match
        and invoice_status <> 'draft' and hold_reason is null as is_compared
    from paired
),

flagged as (
    select
        *,
        is_compared and erp_records_for_invoice > 1 as is_duplicate_in_erp,
        is_compared and invoice_status <> 'void' and coalesce(erp_currency, '') <> coalesce(billing_currency, '')
            as is_currency_mismatch,
        is_compared and invoice_status <> 'void' and erp_currency = billing_currency
        and abs(erp_total - billing_total) > {{ var('q2c_amount_tolerance') }} as is_amount_mismatch,
        is_compared and invoice_status <> 'void' and erp_currency = billing_currency
        and abs(erp_tax_total - billing_tax_total) > {{ var('q2c_amount_tolerance') }} as is_tax_mismatch,
        is_compared and invoice_status <> 'void' and coalesce(erp_customer_billing_id, '') <> coalesce(customer_id, '')
            as is_customer_mismatch,
        is_compared and invoice_status <> 'void'
        and coalesce(erp_subsidiary_id, '') <> coalesce(expected_erp_subsidiary_id, '')
            as is_subsidiary_mismatch,
        is_compared and (
            (invoice_status = 'void' and erp_status <> 'Voided' and voided_at <= {{ settled_before() }})
            or (
                invoice_status = 'paid' and paid_at <= {{ settled_before() }} and erp_status <> 'Paid In Full'
                -- the missing payment is the exception (PAYMENT_MISSING_IN_ERP), not the invoice's status
                and not is_paying_charge_missing_in_erp
            )
            -- uncollectible maps to Open: the ERP has no write-off
            or (invoice_status in ('open', 'uncollectible') and erp_status <> 'Open')
        ) as is_status_mismatch,
        -- the expected ERP status, for the side-by-side view
        case invoice_status
            when 'void' then 'Voided'
            when 'paid' then 'Paid In Full'
            when 'open' then 'Open'
            when 'uncollectible' then 'Open'
        end as expected_erp_status
    from compared
)

select
    -- the pairing's key: billing invoice and ERP internal id (either side may be absent)
    coalesce(invoice_id, '') || '|' || coalesce(erp_transaction_id, '') as invoice_match_id,
    invoice_id,
    erp_transaction_id,
    billing_key,
    customer_id,
    subsidiary_code,
    invoice_status,
    erp_status,
    expected_erp_status,
    finalized_at,
    erp_created_at,
    paid_at,
    voided_at,
    posting_date,
    is_posting_period_closed,
    is_erp_customer_inactive,
    hold_reason,
    is_primary_match,
    erp_records_for_invoice,
    erp_has_external_id,
    billing_currency,
    erp_currency,
    billing_total,
    erp_total,
    erp_total - billing_total as total_difference,
    billing_tax_total,
    erp_tax_total,
    erp_tax_total - billing_tax_total as tax_difference,
    billing_amount_remaining,
    erp_amount_unpaid,
    expected_erp_customer_id,
    erp_customer_id,
    erp_customer_billing_id,
    expected_erp_subsidiary_id,
    erp_subsidiary_id,
    paying_charge_id,
    is_paying_charge_missing_in_erp,
    is_duplicate_in_erp,
    is_currency_mismatch,
    is_amount_mismatch,
    is_tax_mismatch,
    is_customer_mismatch,
    is_subsidiary_mismatch,
    is_status_mismatch,
    case
        when invoice_id is null then 'orphan_in_erp'
        when invoice_status = 'draft' then 'draft'
        when hold_reason is not null then 'quarantined'
        when erp_transaction_id is null and invoice_status = 'void' then 'void_not_posted'
        -- the push is refused by the ERP (POSTING_REJECTED comes from the ledger), never MISSING
        when erp_transaction_id is null and is_erp_customer_inactive then 'refused_customer_inactive'
        when erp_transaction_id is null and finalized_at > {{ settled_before() }} then 'pending'
        when erp_transaction_id is null and is_posting_period_closed then 'period_closed'
        when erp_transaction_id is null then 'missing_in_erp'
        when not is_primary_match then 'duplicate_record'
        when
            is_duplicate_in_erp or is_currency_mismatch or is_amount_mismatch or is_tax_mismatch
            or is_customer_mismatch or is_subsidiary_mismatch or is_status_mismatch then 'mismatched'
        else 'matched'
    end as match_status
from flagged
