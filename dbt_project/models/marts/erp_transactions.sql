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

-- read more than once, yet not materialized: each reading scans raw for the columns it needs (materialized, the two
-- took 2.3 s at L, and a `select *` of the staging view parsed every transaction's payload for its memo)
transactions as not materialized (
    select
        transaction_id,
        record_type,
        transaction_number,
        external_id,
        billing_key,
        entity_id,
        currency_id,
        transaction_date,
        posting_period_id,
        status_name,
        is_voided,
        total,
        amount_paid,
        amount_unpaid,
        exchange_rate,
        created_at,
        modified_at,
        _q2c_load_seq
    from {{ ref('stg_erp__transactions') }}
    where not is_deleted
),

lines as not materialized (
    select
        transaction_id,
        is_main_line,
        is_tax_line,
        subsidiary_id,
        amount,
        _q2c_load_seq
    from {{ ref('stg_erp__transaction_lines') }}
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
            transactions.record_type,
            transactions.billing_key,
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
        -- records new, gone, or built from other rows than raw holds now: one join on the key, then compared
        select
            inputs.record_type,
            inputs.billing_key,
            held.record_type as held_record_type,
            held.billing_key as held_billing_key
        from inputs
        full outer join {{ this }} as held on inputs.transaction_id = held.transaction_id
        where
            inputs.transaction_id is null
            or held.transaction_id is null
            or row(
                held._q2c_load_seq,
                held._q2c_lines_load_seq,
                held.entity_billing_customer_id,
                held.currency_code
            ) is distinct from row(
                inputs._q2c_load_seq,
                inputs.lines_load_seq,
                inputs.billing_customer_id,
                inputs.currency_code
            )
    ),

    regrouped as (
        -- the billing keys of those records as they are now, and as they were
        select
            changed.record_type,
            changed.billing_key
        from changed
        where changed.record_type is not null
        union
        select
            changed.held_record_type,
            changed.held_billing_key
        from changed
        where changed.held_record_type is not null
    ),

    built as (
        -- every record of those billing keys is written again
        select transactions.*
        from transactions
        inner join regrouped
            on
                transactions.record_type = regrouped.record_type
                and transactions.billing_key is not distinct from regrouped.billing_key
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

main_lines as not materialized (
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
