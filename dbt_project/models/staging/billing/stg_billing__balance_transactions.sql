with

source as (
    select * from {{ source('billing', 'balance_transactions') }}
),

exponents as (
    select * from {{ ref('currency_exponents') }}
),

renamed as (
    select
        source.id as balance_transaction_id,
        source.source as source_object_id,
        source.type as balance_transaction_type,
        upper(source.currency) as currency_code,
        {{ minor_to_major('source.amount', 'exponents.minor_unit_exponent') }} as amount,
        {{ minor_to_major('source.fee', 'exponents.minor_unit_exponent') }} as fee,
        {{ minor_to_major('source.net', 'exponents.minor_unit_exponent') }} as net,
        source.created as created_at
    from source
    -- a lookup, not a join of entities: the currency's exponent
    left join exponents on upper(source.currency) = exponents.currency_code
)

select * from renamed
