{{ keyed_incremental_config('transaction_id', "{{ delete_without_live_row('stg_erp__transactions', 'transaction_id') }}") }}
-- One row per ERP transaction with what the reconciliation compares: billing key, subsidiary (from the main line),
-- currency code, total, tax total (tax lines), status, and the ERP customer's billing id.
-- Incremental: a record's row depends on its own columns (`input_fingerprint`, a hash of them) and on the records
-- sharing its billing key (the primary among them, their count). A build computes every record's columns, and
-- writes again only the records of the billing keys where some record is new, changed or gone; the rest are kept.
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

records as (
    select
        transactions.transaction_id,
        transactions.record_type,
        transactions.transaction_number,
        transactions.external_id,
        transactions.billing_key,
        transactions.external_id is not null as has_external_id,
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
),

fingerprinted as (
    -- `records` alone is the row, as a struct
    select
        records.*,
        hash(records) as input_fingerprint  -- noqa: RF02
    from records
),

{% if is_incremental() %}
    regrouped as (
        -- the billing keys whose records are written again: those of new or changed records, as they are now…
        select
            unbuilt.record_type,
            unbuilt.billing_key
        from ({{ unbuilt_inputs('fingerprinted', 'transaction_id') }}) as unbuilt
        union
        -- …and as they were, with those of records gone
        select
            held.record_type,
            held.billing_key
        from {{ this }} as held
        where not exists (
            select 1 from fingerprinted
            where
                fingerprinted.transaction_id = held.transaction_id
                and fingerprinted.input_fingerprint = held.input_fingerprint
        )
    ),

    written as (
        select fingerprinted.*
        from fingerprinted
        where exists (
            select 1 from regrouped
            where
                regrouped.record_type = fingerprinted.record_type
                and regrouped.billing_key is not distinct from fingerprinted.billing_key
        )
    )
{% else %}
    written as (
        select * from fingerprinted
    )
{% endif %}

select
    transaction_id,
    record_type,
    transaction_number,
    external_id,
    billing_key,
    has_external_id,
    -- the primary match among records sharing a billing key: one with an externalId, else the lowest internal id
    row_number() over (
        partition by record_type, billing_key
        order by external_id is null, cast(transaction_id as bigint)
    ) = 1 as is_primary_for_billing_key,
    count(*) over (partition by record_type, billing_key) as records_with_billing_key,
    entity_id,
    entity_billing_customer_id,
    subsidiary_id,
    currency_code,
    transaction_date,
    posting_period_id,
    status_name,
    is_voided,
    total,
    tax_total,
    amount_paid,
    amount_unpaid,
    exchange_rate,
    created_at,
    modified_at,
    input_fingerprint
from written
