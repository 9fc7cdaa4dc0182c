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
)

select
    transactions.transaction_id,
    transactions.record_type,
    transactions.transaction_number,
    transactions.external_id,
    transactions.billing_key,
    transactions.external_id is not null as has_external_id,
    -- the primary match among records sharing a billing key: one with an externalId, else the lowest internal id
    row_number() over (
        partition by transactions.record_type, transactions.billing_key
        order by transactions.external_id is null, cast(transactions.transaction_id as bigint)
    ) = 1 as is_primary_for_billing_key,
    count(*) over (partition by transactions.record_type, transactions.billing_key) as records_with_billing_key,
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
