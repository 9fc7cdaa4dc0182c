{{ keyed_incremental_config('transaction_id', "{{ delete_without_live_row('stg_erp__transactions', 'transaction_id') }}") }}
-- One row per ERP transaction with what the reconciliation compares: billing key, subsidiary (from the main line),
-- currency code, total, tax total (tax lines), status, and the ERP customer's billing id.
-- Incremental: a record's row depends on its transaction's raw row, its lines' raw rows, its customer's billing id,
-- its currency's code, and the records sharing its billing key (the primary among them, their count). Every raw row
-- an ingest writes carries that run's `_q2c_load_seq`, so a record whose transaction row or lines were written since
-- it was built shows a sequence other than the one held (`_q2c_load_seq`, `_q2c_lines_load_seq`). A build compares
-- those sequences, the billing id and the currency code of every record with the held ones (sequences and ids only,
-- no lines joined, no hash), and writes again only the records of the billing keys where some record is new, changed
-- or gone; the rest are kept.
with

transactions as (
    select * from {{ ref('stg_erp__transactions') }}
    where not is_deleted
),

lines as (
    select * from {{ ref('stg_erp__transaction_lines') }}
    where not is_deleted
),

currencies as (
    select * from {{ ref('stg_erp__currencies') }}
),

customers as (
    select * from {{ ref('stg_erp__customers') }}
),

line_loads as (
    -- the newest run that wrote a transaction's lines (an ingest writes all of a changed transaction's lines again)
    select
        transaction_id,
        max(_q2c_load_seq) as lines_load_seq
    from lines
    group by transaction_id
),

{% if is_incremental() %}
    inputs as (
        -- what each record is built from, as sequences and the two looked-up values
        select
            transactions.transaction_id,
            transactions._q2c_load_seq,
            line_loads.lines_load_seq,
            customers.billing_customer_id,
            currencies.currency_code
        from transactions
        left join line_loads on transactions.transaction_id = line_loads.transaction_id
        left join currencies on transactions.currency_id = currencies.currency_id
        left join customers on transactions.entity_id = customers.erp_customer_id
    ),

    changed as (
        -- records new, or built from other rows than raw holds now…
        select inputs.transaction_id from inputs
        where not exists (
            select 1 from {{ this }} as held
            where
                held.transaction_id = inputs.transaction_id
                and held._q2c_load_seq is not distinct from inputs._q2c_load_seq
                and held._q2c_lines_load_seq is not distinct from inputs.lines_load_seq
                and held.entity_billing_customer_id is not distinct from inputs.billing_customer_id
                and held.currency_code is not distinct from inputs.currency_code
        )
    ),

    regrouped as (
        -- …the billing keys of those records as they are now…
        select
            transactions.record_type,
            transactions.billing_key
        from transactions
        where transactions.transaction_id in (select changed.transaction_id from changed)
        union
        -- …and as they were, with those of records gone
        select
            held.record_type,
            held.billing_key
        from {{ this }} as held
        where
            held.transaction_id in (select changed.transaction_id from changed)
            or held.transaction_id not in (select transactions.transaction_id from transactions)
    ),

    built as (
        -- every record of those billing keys is written again
        select transactions.*
        from transactions
        where exists (
            select 1 from regrouped
            where
                regrouped.record_type = transactions.record_type
                and regrouped.billing_key is not distinct from transactions.billing_key
        )
    ),

    built_lines as (
        select lines.* from lines
        where lines.transaction_id in (select built.transaction_id from built)
    ),
{% else %}
    built as (
        select * from transactions
    ),

    built_lines as (
        select * from lines
    ),
{% endif %}

main_lines as (
    select
        transaction_id,
        subsidiary_id
    from built_lines
    where is_main_line
),

tax as (
    select
        transaction_id,
        sum(abs(amount)) as tax_total
    from built_lines
    where is_tax_line
    group by transaction_id
),

records as (
    select
        built.transaction_id,
        built.record_type,
        built.transaction_number,
        built.external_id,
        built.billing_key,
        built.external_id is not null as has_external_id,
        built.entity_id,
        customers.billing_customer_id as entity_billing_customer_id,
        main_lines.subsidiary_id,
        currencies.currency_code,
        built.transaction_date,
        built.posting_period_id,
        built.status_name,
        built.is_voided,
        built.total,
        coalesce(tax.tax_total, 0) as tax_total,
        built.amount_paid,
        built.amount_unpaid,
        built.exchange_rate,
        built.created_at,
        built.modified_at
    from built
    left join main_lines on built.transaction_id = main_lines.transaction_id
    left join tax on built.transaction_id = tax.transaction_id
    left join currencies on built.currency_id = currencies.currency_id
    left join customers on built.entity_id = customers.erp_customer_id
),

written as (
    -- the sequences say which raw rows the record was built from
    select
        records.*,
        built._q2c_load_seq,
        line_loads.lines_load_seq as _q2c_lines_load_seq
    from records
    inner join built on records.transaction_id = built.transaction_id
    left join line_loads on records.transaction_id = line_loads.transaction_id
)

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
    _q2c_load_seq,
    _q2c_lines_load_seq
from written
