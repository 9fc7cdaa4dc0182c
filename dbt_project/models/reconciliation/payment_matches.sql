-- Every pairing of an invoice's paying charge with the ERP customer payments carrying its billing key (and each ERP
-- payment claiming a ch_/py_ key that billing has no paying charge for), with amounts side by side.
-- A charge is compared only when its invoice is in the ERP, live in billing and not held back.
with

charges as (
    select * from {{ ref('int_paying_charges') }}
),

payments as (
    select * from {{ ref('payments') }}
),

invoices as (
    -- the invoice's primary pairing: is it in the ERP and compared?
    select * from {{ ref('invoice_matches') }}
    where invoice_id is not null and is_primary_match
),

erp_payments as (
    select * from {{ ref('erp_transactions') }}
    where record_type = 'customerpayment' and billing_key is not null
),

paired as (
    select
        charges.charge_id,
        erp_payments.transaction_id as erp_transaction_id,
        coalesce(charges.charge_id, erp_payments.billing_key) as billing_key,
        charges.invoice_id,
        invoices.customer_id,
        invoices.subsidiary_code,
        invoices.match_status as invoice_match_status,
        invoices.erp_transaction_id is not null and invoices.invoice_status not in ('draft', 'void')
        and invoices.hold_reason is null as is_invoice_in_erp,
        invoices.is_erp_customer_inactive,
        payments.created_at as charged_at,
        payments.posting_date,
        payments.is_posting_period_closed,
        payments.currency_code as billing_currency,
        erp_payments.currency_code as erp_currency,
        payments.amount as billing_amount,
        erp_payments.total as erp_amount,
        erp_payments.transaction_date as erp_transaction_date,
        erp_payments.created_at as erp_created_at,
        coalesce(erp_payments.is_primary_for_billing_key, true) as is_primary_match,
        coalesce(erp_payments.records_with_billing_key, 0) as erp_records_for_charge
    from charges
    inner join payments on charges.charge_id = payments.charge_id
    full outer join erp_payments on charges.charge_id = erp_payments.billing_key
    left join invoices on charges.invoice_id = invoices.invoice_id
    where
        charges.charge_id is not null
        or starts_with(erp_payments.billing_key, 'ch_')
        or starts_with(erp_payments.billing_key, 'py_')
),

flagged as (
    select
        *,
        coalesce(is_invoice_in_erp, false) and erp_transaction_id is not null and is_primary_match as is_compared
    from paired
)

select
    coalesce(charge_id, '') || '|' || coalesce(erp_transaction_id, '') as payment_match_id,
    charge_id,
    erp_transaction_id,
    billing_key,
    invoice_id,
    invoice_match_status,
    customer_id,
    subsidiary_code,
    charged_at,
    posting_date,
    is_posting_period_closed,
    is_primary_match,
    erp_records_for_charge,
    billing_currency,
    erp_currency,
    billing_amount,
    erp_amount,
    erp_amount - billing_amount as amount_difference,
    erp_transaction_date,
    erp_created_at,
    is_compared and erp_records_for_charge > 1 as is_duplicate_in_erp,
    -- the charge's gross is compared; refunds go through credit notes
    is_compared and abs(erp_amount - billing_amount) > {{ var('q2c_amount_tolerance') }} as is_amount_mismatch,
    case
        when charge_id is null then 'unknown_charge_in_erp'
        -- payments of an invoice absent from the ERP (or void, or held back) raise nothing of their own
        when not coalesce(is_invoice_in_erp, false) then 'invoice_not_in_erp'
        when erp_transaction_id is null and is_erp_customer_inactive then 'refused_customer_inactive'
        when erp_transaction_id is null and charged_at > {{ settled_before() }} then 'pending'
        when erp_transaction_id is null and is_posting_period_closed then 'period_closed'
        when erp_transaction_id is null then 'missing_in_erp'
        when not is_primary_match then 'duplicate_record'
        when erp_records_for_charge > 1 or abs(erp_amount - billing_amount) > {{ var('q2c_amount_tolerance') }}
            then 'mismatched'
        else 'matched'
    end as match_status
from flagged
