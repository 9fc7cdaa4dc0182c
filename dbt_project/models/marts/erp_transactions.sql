-- One row per ERP transaction with what the reconciliation compares: billing key, subsidiary (from the main line),
-- currency code, total, tax total (tax lines), status, and the ERP customer's billing id.
with

transactions as (
    select * from {{ ref('stg_erp__transactions') }}
    where not is_deleted
),

lines as (
    select * from {{ ref('stg_erp__transaction_lines') }}
    where not is_deleted
),

main_lines as (
    select
        transaction_id,
        subsidiary_id
    from lines
    where is_main_line
),

tax as (
    select
        transaction_id,
        sum(abs(amount)) as tax_total
    from lines
    where is_tax_line
    group by transaction_id
),

currencies as (
    select * from {{ ref('stg_erp__currencies') }}
),

customers as (
    select * from {{ ref('stg_erp__customers') }}
),

-- per (record type, billing key): how many records share it, and the primary match among them: one with an
-- externalId, else the lowest internal id (as a window over the whole rows, this was the model's costliest step)
billing_keys as (
    select
        record_type,
        billing_key,
        count(*) as records_with_billing_key,
        coalesce(
            min(case when external_id is not null then cast(transaction_id as bigint) end),
            min(cast(transaction_id as bigint))
        ) as primary_transaction_id
    from transactions
    group by record_type, billing_key
)

select
    transactions.transaction_id,
    transactions.record_type,
    transactions.transaction_number,
    transactions.external_id,
    transactions.billing_key,
    transactions.external_id is not null as has_external_id,
    cast(transactions.transaction_id as bigint) = billing_keys.primary_transaction_id as is_primary_for_billing_key,
    billing_keys.records_with_billing_key,
    transactions.entity_id,
    customers.billing_customer_id as entity_billing_customer_id,
    main_lines.subsidiary_id,
    currencies.currency_code,
    transactions.transaction_date,
    transactions.posting_period_id,
    transactions.status_name,
    transactions.is_voided,
    transactions.total,
    coalesce(tax.tax_total, 0) as tax_total,
    transactions.amount_paid,
    transactions.amount_unpaid,
    transactions.exchange_rate,
    transactions.created_at,
    transactions.modified_at
from transactions
left join main_lines on transactions.transaction_id = main_lines.transaction_id
left join tax on transactions.transaction_id = tax.transaction_id
left join currencies on transactions.currency_id = currencies.currency_id
left join customers on transactions.entity_id = customers.erp_customer_id
inner join billing_keys
    on
        transactions.record_type = billing_keys.record_type
        and transactions.billing_key is not distinct from billing_keys.billing_key
