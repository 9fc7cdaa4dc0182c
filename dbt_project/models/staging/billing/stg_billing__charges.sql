-- A table, incremental: a build parses only charges new or changed since the last (macros/incremental.sql).
{{ staging_incremental_config('charge_id', 'charges') }}

with

source as (
    {{ unbuilt_rows(source('billing', 'charges'), 'id', 'charge_id') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

renamed as (
    select
        source.id as charge_id,
        source.payment_intent as payment_intent_id,
        source.customer as customer_id,
        source.balance_transaction as balance_transaction_id,
        source.status as charge_status,
        upper(source.currency) as currency_code,
        source.amount as amount_minor,
        {{ minor_to_major('source.amount', 'exponents.minor_unit_exponent') }} as amount,
        {{ minor_to_major('source.amount_refunded', 'exponents.minor_unit_exponent') }} as amount_refunded,
        source.payload -> 'payment_method_details' ->> 'type' as payment_method_type,
        source.payload ->> 'failure_code' as failure_code,
        source.created as created_at,
        coalesce(source.deleted, false) as is_deleted,
        source._q2c_state_version,
        source._q2c_load_seq
    from source
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
