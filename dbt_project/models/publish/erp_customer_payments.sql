-- One row per paying charge q2c posts or keeps in sync as an ERP customer payment (`bill-ch_…` / `bill-py_…`),
-- applied to its invoice for the charge's amount. Invoice posting mode only: in summary mode the daily journals
-- carry payments and this model has no rows.
-- Incremental: a body is built only for a payment whose posting row changed (macros/incremental.sql).
{{ publish_incremental_config('int_publish__payment_postings') }}

with

postings as (
    select
        postings.*,
        hash(postings) as input_fingerprint
    from {{ ref('int_publish__payment_postings') }} as postings
),

payments as (
    {{ unbuilt_inputs('postings') }}
),

bodies as (
    select
        *,
        cast({{ json_without_nulls("json_object(
            'externalId', external_id,
            'customer', " ~ erp_ref('erp_customer_id', 'customer_external_id') ~ ",
            'subsidiary', " ~ erp_ref_id('erp_subsidiary_id') ~ ",
            'currency', " ~ erp_ref_id('currency_id') ~ ",
            'tranDate', strftime(tran_date, '%Y-%m-%d'),
            'postingPeriod', " ~ erp_ref_id('posting_period_id') ~ ",
            'memo', 'Stripe payment for invoice ' || invoice_id,
            'custbody_q2c_billing_id', charge_id,
            'payment', amount,
            'undepFunds', true,
            'apply', json_object('items', json_array(json_object(
                'doc', " ~ erp_ref('invoice_erp_transaction_id', 'invoice_external_id') ~ ",
                'apply', true,
                'amount', amount,
                'type', 'Invoice'
            )))
        )") }} as varchar) as payload
    from payments
)

select
    cast(external_id as varchar) as external_id,
    cast('customerPayment' as varchar) as record_type,
    cast(charge_id as varchar) as subject_key,
    cast(charge_id as varchar) as charge_id,
    cast(invoice_id as varchar) as invoice_id,
    cast(invoice_external_id as varchar) as invoice_external_id,
    cast(customer_id as varchar) as customer_id,
    cast(erp_transaction_id as varchar) as erp_transaction_id,
    cast(is_in_erp as boolean) as is_in_erp,
    cast(subsidiary_code as varchar) as subsidiary_code,
    cast(erp_subsidiary_id as varchar) as erp_subsidiary_id,
    cast(currency_code as varchar) as currency_code,
    cast(posting_date as date) as posting_date,
    cast(tran_date as date) as tran_date,
    cast(posting_period_id as varchar) as posting_period_id,
    cast(amount as decimal(38, 4)) as amount,
    cast(validation_status as varchar) as validation_status,
    cast(reason_code as varchar) as reason_code,
    cast(quarantine_reason as varchar) as quarantine_reason,
    cast(depends_on as varchar[]) as depends_on,
    payload,
    cast({{ payload_hash('payload') }} as varchar) as payload_hash,
    input_fingerprint
from bodies
where '{{ var("q2c_posting_mode") }}' = 'invoice'
